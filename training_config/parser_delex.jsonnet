// The delexicalised transfer baseline (McDonald et al. 2011): the parser reads gold UPOS only, so
// it applies to any language with UD tags and no vectors.
local parser = import 'parser.libsonnet';

parser.experiment(parser.delexicalised, upos_dim=50)
