// Shared settings of the zero-shot dependency parsing experiments (Schuster et al. 2019's task):
// a biaffine parser (Dozat and Manning 2017) trained on English UD EWT only, evaluated on target
// languages it never saw. Each experiment file states only what differs.
//
// Only machine paths and the target language come from the environment (as for the NER configs,
// common.libsonnet; a missing one is an error naming it):
//   XLNER_DATA        root of the data (UD treebanks under ud/, fastText vectors under emb/)
//   XLNER_TARGET      the target language whose vectors (or ELMo) the model holds: es, fr, de or nl
//   XLNER_ALIGNMENTS  directory of alignment artifacts "<lang>-en" (built by `make` / xlner-align)
// Every other setting is a plain value of the resulting config, overridable with -o, e.g.
//   -o '{"trainer.num_epochs": 2, "model.encoder.hidden_size": 100}'
// Model selection is on the English dev set (zero-resource). To select on a target treebank's dev
// set (xlner_allennlp.data_layout.treebank_selection_overrides), override the validation data and
// its reader's language, e.g. for Spanish GSD:
//   -o '{"validation_data_path": "<data>/ud/es/es_gsd-ud-dev.conllu", "validation_dataset_reader.language": "es"}'
// Other languages are plugged into a trained model by `allennlp xlner-evaluate --vectors [--alignment]`.
local data = std.extVar('XLNER_DATA');
local alignments = std.extVar('XLNER_ALIGNMENTS');

// The UD treebanks: the data layout (one home, shared with xlner_allennlp.data_layout), keyed by
// treebank name, their file names joined to the data root.
local layout = import '../xlner_allennlp/data_layout.json';
local ud = {
  [name]: layout.treebanks[name] + {
    [split]: data + '/' + layout.treebanks[name][split]
    for split in ['train', 'dev']
    if std.objectHas(layout.treebanks[name], split)
  }
  for name in std.objectFields(layout.treebanks)
};

// The target languages: those of the layout's treebanks, other than English.
local targets = std.set([ud[name].language for name in std.objectFields(ud) if ud[name].language != 'en']);
local target =
  local chosen = std.extVar('XLNER_TARGET');
  if std.member(targets, chosen) then chosen
  else error 'XLNER_TARGET must be one of ' + std.join(', ', targets) + '; got "' + chosen + '"';

// The vector table of the word indexer and embedder. Aligned: English (taking the artifact's
// reference-side normalization) and `target`, mapped into English space by the artifact <target>-en.
// Unaligned: both languages' own vectors, unit-normalized (the no-alignment baseline).
local languages(target, aligned=true) =
  if aligned then {
    en: { vectors: data + '/emb/en.npy', alignment: alignments + '/' + target + '-en', side: 'reference' },
    [target]: { vectors: data + '/emb/' + target + '.npy', alignment: alignments + '/' + target + '-en', side: 'mapped' },
  } else {
    en: { vectors: data + '/emb/en.npy' },
    [target]: { vectors: data + '/emb/' + target + '.npy' },
  };

// What the parser reads of each word: its `indexers`, its `embedder` (null: none) and the size `dim`
// of what the embedder gives. Word vectors: aligned fastText (or each language's own, unaligned);
// delexicalised: nothing (the reader's tokens only give the sentence length); the ELMo input is
// parser_elmo.jsonnet's.
local words(target, aligned=true) = {
  indexers: { tokens: { type: 'xlner_aligned_word', languages: languages(target, aligned) } },
  embedder: { token_embedders: { tokens: { type: 'xlner_aligned_embedding', languages: languages(target, aligned) } } },
  dim: 300,
};
local delexicalised = { indexers: { tokens: { type: 'single_id' } }, embedder: null, dim: 0 };

// Cross-lingual parsers predict the universal relations: subtypes are stripped on reading.
local reader(language, input) = {
  type: 'xlner_universal_dependencies',
  language: language,
  strip_subtypes: true,
  token_indexers: input.indexers,
};

{
  ud: ud,
  target: target,
  languages: languages,
  words: words,
  delexicalised: delexicalised,
  reader: reader,

  // Dozat and Manning (2017) as in the reference zero-shot setup: 3-layer BiLSTM 200 over the
  // words' input (e.g. 300-d aligned fastText) and/or a 50-d gold UPOS embedding; arcs 500, relations 100.
  parser(input, upos_dim):: {
    type: 'xlner_biaffine_parser',
    [if input.embedder != null then 'text_field_embedder']: input.embedder,
    upos_embedding_dim: if upos_dim > 0 then upos_dim else null,
    // 'xlner_lstm': allennlp's 'lstm' (same parameters and results), trained faster (common.libsonnet).
    encoder: {
      type: 'xlner_lstm',
      input_size: input.dim + upos_dim,
      hidden_size: 200,
      num_layers: 3,
      dropout: 0.33,
      bidirectional: true,
    },
    arc_dim: 500,
    relation_dim: 100,
    dropout: 0.33,
    input_dropout: 0.33,
  },

  // Train on English EWT; select the model on English dev (the header shows target selection).
  experiment(input, upos_dim):: {
    random_seed: 13,
    numpy_seed: 13,
    pytorch_seed: 13,
    dataset_reader: reader('en', input),
    validation_dataset_reader: reader('en', input),
    train_data_path: ud.en_ewt.train,
    validation_data_path: ud.en_ewt.dev,
    datasets_for_vocab_creation: ['train'],
    model: $.parser(input, upos_dim),
    data_loader: { batch_sampler: { type: 'bucket', batch_size: 32, sorting_keys: ['tokens'] } },
    // Plain validation batches and the random state in the checkpoints: see common.libsonnet.
    validation_data_loader: { batch_size: 64 },
    trainer: {
      optimizer: { type: 'adam', lr: 0.002, betas: [0.9, 0.9] },
      grad_norm: 5.0,
      num_epochs: 10,
      patience: 3,
      validation_metric: '+LAS',
      checkpointer: { keep_most_recent_by_count: 1 },
      callbacks: [{ type: 'xlner_random_state' }],
      cuda_device: -1,
    },
  },
}
