// Shared settings of the NER experiments. Each experiment file states only what differs.
//
// Paths and switches come from environment variables (AllenNLP passes them to jsonnet as external
// variables; xlner_allennlp sets the defaults of xlner_allennlp/environment.py when they are unset):
//   XLNER_DATA        root of the data (default ../shared/data)
//   XLNER_TARGET      target language: es, nl, de or fr (default es)
//   XLNER_ALIGNMENTS  directory of alignment artifacts "<lang>-en" (default artifacts/alignments)
//   XLNER_SELECTION   model selection on "source" (English dev, zero-resource) or "target" dev
//   XLNER_EPOCHS, XLNER_SEED, XLNER_MAX_TRAIN (0 = all training sentences)
local data = std.extVar('XLNER_DATA');
local target = std.extVar('XLNER_TARGET');
local alignments = std.extVar('XLNER_ALIGNMENTS');
local selection = std.extVar('XLNER_SELECTION');
local epochs = std.parseInt(std.extVar('XLNER_EPOCHS'));
local seed = std.parseInt(std.extVar('XLNER_SEED'));
local max_train = std.parseInt(std.extVar('XLNER_MAX_TRAIN'));

// Labelled dev sets (for evaluation and optional model selection) and unlabelled target text.
local corpora = {
  en: { train: data + '/ner/en/conll2003/eng.train', dev: data + '/ner/en/conll2003/eng.testa', encoding: 'utf-8' },
  es: { dev: data + '/ner/es/conll2002/esp.testa', unlabeled: data + '/ner/es/conll2002/esp.train.tokens', encoding: 'utf-8' },
  nl: { dev: data + '/ner/nl/conll2002/ned.testa', unlabeled: data + '/ner/nl/conll2002/ned.train.tokens', encoding: 'utf-8' },
  de: { dev: data + '/ner/de/conll2003/deu.testa', unlabeled: data + '/ner/de/conll2003/deu.train.tokens', encoding: 'latin-1' },
  // No French training split exists here: the tokens of the WikiNEuRal dev set are the unlabelled text.
  fr: { dev: data + '/ner/fr/wikineural/val.tsv', unlabeled: data + '/ner/fr/wikineural/val.tsv', encoding: 'utf-8' },
};

local check_target =
  if std.objectHas(corpora, target) && target != 'en' then target
  else error 'XLNER_TARGET must be one of es, nl, de, fr; got "' + target + '"';

// The per-language vector table shared by the word indexer and the embedder. With `aligned`, the
// target language is mapped into English space by the artifact <target>-en, and English takes the
// artifact's target-side normalization; without it, both are unit-normalized raw vectors.
local languages(aligned) = {
  en: { vectors: data + '/emb/en.npy' } +
      (if aligned then { alignment: alignments + '/' + check_target + '-en', side: 'target' } else {}),
  [check_target]: { vectors: data + '/emb/' + check_target + '.npy' } +
                  (if aligned then { alignment: alignments + '/' + check_target + '-en', side: 'source' } else {}),
};

local reader(language, aligned) = {
  type: 'xlner_conll',
  language: language,
  encoding: corpora[language].encoding,
  label_encoding: 'BIOUL',
  token_indexers: {
    tokens: { type: 'xlner_aligned_word', languages: languages(aligned) },
    token_characters: { type: 'characters', min_padding_length: 3 },
  },
};

local char_encoder(tied) =
  if tied then { type: 'xlner_tied_lstm', input_size: 25, hidden_size: 25 }
  else { type: 'lstm', input_size: 25, hidden_size: 25, bidirectional: true };

local word_encoder(tied) =
  if tied then { type: 'xlner_tied_lstm', input_size: 300 + 50, hidden_size: 100 }
  else { type: 'lstm', input_size: 300 + 50, hidden_size: 100, bidirectional: true };

{
  target: check_target,
  corpora: corpora,
  languages: languages,
  reader: reader,
  char_encoder: char_encoder,
  word_encoder: word_encoder,

  // Lample et al. (2016): char BiLSTM 25/25 + word vector -> word BiLSTM 100 -> dense -> CRF.
  crf_tagger(aligned, tied):: {
    type: 'xlner_crf_tagger',
    label_encoding: 'BIOUL',
    loss_reduction: 'mean',
    dropout: 0.5,
    text_field_embedder: {
      token_embedders: {
        tokens: { type: 'xlner_aligned_embedding', languages: languages(aligned) },
        token_characters: {
          type: 'xlner_character_encoding',  // allennlp's character_encoding, once per distinct word
          embedding: { embedding_dim: 25, vocab_namespace: 'token_characters' },
          encoder: char_encoder(tied),
        },
      },
    },
    encoder: word_encoder(tied),
  },

  // Train on English labels; validate on English dev (zero-resource) or on the target dev set.
  experiment(model, aligned, train_reader=null, train_path=null):: {
    random_seed: seed,
    numpy_seed: seed,
    pytorch_seed: seed,
    dataset_reader: (if train_reader == null then reader('en', aligned) else train_reader)
                    + (if max_train > 0 then { max_instances: max_train } else {}),
    validation_dataset_reader: reader(if selection == 'target' then check_target else 'en', aligned),
    train_data_path: if train_path == null then corpora.en.train else train_path,
    validation_data_path: if selection == 'target' then corpora[check_target].dev
                          else if selection == 'source' then corpora.en.dev
                          else error 'XLNER_SELECTION must be "source" or "target"; got "' + selection + '"',
    datasets_for_vocab_creation: ['train'],
    model: model,
    data_loader: { batch_sampler: { type: 'bucket', batch_size: 16, sorting_keys: ['tokens'] } },
    validation_data_loader: { batch_sampler: { type: 'bucket', batch_size: 64, sorting_keys: ['tokens'] } },
    // Bari et al. (2020) use SGD with lr 0.1 decayed by 0.01 per epoch, clipping 5.0, batch 16. We keep
    // the decay, clipping and batch size but use Adam (lr 0.002): on 4,000 English sentences, 3 epochs,
    // it reached 71.3 dev F1 against 54.0 for SGD lr 0.1 (README, "Changes from the paper").
    trainer: {
      optimizer: { type: 'adam', lr: 0.002 },
      learning_rate_scheduler: { type: 'xlner_inverse_time_decay', decay: 0.01 },
      grad_clipping: 5.0,
      num_epochs: epochs,
      validation_metric: '+f1-measure-overall',
      checkpointer: { keep_most_recent_by_count: 1 },
      cuda_device: -1,
    },
  },
}
