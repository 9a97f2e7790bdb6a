// Source-Mono: English CoNLL-2003 with raw (unaligned, unit-normalized) fastText vectors. On English
// this is the monolingual tagger; on the target language it is the no-alignment baseline.
local common = import 'common.libsonnet';

common.experiment(common.crf_tagger(aligned=false, tied=false), aligned=false)
