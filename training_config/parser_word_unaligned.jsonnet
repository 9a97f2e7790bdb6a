// The no-alignment baseline of parser_word: the same parser over each language's own fastText
// vectors, unit-normalized and not mapped (English's for training, `target`'s plugged in with
// `allennlp xlner-evaluate --vectors` and no --alignment). Gold UPOS as in parser_word, with -o.
local parser = import 'parser.libsonnet';
local target = parser.target;  // XLNER_TARGET: the language whose vectors the model holds

parser.experiment(parser.words(target, aligned=false), upos_dim=0)
