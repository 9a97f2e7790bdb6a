"""V initialised from an existing bilingual space (e.g. aligned fastText) instead of at random.

The vectors of both languages, already in one space (the target's mapped into the English one by
an alignment artifact), are projected by one joint PCA onto ``d`` axes: the same projection for
both languages keeps their alignment, and ``d`` may differ from the vectors' width.
"""
from typing import Dict, List, Tuple

import numpy as np

from xlner_allennlp.multitask.vocabulary import TaggedVocabulary, normalize_word


def principal_axes(points: np.ndarray, dims: int) -> Tuple[np.ndarray, np.ndarray]:
    """The mean (d,) of ``points`` (n, d) and their ``dims`` main principal axes (dims, d), as rows."""
    if not 1 <= dims <= min(points.shape):
        raise ValueError(f"cannot take {dims} principal axes of {points.shape[0]} points of width {points.shape[1]}")
    mean = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - mean, full_matrices=False)
    return mean, vt[:dims]


def initial_rows(
    vocabulary: TaggedVocabulary, spaces: Dict[str, Tuple[List[str], np.ndarray]], dim: int
) -> Tuple[np.ndarray, np.ndarray]:
    """Rows of V to set and their values, from each language's ``(words, vectors (n_language, w))``
    in one shared space of width ``w``.

    A word takes the vector of the first of its spellings that normalises (lower case, digits as
    0) to its vocabulary entry (vector files are frequency-sorted, so the most frequent one).
    Returns int64 rows (m,) and float32 values (m, dim): the vectors of every matched word,
    centred and projected on the ``dim`` principal axes of all matched vectors of all languages.
    """
    rows: List[int] = []
    selected: List[np.ndarray] = []
    for language, (words, vectors) in spaces.items():
        if vectors.ndim != 2 or len(words) != len(vectors):
            raise ValueError(f"{language}: {len(words)} words but vectors of shape {vectors.shape}")
        oov = vocabulary.oov(language)
        seen, picked = set(), []
        for i, word in enumerate(words):
            row = vocabulary.row(language, normalize_word(word))
            if row != oov and row not in seen:
                seen.add(row)
                rows.append(row)
                picked.append(i)
        selected.append(vectors[np.asarray(picked, dtype=np.int64)])
    if not rows:
        raise ValueError("no vocabulary word has an initial vector")
    matrix = np.concatenate(selected).astype(np.float64)
    mean, axes = principal_axes(matrix, dim)
    return np.asarray(rows, dtype=np.int64), ((matrix - mean) @ axes.T).astype(np.float32)
