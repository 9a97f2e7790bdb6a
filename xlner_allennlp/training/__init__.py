"""Training: trainer callbacks, learning-rate schedules and metrics."""
from xlner_allennlp.training.callbacks import *  # noqa: F401,F403
from xlner_allennlp.training.learning_rate_schedulers import *  # noqa: F401,F403
from xlner_allennlp.training.metrics import *  # noqa: F401,F403
