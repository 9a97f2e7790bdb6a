"""Synthetic word-vector spaces for the alignment tests: a target space with cluster structure and
anisotropic scales, and a source space that is a known random rotation of it plus noise."""
from dataclasses import dataclass
from typing import List

import numpy as np
import pytest

from xlner_allennlp.alignment.vectors import WordVectors


@dataclass
class Spaces:
    """``source`` ≈ ``target`` rotated by ``rotation``ᵀ: source word ``s{i}`` translates to ``t{i}``."""

    source: WordVectors
    target: WordVectors
    rotation: np.ndarray

    @property
    def pairs(self) -> List[tuple]:
        return [(f"s{i}", f"t{i}") for i in range(len(self.source))]


def make_spaces(n: int = 400, dim: int = 16, noise: float = 0.02, shuffle: bool = True, seed: int = 0) -> Spaces:
    """Spaces where ``normalize(source) @ rotation ≈ normalize(target)`` row by row (before shuffling)."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((12, dim)) * 1.5
    labels = rng.integers(0, 12, n)
    target = (centers[labels] + rng.standard_normal((n, dim))) * np.linspace(2.0, 0.5, dim)
    rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    source = target @ rotation.T + noise * rng.standard_normal((n, dim))
    target_words = [f"t{i}" for i in range(n)]
    if shuffle:
        order = rng.permutation(n)
        target, target_words = target[order], [target_words[i] for i in order]
    return Spaces(
        WordVectors([f"s{i}" for i in range(n)], source.astype(np.float32), "source.npy"),
        WordVectors(target_words, target.astype(np.float32), "target.npy"),
        rotation.astype(np.float32),
    )


def translation_accuracy(mapped_source: np.ndarray, target: np.ndarray, spaces: Spaces) -> float:
    """Fraction of source words whose nearest mapped neighbour (cosine) is their true translation."""
    a = mapped_source / np.linalg.norm(mapped_source, axis=1, keepdims=True)
    b = target / np.linalg.norm(target, axis=1, keepdims=True)
    best = (a @ b.T).argmax(axis=1)
    gold = np.array([spaces.target.index[f"t{i}"] for i in range(len(spaces.source))])
    return float((best == gold).mean())


@pytest.fixture
def spaces() -> Spaces:
    return make_spaces()
