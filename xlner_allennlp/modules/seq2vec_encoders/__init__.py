"""Re-exports; see the modules of this folder."""
from xlner_allennlp.modules.seq2vec_encoders.fast_lstm import FastLstmSeq2VecEncoder  # noqa: F401
from xlner_allennlp.modules.seq2vec_encoders.tied_lstm import TiedLstmSeq2VecEncoder  # noqa: F401
