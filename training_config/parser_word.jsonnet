// Zero-shot parsing over aligned fastText vectors: English vectors and `target`'s mapped into
// English space. Without gold UPOS by default; with it (50-d), override both sizes:
//   -o '{"model.upos_embedding_dim": 50, "model.encoder.input_size": 350}'
local parser = import 'parser.libsonnet';
local target = parser.target;  // XLNER_TARGET: the language whose vectors the model holds

parser.experiment(parser.words(target), upos_dim=0)
