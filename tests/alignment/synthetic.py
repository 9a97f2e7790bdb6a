"""A synthetic pair of word-vector spaces whose hidden rotation is identifiable without any
dictionary, for testing the unsupervised methods at a realistic size.

Each *concept* has a vector drawn from a mixture of Gaussians (cluster centres plus within-cluster
spread, both scaled by a decaying spectrum, so the space is clustered and anisotropic) and a
Zipf-like frequency. The target language names a concept ``t{c}`` and holds its vector plus noise;
the source language names it ``s{c}`` and holds the vector, plus its own noise, rotated by the
hidden orthogonal map: ``source ≈ target @ rotation.T``, so ``source @ rotation ≈ target`` for the
shared concepts. A fraction of each side's words are concepts of that side only (no counterpart).
Each side lists its words by its own noisy frequency, so the two frequency orders agree only
roughly, as in real corpora.
"""
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.vectors import WordVectors


@dataclass
class SyntheticPair:
    """``source`` and ``target`` spaces (most frequent word first), the hidden ``rotation``
    (``d × d``, ``source @ rotation ≈ target`` for shared concepts) and the true ``pairs``
    (source word, target word) of the shared concepts."""

    source: WordVectors
    target: WordVectors
    rotation: np.ndarray
    pairs: List[Tuple[str, str]]


def make_synthetic_pair(
    n_words: int = 10000,
    dim: int = 300,
    cluster_size: int = 10,
    groups: int = 20,
    spread: float = 0.5,
    unmatched: float = 0.2,
    noise: float = 0.2,
    spectrum_decay: float = 0.5,
    zipf_exponent: float = 1.0,
    frequency_noise: float = 0.5,
    seed: int = 0,
) -> SyntheticPair:
    """A :class:`SyntheticPair` with ``n_words`` words of dimension ``dim`` on each side.

    # Parameters

    cluster_size : `int`
        Mean number of concepts per component of the Gaussian mixture (many small clusters, as
        words of one narrow sense; their centres span every dimension).
    groups : `int`
        The cluster centres are themselves drawn around ``groups`` centres (a coarse level, as
        topics), at the same distance from them as these are from the origin.
    spread : `float`
        Within-cluster standard deviation relative to that of the centres around their group's.
    unmatched : `float`
        Fraction of each side's words whose concept the other side lacks.
    noise : `float`
        Standard deviation of each side's isotropic noise, relative to the root-mean-square
        coordinate of the concept vectors.
    spectrum_decay : `float`
        The ``j``-th coordinate is scaled by ``(j + 1) ** -spectrum_decay``.
    zipf_exponent, frequency_noise : `float`
        Concept ``c`` (in a random order) has log-frequency ``-zipf_exponent * log(c + 1)``; each
        side adds Gaussian noise of standard deviation ``frequency_noise`` to it before sorting.
    """
    rng = np.random.default_rng(seed)
    n_shared = int(round(n_words * (1 - unmatched)))
    n_own = n_words - n_shared
    n_concepts = n_shared + 2 * n_own
    scale = (np.arange(1, dim + 1, dtype=np.float64)) ** -spectrum_decay
    clusters = max(1, n_concepts // cluster_size)
    coarse = rng.standard_normal((groups, dim))
    centres = coarse[rng.integers(0, groups, clusters)] + rng.standard_normal((clusters, dim))
    labels = rng.integers(0, clusters, n_concepts)
    concepts = (centres[labels] + spread * rng.standard_normal((n_concepts, dim))) * scale
    sigma = noise * np.sqrt(np.mean(concepts**2))
    rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    log_frequency = -zipf_exponent * np.log1p(rng.permutation(n_concepts))
    # concepts [0, n_shared) are on both sides, then n_own of the source only, then n_own of the target only
    sides = {
        "s": np.r_[np.arange(n_shared), n_shared + np.arange(n_own)],
        "t": np.r_[np.arange(n_shared), n_shared + n_own + np.arange(n_own)],
    }
    spaces = {}
    for prefix, ids in sides.items():
        order = ids[np.argsort(-(log_frequency[ids] + frequency_noise * rng.standard_normal(ids.size)))]
        matrix = concepts[order] + sigma * rng.standard_normal((order.size, dim))
        if prefix == "s":
            matrix = matrix @ rotation.T
        spaces[prefix] = WordVectors([f"{prefix}{c}" for c in order], matrix.astype(np.float32), f"{prefix}.npy")
    pairs = [(f"s{c}", f"t{c}") for c in range(n_shared)]
    return SyntheticPair(spaces["s"], spaces["t"], rotation.astype(np.float32), pairs)


def normalized_sides(pair: SyntheticPair) -> Tuple[np.ndarray, np.ndarray]:
    """The source and target matrices after the default unsupervised normalization (unit, center,
    unit), fitted on each side: what the methods map."""
    return tuple(Normalization.fit(side.matrix, "unit,center,unit").apply(side.matrix) for side in (pair.source, pair.target))


def principal_directions_only(x: np.ndarray, rotation: np.ndarray, rng: np.random.Generator, kept: int = 10) -> np.ndarray:
    """A ``d × d`` orthogonal map equal to ``rotation`` on the ``kept`` principal directions of the
    normalized source ``x`` ``(n, d)`` and a random rotation (drawn from ``rng``) on the others: it
    lines up the spaces' coarse shape but few words, a failure the unsupervised checks must catch."""
    dim = x.shape[1]
    directions = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)[2].T
    scramble = np.eye(dim)
    scramble[kept:, kept:] = np.linalg.qr(rng.standard_normal((dim - kept, dim - kept)))[0]
    return directions @ scramble @ directions.T @ rotation
