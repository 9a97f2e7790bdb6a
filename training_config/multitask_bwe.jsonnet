// Multi-task bilingual word embeddings from comparable documents (Wang, Peng & Duh 2017): one space
// learned by skip-gram over stochastically merged English-target document pairs (task "lm") while a
// unigram NER model is fitted on English CoNLL-2003 labels (task "ner"); regime baseline, fj or hfj.
// Batches of the two tasks alternate (an NER batch is one SGD step, a document pair one SGD step per
// sgd_pairs skip-gram pairs); an epoch is `pairs_per_epoch` update pairs,
// so training stops after num_epochs * pairs_per_epoch pairs (the paper's early stop: 10,000).
// Validation: zero-shot span F1 on the target dev set. The xlner_export_bwe callback writes the space
// to <serialization dir>/bwe/ (<lang>.npy + .vocab and the identity artifact <target>-en) for
// xlner_aligned_embedding. Change the target language here; the rest can be set with -o.
local common = import 'common.libsonnet';

local target = 'es';
local pairs_per_epoch = 1000;
local ner_batch_size = 16;
local seed = 13;
local learning_rate = 0.025;  // SGD, both objectives (Vulić & Moens 2015)

local pairs = common.data + '/comparable/en-' + target + '.pairs.jsonl.gz';
local conll(language) = {
  type: 'xlner_conll',
  language: language,
  encoding: common.corpora[language].encoding,
  label_encoding: 'IOB2',
};

{
  random_seed: seed,
  numpy_seed: seed,
  pytorch_seed: seed,
  dataset_reader: {
    type: 'multitask',
    readers: {
      ner: conll('en'),
      lm: { type: 'xlner_comparable_pairs', target_language: target, max_document_tokens: 1000 },
    },
  },
  validation_dataset_reader: conll(target),
  train_data_path: { ner: common.corpora.en.train, lm: pairs },
  validation_data_path: common.corpora[target].dev,
  datasets_for_vocab_creation: ['train'],
  model: {
    type: 'xlner_multitask_bwe',
    pairs_path: pairs,
    target_language: target,
    ner_train_path: common.corpora.en.train,
    lm_learning_rate: learning_rate,
    settings: {
      dim: 128,
      regime: 'hfj',
      alpha: 0.5,
      dropout: 0.3,
      oov_rate: 0.5,
      window: 5,
      dynamic_window: true,
      negatives: 25,
      subsample: 1e-4,
      unigram_power: 0.75,
      min_count: 5,
      sgd_pairs: 64,
      seed: seed,
      ner_model: 'unigram',  // or 'bilstm_crf'
      lstm_hidden: 100,
    },
  },
  data_loader: {
    type: 'multitask',
    scheduler: { type: 'homogeneous_roundrobin', batch_size: { ner: ner_batch_size, lm: 1 } },
    // Equal numbers of batches of both tasks: ner_batch_size NER sentences per document pair.
    sampler: { type: 'weighted', weights: { ner: ner_batch_size, lm: 1 } },
    instances_per_epoch: pairs_per_epoch * (ner_batch_size + 1),
  },
  validation_data_loader: { batch_size: 64 },
  trainer: {
    optimizer: { type: 'sgd', lr: learning_rate },
    num_epochs: 10,
    validation_metric: '+f1-measure-overall',
    checkpointer: { keep_most_recent_by_count: 1 },
    callbacks: [{ type: 'xlner_export_bwe', directory: 'bwe' }],
    cuda_device: -1,
  },
}
