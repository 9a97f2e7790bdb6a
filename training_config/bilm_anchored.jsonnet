// The anchored LM (Schuster et al. 2019, low-resource target): bilm.jsonnet for a target language
// (XLNER_LANGUAGE, not en) with a penalty pulling its layer-0 (character-CNN) vectors of dictionary
// words toward the English layer-0 anchors of their translations (model option `anchoring`, see
// xlner_allennlp/contextual/anchoring.py). Afterwards export, extract anchors and align every layer
// as for any ELMo (`make elmo` / the Makefile's xlner-align loop).
//
// Inputs (plain values, overridable with -o):
//   model.anchoring.anchors      English anchors (allennlp xlner-anchors of the English ELMo),
//                                default artifacts/anchors/en (relative to the working directory)
//   model.anchoring.dictionary   the data layout's MUSE training dictionary <language>-en under
//                                XLNER_DATA (dict/muse/<language>-en.0-5000.txt)
//   dataset_reader.max_instances the first N training sentences (the paper's setting: 10000);
//                                null trains on all of lm_train
local bilm = import 'bilm.jsonnet';
local common = import 'common.libsonnet';
local language = bilm.dataset_reader.language;
local dictionaries = common.corpora[language].dictionaries;
local dictionary =
  if language != 'en' && std.objectHas(dictionaries, 'en') then common.data + '/' + dictionaries.en.train
  else error 'the anchored LM needs a target language with a <language>-en dictionary in the data layout; got "' + language + '"';

bilm + {
  dataset_reader+: { max_instances: 10000 },
  model+: {
    anchoring: {
      anchors: 'artifacts/anchors/en',
      dictionary: dictionary,
      weight: 1.0,
      pairs_per_batch: 256,
      lowercase: true,
      seed: 13,
    },
  },
}
