"""Data: dataset readers and token indexers."""
from xlner_allennlp.data.dataset_readers import *  # noqa: F401,F403
from xlner_allennlp.data.token_indexers import *  # noqa: F401,F403
