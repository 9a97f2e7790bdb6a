"""Training: trainer callbacks."""
from xlner_allennlp.training.callbacks import *  # noqa: F401,F403
