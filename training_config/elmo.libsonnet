// The aligned-ELMo pieces shared by the ELMo experiments (cross_elmo.jsonnet, parser_elmo.jsonnet):
// each instance runs its own language's ELMo; each ELMo layer is divided by its anchors' mean token
// norm and mapped by that layer's frozen artifact (Schuster et al., 2019).
//
// Artifacts expected under `artifacts` (override the embedder's `languages` to point elsewhere, e.g.
// -o '{"model.text_field_embedder.token_embedders.elmo.languages": {...}}'):
//   <artifacts>/elmo/<lang>                        allennlp xlner-export-elmo output (en and the target)
//   <artifacts>/anchors/<lang>                     allennlp xlner-anchors output
//   <artifacts>/elmo_alignments/<target>-en/layer<l>
//                                                  allennlp xlner-align on the anchors of layer l
//                                                  (--mapped-language <target> --reference-language en
//                                                   --normalization none)
{
  // 2 * projection_dim of the ELMos that `make elmo` trains (training_config/bilm.jsonnet).
  dim: 256,

  // ELMo reads characters (allennlp's ELMo character ids), not the static vectors' word rows.
  indexer: { type: 'elmo_characters' },

  // A language's entry: its ELMo and anchors, and (aligned) the target's per-layer artifacts and the
  // side of them the language is; unaligned, only the norm scaling (the unaligned-ELMo baseline).
  language(artifacts, language, target, side, aligned):: {
    elmo: artifacts + '/elmo/' + language,
    anchors: artifacts + '/anchors/' + language,
  } + (if aligned then { alignment: artifacts + '/elmo_alignments/' + target + '-en', side: side } else {}),

  // The `xlner_aligned_elmo` embedder over English (reference side) and `target` (mapped side).
  // layers: one layer as is, or several scalar-mixed after mapping; cache_tokens: mapped ELMo vectors
  // kept in memory (4 * dim bytes a token per layer), so later epochs reuse the first's.
  embedder(artifacts, target, aligned, layers, dropout, cache_tokens):: {
    type: 'xlner_aligned_elmo',
    languages: {
      en: $.language(artifacts, 'en', target, 'reference', aligned),
      [target]: $.language(artifacts, target, target, 'mapped', aligned),
    },
    layers: layers,
    dropout: dropout,
    cache_tokens: cache_tokens,
  },
}
