// One Cross-Augmented model for every target language: English labels plus, every round, the
// pseudo-labelled sentences of es, nl, de and fr together (each instance carries its language;
// each language has its own length threshold, redrawn every round, and its own statistics). The
// model, schedule and readers are cross_augmented.jsonnet's (cross_augmented.libsonnet), with a
// target model per language (model.target_encoders "per_language"; -o '{"model.target_encoders":
// "shared"}' for one shared by all). Training, validation (English dev) and overrides are as in
// cross_augmented.jsonnet; XLNER_TARGET is not read.
//
// Other targets (e.g. three, to tag the fourth plugged in by configuration without retraining): a
// one-line jsonnet file, (import '<this directory>/cross_augmented.libsonnet').multi(['es', 'nl', 'de'], 'per_language').
// English is placed by the first target's alignment artifact: the artifacts must place English
// alike (procrustes-refine and the dictionary-free self-learning settings do, multistep does not).
(import 'cross_augmented.libsonnet').multi(['es', 'nl', 'de', 'fr'], 'per_language')
