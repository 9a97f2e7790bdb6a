// Cross-Augmented pieces shared by cross_augmented.jsonnet (one target language) and
// cross_augmented_multi.jsonnet (one model for several): the model, the self-training schedule,
// the readers of the unlabelled text's characters, and the several-target experiment.
local common = import 'common.libsonnet';

// The model over English and the target languages `chosen`.
local model(chosen) = {
  type: 'xlner_cross_augmented',
  source_language: 'en',
  label_encoding: 'BIOUL',
  loss_reduction: 'mean',
  dropout: 0.5,
  text_field_embedder: {
    token_embedders: { tokens: { type: 'xlner_aligned_embedding', languages: common.languages(true, chosen) } },
  },
  character_embedding: common.char_embedding,
  // Both encoders tie their forward and backward weights, as Cross-Shared (which transfers
  // better than untied Cross-Word, see the README).
  source_character_encoder: common.char_encoder(true),
  target_character_encoder: common.char_encoder(true),
  source_encoder: common.word_encoder(true),
  target_encoder: common.word_encoder(true),
};

// The xlner_pseudo_label settings other than the targets. The schedule fills the trainer's 12
// epochs: 6 of pretraining on English (the source model must be good before it labels anything),
// then 3 rounds of 2 epochs; each round draws each target's threshold l ~ U(q25, q95) of that
// target's sentence lengths.
local schedule(experiment) = {
  pretrain_epochs: 6,
  rounds: 3,
  epochs_per_round: 2,
  length_unit: 'quantile',
  min_length: 0.25,
  max_length: 0.95,
  seed: experiment.random_seed,
  // The trainer's epoch count (callbacks cannot read it): no round is labelled after the last epoch.
  num_epochs: experiment.trainer.num_epochs,
};

// Reads only the characters of `language`'s unlabelled text (for the character vocabulary).
local characters_reader(language) = {
  type: 'xlner_conll',
  language: language,
  encoding: common.corpora[language].unlabelled_encoding,
  token_indexers: { token_characters: common.characters },
};

// One model for the target languages `targets`: every round pseudo-labels each target's unlabelled
// text (its own threshold and statistics) and the model trains on English and all of them together;
// `target_encoders` is the model's ("per_language" or "shared").
local multi(targets, target_encoders) =
  local chosen = common.check_targets(targets);
  local experiment = common.experiment(
    model(chosen) + { target_encoders: target_encoders, target_languages: chosen }, aligned=true, chosen=chosen
  );
  experiment + {
    dataset_reader: { type: 'xlner_pseudo_labelled', base_reader: experiment.dataset_reader },
    // Every target's unlabelled characters, each file read in its own encoding.
    vocabulary: {
      type: 'xlner_from_instances_and_files',
      reader: {
        type: 'interleaving',
        scheme: 'all_at_once',
        readers: { [language]: characters_reader(language) for language in chosen },
      },
      data_paths: [std.manifestJsonMinified({ [language]: common.corpora[language].unlabelled for language in chosen })],
      namespaces: ['token_characters'],
    },
    // Lazy loading: the reader is re-read every epoch, so each round's pseudo-labels are seen.
    data_loader+: { max_instances_in_memory: 1000000 },
    trainer+: {
      callbacks: [{
        type: 'xlner_pseudo_label',
        targets: [
          {
            language: language,
            unlabelled_data_path: common.corpora[language].unlabelled,
            encoding: common.corpora[language].unlabelled_encoding,
          }
          for language in chosen
        ],
      } + schedule(experiment)] + super.callbacks,
    },
  };

{
  model:: model,
  schedule:: schedule,
  characters_reader:: characters_reader,
  multi:: multi,
}
