"""A tiny English anchors directory and a target-en dictionary for the anchored-LM tests: English
words with random layer-0 anchors ``[v; v]`` (the duplicated char-CNN layout) next to random
layers 1 and 2, written by the package's own ``write_anchors``."""
import os
from typing import Dict, Sequence, Tuple

import numpy as np

from xlner_allennlp.contextual import Anchors, write_anchors

# target word (tests/tiny_text.py's words) -> English translation; "Größe" is cased in the text,
# lowercase in the dictionary (MUSE's habit).
TRANSLATIONS = {"cat": "cat_en", "dog": "dog_en", "bird": "bird_en", "tree": "tree_en", "park": "park_en",
                "größe": "size_en"}
NO_ANCHOR = ("mat", "mat_en")  # the English word has no anchor
NO_TARGET = ("caballo", "horse_en")  # the target word is not in the text
MEAN_TOKEN_NORMS = (4.0, 2.0, 3.0)


def write_tiny_anchors(directory: str, projection_dim: int = 8, seed: int = 0) -> Tuple[str, Dict[str, np.ndarray]]:
    """Write an anchors directory of the English words of :data:`TRANSLATIONS` (and "horse_en")
    whose layer-0 half is ``projection_dim`` wide; returns it and the raw-scale layer-0 halves."""
    rng = np.random.default_rng(seed)
    words = [*TRANSLATIONS.values(), NO_TARGET[1]]
    half = rng.standard_normal((len(words), projection_dim)).astype(np.float32) * 3
    layers = [np.concatenate([half, half], axis=1)] + [
        rng.standard_normal((len(words), 2 * projection_dim)).astype(np.float32) for _ in range(2)
    ]
    anchors = Anchors(words, np.stack(layers), np.arange(len(words), 0, -1, dtype=np.int64),
                      np.asarray(MEAN_TOKEN_NORMS), tokens=100)
    # write_anchors divides each layer by its norm, as xlner-anchors does.
    write_anchors(anchors, [], directory, {"lowercase": True})
    return directory, dict(zip(words, half))


def write_tiny_dictionary(path: str, pairs: Sequence[Tuple[str, str]] = ()) -> str:
    """A MUSE dictionary "target english" of :data:`TRANSLATIONS` plus the two unusable pairs (or ``pairs``)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    pairs = pairs or [*TRANSLATIONS.items(), NO_ANCHOR, NO_TARGET]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{t} {e}\n" for t, e in pairs))
    return path
