"""The `xlner_lstm` Seq2VecEncoder: allennlp's `lstm` encoder, run on the padded batch."""
import torch
from allennlp.modules.seq2vec_encoders.seq2vec_encoder import Seq2VecEncoder

from xlner_allennlp.modules.fast_lstm import batch_first_lstm, fast_lstm


@Seq2VecEncoder.register("xlner_lstm")
class FastLstmSeq2VecEncoder(Seq2VecEncoder):
    """
    allennlp's `lstm` Seq2VecEncoder (`LstmSeq2VecEncoder`): the top layer's final hidden states,
    for two directions the forward one's after the last real element, then the backward one's
    after reading back to the first; empty sequences encode to zeros. Same constructor (less
    `stateful`), the same `torch.nn.LSTM` parameters under the same state-dict keys (`_module.*`,
    archives of either load into the other), the same outputs and gradients up to floating-point
    rounding, computed by `fast_lstm` on the padded batch (see `xlner_lstm` the Seq2SeqEncoder).

    Registered as a `Seq2VecEncoder` with name "xlner_lstm".

    # Parameters

    input_size : `int`, required
        The dimension of the input vectors.
    hidden_size : `int`, required
        The LSTM's hidden size per direction.
    num_layers : `int`, optional (default = `1`)
        Number of stacked layers.
    bias : `bool`, optional (default = `True`)
        Whether the LSTM has bias terms.
    dropout : `float`, optional (default = `0.0`)
        Dropout on the outputs of every layer but the last, in training.
    bidirectional : `bool`, optional (default = `False`)
        Whether a second direction reads each sequence backwards; the output dimension is then
        `2 * hidden_size`, forward state first.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__(stateful=False)
        self._module = batch_first_lstm(input_size, hidden_size, num_layers, bias, dropout, bidirectional)

    def get_input_dim(self) -> int:
        return self._module.input_size

    def get_output_dim(self) -> int:
        return self._module.hidden_size * (2 if self._module.bidirectional else 1)

    def forward(self, inputs: torch.Tensor, mask: torch.BoolTensor) -> torch.Tensor:
        """Encodes `inputs` `(batch, seq_len, input_size)` under the prefix `mask` `(batch,
        seq_len)`; returns `(batch, output_dim)`."""
        lengths = mask.sum(1)  # a long mask too (allennlp's character_encoding passes one)
        encoded = fast_lstm(self._module, inputs, lengths)
        hidden_size = self._module.hidden_size
        last = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, hidden_size)
        final = encoded[:, :, :hidden_size].gather(1, last).squeeze(1)
        if self._module.bidirectional:
            # The backward direction finishes at the first position.
            final = torch.cat([final, encoded[:, 0, hidden_size:]], 1)
        return final.masked_fill((lengths == 0).unsqueeze(1), 0.0)
