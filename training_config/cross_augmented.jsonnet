// Cross-Augmented (Bari et al. 2020): the source model (char + word BiLSTM + CRF over aligned vectors)
// is pretrained on English labels; then, each round, it labels the unlabelled target sentences no
// longer than a threshold l ~ U(q25, q95) of the target sentence lengths (redrawn every round), and a
// target encoder (own char + word BiLSTM, shared character embeddings, own dense layer over the
// concatenated source and target features) trains on them together with the English batches.
local common = import 'common.libsonnet';
local epochs = std.parseInt(std.extVar('XLNER_EPOCHS'));
local seed = std.parseInt(std.extVar('XLNER_SEED'));
local max_train = std.parseInt(std.extVar('XLNER_MAX_TRAIN'));
local selection = std.extVar('XLNER_SELECTION');
local target = common.target;
local unlabelled = common.corpora[target].unlabeled;
// Every *.train.tokens file is UTF-8 (German included; only deu.testa is latin-1).
local unlabelled_encoding = 'utf-8';
// 12 epochs: 6 of pretraining on English (the source model must be good before it labels
// anything), then 3 rounds of 2 epochs.
local pretrain = std.max(1, std.floor(epochs / 2));
local epochs_per_round = std.max(1, std.floor(epochs / 6));
local rounds = std.max(1, std.floor((epochs - pretrain) / epochs_per_round));

local model = {
  type: 'xlner_cross_augmented',
  source_language: 'en',
  label_encoding: 'BIOUL',
  loss_reduction: 'mean',
  dropout: 0.5,
  text_field_embedder: {
    token_embedders: { tokens: { type: 'xlner_aligned_embedding', languages: common.languages(true) } },
  },
  character_embedding: { embedding_dim: 25, vocab_namespace: 'token_characters' },
  // Both encoders tie their forward and backward weights, as Cross-Shared (which transfers
  // better than untied Cross-Word, see the README).
  source_character_encoder: common.char_encoder(true),
  target_character_encoder: common.char_encoder(true),
  source_encoder: common.word_encoder(true),
  target_encoder: common.word_encoder(true),
};

// Target characters must be in the character vocabulary: the unlabelled text is read as a
// never-evaluated "test" set for vocabulary creation only (its labels, if any, are not used).
// When the validation reader's encoding differs from the unlabelled text's (German dev is
// latin-1), the target dev text gives the characters instead.
local validation_language = if selection == 'target' then target else 'en';
local character_vocabulary =
  if common.corpora[validation_language].encoding == unlabelled_encoding then
    { test_data_path: unlabelled, evaluate_on_test: false, datasets_for_vocab_creation: ['train', 'test'] }
  else { datasets_for_vocab_creation: ['train', 'validation'] };

common.experiment(model, aligned=true) + character_vocabulary + {
  dataset_reader: {
    type: 'xlner_pseudo_labelled',
    base_reader: common.reader('en', true) + (if max_train > 0 then { max_instances: max_train } else {}),
  },
  // Lazy loading: the reader is re-read every epoch, so each round's pseudo-labels are seen.
  data_loader+: { max_instances_in_memory: 1000000 },
  trainer+: {
    callbacks: [{
      type: 'xlner_pseudo_label',
      unlabelled_data_path: unlabelled,
      target_language: target,
      encoding: unlabelled_encoding,
      pretrain_epochs: pretrain,
      rounds: rounds,
      epochs_per_round: epochs_per_round,
      length_unit: 'quantile',
      min_length: 0.25,
      max_length: 0.95,
      seed: seed,
      num_epochs: epochs,
    }],
  },
}
