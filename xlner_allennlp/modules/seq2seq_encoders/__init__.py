"""Re-exports; see the modules of this folder."""
from xlner_allennlp.modules.seq2seq_encoders.tied_lstm import TiedLstmSeq2SeqEncoder, reverse_padded  # noqa: F401
