"""Re-exports; see the modules of this folder."""
from xlner_allennlp.models.cross_augmented_tagger import CrossAugmentedTagger
from xlner_allennlp.models.crf_tagger import CrfTagger
from xlner_allennlp.models.biaffine_parser import BiaffineParser
