"""The bidirectional language model network that allennlp's ``Elmo`` computes, in plain torch.

Token representations come from a character CNN (max-pooled convolutions, highway layers, a linear
projection to ``P``); two independent LSTM stacks (a forward LM and a backward LM, so neither sees
the tokens it predicts) contextualize them, each layer an ``nn.LSTM(P, C, proj_size=P)`` with a
residual connection from its input from layer 1 up. ELMo's activations are layer 0 = the token
representation duplicated to ``2P`` and layer ``l >= 1`` = [forward; backward] outputs of LSTM layer
``l``. :mod:`xlner_allennlp.contextual.elmo_format` writes the network in ELMo's weight format.

Character ids are ELMo's (UTF-8 byte + 1, specials 257-261, 0 = padding token); the network adds
the sentence boundaries ``<S>`` / ``</S>`` itself, as ``Elmo`` does. Two exact shortcuts make the
character CNN cheap: the character axis is cut to the longest word + the widest filter (every
window past that sees only character padding, so it repeats one already seen), and the CNN runs
once per distinct word of the batch. The LSTM starts from a zero state on every call.
"""
from dataclasses import dataclass
from typing import List, Tuple

import torch
from torch import nn

N_CHARACTERS = 262
MAX_CHARACTERS_PER_TOKEN = 50
# ELMo's character vocabulary (allennlp's ELMoCharacterMapper), every id already shifted by +1.
BEGINNING_OF_WORD = 259
END_OF_WORD = 260
CHARACTER_PADDING = 261
BEGINNING_OF_SENTENCE = 257
END_OF_SENTENCE = 258
ACTIVATIONS = ("relu", "tanh")


def _boundary_characters(marker: int) -> List[int]:
    return [BEGINNING_OF_WORD, marker, END_OF_WORD] + [CHARACTER_PADDING] * (MAX_CHARACTERS_PER_TOKEN - 3)


BOS_CHARACTERS = _boundary_characters(BEGINNING_OF_SENTENCE)
EOS_CHARACTERS = _boundary_characters(END_OF_SENTENCE)


@dataclass(frozen=True)
class BiLmOptions:
    """The architecture of a :class:`BiLm`; exactly what ELMo's ``options.json`` records.

    # Parameters

    char_embedding_dim : `int`, (default = `16`) size ``d`` of a character embedding.
    filters : `Tuple[Tuple[int, int], ...]`, (default = `((1, 32), (2, 32), (3, 64), (4, 128))`)
        ``(width, count)`` of each convolution; the CNN output has ``sum(count)`` features.
    n_highway : `int`, (default = `1`) highway layers after the CNN (ReLU, as in ELMo).
    activation : `str`, (default = `"relu"`) applied after max-pooling each convolution: relu or tanh.
    projection_dim : `int`, (default = `128`) ``P``: token representation and LSTM output size.
    cell_size : `int`, (default = `256`) ``C``: LSTM memory cell size, larger than ``P``.
    num_layers : `int`, (default = `2`) LSTM layers per direction.
    cell_clip : `float`, (default = `0.0`) clip of the memory cell to ``[-clip, clip]``; 0 disables.
    proj_clip : `float`, (default = `0.0`) clip of the projected state; 0 disables. Clipping runs
        the LSTM as a Python loop over time steps, several times slower than ``nn.LSTM``.
    """

    char_embedding_dim: int = 16
    filters: Tuple[Tuple[int, int], ...] = ((1, 32), (2, 32), (3, 64), (4, 128))
    n_highway: int = 1
    activation: str = "relu"
    projection_dim: int = 128
    cell_size: int = 256
    num_layers: int = 2
    cell_clip: float = 0.0
    proj_clip: float = 0.0

    def __post_init__(self) -> None:
        filters = tuple((int(width), int(count)) for width, count in self.filters)
        object.__setattr__(self, "filters", filters)
        problems = []
        if not filters or any(width < 1 or count < 1 for width, count in filters):
            problems.append(f"filters must be a non-empty list of positive [width, count]; got {list(self.filters)}")
        elif max(width for width, _ in filters) > MAX_CHARACTERS_PER_TOKEN:
            problems.append(f"a filter is wider than {MAX_CHARACTERS_PER_TOKEN} characters")
        for name in ("char_embedding_dim", "projection_dim", "cell_size", "num_layers"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be positive; got {getattr(self, name)}")
        if self.projection_dim >= self.cell_size:
            problems.append(f"projection_dim ({self.projection_dim}) must be smaller than cell_size ({self.cell_size})")
        if self.n_highway < 0:
            problems.append(f"n_highway must be >= 0; got {self.n_highway}")
        if self.cell_clip < 0 or self.proj_clip < 0:
            problems.append("cell_clip and proj_clip must be >= 0 (0 disables)")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {ACTIVATIONS}; got {self.activation!r}")
        if problems:
            raise ValueError("invalid BiLM options: " + "; ".join(problems))

    @property
    def n_filters(self) -> int:
        return sum(count for _, count in self.filters)


def reverse_padded(sequences: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of ``sequences`` (batch, steps, ...) within its length (batch,);
    positions past a sequence's length stay where they are. Its own inverse."""
    steps = sequences.size(1)
    positions = torch.arange(steps, device=sequences.device).unsqueeze(0)
    lengths = lengths.unsqueeze(1)
    index = torch.where(positions < lengths, lengths - 1 - positions, positions)
    index = index.view(*index.shape, *([1] * (sequences.dim() - 2))).expand_as(sequences)
    return sequences.gather(1, index)


def _clipped_lstm(lstm: nn.LSTM, inputs: torch.Tensor, cell_clip: float, proj_clip: float) -> torch.Tensor:
    """``lstm(inputs)[0]`` (batch, steps, P) with the memory cell and the projected state clipped
    after every step, as allennlp's ``LstmCellWithProjection`` does; 0 disables a clip."""
    weight_hh, weight_hr = lstm.weight_hh_l0, lstm.weight_hr_l0
    gates_from_input = inputs @ lstm.weight_ih_l0.t() + lstm.bias_ih_l0 + lstm.bias_hh_l0
    batch = inputs.size(0)
    state = inputs.new_zeros(batch, weight_hr.size(0))
    memory = inputs.new_zeros(batch, weight_hr.size(1))
    outputs = []
    for step in range(inputs.size(1)):
        gates = gates_from_input[:, step] + state @ weight_hh.t()
        input_gate, forget_gate, candidate, output_gate = gates.chunk(4, dim=-1)
        memory = torch.sigmoid(input_gate) * torch.tanh(candidate) + torch.sigmoid(forget_gate) * memory
        if cell_clip:
            memory = memory.clamp(-cell_clip, cell_clip)
        state = (torch.sigmoid(output_gate) * torch.tanh(memory)) @ weight_hr.t()
        if proj_clip:
            state = state.clamp(-proj_clip, proj_clip)
        outputs.append(state)
    return torch.stack(outputs, dim=1)


class BiLm(nn.Module):
    """Character CNN + highway + projection, then forward and backward LSTM stacks (see the module
    docstring). ``dropout`` (default 0) applies, in training only, to the input of every LSTM layer;
    it is not part of the ELMo options."""

    def __init__(self, options: BiLmOptions = BiLmOptions(), dropout: float = 0.0) -> None:
        super().__init__()
        self.options = options
        d, p, c = options.char_embedding_dim, options.projection_dim, options.cell_size
        self.char_embedding = nn.Embedding(N_CHARACTERS, d, padding_idx=0)
        self.convolutions = nn.ModuleList(nn.Conv1d(d, count, width) for width, count in options.filters)
        self.highways = nn.ModuleList(nn.Linear(options.n_filters, 2 * options.n_filters) for _ in range(options.n_highway))
        self.projection = nn.Linear(options.n_filters, p)
        self.forward_layers = nn.ModuleList(nn.LSTM(p, c, proj_size=p, batch_first=True) for _ in range(options.num_layers))
        self.backward_layers = nn.ModuleList(nn.LSTM(p, c, proj_size=p, batch_first=True) for _ in range(options.num_layers))
        self.dropout = nn.Dropout(dropout)
        self._widest_filter = max(width for width, _ in options.filters)
        self.register_buffer("_bos", torch.tensor(BOS_CHARACTERS), persistent=False)
        self.register_buffer("_eos", torch.tensor(EOS_CHARACTERS), persistent=False)
        self._initialize()

    def _initialize(self) -> None:
        for highway in self.highways:
            # Start close to the identity: the carry gate sigmoid(b) is ~0.88.
            nn.init.constant_(highway.bias[self.options.n_filters:], 2.0)
            nn.init.zeros_(highway.bias[: self.options.n_filters])
        cell = self.options.cell_size
        for lstm in list(self.forward_layers) + list(self.backward_layers):
            with torch.no_grad():
                lstm.bias_ih_l0.zero_()
                lstm.bias_hh_l0.zero_()
                lstm.bias_ih_l0[cell: 2 * cell] = 1.0  # forget gate bias 1

    def get_output_dim(self) -> int:
        """Size ``2P`` of every activation layer."""
        return 2 * self.options.projection_dim

    @property
    def num_activation_layers(self) -> int:
        """The activation layers :meth:`forward` returns: the token layer and one per LSTM layer."""
        return self.options.num_layers + 1

    def add_sentence_boundaries(self, character_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``character_ids`` (batch, steps, 50) -> (batch, steps + 2, 50) with ``<S>`` first and
        ``</S>`` after each sentence's last token, and its mask (batch, steps + 2) (True = token)."""
        batch, steps, width = character_ids.shape
        lengths = (character_ids > 0).any(dim=-1).sum(dim=1)
        with_boundaries = character_ids.new_zeros(batch, steps + 2, width)
        with_boundaries[:, 1: steps + 1] = character_ids
        with_boundaries[:, 0] = self._bos
        with_boundaries[torch.arange(batch, device=character_ids.device), lengths + 1] = self._eos
        return with_boundaries, (with_boundaries > 0).any(dim=-1)

    def embed_tokens(self, character_ids: torch.Tensor) -> torch.Tensor:
        """Context-independent token representations: (..., 50) character ids -> (..., P)."""
        leading = character_ids.shape[:-1]
        words, inverse = torch.unique(character_ids.reshape(-1, character_ids.size(-1)), dim=0, return_inverse=True)
        word_length = ((words > 0) & (words != CHARACTER_PADDING)).sum(dim=1).max()
        width = min(words.size(1), int(word_length) + self._widest_filter)
        embedded = self.char_embedding(words[:, :width]).transpose(1, 2)  # (words, d, width)
        activation = torch.relu if self.options.activation == "relu" else torch.tanh
        features = torch.cat([activation(conv(embedded).max(dim=-1).values) for conv in self.convolutions], dim=-1)
        for highway in self.highways:
            nonlinear, gate = highway(features).chunk(2, dim=-1)
            gate = torch.sigmoid(gate)
            features = gate * features + (1 - gate) * torch.relu(nonlinear)
        return self.projection(features)[inverse].view(*leading, -1)

    def _run_layer(self, lstm: nn.LSTM, inputs: torch.Tensor) -> torch.Tensor:
        inputs = self.dropout(inputs)
        if self.options.cell_clip or self.options.proj_clip:
            return _clipped_lstm(lstm, inputs, self.options.cell_clip, self.options.proj_clip)
        return lstm(inputs)[0]

    def contextualize(self, tokens: torch.Tensor, mask: torch.Tensor) -> List[torch.Tensor]:
        """Token representations (batch, steps, P) and mask (batch, steps), each sentence's tokens
        first -> the ``num_layers + 1`` activations (batch, steps, 2P), zero at padding."""
        lengths = mask.sum(dim=1)
        keep = mask.unsqueeze(-1).to(tokens.dtype)
        activations = [torch.cat([tokens, tokens], dim=-1) * keep]
        forward_input, backward_input = tokens, reverse_padded(tokens, lengths)
        for index, (forward_lstm, backward_lstm) in enumerate(zip(self.forward_layers, self.backward_layers)):
            forward_output = self._run_layer(forward_lstm, forward_input)
            backward_output = self._run_layer(backward_lstm, backward_input)
            if index > 0:
                forward_output = forward_output + forward_input
                backward_output = backward_output + backward_input
            activations.append(torch.cat([forward_output, reverse_padded(backward_output, lengths)], dim=-1) * keep)
            forward_input, backward_input = forward_output, backward_output
        return activations

    def forward(self, character_ids: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """``character_ids`` (batch, steps, 50) without sentence boundaries -> (activations, mask):
        ``num_layers + 1`` tensors (batch, steps + 2, 2P) and the mask (batch, steps + 2), both
        with ``<S>`` / ``</S>`` positions, exactly as allennlp's ``_ElmoBiLm`` returns them."""
        with_boundaries, mask = self.add_sentence_boundaries(character_ids)
        return self.contextualize(self.embed_tokens(with_boundaries), mask), mask

