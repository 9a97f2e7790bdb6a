"""The exported ELMo files make allennlp's stock ``Elmo`` / ``_ElmoBiLm`` compute the network's layers."""
import json
import os

import h5py
import numpy as np
import pytest
import torch
from allennlp.modules.elmo import Elmo, _ElmoBiLm, batch_to_ids

from xlner_allennlp.contextual import (
    OPTIONS_NAME,
    WEIGHTS_NAME,
    BiLm,
    BiLmOptions,
    ElmoFormatError,
    read_elmo,
    read_elmo_options,
    write_elmo,
)

SENTENCES = [
    ["The", "cat", "sat", "on", "the", "mat", "."],
    ["Größe", "naïve", "x"],
    ["a" * 60, "Antidisestablishmentarianism"],  # longer than 48 characters: cut like ELMo does
    ["Solo"],
]
SMALL = BiLmOptions(char_embedding_dim=5, filters=((1, 4), (2, 6), (3, 7)), n_highway=2,
                    projection_dim=6, cell_size=9, num_layers=3)


def random_network(options: BiLmOptions, seed: int = 0) -> BiLm:
    """A network with every parameter (biases too) drawn at random, so no convention hides behind a zero."""
    torch.manual_seed(seed)
    network = BiLm(options)
    with torch.no_grad():
        for name, parameter in network.named_parameters():
            parameter.normal_(0.0, 0.5)
        network.char_embedding.weight[0] = 0.0
    return network.eval()


def stock_layers(directory: str, character_ids: torch.Tensor):
    """Every layer as allennlp's ``_ElmoBiLm`` and ``Elmo`` (one one-hot scalar mix per layer) compute it."""
    options, weights = os.path.join(directory, OPTIONS_NAME), os.path.join(directory, WEIGHTS_NAME)
    bilm = _ElmoBiLm(options, weights)
    with torch.no_grad():
        bilm_output = bilm(character_ids)
    num_layers = len(bilm_output["activations"])
    elmo_layers = []
    for layer in range(num_layers):
        mix = [0.0 if i == layer else -1e4 for i in range(num_layers)]
        elmo = Elmo(options, weights, num_output_representations=1, dropout=0.0, scalar_mix_parameters=mix)
        with torch.no_grad():
            output = elmo(character_ids)
        elmo_layers.append((output["elmo_representations"][0], output["mask"]))
    return bilm_output, elmo_layers


@pytest.mark.parametrize("options", [SMALL, BiLmOptions(char_embedding_dim=4, filters=((2, 5), (4, 3)), n_highway=1,
                                                        activation="tanh", projection_dim=5, cell_size=7,
                                                        num_layers=2, cell_clip=0.3, proj_clip=0.2)],
                         ids=["no-clip", "clipped-tanh"])
def test_stock_elmo_computes_every_layer_of_the_network(options, tmp_path):
    network = random_network(options)
    write_elmo(network, str(tmp_path))
    character_ids = batch_to_ids(SENTENCES)
    with torch.no_grad():
        activations, mask = network(character_ids)
    bilm_output, elmo_layers = stock_layers(str(tmp_path), character_ids)
    assert torch.equal(bilm_output["mask"], mask)
    assert len(activations) == options.num_layers + 1
    for layer, (ours, theirs) in enumerate(zip(activations, bilm_output["activations"])):
        assert ours.shape == theirs.shape == (len(SENTENCES), 7 + 2, 2 * options.projection_dim)
        assert (ours - theirs).abs().max() <= 1e-5, f"layer {layer}"
        # Elmo drops the sentence boundaries: its tokens are positions 1..n of ours.
        elmo_layer, elmo_mask = elmo_layers[layer]
        for row, sentence in enumerate(SENTENCES):
            assert elmo_mask[row].sum() == len(sentence)
            difference = ours[row, 1: len(sentence) + 1] - elmo_layer[row, : len(sentence)]
            assert difference.abs().max() <= 1e-5, f"Elmo layer {layer}, sentence {row}"
        assert ours.abs().max() > 1e-2  # the layers are not trivially zero
    # Both halves of an LSTM layer carry information (forward and backward LM both exported).
    top = activations[-1]
    assert top[..., : options.projection_dim].abs().max() > 1e-2 and top[..., options.projection_dim:].abs().max() > 1e-2


def test_weights_file_has_elmo_layout_and_float32(tmp_path):
    network = random_network(SMALL)
    write_elmo(network, str(tmp_path))
    with h5py.File(tmp_path / WEIGHTS_NAME, "r") as hdf5:
        assert hdf5["char_embed"].shape == (261, 5)
        assert hdf5["CNN/W_cnn_2"].shape == (1, 3, 5, 7)
        assert hdf5["CNN_high_1/W_carry"].shape == (17, 17)
        assert hdf5["RNN_1/RNN/MultiRNNCell/Cell2/LSTMCell/W_0"].shape == (6 + 6, 4 * 9)
        assert hdf5["RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/W_P_0"].shape == (9, 6)
        dtypes = set()
        hdf5.visititems(lambda name, item: dtypes.add(item.dtype) if isinstance(item, h5py.Dataset) else None)
    assert dtypes == {np.dtype("float32")}
    options = json.loads((tmp_path / OPTIONS_NAME).read_text())
    assert options["char_cnn"]["max_characters_per_token"] == 50
    assert options["lstm"]["use_skip_connections"] is True
    assert read_elmo_options(str(tmp_path / OPTIONS_NAME)) == SMALL


def test_read_elmo_is_the_inverse_of_write_elmo(tmp_path):
    network = random_network(SMALL, seed=3)
    write_elmo(network, str(tmp_path))
    again = read_elmo(str(tmp_path)).eval()
    assert again.options == network.options
    character_ids = batch_to_ids(SENTENCES)
    with torch.no_grad():
        for ours, theirs in zip(network(character_ids)[0], again(character_ids)[0]):
            assert (ours - theirs).abs().max() <= 1e-6


def test_writing_replaces_a_previous_export(tmp_path):
    write_elmo(random_network(SMALL, seed=1), str(tmp_path))
    second = random_network(SMALL, seed=2)
    write_elmo(second, str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == [OPTIONS_NAME, WEIGHTS_NAME]  # no temporary file left behind
    assert torch.equal(read_elmo(str(tmp_path)).projection.weight, second.projection.weight)


def _rewrite_options(directory, change):
    path = os.path.join(directory, OPTIONS_NAME)
    with open(path) as handle:
        options = json.load(handle)
    change(options)
    with open(path, "w") as handle:
        json.dump(options, handle)
    return path


@pytest.mark.parametrize("change, message", [
    (lambda o: o["char_cnn"].update(max_characters_per_token=40), "max_characters_per_token must be 50"),
    (lambda o: o["lstm"].update(use_skip_connections=False), "use_skip_connections must be true"),
    (lambda o: o["lstm"].pop("dim"), "lack the key 'dim'"),
    (lambda o: o["char_cnn"].update(activation="gelu"), "activation must be one of"),
])
def test_invalid_options_name_the_file(change, message, tmp_path):
    write_elmo(random_network(SMALL), str(tmp_path))
    path = _rewrite_options(str(tmp_path), change)
    with pytest.raises(ElmoFormatError, match=message) as error:
        read_elmo(str(tmp_path))
    assert path in str(error.value)


def test_options_and_weights_that_disagree_name_the_weight_file(tmp_path):
    write_elmo(random_network(SMALL), str(tmp_path))
    _rewrite_options(str(tmp_path), lambda o: o["lstm"].update(dim=10))
    with pytest.raises(ElmoFormatError, match=r"weights\.hdf5: dataset RNN_0/.*/W_0 has shape \(12, 36\) but .*options\.json implies \(12, 40\)"):
        read_elmo(str(tmp_path))
    write_elmo(random_network(SMALL), str(tmp_path))
    _rewrite_options(str(tmp_path), lambda o: o["lstm"].update(n_layers=4))
    with pytest.raises(ElmoFormatError, match=r"weights\.hdf5: no dataset RNN_0/RNN/MultiRNNCell/Cell3"):
        read_elmo(str(tmp_path))


def test_missing_or_broken_files_are_clear_errors(tmp_path):
    with pytest.raises(ElmoFormatError, match="options.json: no such file"):
        read_elmo(str(tmp_path))
    write_elmo(random_network(SMALL), str(tmp_path))
    (tmp_path / WEIGHTS_NAME).write_bytes(b"not hdf5")
    with pytest.raises(ElmoFormatError, match="weights.hdf5: not a readable HDF5 file"):
        read_elmo(str(tmp_path))
    (tmp_path / OPTIONS_NAME).write_text("{\n  'lstm': 1\n}")
    with pytest.raises(ElmoFormatError, match=r"options.json: not JSON \(line 2\)"):
        read_elmo(str(tmp_path))
