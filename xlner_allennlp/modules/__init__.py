"""Neural modules: the CRF, the fast and the tied-direction LSTMs, fast dropout, the aligned token
embedders and ELMo loading."""
from xlner_allennlp.modules.seq2seq_encoders import *  # noqa: F401,F403
from xlner_allennlp.modules.seq2vec_encoders import *  # noqa: F401,F403
from xlner_allennlp.modules.token_embedders import *  # noqa: F401,F403
