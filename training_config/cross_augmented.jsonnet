// Cross-Augmented (Bari et al. 2020): the source model (char + word BiLSTM + CRF over aligned vectors)
// is pretrained on English labels; then, each round, it labels the unlabelled target sentences no
// longer than a threshold l ~ U(q25, q95) of the target sentence lengths (redrawn every round), and a
// target encoder (own char + word BiLSTM, shared character embeddings, own dense layer over the
// concatenated source and target features) trains on them together with the English batches.
// The model and the schedule are cross_augmented.libsonnet's (shared with cross_augmented_multi).
//
// The schedule fills the trainer's 12 epochs: 6 of pretraining on English (the source model must be
// good before it labels anything), then 3 rounds of 2 epochs. A shorter run overrides the trainer's
// num_epochs together with the callback's copy (rounds that would start after the last epoch are
// not labelled) and the callback's schedule, e.g. -o '{"trainer.num_epochs": 3,
// "trainer.callbacks.0.num_epochs": 3, "trainer.callbacks.0.pretrain_epochs": 1, "trainer.callbacks.0.rounds": 1}'. The training cap is dataset_reader.base_reader.max_instances.
local common = import 'common.libsonnet';
local augmented = import 'cross_augmented.libsonnet';
local target = common.target;
local unlabelled = common.corpora[target].unlabelled;

local experiment = common.experiment(augmented.model([target]), aligned=true);

experiment + {
  dataset_reader: { type: 'xlner_pseudo_labelled', base_reader: experiment.dataset_reader },
  // The target encoder reads the unlabelled target text: its characters join the character
  // vocabulary (only that namespace), read by a reader that indexes characters alone.
  vocabulary: {
    type: 'xlner_from_instances_and_files',
    reader: augmented.characters_reader(target),
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
      encoding: common.corpora[target].unlabelled_encoding,
    } + augmented.schedule(experiment)] + super.callbacks,
  },
}
