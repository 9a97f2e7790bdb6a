// Cross-Word: the target language's vectors mapped into English space by a frozen orthogonal
// mapping (alignment artifact <target>-en); trained on English labels only.
local common = import 'common.libsonnet';

common.experiment(common.crf_tagger(aligned=true, tied=false), aligned=true)
