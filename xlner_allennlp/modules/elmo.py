"""Running an ELMo directory (``options.json`` + ``weights.hdf5``) with allennlp's stock `_ElmoBiLm`,
frozen and statelessly.

allennlp's ELMo LSTM is stateful: it starts each batch from the states the previous batch ended
with, so a sentence's vectors would depend on the batches before it. :func:`contextual_layers`
resets the states before every batch, so a sentence's vectors depend on the sentence alone.
"""
import os
from typing import List, Tuple

import torch
from allennlp.modules.elmo import _ElmoBiLm
from allennlp.nn.util import remove_sentence_boundaries

from xlner_allennlp.contextual.elmo_format import OPTIONS_NAME, WEIGHTS_NAME, ElmoFormatError, read_elmo


def load_elmo_bilm(directory: str) -> _ElmoBiLm:
    """A frozen (no parameter requires a gradient) allennlp `_ElmoBiLm` of an ELMo directory.

    The directory is first checked by :func:`~xlner_allennlp.contextual.elmo_format.read_elmo`:
    a missing file, options allennlp cannot load, or weights that disagree with the options raise
    :class:`~xlner_allennlp.contextual.elmo_format.ElmoFormatError` naming the file.
    """
    if not os.path.isdir(directory):
        raise ElmoFormatError(f"{directory}: no such ELMo directory (expected {OPTIONS_NAME} + {WEIGHTS_NAME})")
    read_elmo(directory)
    bilm = _ElmoBiLm(os.path.join(directory, OPTIONS_NAME), os.path.join(directory, WEIGHTS_NAME), requires_grad=False)
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
