"""The anchors directory that ``xlner-anchors`` writes and ``xlner_aligned_elmo`` reads.

Layout::

    layer{l}.npy + layer{l}.vocab   anchors of layer l divided by the layer's mean token norm, one
                                    row per word type, most frequent first (the vector file format
                                    of ``xlner_allennlp.alignment``, which ``xlner-align`` reads)
    counts.txt                      "word count" per line, in the rows' order
    anchors.json                    settings, corpus counts and ``mean_token_norms`` (per layer,
                                    the divisor above)
    geometry.json                   :func:`~xlner_allennlp.contextual.anchors.anchor_geometry`
"""
import json
import os
from typing import Any, Dict, List, Sequence

import numpy as np

from xlner_allennlp.alignment import WordVectors, write_vectors
from xlner_allennlp.contextual.anchors import Anchors
from xlner_allennlp.file_utils import atomic_write, atomic_write_text

ANCHORS_META = "anchors.json"


def layer_file(directory: str, layer: int) -> str:
    """The anchor vector file of ``layer`` in an anchors directory."""
    return os.path.join(directory, f"layer{layer}.npy")


def read_mean_token_norms(directory: str) -> List[float]:
    """The per-layer mean token norms recorded in an anchors directory (the anchors' divisors)."""
    path = os.path.join(directory, ANCHORS_META)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no anchors metadata (write it with allennlp xlner-anchors)")
    with open(path, encoding="utf-8") as handle:
        try:
            norms = json.load(handle)["mean_token_norms"]
        except (json.JSONDecodeError, KeyError) as error:
            raise ValueError(f"{path}: not an anchors metadata file ({error})") from None
    return [float(n) for n in norms]


def write_anchors(anchors: Anchors, geometry: Sequence[Dict[str, float]], output: str, meta: Dict[str, Any]) -> None:
    """Write an anchors directory (see the module docstring); every file atomically."""
    for layer, norm in enumerate(anchors.mean_token_norms):
        vectors = WordVectors(anchors.words, (anchors.vectors[layer] / norm).astype(np.float32))
        write_vectors(vectors, layer_file(output, layer))
    atomic_write_text(
        os.path.join(output, "counts.txt"), "".join(f"{w} {c}\n" for w, c in zip(anchors.words, anchors.counts.tolist()))
    )
    meta = {**meta, "mean_token_norms": anchors.mean_token_norms.tolist(), "layers": len(anchors.mean_token_norms),
            "dim": int(anchors.vectors.shape[2])}
    atomic_write(os.path.join(output, ANCHORS_META), lambda h: json.dump(meta, h, indent=2, sort_keys=True))
    atomic_write(os.path.join(output, "geometry.json"), lambda h: json.dump(list(geometry), h, indent=2))
