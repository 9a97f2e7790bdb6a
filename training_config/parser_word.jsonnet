// Zero-shot parsing over aligned fastText vectors: English vectors and `target`'s mapped into
// English space. Without gold UPOS by default; with it (50-d), override both sizes:
//   -o '{"model.upos_embedding_dim": 50, "model.encoder.input_size": 350}'
local parser = import 'parser.libsonnet';
local target = 'es';  // the language whose vectors the model holds and whose dev set 'target' selection uses
local selection = 'source';  // 'source': English dev (zero-resource); 'target': the target dev set

parser.experiment(parser.words(target), upos_dim=0, target=target, selection=selection)
