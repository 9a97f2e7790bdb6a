"""A bidirectional LSTM whose two directions share one set of weights (Bari et al.'s Cross-Shared)."""
import torch
from allennlp.modules.seq2seq_encoders.seq2seq_encoder import Seq2SeqEncoder

from xlner_allennlp.modules.fast_lstm import fast_lstm, reverse_padded


@Seq2SeqEncoder.register("xlner_tied_lstm")
class TiedLstmSeq2SeqEncoder(Seq2SeqEncoder):
    """
    A bidirectional LSTM with tied directions: one unidirectional `torch.nn.LSTM` per layer reads
    each sentence left to right and, in the same call (the two directions are stacked along the
    batch dimension), the sentence reversed within its length. The outputs are concatenated,
    forward half first, as for a bidirectional LSTM, so the output dimension is `2 * hidden_size`
    with the parameters of a single direction ("learning less to transfer more", Bari et al.).

    The LSTM runs on the padded batch (`fast_lstm`: padded positions never influence real ones,
    as with packed sequences, in fewer and larger operations); padded positions output zeros.
    Registered as a `Seq2SeqEncoder` with name "xlner_tied_lstm".

    # Parameters

    input_size : `int`, required
        The dimension of the input vectors.
    hidden_size : `int`, required
        The LSTM's hidden size per direction; the output dimension is twice this.
    num_layers : `int`, optional (default = `1`)
        Number of stacked layers; each layer reads both directions of the previous one, like a
        stacked bidirectional LSTM, and has its own (tied) weights.
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
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self._input_size = input_size
        self._hidden_size = hidden_size
        self._layers = torch.nn.ModuleList(
            torch.nn.LSTM(
                input_size if layer == 0 else 2 * hidden_size,
                hidden_size,
                bias=bias,
                batch_first=True,
            )
            for layer in range(num_layers)
        )
        self._dropout = torch.nn.Dropout(dropout)

    def get_input_dim(self) -> int:
        return self._input_size

    def get_output_dim(self) -> int:
        return 2 * self._hidden_size

    def is_bidirectional(self) -> bool:
        return True

    def forward(self, inputs: torch.Tensor, mask: torch.BoolTensor) -> torch.Tensor:
        """Encodes `inputs` `(batch, seq_len, input_size)` under the prefix `mask` `(batch,
        seq_len)`; returns `(batch, seq_len, 2 * hidden_size)`."""
        mask = mask.bool()  # allennlp's character_encoding passes a long mask
        lengths = mask.sum(1)
        both_lengths = lengths.repeat(2)
        layer_input = inputs
        for index, lstm in enumerate(self._layers):
            if index > 0:
                layer_input = self._dropout(layer_input)
            both = torch.cat([layer_input, reverse_padded(layer_input, lengths)], 0)
            forward, backward_reversed = fast_lstm(lstm, both, both_lengths).chunk(2, 0)
            layer_input = torch.cat([forward, reverse_padded(backward_reversed, lengths)], 2)
        return layer_input.masked_fill(~mask.unsqueeze(2), 0.0)
