"""Skip-gram with negative sampling (Mikolov et al. 2013) over pseudo-bilingual documents.

Each merged document is one sentence: a center token predicts every token at most ``window``
positions away, against ``negatives`` tokens drawn from the unigram distribution raised to 3/4.
Frequent tokens are subsampled first (word2vec's rule with threshold ``t``).
"""
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F


def keep_probabilities(counts: np.ndarray, threshold: float) -> np.ndarray:
    """word2vec's subsampling: keep a token of frequency ``f`` with ``(sqrt(f / t) + 1) * t / f``.

    ``counts`` (int, shape ``(n,)``) are corpus counts; returns float64 ``(n,)`` in ``(0, 1]``,
    1 for rows of count 0 and for every row when ``threshold`` is 0 (no subsampling).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if threshold <= 0:
        return np.ones_like(counts)
    frequency = counts / max(counts.sum(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(frequency / threshold) + 1.0) * threshold / frequency
    keep[counts == 0] = 1.0
    return np.minimum(keep, 1.0)


def skipgram_pairs(
    document: np.ndarray, window: int, generator: Optional[np.random.Generator] = None
) -> Tuple[np.ndarray, np.ndarray]:
    """The ``(center, context)`` pairs of ``document`` (1-D ids): two int64 arrays of one length.

    Without ``generator`` every ``(i, j)`` with ``0 < |i - j| <= window``; with one, word2vec's
    reduced window: each center ``i`` draws ``b_i`` uniformly in ``1..window`` and keeps the ``j``
    with ``|i - j| <= b_i`` (nearer contexts weigh more; half the pairs on average).
    """
    document = np.asarray(document, dtype=np.int64)
    reach = None if generator is None else generator.integers(1, window + 1, size=len(document))
    centers, contexts = [], []
    for offset in range(1, min(window, len(document) - 1) + 1):
        left, right = document[:-offset], document[offset:]
        if reach is None:
            centers += [left, right]
            contexts += [right, left]
        else:
            from_left, from_right = reach[:-offset] >= offset, reach[offset:] >= offset
            centers += [left[from_left], right[from_right]]
            contexts += [right[from_left], left[from_right]]
    if not centers:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(centers), np.concatenate(contexts)


class NegativeSampler:
    """Draws rows with probability proportional to ``counts ** power`` (rows of count 0 never)."""

    def __init__(self, counts: np.ndarray, power: float = 0.75) -> None:
        weights = np.asarray(counts, dtype=np.float64) ** power
        weights[np.asarray(counts) <= 0] = 0.0
        if weights.sum() <= 0:
            raise ValueError("no row has a positive count to draw negatives from")
        self._cumulative = np.cumsum(weights / weights.sum())

    def sample(self, shape: Tuple[int, ...], generator: np.random.Generator) -> np.ndarray:
        """int64 rows of ``shape``."""
        draws = generator.random(shape)
        rows = np.searchsorted(self._cumulative, draws, side="right")
        return np.minimum(rows, len(self._cumulative) - 1).astype(np.int64)


def sgns_loss(
    center_vectors: torch.Tensor, context_vectors: torch.Tensor, negative_vectors: torch.Tensor
) -> torch.Tensor:
    """Negative-sampling loss summed over pairs, as word2vec's SGD minimizes it pair by pair.

    ``center_vectors`` (P, d) are rows of V, ``context_vectors`` (P, d) and ``negative_vectors``
    (P, K, d) rows of Θ: ``sum_p [ -log σ(v_p·θ_p) - sum_k log σ(-v_p·θ_pk) ]``, a scalar.
    """
    positive = (center_vectors * context_vectors).sum(-1)
    negative = (negative_vectors * center_vectors.unsqueeze(1)).sum(-1)
    return -(F.logsigmoid(positive).sum() + F.logsigmoid(-negative).sum())
