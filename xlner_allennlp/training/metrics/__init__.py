"""Re-exports; see the modules of this folder."""
from xlner_allennlp.training.metrics.attachment_scores import AttachmentScores
