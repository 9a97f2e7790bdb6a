"""Re-exports; see the modules of this folder."""
from xlner_allennlp.models.bilm import BidirectionalLanguageModel
from xlner_allennlp.models.cross_augmented_tagger import CrossAugmentedTagger
from xlner_allennlp.models.crf_tagger import CrfTagger
from xlner_allennlp.models.multitask_bwe import MultitaskBweTagger
from xlner_allennlp.models.pseudo_labeller import PseudoLabeller
from xlner_allennlp.models.biaffine_parser import BiaffineParser
