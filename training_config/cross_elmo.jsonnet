// Cross-ELMo: CRF tagger over aligned contextual vectors (Schuster et al., 2019) + character features,
// trained on English labels only. Each instance runs its own language's ELMo; each ELMo layer is
// divided by its anchors' mean token norm and mapped by that layer's frozen artifact. The reader,
// character features, word BiLSTM and trainer are common.libsonnet's (its header lists the
// environment and the -o overrides, e.g. model selection on the target dev set).
//
// Artifacts it expects: elmo.libsonnet's header.
local common = import 'common.libsonnet';
local elmo = import 'elmo.libsonnet';
local target = common.target;

// Hyperparameters (plain values; override with -o).
local artifacts = 'artifacts';
local aligned = true;  // false: the unaligned-ELMo baseline (norm scaling only)
local elmo_layers = [1];  // one layer as is, or several scalar-mixed after mapping
local elmo_dropout = 0.3;
local tied = false;  // tie the BiLSTMs' two directions (xlner_tied_lstm)
// Mapped ELMo vectors kept in memory (4 * 256 bytes a token per layer): the English training and dev
// sets (about 0.26M tokens) are computed once, in the first epoch, and reused by the later ones.
local elmo_cache_tokens = 1000000;

local indexers = { elmo: elmo.indexer, token_characters: common.characters };

local model = common.crf_tagger(aligned=false, tied=tied) + {
  text_field_embedder: {
    token_embedders: {
      elmo: elmo.embedder(artifacts, target, aligned, elmo_layers, elmo_dropout, elmo_cache_tokens),
      token_characters: common.crf_tagger(aligned=false, tied=tied).text_field_embedder.token_embedders.token_characters,
    },
  },
  encoder: common.bilstm(tied, elmo.dim + 2 * common.char_hidden, common.word_hidden),
};

common.experiment(model, aligned=false) + {
  dataset_reader+: { token_indexers: indexers },
  validation_dataset_reader+: { token_indexers: indexers },
}
