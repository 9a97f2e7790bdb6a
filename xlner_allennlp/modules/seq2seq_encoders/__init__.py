"""Re-exports; see the modules of this folder."""
from xlner_allennlp.modules.fast_lstm import reverse_padded  # noqa: F401
from xlner_allennlp.modules.seq2seq_encoders.fast_lstm import FastLstmSeq2SeqEncoder  # noqa: F401
from xlner_allennlp.modules.seq2seq_encoders.tied_lstm import TiedLstmSeq2SeqEncoder  # noqa: F401
