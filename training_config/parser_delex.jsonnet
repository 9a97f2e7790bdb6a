// The delexicalised transfer baseline (McDonald et al. 2011): the parser reads gold UPOS only, so
// it applies to any language with UD tags and no vectors.
local parser = import 'parser.libsonnet';
local target = 'es';  // dev set used by 'target' selection
local selection = 'source';  // 'source': English dev (zero-resource); 'target': the target dev set

parser.experiment(parser.delexicalised, upos_dim=50, target=target, selection=selection)
