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
    """Draws rows with probability proportional to ``counts ** power`` (rows of count 0 never).

    Walker's alias method (Vose's construction): one uniform row and one uniform float per draw,
    O(1) each, exact up to float64 rounding of the probabilities.
    """

    def __init__(self, counts: np.ndarray, power: float = 0.75) -> None:
        weights = np.asarray(counts, dtype=np.float64) ** power
        weights[np.asarray(counts) <= 0] = 0.0
        if weights.sum() <= 0:
            raise ValueError("no row has a positive count to draw negatives from")
        n = len(weights)
        scaled = weights * (n / weights.sum())
        self._threshold = np.ones(n, dtype=np.float64)
        self._alias = np.arange(n, dtype=np.int64)
        small = [i for i in range(n) if scaled[i] < 1.0]
        large = [i for i in range(n) if scaled[i] >= 1.0]
        while small and large:
            low, high = small.pop(), large.pop()
            self._threshold[low], self._alias[low] = scaled[low], high
            scaled[high] -= 1.0 - scaled[low]
            (small if scaled[high] < 1.0 else large).append(high)
        # What is left has probability 1 up to rounding: a row of its own, never its alias,
        # except rows of weight 0 (reached only through rounding), which always defer.
        for i in small + large:
            self._threshold[i] = 1.0 if weights[i] > 0 else 0.0
            if weights[i] <= 0:
                self._alias[i] = int(np.argmax(weights))

    def sample(self, shape: Tuple[int, ...], generator: np.random.Generator) -> np.ndarray:
        """int64 rows of ``shape``."""
        rows = generator.integers(0, len(self._alias), size=shape)
        return np.where(generator.random(shape) < self._threshold[rows], rows, self._alias[rows])


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


def sgns_sgd_update(
    embeddings: torch.Tensor,
    context_embeddings: torch.Tensor,
    centers: torch.Tensor,
    contexts: torch.Tensor,
    negatives: torch.Tensor,
    learning_rate: float,
    scale: float = 1.0,
    frozen_rows: Optional[torch.Tensor] = None,
) -> float:
    """One SGD step on ``scale * sgns_loss`` in place, with the gradients written out by hand.

    ``embeddings`` V and ``context_embeddings`` Θ are (n, d) float tensors (updated in place,
    outside autograd); ``centers``, ``contexts`` (P,) and ``negatives`` (P, K) are int64 rows.
    The step is exactly ``torch.optim.SGD`` on the autograd gradient of
    ``scale * sgns_loss(V[centers], Θ[contexts], Θ[negatives])`` (all pairs' gradients summed,
    then applied at once), without autograd's sparse gradients and their coalescing, which cost
    about as much again as the arithmetic. ``frozen_rows`` (bool, (n,)): rows of V that receive
    no update (HFJ's English rows); Θ is always updated. Returns the loss before the step.
    """
    with torch.no_grad():
        center = embeddings[centers]  # (P, d)
        context = context_embeddings[contexts]  # (P, d)
        negative = context_embeddings[negatives]  # (P, K, d)
        positive_score = (center * context).sum(-1)  # (P,)
        negative_score = torch.bmm(negative, center.unsqueeze(-1)).squeeze(-1)  # (P, K)
        loss = -(F.logsigmoid(positive_score).sum() + F.logsigmoid(-negative_score).sum()) * scale
        positive_grad = (torch.sigmoid(positive_score) - 1.0) * scale  # d loss / d score
        negative_grad = torch.sigmoid(negative_score) * scale
        center_grad = positive_grad.unsqueeze(-1) * context + torch.bmm(negative_grad.unsqueeze(1), negative).squeeze(1)
        if frozen_rows is not None:
            center_grad = center_grad.masked_fill(frozen_rows[centers].unsqueeze(-1), 0.0)
        # Θ's gradient uses V before its update, as autograd does.
        context_embeddings.index_add_(0, contexts, positive_grad.unsqueeze(-1) * center, alpha=-learning_rate)
        context_embeddings.index_add_(
            0,
            negatives.reshape(-1),
            (negative_grad.unsqueeze(-1) * center.unsqueeze(1)).reshape(-1, center.shape[-1]),
            alpha=-learning_rate,
        )
        embeddings.index_add_(0, centers, center_grad, alpha=-learning_rate)
    return float(loss)
