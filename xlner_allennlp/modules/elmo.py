"""Running an ELMo directory (``options.json`` + ``weights.hdf5``) frozen and statelessly.

The directory is read into the package's :class:`~xlner_allennlp.contextual.bilm.BiLm`, which
computes what allennlp's stock ``_ElmoBiLm`` computes from the same files (the export tests compare
the two layer by layer) at about twice its CPU speed: ``nn.LSTM`` with projection instead of a Python
loop over time steps, and the character CNN once per distinct word of a batch. Unlike the stock
module it keeps no LSTM state between batches (allennlp's starts each batch from the states the
previous one ended with), so a sentence's vectors depend on the sentence alone.
"""
import os
from typing import List, Tuple

import torch
from allennlp.nn.util import remove_sentence_boundaries

from xlner_allennlp.contextual import OPTIONS_NAME, WEIGHTS_NAME, BiLm, ElmoFormatError, read_elmo


def load_elmo_bilm(directory: str) -> BiLm:
    """The network of an ELMo directory, frozen (no parameter requires a gradient) and in eval mode.

    The directory is checked by :func:`~xlner_allennlp.contextual.elmo_format.read_elmo`: a missing
    file, options that cannot be loaded, or weights that disagree with the options raise
    :class:`~xlner_allennlp.contextual.elmo_format.ElmoFormatError` naming the file.
    """
    if not os.path.isdir(directory):
        raise ElmoFormatError(f"{directory}: no such ELMo directory (expected {OPTIONS_NAME} + {WEIGHTS_NAME})")
    bilm = read_elmo(directory).eval()
    for parameter in bilm.parameters():
        parameter.requires_grad_(False)
    return bilm


def contextual_layers(bilm: BiLm, character_ids: torch.Tensor) -> Tuple[List[torch.Tensor], torch.BoolTensor]:
    """Every layer of ``bilm`` for a batch, each sentence from zero LSTM states.

    ``character_ids``: `(batch, timesteps, 50)` from `batch_to_ids` or the `elmo_characters`
    indexer. Returns the layers (layer 0 = char-CNN output duplicated, then one per LSTM layer),
    each `(batch, timesteps, 2 * projection_dim)` without the sentence boundaries, and the mask
    `(batch, timesteps)`.
    """
    activations, with_boundaries = bilm(character_ids)
    layers, mask = [], None
    for layer in activations:
        without, mask = remove_sentence_boundaries(layer, with_boundaries)
        layers.append(without)
    return layers, mask
