// Zero-shot parsing over aligned ELMo (Schuster et al., 2019): each sentence runs its own
// language's ELMo, layer 1 by default, divided by its anchors' mean token norm and mapped into
// English space by that layer's artifact (elmo.libsonnet's header lists the artifacts; `make elmo
// LANGUAGE=<l>` builds them). Without gold UPOS by default; with it (50-d), override both sizes:
//   -o '{"model.upos_embedding_dim": 50, "model.encoder.input_size": 306}'
// Other languages are plugged in by `allennlp xlner-evaluate --elmo --anchors [--elmo-alignment]`.
local elmo = import 'elmo.libsonnet';
local parser = import 'parser.libsonnet';
local target = parser.target;  // XLNER_TARGET: the language whose ELMo the model holds

// Hyperparameters (plain values; override with -o).
local artifacts = 'artifacts';
local aligned = true;  // false: the unaligned-ELMo baseline (norm scaling only)
local elmo_layers = [1];  // one layer as is, or several scalar-mixed after mapping
local elmo_dropout = 0.3;
// Mapped ELMo vectors kept in memory (4 * 256 bytes a token per layer): English EWT train and dev
// (about 0.25M tokens) are computed once, in the first epoch, and reused by the later ones.
local elmo_cache_tokens = 1000000;

local input = {
  indexers: { elmo: elmo.indexer },
  embedder: { token_embedders: { elmo: elmo.embedder(artifacts, target, aligned, elmo_layers, elmo_dropout, elmo_cache_tokens) } },
  dim: elmo.dim,
};

parser.experiment(input, upos_dim=0)
