"""Unsupervised robust self-learning (Artetxe et al. 2018, "A robust self-learning method for fully
unsupervised cross-lingual mappings of word embeddings").

1. **Initial dictionary from similarity distributions.** For the ``init_vocab`` most frequent words
   of each language, ``sqrt(X Xᵀ)`` (from the SVD of ``X``) describes each word by its similarities
   to the other words of its own language; sorting each row makes these descriptions comparable
   across languages regardless of word order, so the CSLS nearest neighbours of the normalized
   sorted rows give a first dictionary (both directions, union).
2. **Self-learning.** Alternate an orthogonal Procrustes mapping and dictionary induction (CSLS,
   both directions, union). Induction is *stochastic*: each similarity is dropped with
   probability ``1 - keep_prob``; ``keep_prob`` starts at ``keep_prob_initial`` and is multiplied
   by ``keep_prob_multiplier`` each time the objective (mean best cosine, both directions) has
   not improved by ``threshold`` for ``patience`` iterations, or after ``stage_iterations``
   iterations at one ``keep_prob``; the loop ends after a stage at ``keep_prob = 1``. The
   stochastic stages induce among the ``search_cutoff`` most frequent words, the last stage
   among the ``vocabulary_cutoff`` most frequent: an iteration costs the square of its cutoff,
   and the long low-``keep_prob`` search that makes the method robust is most of the
   iterations, so a small search cutoff buys many more of them for the same time. (VecMap
   induces among 20,000 words throughout and waits 50 iterations for an improvement of 1e-6.)

The result is the last orthogonal mapping and its dictionary; the ``self-learning`` alignment
method refines it and applies its final mapping (:class:`~xlner_allennlp.alignment.supervised.FinalMapping`).

Speed: each iteration keeps, in two blocked passes, the ``candidates`` nearest cosine neighbours
of every word of both sides; CSLS terms, objective, CSLS ranking and dropout then work on those
short lists instead of the full similarity matrix (see :func:`_induction_step`).
"""
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from tqdm import tqdm

from xlner_allennlp.alignment.normalization import Normalization, unit_rows
from xlner_allennlp.alignment.similarity import CslsSettings, rows_per_block
from xlner_allennlp.alignment.supervised import procrustes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SelfLearning(CslsSettings):
    """Settings of :func:`self_learning` (see the module docstring for how they interact).

    # Parameters

    init_vocab : `int`, optional (default = `4000`)
        Words of each side described by their similarity distributions for the initial dictionary.
    search_cutoff : `int`, optional (default = `4000`)
        Most frequent words among which the stochastic stages (``keep_prob < 1``) induce.
    vocabulary_cutoff : `int`, optional (default = `10000`)
        Most frequent words among which the last stage (``keep_prob = 1``) induces.
    candidates : `int`, optional (default = `50`)
        Nearest cosine neighbours of each word scored by CSLS.
    keep_prob_initial : `float`, optional (default = `0.1`)
        Probability of keeping a similarity in the first stage.
    keep_prob_multiplier : `float`, optional (default = `2.0`)
        Factor applied to ``keep_prob`` at each new stage.
    patience : `int`, optional (default = `10`)
        Iterations without an improvement of ``threshold`` that end a stage.
    threshold : `float`, optional (default = `1e-4`)
        Smallest objective gain that counts as an improvement.
    stage_iterations : `int`, optional (default = `30`)
        Most iterations at one ``keep_prob``.
    max_iterations : `int`, optional (default = `200`)
        Most iterations in all.
    csls_k : `int`, optional (default = `10`)
        CSLS neighbourhood size.
    """

    init_vocab: int = 4000
    search_cutoff: int = 4000
    vocabulary_cutoff: int = 10000
    candidates: int = 50
    keep_prob_initial: float = 0.1
    keep_prob_multiplier: float = 2.0
    patience: int = 10
    threshold: float = 1e-4
    stage_iterations: int = 30
    max_iterations: int = 200

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("init_vocab", "search_cutoff", "vocabulary_cutoff"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive number of words, got {getattr(self, name)}")


@dataclass
class SelfLearningResult:
    """The last orthogonal mapping, its dictionary (source rows, target rows), the best
    objective and a per-iteration log."""

    mapping: np.ndarray
    source_rows: np.ndarray
    target_rows: np.ndarray
    objective: float
    history: List[Dict[str, Any]] = field(default_factory=list)


def similarity_distribution_init(
    source: np.ndarray, target: np.ndarray, init_vocab: int = 4000, csls_k: int = 10
) -> Tuple[np.ndarray, np.ndarray]:
    """The unsupervised initial dictionary (source rows, target rows) from sorted similarity rows."""
    n = min(init_vocab, source.shape[0], target.shape[0])
    descriptions = []
    for matrix in (source[:n], target[:n]):
        u, s, _ = np.linalg.svd(matrix.astype(np.float64), full_matrices=False)
        similarity = (u * s) @ u.T
        similarity.sort(axis=1)
        descriptions.append(Normalization.fit(similarity.astype(np.float32), "unit,center,unit").apply(similarity))
    scores = torch.from_numpy(descriptions[0]) @ torch.from_numpy(descriptions[1]).T
    k = min(csls_k, n)
    r_source = scores.topk(k, dim=1).values.mean(dim=1)
    r_target = scores.topk(k, dim=0).values.mean(dim=0)
    csls = 2 * scores - r_source[:, None] - r_target[None, :]
    forward = csls.argmax(dim=1).numpy()
    backward = csls.argmax(dim=0).numpy()
    rows = np.arange(n)
    return np.concatenate([rows, backward]), np.concatenate([forward, rows])


def _cut(
    source: np.ndarray, target: np.ndarray, cutoff: int, block_mb: float
) -> Tuple[int, int, torch.Tensor, torch.Tensor, int]:
    """The ``cutoff`` most frequent rows of each side (unit length, as tensors), their counts and
    the rows per block that keep one block of similarities under ``block_mb``."""
    n, m = min(cutoff, source.shape[0]), min(cutoff, target.shape[0])
    x, z = torch.from_numpy(unit_rows(source[:n])), torch.from_numpy(unit_rows(target[:m]))
    return n, m, x, z, rows_per_block(max(n, m), block_mb)


def _candidates(queries: torch.Tensor, keys: torch.Tensor, top: int, block_rows: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``top`` largest inner products of each query with the keys, values and indices, best first."""
    values = torch.empty(queries.shape[0], top)
    indices = torch.empty(queries.shape[0], top, dtype=torch.int64)
    for start in range(0, queries.shape[0], block_rows):
        values[start : start + block_rows], indices[start : start + block_rows] = (
            queries[start : start + block_rows] @ keys.T
        ).topk(top, dim=1)
    return values, indices


def self_learning_objective(
    source: np.ndarray, target: np.ndarray, mapping: np.ndarray, cutoff: int = 10000, block_mb: float = 256.0
) -> float:
    """The objective self-learning maximizes (mean best cosine, both directions, among the
    ``cutoff`` most frequent words) for any orthogonal ``mapping``, so that mappings found by
    other means can be ranked by it."""
    _, _, x, z, block_rows = _cut(source, target, cutoff, block_mb)
    xw = x @ torch.from_numpy(mapping)
    forward_best, _ = _candidates(xw, z, 1, block_rows)
    backward_best, _ = _candidates(z, xw, 1, block_rows)
    return float((forward_best.mean() + backward_best.mean()) / 2)


def _stochastic_choice(
    cosines: torch.Tensor, candidates: torch.Tensor, key_r: torch.Tensor, keep_prob: float, generator: torch.Generator
) -> torch.Tensor:
    """Per query, the CSLS-best candidate after dropping each with probability ``1 - keep_prob``
    (the nearest by cosine is kept when all are dropped)."""
    scores = 2 * cosines - key_r[candidates]
    if keep_prob < 1.0:
        dropped = torch.rand(scores.shape, generator=generator) >= keep_prob
        dropped[dropped.all(dim=1), 0] = False
        scores.masked_fill_(dropped, -float("inf"))
    return candidates.gather(1, scores.argmax(dim=1, keepdim=True))[:, 0]


def _induction_step(
    xw: torch.Tensor, z: torch.Tensor, csls_k: int, candidates: int, keep_prob: float,
    generator: torch.Generator, block_rows: int,
) -> Tuple[np.ndarray, np.ndarray, float]:
    """Stochastic CSLS dictionary induction in both directions, and the objective.

    Two blocked passes (source rows against the target, target rows against the source) keep
    each row's ``candidates`` nearest neighbours by cosine. They give the exact CSLS terms ``r``,
    the objective (mean best cosine of both directions) and the CSLS ranking of the candidates;
    the CSLS-best word lies among a word's nearest cosine neighbours in practice, so the
    neighbours beyond the first ``candidates`` are not scored.
    """
    top = min(max(candidates, csls_k), xw.shape[0], z.shape[0])
    forward_cos, forward_idx = _candidates(xw, z, top, block_rows)
    backward_cos, backward_idx = _candidates(z, xw, top, block_rows)
    r_x = forward_cos[:, :csls_k].mean(dim=1)
    r_z = backward_cos[:, :csls_k].mean(dim=1)
    objective = float((forward_cos[:, 0].mean() + backward_cos[:, 0].mean()) / 2)
    forward = _stochastic_choice(forward_cos, forward_idx, r_z, keep_prob, generator)
    backward = _stochastic_choice(backward_cos, backward_idx, r_x, keep_prob, generator)
    return forward.numpy(), backward.numpy(), objective


def self_learning(
    source: np.ndarray,
    target: np.ndarray,
    settings: Optional[SelfLearning] = None,
    seed_rows: Optional[Tuple[np.ndarray, np.ndarray]] = None,
    random_seed: int = 0,
    block_mb: float = 256.0,
) -> SelfLearningResult:
    """Fit the self-learning mapping of normalized ``source`` rows ``(n, d)`` onto normalized
    ``target`` rows ``(m, d)`` with ``settings`` (default :class:`SelfLearning`).

    ``seed_rows`` (source rows, target rows) replaces the unsupervised initialization when given.
    """
    s = settings or SelfLearning()
    generator = torch.Generator().manual_seed(random_seed)
    if seed_rows is None:
        source_rows, target_rows = similarity_distribution_init(source, target, s.init_vocab, s.csls_k)
    else:
        source_rows, target_rows = seed_rows
    keep_prob = s.keep_prob_initial
    cutoff = s.search_cutoff if keep_prob < 1.0 else s.vocabulary_cutoff
    n, m, x, z, block_rows = _cut(source, target, cutoff, block_mb)
    best_objective, last_improvement, stage_start = -float("inf"), 0, 0
    history: List[Dict[str, Any]] = []
    mapping = procrustes(source[source_rows], target[target_rows])
    progress = tqdm(range(1, s.max_iterations + 1), desc="self-learning", leave=False)
    objective = best_objective
    for iteration in progress:
        forward, backward, objective = _induction_step(
            x @ torch.from_numpy(mapping), z, s.csls_k, s.candidates, keep_prob, generator, block_rows
        )
        history.append({"iteration": iteration, "keep_prob": keep_prob, "cutoff": cutoff, "objective": objective})
        progress.set_postfix(keep_prob=keep_prob, cutoff=cutoff, objective=f"{objective:.4f}")
        source_rows = np.concatenate([np.arange(n), backward])
        target_rows = np.concatenate([forward, np.arange(m)])
        mapping = procrustes(source[source_rows], target[target_rows])
        if objective - best_objective >= s.threshold:
            best_objective, last_improvement = objective, iteration
        if iteration - last_improvement >= s.patience or iteration - stage_start >= s.stage_iterations:
            if keep_prob >= 1.0:
                break
            keep_prob = min(1.0, keep_prob * s.keep_prob_multiplier)
            last_improvement = stage_start = iteration
            if keep_prob >= 1.0 and cutoff != s.vocabulary_cutoff:
                # The objective is a mean over the cutoff's words: restart its record at the new cutoff.
                cutoff, best_objective = s.vocabulary_cutoff, -float("inf")
                n, m, x, z, block_rows = _cut(source, target, cutoff, block_mb)
    progress.close()
    logger.info("self-learning: %d iterations, objective %.4f", len(history), objective)
    return SelfLearningResult(mapping, source_rows, target_rows, best_objective, history)
