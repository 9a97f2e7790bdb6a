"""Neural modules: the CRF, tied-direction LSTMs and the aligned token embedder."""
from xlner_allennlp.modules.seq2seq_encoders import *  # noqa: F401,F403
from xlner_allennlp.modules.seq2vec_encoders import *  # noqa: F401,F403
from xlner_allennlp.modules.token_embedders import *  # noqa: F401,F403
