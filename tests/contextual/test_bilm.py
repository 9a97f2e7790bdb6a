"""The BiLM network: exact character-CNN shortcuts, directions that do not see what they predict."""
import subprocess
import sys

import pytest
import torch
from allennlp.modules.elmo import batch_to_ids

from xlner_allennlp.contextual import BiLm, BiLmOptions, reverse_padded
from xlner_allennlp.contextual.bilm import _clipped_lstm

OPTIONS = BiLmOptions(char_embedding_dim=4, filters=((1, 3), (3, 5)), n_highway=1, projection_dim=6,
                      cell_size=8, num_layers=2)


def _network(options=OPTIONS) -> BiLm:
    torch.manual_seed(0)
    return BiLm(options).eval()


def _naive_token_embedding(network: BiLm, character_ids: torch.Tensor) -> torch.Tensor:
    """ELMo's character encoder without the shortcuts: every token, all 50 characters."""
    flat = character_ids.view(-1, 50)
    embedded = network.char_embedding(flat).transpose(1, 2)
    features = torch.cat([torch.relu(conv(embedded).max(dim=-1).values) for conv in network.convolutions], dim=-1)
    for highway in network.highways:
        nonlinear, gate = highway(features).chunk(2, dim=-1)
        gate = torch.sigmoid(gate)
        features = gate * features + (1 - gate) * torch.relu(nonlinear)
    return network.projection(features).view(*character_ids.shape[:-1], -1)


def test_character_cnn_shortcuts_are_exact():
    network = _network()
    character_ids = batch_to_ids([["a", "bb", "a", "ccc"], ["bb", "x" * 70], ["a"]])
    with torch.no_grad():
        fast = network.embed_tokens(character_ids)
        naive = _naive_token_embedding(network, character_ids)
        short = network.embed_tokens(batch_to_ids([["a", "bb"]]))  # truncated to 4 + 3 characters
    assert (fast - naive).abs().max() <= 1e-6
    assert (short[0] - naive[0, :2]).abs().max() <= 1e-6


def test_forward_lm_does_not_see_the_future_nor_the_backward_lm_the_past():
    network = _network()
    sentence = ["one", "two", "three", "four", "five"]
    changed_late = ["one", "two", "three", "FOUR", "five"]
    changed_early = ["one", "TWO", "three", "four", "five"]
    with torch.no_grad():
        base, _ = network(batch_to_ids([sentence]))
        late, _ = network(batch_to_ids([changed_late]))
        early, _ = network(batch_to_ids([changed_early]))
    p = OPTIONS.projection_dim
    top, top_late, top_early = base[-1], late[-1], early[-1]
    # Position 4 holds "four" (position 0 is <S>): the forward LM up to "three" (3) is unchanged...
    assert torch.allclose(top[0, :4, :p], top_late[0, :4, :p])
    assert not torch.allclose(top[0, 4, :p], top_late[0, 4, :p])
    # ...and the backward LM from "three" (3) on is unchanged when "two" (2) changes.
    assert torch.allclose(top[0, 3:, p:], top_early[0, 3:, p:])
    assert not torch.allclose(top[0, 2, p:], top_early[0, 2, p:])


def test_a_sentence_does_not_depend_on_its_batch_or_padding():
    network = _network()
    with torch.no_grad():
        alone, _ = network(batch_to_ids([["short", "one"]]))
        batched, mask = network(batch_to_ids([["a", "much", "longer", "sentence", "here"], ["short", "one"]]))
        again, _ = network(batch_to_ids([["short", "one"]]))  # no state carried from the previous call
    assert mask[1].tolist() == [True] * 4 + [False] * 3
    for single, in_batch, repeated in zip(alone, batched, again):
        assert (single[0] - in_batch[1, :4]).abs().max() <= 1e-6
        assert torch.equal(single, repeated)
        assert in_batch[1, 4:].abs().max() == 0


def test_clipped_lstm_without_clips_is_nn_lstm():
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(3, 5, proj_size=3, batch_first=True)
    inputs = torch.randn(2, 4, 3)
    with torch.no_grad():
        assert (_clipped_lstm(lstm, inputs, 0.0, 0.0) - lstm(inputs)[0]).abs().max() <= 1e-6
        assert _clipped_lstm(lstm, inputs, 0.0, 0.01).abs().max() <= 0.01


def test_reverse_padded_reverses_within_each_length():
    values = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]])
    assert reverse_padded(values, torch.tensor([3, 2])).tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]


@pytest.mark.parametrize("change, message", [
    ({"filters": ()}, "filters must be a non-empty"),
    ({"activation": "gelu"}, "activation must be one of"),
    ({"cell_size": 0}, "cell_size must be positive"),
    ({"cell_clip": -1.0}, "cell_clip and proj_clip"),
    ({"projection_dim": 256}, "must be smaller than cell_size"),
])
def test_invalid_options_are_clear_errors(change, message):
    with pytest.raises(ValueError, match=message):
        BiLmOptions(**change)


def test_the_numerical_core_imports_without_allennlp():
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] == 'allennlp': raise ImportError('allennlp blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import xlner_allennlp.contextual as c\n"
        "assert 'allennlp' not in sys.modules\n"
        "c.BiLm(c.BiLmOptions(projection_dim=4, cell_size=8))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
