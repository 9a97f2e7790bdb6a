"""Anchors of contextual embeddings (Schuster et al., 2019): the mean vector of each word type, per layer.

The corpus is streamed: :class:`AnchorAccumulator` keeps, per layer, a float64 running sum for each
kept type, the token counts, the sum of token norms (for each layer's mean token norm) and a
fixed-size reservoir sample of token vectors (for :func:`anchor_geometry`). Memory is
``layers * types * dim`` floats plus the sample, independent of the corpus length.

MUSE dictionaries are lowercase while anchors are per cased type: :func:`merge_anchors` merges the
anchors of the types that share a key (e.g. ``The`` and ``the``) into their count-weighted mean,
which equals the mean over all occurrences of the merged type.
"""
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import numpy as np
import torch

Key = Callable[[str], str]


def count_types(sentences: Iterable[Sequence[str]]) -> Counter:
    """Occurrences of every token string in ``sentences``."""
    counts: Counter = Counter()
    for tokens in sentences:
        counts.update(tokens)
    return counts


def kept_types(counts: Dict[str, int], min_count: int = 1, key: Optional[Key] = None) -> List[str]:
    """The types to accumulate: those whose key (``key(type)``, the type itself when ``key`` is
    ``None``) occurs at least ``min_count`` times in total, most frequent first (ties by string)."""
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    key_counts: Counter = Counter()
    for word, count in counts.items():
        key_counts[key(word) if key else word] += count
    kept = [w for w in counts if key_counts[key(w) if key else w] >= min_count]
    return sorted(kept, key=lambda w: (-counts[w], w))


@dataclass
class Anchors:
    """Anchors of ``words``: ``vectors[l, i]`` is the mean layer-``l`` vector of ``words[i]``.

    ``vectors`` float32 ``(layers, n, dim)``; ``counts`` int64 ``(n,)``, frequency-sorted
    (descending); ``mean_token_norms`` float64 ``(layers,)``, the mean L2 norm of all token vectors
    of each layer (every token, kept type or not); ``tokens`` the number of tokens seen.
    """

    words: List[str]
    vectors: np.ndarray
    counts: np.ndarray
    mean_token_norms: np.ndarray
    tokens: int


class AnchorAccumulator:
    """
    Streaming sums of contextual vectors per word type and layer.

    # Parameters

    words : `Sequence[str]`
        The types to accumulate (row ``i`` is ``words[i]``); tokens of other types count only in the
        mean token norms.
    num_layers : `int`
    dim : `int`
        Size of each layer's vectors.
    sample_size : `int`, optional (default = `10000`)
        Size of the uniform reservoir sample of tokens of kept types kept for :func:`anchor_geometry`
        (``0``: none).
    seed : `int`, optional (default = `0`)
        Seed of the reservoir sampling, so that the sample is deterministic.
    """

    def __init__(self, words: Sequence[str], num_layers: int, dim: int, sample_size: int = 10000, seed: int = 0) -> None:
        if len(set(words)) != len(words):
            raise ValueError("the accumulated words must be distinct")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.num_layers, self.dim = num_layers, dim
        self._sums = torch.zeros(num_layers, len(self.words), dim, dtype=torch.float64)
        self._counts = torch.zeros(len(self.words), dtype=torch.long)
        self._norm_sums = torch.zeros(num_layers, dtype=torch.float64)
        self._tokens = 0
        self._sample_size = sample_size
        self._rng = np.random.default_rng(seed)
        self._sample_rows = np.full(sample_size, -1, dtype=np.int64)
        self._sample_vectors = np.zeros((num_layers, sample_size, dim), dtype=np.float32)
        self._seen_for_sample = 0

    def rows(self, tokens: Sequence[str]) -> torch.LongTensor:
        """Row of each token, ``-1`` for a type that is not accumulated."""
        return torch.tensor([self.index.get(t, -1) for t in tokens], dtype=torch.long)

    def add(self, rows: torch.LongTensor, vectors: torch.Tensor) -> None:
        """Add ``n`` token vectors: ``rows`` (n,) from :meth:`rows`, ``vectors`` (layers, n, dim)."""
        if vectors.dim() != 3 or vectors.shape[0] != self.num_layers or vectors.shape[2] != self.dim:
            raise ValueError(
                f"expected vectors of shape ({self.num_layers}, n, {self.dim}), got {tuple(vectors.shape)}"
            )
        if vectors.shape[1] != rows.shape[0]:
            raise ValueError(f"{rows.shape[0]} rows for {vectors.shape[1]} vectors")
        vectors = vectors.detach().to("cpu", torch.float64)
        self._norm_sums += vectors.norm(dim=2).sum(dim=1)
        self._tokens += int(rows.shape[0])
        keep = rows >= 0
        kept_rows, kept_vectors = rows[keep], vectors[:, keep]
        self._sums.index_add_(1, kept_rows, kept_vectors)
        self._counts.index_add_(0, kept_rows, torch.ones_like(kept_rows))
        self._sample(kept_rows.numpy(), kept_vectors)

    def _sample(self, rows: np.ndarray, vectors: torch.Tensor) -> None:
        """Reservoir sampling (Algorithm R) over the stream of tokens of kept types."""
        k, n, start = self._sample_size, rows.shape[0], self._seen_for_sample
        if k == 0 or n == 0:
            self._seen_for_sample += n
            return
        positions = start + np.arange(n)
        slots = np.where(positions < k, positions, -1)
        late = positions >= k
        draws = self._rng.integers(0, positions[late] + 1)
        slots[late] = np.where(draws < k, draws, -1)
        for i in np.flatnonzero(slots >= 0):  # in stream order: a later token replaces an earlier one
            self._sample_rows[slots[i]] = rows[i]
            self._sample_vectors[:, slots[i]] = vectors[:, i].numpy()
        self._seen_for_sample += n

    @property
    def sample(self) -> "tuple[np.ndarray, np.ndarray]":
        """The sampled tokens: rows ``(k,)`` and vectors ``(layers, k, dim)`` (k ≤ ``sample_size``)."""
        filled = min(self._sample_size, self._seen_for_sample)
        return self._sample_rows[:filled].copy(), self._sample_vectors[:, :filled].copy()

    def anchors(self) -> Anchors:
        """The anchors of ``words``, in their order; every word must have been added at least once."""
        if self._tokens == 0:
            raise ValueError("no token was added")
        unseen = (self._counts == 0).nonzero()
        if unseen.numel():
            raise ValueError(f"the type {self.words[int(unseen[0, 0])]!r} was never added: it has no anchor")
        means = self._sums / self._counts.to(torch.float64)[None, :, None]
        return Anchors(
            words=list(self.words),
            vectors=means.to(torch.float32).numpy(),
            counts=self._counts.numpy().copy(),
            mean_token_norms=(self._norm_sums / self._tokens).numpy(),
            tokens=self._tokens,
        )


def merge_anchors(anchors: Anchors, key: Key = str.lower, min_count: int = 1) -> "tuple[Anchors, np.ndarray]":
    """Merge the anchors of types sharing ``key(type)`` into their count-weighted mean.

    Returns the merged anchors (keys as words, frequency-sorted, keys with fewer than
    ``min_count`` occurrences dropped) and, for every input row, its merged row (``-1`` if dropped).
    """
    keys = [key(w) for w in anchors.words]
    totals: Counter = Counter()
    for k, c in zip(keys, anchors.counts.tolist()):
        totals[k] += c
    merged_words = sorted((k for k in totals if totals[k] >= min_count), key=lambda k: (-totals[k], k))
    position = {k: i for i, k in enumerate(merged_words)}
    mapping = np.array([position.get(k, -1) for k in keys], dtype=np.int64)
    layers, _, dim = anchors.vectors.shape
    sums = torch.zeros(layers, len(merged_words), dim, dtype=torch.float64)
    keep = torch.from_numpy(mapping >= 0)
    weighted = torch.from_numpy(anchors.vectors).to(torch.float64) * torch.from_numpy(anchors.counts)[None, :, None]
    sums.index_add_(1, torch.from_numpy(mapping)[keep], weighted[:, keep])
    counts = np.array([totals[k] for k in merged_words], dtype=np.int64)
    vectors = (sums / torch.from_numpy(counts).to(torch.float64)[None, :, None]).to(torch.float32).numpy()
    merged = Anchors(merged_words, vectors, counts, anchors.mean_token_norms, anchors.tokens)
    return merged, mapping


def anchor_geometry(
    sample_rows: np.ndarray, sample_vectors: np.ndarray, anchors: np.ndarray, seed: int = 0
) -> List[Dict[str, float]]:
    """Per layer, how tightly token vectors cluster around their type's anchor.

    ``sample_rows`` (k,) are the anchor rows of ``k`` sampled tokens (``-1``: no anchor, ignored),
    ``sample_vectors`` (layers, k, dim) their vectors, ``anchors`` (layers, n, dim). For each layer:
    ``token_to_own_anchor``, the mean L2 distance of a token vector to its own anchor;
    ``between_anchors``, the mean distance between the anchors of two sampled tokens of different
    types (the sample, shuffled with ``seed``, paired with itself); and their ``ratio``.
    """
    valid = sample_rows >= 0
    rows, vectors = sample_rows[valid], sample_vectors[:, valid]
    if rows.shape[0] < 2:
        raise ValueError("the geometry needs at least two sampled tokens with an anchor")
    partner = np.random.default_rng(seed).permutation(rows.shape[0])
    different = rows != rows[partner]
    results = []
    for layer in range(anchors.shape[0]):
        own = float(np.linalg.norm(vectors[layer] - anchors[layer, rows], axis=1).mean())
        between = (
            float(np.linalg.norm(anchors[layer, rows[different]] - anchors[layer, rows[partner][different]], axis=1).mean())
            if different.any() else float("nan")
        )
        results.append({
            "layer": layer,
            "token_to_own_anchor": own,
            "between_anchors": between,
            "ratio": own / between if between > 0 else float("nan"),
            "sampled_tokens": int(rows.shape[0]),
            "anchor_pairs": int(different.sum()),
        })
    return results
