// Bidirectional LM with the ELMo architecture (model `xlner_bilm`) for one language, trained on
// its raw text (the data layout's `lm_train`, $XLNER_DATA/text/<language>.train.txt.gz) and
// validated (perplexity) on its `lm_heldout` text.
// Export the trained archive for allennlp's Elmo with `allennlp xlner-export-elmo ARCHIVE --output DIR`.
//
// The default is the small model the 2-core machine trains on 4M tokens (2 LSTM layers, cell 256,
// projection 128, char-CNN filters [[1,32],[2,32],[3,64],[4,128]], 1 highway, char dim 16). Every
// hyperparameter below is a plain value, overridable with -o. The language comes from the
// environment, like the data root: XLNER_LANGUAGE (en, es, de, fr or nl) names the reader's
// language and both text files (`make elmo LANGUAGE=es` sets it).
local common = import 'common.libsonnet';
local language = std.extVar('XLNER_LANGUAGE');
local corpus =
  if std.objectHas(common.corpora, language) && std.objectHas(common.corpora[language], 'lm_train') then common.corpora[language]
  else error 'XLNER_LANGUAGE must be one of ' + std.join(', ', std.objectFields(common.corpora)) + '; got "' + language + '"';
local reader = { type: 'xlner_lm_text', language: language, max_sentence_length: 100 };

{
  random_seed: 13,
  numpy_seed: 13,  // the sampled softmax draws its samples from numpy
  pytorch_seed: 13,
  // max_instances trains on the first N sentences (pieces of at most max_sentence_length tokens)
  // of lm_train, e.g. -o '{"dataset_reader.max_instances": 10000}'; null: all of them. The heldout
  // text is always read whole.
  dataset_reader: reader + { max_instances: null },
  validation_dataset_reader: reader,
  train_data_path: corpus.lm_train,
  validation_data_path: corpus.lm_heldout,
  datasets_for_vocab_creation: ['train'],
  // AllenNLP sorts the vocabulary by frequency, as the log-uniform sampler of the softmax assumes.
  vocabulary: { type: 'from_instances', max_vocab_size: { tokens: 50000 } },
  model: {
    type: 'xlner_bilm',
    char_embedding_dim: 16,
    filters: [[1, 32], [2, 32], [3, 64], [4, 128]],
    n_highway: 1,
    activation: 'relu',
    projection_dim: 128,
    cell_size: 256,
    num_layers: 2,
    cell_clip: 0.0,
    proj_clip: 0.0,
    dropout: 0.1,
    num_samples: 1024,
    sparse_softmax: true,
  },
  data_loader: {
    batch_sampler: { type: 'bucket', batch_size: 64, sorting_keys: ['tokens'] },
    max_instances_in_memory: 6400,  // bucket within chunks: memory independent of the corpus size
  },
  validation_data_loader: {
    batch_sampler: { type: 'bucket', batch_size: 64, sorting_keys: ['tokens'] },
    max_instances_in_memory: 6400,
  },
  trainer: {
    // Sparse softmax rows need a sparse-aware Adam (see the model's `sparse_softmax`). No gradient
    // clipping: torch's clip_grad_norm_ / clip_grad_value_ reject sparse gradients.
    optimizer: { type: 'dense_sparse_adam', lr: 0.002 },
    num_epochs: 1,
    validation_metric: '-perplexity',
    // A checkpoint every 10 minutes inside the epoch too: an interrupted run resumes (--recover)
    // from its last one, skipping the batches it had trained on.
    checkpointer: { keep_most_recent_by_count: 2, save_every_num_seconds: 600 },
    cuda_device: -1,
  },
}
