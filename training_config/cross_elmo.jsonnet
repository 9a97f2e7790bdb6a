// Cross-ELMo: CRF tagger over aligned contextual vectors (Schuster et al., 2019) + character features,
// trained on English labels only. Each instance runs its own language's ELMo; each ELMo layer is
// divided by its anchors' mean token norm and mapped by that layer's frozen artifact. The reader,
// character features, word BiLSTM and trainer are common.libsonnet's (its header lists the
// environment and the -o overrides, e.g. model selection on the target dev set).
//
// Artifacts it expects (paths from `artifacts` below; override the `languages` of the embedder to
// point elsewhere, e.g. -o '{"model.text_field_embedder.token_embedders.elmo.languages": {...}}'):
//   artifacts/elmo/<lang>                        allennlp xlner-export-elmo output (en and the target)
//   artifacts/anchors/<lang>                     allennlp xlner-anchors output
//   artifacts/elmo_alignments/<target>-en/layer<l>
//                                                allennlp xlner-align on the anchors of layer l
//                                                (--mapped-language <target> --reference-language en
//                                                 --normalization none)
local common = import 'common.libsonnet';
local target = common.target;

// Hyperparameters (plain values; override with -o).
local artifacts = 'artifacts';
local aligned = true;  // false: the unaligned-ELMo baseline (norm scaling only)
local elmo_layers = [1];  // one layer as is, or several scalar-mixed after mapping
local elmo_dim = 256;  // 2 * projection_dim of the ELMos
local elmo_dropout = 0.3;
local tied = false;  // tie the BiLSTMs' two directions (xlner_tied_lstm)
// Mapped ELMo vectors kept in memory (4 * 256 bytes a token per layer): the English training and dev
// sets (about 0.26M tokens) are computed once, in the first epoch, and reused by the later ones.
local elmo_cache_tokens = 1000000;

local elmo_language(language, side) = {
  elmo: artifacts + '/elmo/' + language,
  anchors: artifacts + '/anchors/' + language,
} + (if aligned then { alignment: artifacts + '/elmo_alignments/' + target + '-en', side: side } else {});

// ELMo reads characters (allennlp's ELMo character ids) instead of the static vectors' word rows.
local indexers = { elmo: { type: 'elmo_characters' }, token_characters: common.characters };

local model = common.crf_tagger(aligned=false, tied=tied) + {
  text_field_embedder: {
    token_embedders: {
      elmo: {
        type: 'xlner_aligned_elmo',
        languages: { en: elmo_language('en', 'reference'), [target]: elmo_language(target, 'mapped') },
        layers: elmo_layers,
        dropout: elmo_dropout,
        cache_tokens: elmo_cache_tokens,
      },
      token_characters: common.crf_tagger(aligned=false, tied=tied).text_field_embedder.token_embedders.token_characters,
    },
  },
  encoder: common.bilstm(tied, elmo_dim + 2 * common.char_hidden, common.word_hidden),
};

common.experiment(model, aligned=false) + {
  dataset_reader+: { token_indexers: indexers },
  validation_dataset_reader+: { token_indexers: indexers },
}
