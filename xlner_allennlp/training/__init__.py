"""Training: trainer callbacks and learning-rate schedules."""
from xlner_allennlp.training.callbacks import *  # noqa: F401,F403
from xlner_allennlp.training.learning_rate_schedulers import *  # noqa: F401,F403
