"""Data: dataset readers, token indexers and vocabulary constructors."""
from xlner_allennlp.data.dataset_readers import *  # noqa: F401,F403
from xlner_allennlp.data.token_indexers import *  # noqa: F401,F403
from xlner_allennlp.data.vocabulary import *  # noqa: F401,F403
