"""Re-exports; see the modules of this folder."""
from xlner_allennlp.predictors.tagger import TaggerInputError, TaggerPredictor
from xlner_allennlp.predictors.parser import ParserPredictor
