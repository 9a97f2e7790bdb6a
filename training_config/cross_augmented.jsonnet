// Cross-Augmented (Bari et al. 2020): the source model (char + word BiLSTM + CRF over aligned vectors)
// is pretrained on English labels; then, each round, it labels the unlabelled target sentences no
// longer than a threshold l ~ U(q25, q95) of the target sentence lengths (redrawn every round), and a
// target encoder (own char + word BiLSTM, shared character embeddings, own dense layer over the
// concatenated source and target features) trains on them together with the English batches.
//
// The schedule fills the trainer's 12 epochs: 6 of pretraining on English (the source model must be
// good before it labels anything), then 3 rounds of 2 epochs. A shorter run overrides the trainer's
// num_epochs together with the callback's copy (rounds that would start after the last epoch are
// not labelled) and the callback's schedule, e.g. -o '{"trainer.num_epochs": 3,
// "trainer.callbacks.0.num_epochs": 3, "trainer.callbacks.0.pretrain_epochs": 1, "trainer.callbacks.0.rounds": 1}'. The training cap is dataset_reader.base_reader.max_instances.
local common = import 'common.libsonnet';
local target = common.target;
local unlabelled = common.corpora[target].unlabelled;
local unlabelled_encoding = common.corpora[target].unlabelled_encoding;

local model = {
  type: 'xlner_cross_augmented',
  source_language: 'en',
  label_encoding: 'BIOUL',
  loss_reduction: 'mean',
  dropout: 0.5,
  text_field_embedder: {
    token_embedders: { tokens: { type: 'xlner_aligned_embedding', languages: common.languages(true) } },
  },
  character_embedding: common.char_embedding,
  // Both encoders tie their forward and backward weights, as Cross-Shared (which transfers
  // better than untied Cross-Word, see the README).
  source_character_encoder: common.char_encoder(true),
  target_character_encoder: common.char_encoder(true),
  source_encoder: common.word_encoder(true),
  target_encoder: common.word_encoder(true),
};

local experiment = common.experiment(model, aligned=true);

experiment + {
  dataset_reader: { type: 'xlner_pseudo_labelled', base_reader: experiment.dataset_reader },
  // The target encoder reads the unlabelled target text: its characters join the character
  // vocabulary (only that namespace), read by a reader that indexes characters alone.
  vocabulary: {
    type: 'xlner_from_instances_and_files',
    reader: { type: 'xlner_conll', language: target, encoding: unlabelled_encoding,
              token_indexers: { token_characters: common.characters } },
    data_paths: [unlabelled],
    namespaces: ['token_characters'],
  },
  // Lazy loading: the reader is re-read every epoch, so each round's pseudo-labels are seen.
  data_loader+: { max_instances_in_memory: 1000000 },
  trainer+: {
    callbacks: [{
      type: 'xlner_pseudo_label',
      unlabelled_data_path: unlabelled,
      target_language: target,
      encoding: unlabelled_encoding,
      pretrain_epochs: 6,
      rounds: 3,
      epochs_per_round: 2,
      length_unit: 'quantile',
      min_length: 0.25,
      max_length: 0.95,
      seed: experiment.random_seed,
      // The trainer's epoch count (callbacks cannot read it): no round is labelled after the last epoch.
      num_epochs: experiment.trainer.num_epochs,
    }] + super.callbacks,
  },
}
