"""ELMo's file format (``options.json`` + ``weights.hdf5``) for a :class:`~xlner_allennlp.contextual.bilm.BiLm`.

:func:`write_elmo` writes a network so that allennlp's stock ``Elmo`` / ``elmo_token_embedder``
compute exactly the network's activations; :func:`read_elmo` reads such a directory back into a
network, checking that options and weights agree. The conventions of the format (the TensorFlow
layout of bilm-tf, undone by allennlp's loader):

- ``char_embed`` (261, d): the embedding without its padding row (the loader prepends zeros);
- ``CNN/W_cnn_i`` (1, width, d, count) and ``CNN/b_cnn_i`` (count);
- ``CNN_high_k/{W_transform, b_transform, W_carry, b_carry}`` in ``x @ W`` layout; the loader
  negates the carry part (bilm-tf gates the transform, allennlp's ``Highway`` the carry);
- ``CNN_proj/{W_proj, b_proj}``;
- ``RNN_{0: forward, 1: backward}/RNN/MultiRNNCell/Cell{l}/LSTMCell/{W_0, B, W_P_0}``: ``W_0``
  (P_in + P, 4C) with the gate blocks in TensorFlow's order (i, j, f, o) where torch has
  (i, f, g, o); ``B`` (4C) = ``b_ih + b_hh`` minus 1 on the forget block (the loader adds 1);
  ``W_P_0`` (C, P) = ``weight_hr.T``.

Options must have ``max_characters_per_token`` 50 (the indexer's width) and
``use_skip_connections`` true (the only kind allennlp loads). Everything is float32.
"""
import io
import json
import os
import warnings
from typing import Any, Dict, Tuple

import numpy as np
import torch

from xlner_allennlp.contextual.bilm import MAX_CHARACTERS_PER_TOKEN, N_CHARACTERS, BiLm, BiLmOptions
from xlner_allennlp.file_utils import atomic_write, atomic_write_text

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=FutureWarning)
    import h5py

OPTIONS_NAME = "options.json"
WEIGHTS_NAME = "weights.hdf5"
_DIRECTIONS = ("forward_layers", "backward_layers")


class ElmoFormatError(ValueError):
    """An ELMo options or weight file that cannot be used; the message names the file."""


def elmo_options(options: BiLmOptions) -> Dict[str, Any]:
    """The ``options.json`` content describing ``options``."""
    return {
        "char_cnn": {
            "activation": options.activation,
            "embedding": {"dim": options.char_embedding_dim},
            "filters": [list(pair) for pair in options.filters],
            "max_characters_per_token": MAX_CHARACTERS_PER_TOKEN,
            "n_characters": N_CHARACTERS,
            "n_highway": options.n_highway,
        },
        "lstm": {
            "cell_clip": options.cell_clip,
            "dim": options.cell_size,
            "n_layers": options.num_layers,
            "proj_clip": options.proj_clip,
            "projection_dim": options.projection_dim,
            "use_skip_connections": True,
        },
    }


def options_from_elmo(content: Dict[str, Any], path: str) -> BiLmOptions:
    """Validate parsed ``options.json`` content (read from ``path``, named in errors) and return
    the network options it describes."""
    try:
        char_cnn, lstm = content["char_cnn"], content["lstm"]
        fixed = {
            "char_cnn.max_characters_per_token": (char_cnn.get("max_characters_per_token"), MAX_CHARACTERS_PER_TOKEN),
            "char_cnn.n_characters": (char_cnn.get("n_characters", N_CHARACTERS), N_CHARACTERS),
            "lstm.use_skip_connections": (lstm.get("use_skip_connections"), True),
        }
        for key, (value, required) in fixed.items():
            if value != required:
                raise ElmoFormatError(f"{path}: {key} must be {json.dumps(required)} (got {json.dumps(value)})")
        return BiLmOptions(
            char_embedding_dim=char_cnn["embedding"]["dim"],
            filters=tuple(tuple(pair) for pair in char_cnn["filters"]),
            n_highway=char_cnn["n_highway"],
            activation=char_cnn["activation"],
            projection_dim=lstm["projection_dim"],
            cell_size=lstm["dim"],
            num_layers=lstm["n_layers"],
            cell_clip=float(lstm.get("cell_clip") or 0.0),
            proj_clip=float(lstm.get("proj_clip") or 0.0),
        )
    except ElmoFormatError:
        raise
    except KeyError as error:
        raise ElmoFormatError(f"{path}: ELMo options lack the key {error.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError) as error:
        raise ElmoFormatError(f"{path}: invalid ELMo options: {error}") from None


def read_elmo_options(path: str) -> BiLmOptions:
    """Read and validate an ELMo ``options.json``."""
    try:
        with open(path, encoding="utf-8") as handle:
            content = json.load(handle)
    except json.JSONDecodeError as error:
        raise ElmoFormatError(f"{path}: not JSON (line {error.lineno}): {error.msg}") from None
    if not isinstance(content, dict):
        raise ElmoFormatError(f"{path}: ELMo options must be a JSON object")
    return options_from_elmo(content, path)


def _lstm_group(direction: int, layer: int) -> str:
    return f"RNN_{direction}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"


def _torch_to_tf_gates(matrix: np.ndarray, cell: int) -> np.ndarray:
    """Reorder the gate blocks along axis 0 from torch's (i, f, g, o) to TensorFlow's (i, g, f, o);
    the swap is its own inverse."""
    i, f, g, o = (matrix[k * cell: (k + 1) * cell] for k in range(4))
    return np.concatenate([i, g, f, o], axis=0)


def elmo_weights(network: BiLm) -> Dict[str, np.ndarray]:
    """Every HDF5 dataset of the network's ``weights.hdf5``: path -> float32 array."""
    options = network.options
    n = options.n_filters
    cell = options.cell_size

    def array(tensor: torch.Tensor) -> np.ndarray:
        return tensor.detach().cpu().numpy().astype(np.float32)

    weights = {"char_embed": array(network.char_embedding.weight[1:])}
    for i, conv in enumerate(network.convolutions):
        weights[f"CNN/W_cnn_{i}"] = array(conv.weight.permute(2, 1, 0).unsqueeze(0))
        weights[f"CNN/b_cnn_{i}"] = array(conv.bias)
    for k, highway in enumerate(network.highways):
        weight, bias = array(highway.weight), array(highway.bias)
        weights[f"CNN_high_{k}/W_transform"] = weight[:n].T.copy()
        weights[f"CNN_high_{k}/b_transform"] = bias[:n]
        weights[f"CNN_high_{k}/W_carry"] = -weight[n:].T
        weights[f"CNN_high_{k}/b_carry"] = -bias[n:]
    weights["CNN_proj/W_proj"] = array(network.projection.weight).T.copy()
    weights["CNN_proj/b_proj"] = array(network.projection.bias)
    for direction, name in enumerate(_DIRECTIONS):
        for layer, lstm in enumerate(getattr(network, name)):
            group = _lstm_group(direction, layer)
            stacked = np.concatenate([array(lstm.weight_ih_l0), array(lstm.weight_hh_l0)], axis=1)
            weights[f"{group}/W_0"] = _torch_to_tf_gates(stacked, cell).T.copy()
            bias = _torch_to_tf_gates(array(lstm.bias_ih_l0) + array(lstm.bias_hh_l0), cell)
            bias[2 * cell: 3 * cell] -= 1.0
            weights[f"{group}/B"] = bias
            weights[f"{group}/W_P_0"] = array(lstm.weight_hr_l0).T.copy()
    return weights


def write_elmo(network: BiLm, directory: str) -> Tuple[str, str]:
    """Write ``network`` as ``directory/options.json`` + ``directory/weights.hdf5`` (each atomically;
    the weights first) and return both paths."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as hdf5:
        for path, value in elmo_weights(network).items():
            hdf5.create_dataset(path, data=value)
    options_path, weights_path = os.path.join(directory, OPTIONS_NAME), os.path.join(directory, WEIGHTS_NAME)
    atomic_write(weights_path, lambda handle: handle.write(buffer.getvalue()), binary=True)
    atomic_write_text(options_path, json.dumps(elmo_options(network.options), indent=2) + "\n")
    return options_path, weights_path


def read_elmo(directory: str) -> BiLm:
    """Read ``directory/options.json`` + ``directory/weights.hdf5`` into a :class:`BiLm`; an options
    file and a weight file that disagree (a missing dataset, another shape) raise
    :class:`ElmoFormatError` naming the weight file and the dataset."""
    options_path, weights_path = os.path.join(directory, OPTIONS_NAME), os.path.join(directory, WEIGHTS_NAME)
    for path in (options_path, weights_path):
        if not os.path.isfile(path):
            raise ElmoFormatError(f"{path}: no such file (an ELMo directory holds {OPTIONS_NAME} and {WEIGHTS_NAME})")
    network = BiLm(read_elmo_options(options_path))
    expected = elmo_weights(network)
    loaded: Dict[str, np.ndarray] = {}
    try:
        with h5py.File(weights_path, "r") as hdf5:
            for path, like in expected.items():
                if path not in hdf5:
                    raise ElmoFormatError(f"{weights_path}: no dataset {path} (expected by {options_path})")
                value = hdf5[path][...]
                if value.shape != like.shape:
                    raise ElmoFormatError(
                        f"{weights_path}: dataset {path} has shape {value.shape} but {options_path} implies {like.shape}"
                    )
                loaded[path] = value.astype(np.float32)
    except OSError as error:
        raise ElmoFormatError(f"{weights_path}: not a readable HDF5 file ({error})") from None
    _load_weights(network, loaded)
    return network


def _load_weights(network: BiLm, weights: Dict[str, np.ndarray]) -> None:
    """The inverse of :func:`elmo_weights`."""
    n, cell = network.options.n_filters, network.options.cell_size

    def tensor(value: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(value))

    with torch.no_grad():
        network.char_embedding.weight[1:] = tensor(weights["char_embed"])
        network.char_embedding.weight[0] = 0.0
        for i, conv in enumerate(network.convolutions):
            conv.weight.copy_(tensor(weights[f"CNN/W_cnn_{i}"][0].transpose(2, 1, 0)))
            conv.bias.copy_(tensor(weights[f"CNN/b_cnn_{i}"]))
        for k, highway in enumerate(network.highways):
            highway.weight[:n] = tensor(weights[f"CNN_high_{k}/W_transform"].T)
            highway.weight[n:] = tensor(-weights[f"CNN_high_{k}/W_carry"].T)
            highway.bias[:n] = tensor(weights[f"CNN_high_{k}/b_transform"])
            highway.bias[n:] = tensor(-weights[f"CNN_high_{k}/b_carry"])
        network.projection.weight.copy_(tensor(weights["CNN_proj/W_proj"].T))
        network.projection.bias.copy_(tensor(weights["CNN_proj/b_proj"]))
        for direction, name in enumerate(_DIRECTIONS):
            for layer, lstm in enumerate(getattr(network, name)):
                group = _lstm_group(direction, layer)
                stacked = _torch_to_tf_gates(weights[f"{group}/W_0"].T, cell)
                lstm.weight_ih_l0.copy_(tensor(stacked[:, : lstm.input_size]))
                lstm.weight_hh_l0.copy_(tensor(stacked[:, lstm.input_size:]))
                bias = weights[f"{group}/B"].copy()
                bias[2 * cell: 3 * cell] += 1.0
                lstm.bias_ih_l0.copy_(tensor(_torch_to_tf_gates(bias, cell)))
                lstm.bias_hh_l0.zero_()
                lstm.weight_hr_l0.copy_(tensor(weights[f"{group}/W_P_0"].T))
