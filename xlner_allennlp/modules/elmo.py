"""ELMo directories (``options.json`` + ``weights.hdf5``, the format of allennlp's stock `Elmo`):
checking, loading a frozen `_ElmoBiLm`, and running it statelessly.

allennlp's ELMo LSTM is stateful: it starts each batch from the states the previous batch ended
with, so a sentence's vectors would depend on the batches before it. :func:`contextual_layers`
resets the states before every batch, so a sentence's vectors depend on the sentence alone.
"""
import json
import os
from typing import Any, Dict, List, Tuple

import h5py
import torch
from allennlp.modules.elmo import _ElmoBiLm
from allennlp.nn.util import remove_sentence_boundaries

OPTIONS_FILE = "options.json"
WEIGHTS_FILE = "weights.hdf5"


class ElmoFileError(ValueError):
    """An ELMo directory is missing a file, or its options and weights disagree; names the file."""


def elmo_files(directory: str) -> Tuple[str, str]:
    """``(options, weights)`` paths of an ELMo directory; raises if either is missing."""
    if not os.path.isdir(directory):
        raise ElmoFileError(f"{directory}: no such ELMo directory (expected {OPTIONS_FILE} + {WEIGHTS_FILE})")
    paths = tuple(os.path.join(directory, name) for name in (OPTIONS_FILE, WEIGHTS_FILE))
    for path in paths:
        if not os.path.isfile(path):
            raise ElmoFileError(f"{path}: missing from the ELMo directory {directory}")
    return paths  # type: ignore[return-value]


def _expected_shapes(options: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
    cnn, lstm = options["char_cnn"], options["lstm"]
    dim, filters = cnn["embedding"]["dim"], cnn["filters"]
    n_filters = sum(n for _, n in filters)
    proj, cell = lstm["projection_dim"], lstm["dim"]
    shapes: Dict[str, Tuple[int, ...]] = {"char_embed": (cnn.get("n_characters", 262) - 1, dim)}
    for i, (width, n) in enumerate(filters):
        shapes[f"CNN/W_cnn_{i}"] = (1, width, dim, n)
        shapes[f"CNN/b_cnn_{i}"] = (n,)
    for k in range(cnn["n_highway"]):
        for name in ("W_transform", "W_carry"):
            shapes[f"CNN_high_{k}/{name}"] = (n_filters, n_filters)
        for name in ("b_transform", "b_carry"):
            shapes[f"CNN_high_{k}/{name}"] = (n_filters,)
    shapes["CNN_proj/W_proj"] = (n_filters, proj)
    shapes["CNN_proj/b_proj"] = (proj,)
    for direction in range(2):
        for layer in range(lstm["n_layers"]):
            prefix = f"RNN_{direction}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"
            shapes[f"{prefix}/W_0"] = (2 * proj, 4 * cell)
            shapes[f"{prefix}/B"] = (4 * cell,)
            shapes[f"{prefix}/W_P_0"] = (cell, proj)
    return shapes


def check_elmo_files(options_file: str, weights_file: str) -> Dict[str, Any]:
    """The options of an ELMo, after checking that its weights have the shapes they imply.

    Raises :class:`ElmoFileError` naming the file for unreadable JSON, options allennlp's `Elmo`
    does not support, and a weight that is missing or has another shape than the options imply.
    """
    try:
        with open(options_file, encoding="utf-8") as handle:
            options = json.load(handle)
    except json.JSONDecodeError as error:
        raise ElmoFileError(f"{options_file}:{error.lineno}: not valid JSON ({error.msg})") from None
    try:
        if options["char_cnn"]["max_characters_per_token"] != 50:
            raise ElmoFileError(f"{options_file}: char_cnn.max_characters_per_token must be 50 for allennlp's Elmo")
        if not options["lstm"].get("use_skip_connections"):
            raise ElmoFileError(f"{options_file}: lstm.use_skip_connections must be true for allennlp's Elmo")
        shapes = _expected_shapes(options)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ElmoFileError):
            raise
        raise ElmoFileError(f"{options_file}: not ELMo options (missing or malformed {error})") from None
    try:
        with h5py.File(weights_file, "r") as weights:
            for name, shape in shapes.items():
                if name not in weights:
                    raise ElmoFileError(f"{weights_file}: no weight {name!r}, which {options_file} implies")
                if tuple(weights[name].shape) != shape:
                    raise ElmoFileError(
                        f"{weights_file}: {name} has shape {tuple(weights[name].shape)} but {options_file} "
                        f"implies {shape}: the options and weights do not belong together"
                    )
    except OSError as error:
        raise ElmoFileError(f"{weights_file}: not a readable HDF5 file ({error})") from None
    return options


def load_elmo_bilm(directory: str) -> _ElmoBiLm:
    """A frozen (no parameter requires a gradient) allennlp `_ElmoBiLm` from an ELMo directory."""
    options_file, weights_file = elmo_files(directory)
    check_elmo_files(options_file, weights_file)
    bilm = _ElmoBiLm(options_file, weights_file, requires_grad=False)
    for parameter in bilm.parameters():
        parameter.requires_grad_(False)
    return bilm


def contextual_layers(bilm: _ElmoBiLm, character_ids: torch.Tensor) -> Tuple[List[torch.Tensor], torch.BoolTensor]:
    """Every layer of ``bilm`` for a batch, each sentence from zero LSTM states.

    ``character_ids``: `(batch, timesteps, 50)` from `batch_to_ids` or the `elmo_characters`
    indexer. Returns the layers (layer 0 = char-CNN output duplicated, then one per LSTM layer),
    each `(batch, timesteps, 2 * projection_dim)` without the sentence boundaries, and the mask
    `(batch, timesteps)`.
    """
    bilm._elmo_lstm.reset_states()
    output = bilm(character_ids)
    layers, mask = [], None
    for activations in output["activations"]:
        without, mask = remove_sentence_boundaries(activations, output["mask"])
        layers.append(without)
    bilm._elmo_lstm.reset_states()
    return layers, mask
