"""Re-exports; see the modules of this folder."""
from xlner_allennlp.training.callbacks.pseudo_label import PseudoLabelCallback, UnlabelledText
from xlner_allennlp.training.callbacks.export_bwe import ExportBweCallback
from xlner_allennlp.training.callbacks.random_state import RandomStateCallback
