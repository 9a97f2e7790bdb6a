// Cross-ELMo: CRF tagger over aligned contextual vectors (Schuster et al., 2019) + character features,
// trained on English labels only. Each instance runs its own language's ELMo; each ELMo layer is
// divided by its anchors' mean token norm and mapped by that layer's frozen artifact.
//
// Artifacts it expects (paths from `artifacts` below; override the `languages` of the embedder to
// point elsewhere, e.g. -o '{"model.text_field_embedder.token_embedders.elmo.languages": {...}}'):
//   artifacts/elmo/<lang>                        allennlp xlner-export-elmo output (en and the target)
//   artifacts/anchors/<lang>                     allennlp xlner-anchors output
//   artifacts/elmo_alignments/<target>-en/layer<l>
//                                                allennlp xlner-align on the anchors of layer l
//                                                (--mapped-language <target> --reference-language en
//                                                 --normalization none)
// Environment: XLNER_DATA (data root) and XLNER_TARGET (es, nl, de or fr), as in the other configs.
local data = std.extVar('XLNER_DATA');
local target = std.extVar('XLNER_TARGET');

// Hyperparameters (plain values; override with -o).
local artifacts = 'artifacts';
local aligned = true;  // false: the unaligned-ELMo baseline (norm scaling only)
local elmo_layers = [1];  // one layer as is, or several scalar-mixed after mapping
local elmo_dim = 256;  // 2 * projection_dim of the ELMos
local elmo_dropout = 0.3;
local char_dim = 25;
local hidden = 100;
local tied = false;  // tie the word BiLSTM's two directions (xlner_tied_lstm)
local epochs = 12;
local seed = 13;
local selection = 'source';  // model selection on English dev ("source") or the target dev ("target")

// TODO(common): the corpora table and the trainer repeat common.libsonnet; fold them into it.
local corpora = {
  en: { train: data + '/ner/en/conll2003/eng.train', dev: data + '/ner/en/conll2003/eng.testa', encoding: 'utf-8' },
  es: { dev: data + '/ner/es/conll2002/esp.testa', encoding: 'utf-8' },
  nl: { dev: data + '/ner/nl/conll2002/ned.testa', encoding: 'utf-8' },
  de: { dev: data + '/ner/de/conll2003/deu.testa', encoding: 'latin-1' },
  fr: { dev: data + '/ner/fr/wikineural/val.tsv', encoding: 'utf-8' },
};
local check_target =
  if std.objectHas(corpora, target) && target != 'en' then target
  else error 'XLNER_TARGET must be one of es, nl, de, fr; got "' + target + '"';

local elmo_language(language, side) = {
  elmo: artifacts + '/elmo/' + language,
  anchors: artifacts + '/anchors/' + language,
} + (if aligned then { alignment: artifacts + '/elmo_alignments/' + check_target + '-en', side: side } else {});

local reader(language) = {
  type: 'xlner_conll',
  language: language,
  encoding: corpora[language].encoding,
  label_encoding: 'BIOUL',
  token_indexers: {
    elmo: { type: 'elmo_characters' },
    token_characters: { type: 'characters', min_padding_length: 3 },
  },
};

local lstm(input, output) =
  if tied then { type: 'xlner_tied_lstm', input_size: input, hidden_size: output }
  else { type: 'lstm', input_size: input, hidden_size: output, bidirectional: true };

{
  random_seed: seed,
  numpy_seed: seed,
  pytorch_seed: seed,
  dataset_reader: reader('en'),
  validation_dataset_reader: reader(if selection == 'target' then check_target else 'en'),
  train_data_path: corpora.en.train,
  validation_data_path: if selection == 'target' then corpora[check_target].dev else corpora.en.dev,
  datasets_for_vocab_creation: ['train'],
  model: {
    type: 'xlner_crf_tagger',
    label_encoding: 'BIOUL',
    loss_reduction: 'mean',
    dropout: 0.5,
    text_field_embedder: {
      token_embedders: {
        elmo: {
          type: 'xlner_aligned_elmo',
          languages: { en: elmo_language('en', 'reference'), [check_target]: elmo_language(check_target, 'mapped') },
          layers: elmo_layers,
          dropout: elmo_dropout,
        },
        token_characters: {
          type: 'character_encoding',
          embedding: { embedding_dim: char_dim, vocab_namespace: 'token_characters' },
          encoder: lstm(char_dim, char_dim),
        },
      },
    },
    encoder: lstm(elmo_dim + 2 * char_dim, hidden),
  },
  data_loader: { batch_sampler: { type: 'bucket', batch_size: 16, sorting_keys: ['tokens'] } },
  validation_data_loader: { batch_sampler: { type: 'bucket', batch_size: 64, sorting_keys: ['tokens'] } },
  trainer: {
    optimizer: { type: 'adam', lr: 0.002 },
    learning_rate_scheduler: { type: 'xlner_inverse_time_decay', decay: 0.01 },
    grad_clipping: 5.0,
    num_epochs: epochs,
    validation_metric: '+f1-measure-overall',
    checkpointer: { keep_most_recent_by_count: 1 },
    cuda_device: -1,
  },
}
