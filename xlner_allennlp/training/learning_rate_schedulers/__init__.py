"""Learning-rate schedules."""
from xlner_allennlp.training.learning_rate_schedulers.inverse_time_decay import InverseTimeDecay
