"""Final states of a direction-tied bidirectional LSTM, e.g. as a character-level word encoder."""
import torch
from allennlp.modules.seq2vec_encoders.seq2vec_encoder import Seq2VecEncoder

from xlner_allennlp.modules.seq2seq_encoders.tied_lstm import TiedLstmSeq2SeqEncoder


@Seq2VecEncoder.register("xlner_tied_lstm")
class TiedLstmSeq2VecEncoder(Seq2VecEncoder):
    """
    Encodes a sequence into the concatenated final hidden states of a `TiedLstmSeq2SeqEncoder`
    (the top layer's): the forward direction's state after the last real element, then the
    backward direction's state after reading back to the first. These are what allennlp's
    bidirectional "lstm" `Seq2VecEncoder` returns, here from one set of weights shared by both
    directions. Empty sequences encode to zeros. Registered as a `Seq2VecEncoder` with name
    "xlner_tied_lstm".

    # Parameters

    input_size : `int`, required
        The dimension of the input vectors.
    hidden_size : `int`, required
        The LSTM's hidden size per direction; the output dimension is twice this.
    num_layers : `int`, optional (default = `1`)
        Number of stacked bidirectional layers, each with its own tied weights.
    bias : `bool`, optional (default = `True`)
        Whether the LSTMs have bias terms.
    dropout : `float`, optional (default = `0.0`)
        Dropout applied to the outputs of every layer but the last.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(stateful=False)
        self._encoder = TiedLstmSeq2SeqEncoder(input_size, hidden_size, num_layers, bias, dropout)
        self._hidden_size = hidden_size

    def get_input_dim(self) -> int:
        return self._encoder.get_input_dim()

    def get_output_dim(self) -> int:
        return self._encoder.get_output_dim()

    def forward(self, inputs: torch.Tensor, mask: torch.BoolTensor) -> torch.Tensor:
        """Encodes `inputs` `(batch, seq_len, input_size)` under the prefix `mask`; returns
        `(batch, 2 * hidden_size)`."""
        encoded = self._encoder(inputs, mask)
        last = (mask.sum(1) - 1).clamp(min=0).view(-1, 1, 1)
        forward_final = encoded[:, :, : self._hidden_size].gather(
            1, last.expand(-1, 1, self._hidden_size)
        )
        # The backward direction finishes at the first position (all zeros for empty sequences).
        backward_final = encoded[:, :1, self._hidden_size :]
        return torch.cat([forward_final, backward_final], 2).squeeze(1)
