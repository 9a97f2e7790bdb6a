"""Unsupervised robust self-learning (Artetxe et al. 2018, "A robust self-learning method for fully
unsupervised cross-lingual mappings of word embeddings").

1. **Initial dictionary from similarity distributions.** For the ``init_vocab`` most frequent words
   of each language, ``sqrt(X Xᵀ)`` (from the SVD of ``X``) describes each word by its similarities
   to the other words of its own language; sorting each row makes these descriptions comparable
   across languages regardless of word order, so the CSLS nearest neighbours of the normalized
   sorted rows give a first dictionary (both directions, union).
2. **Self-learning.** Alternate an orthogonal Procrustes mapping and dictionary induction among the
   ``vocabulary_cutoff`` most frequent words (CSLS, both directions, union). Induction is
   *stochastic*: each similarity is dropped with probability ``1 - keep_prob``; ``keep_prob``
   starts at ``keep_prob_initial`` and is multiplied by ``keep_prob_multiplier`` each time the
   objective (mean best cosine, both directions) has not improved by ``threshold`` for
   ``patience`` iterations; the loop ends after a stage at ``keep_prob = 1``.
3. **Final mapping.** ``orthogonal`` keeps the target space fixed. ``reweight`` applies the
   multi-step framework (Artetxe et al. 2018, AAAI): whitening of both sides, orthogonal mapping,
   symmetric re-weighting by the singular values (``reweight`` power) and de-whitening; it
   transforms the target space too, so the artifact gets a target mapping.

Speed: one blocked pass over the similarity matrix per iteration; the CSLS neighbourhood terms
used for an iteration's induction come from the previous iteration's pass (they move slowly) and
are recomputed exactly for the final dictionary. Dropout masks are windows of one random byte
pool, which costs a comparison instead of a random number per score.
"""
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from tqdm import tqdm

from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.retrieval import unit_rows
from xlner_allennlp.alignment.supervised import procrustes

logger = logging.getLogger(__name__)

FINAL_MAPPINGS = ("orthogonal", "reweight")


@dataclass
class SelfLearningResult:
    """Source mapping, optional target mapping, the final dictionary and a per-iteration log."""

    mapping: np.ndarray
    target_mapping: Optional[np.ndarray]
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


class _DropoutMasks:
    """Cheap random keep-masks: windows at random offsets of one pool of random bytes."""

    def __init__(self, rows: int, columns: int, generator: torch.Generator) -> None:
        self.size = rows * columns
        self.generator = generator
        self.pool = torch.randint(0, 256, (2 * self.size + columns,), dtype=torch.uint8, generator=generator)

    def keep(self, shape: Tuple[int, int], keep_prob: float) -> torch.Tensor:
        count = shape[0] * shape[1]
        offset = int(torch.randint(0, self.pool.shape[0] - count + 1, (1,), generator=self.generator))
        return self.pool[offset : offset + count].view(shape) < int(round(256 * keep_prob))


def _induction_pass(
    xw: torch.Tensor,
    zw: torch.Tensor,
    r_x: torch.Tensor,
    r_z: torch.Tensor,
    csls_k: int,
    keep_prob: float,
    masks: Optional[_DropoutMasks],
    block_rows: int,
) -> Tuple[np.ndarray, np.ndarray, float, torch.Tensor, torch.Tensor]:
    """One blocked pass over ``xw zwᵀ``: CSLS (with ``r_x``, ``r_z``) arg-maxes of rows and columns
    after dropout, the objective, and fresh ``r`` terms for the next pass."""
    n, m = xw.shape[0], zw.shape[0]
    forward = torch.empty(n, dtype=torch.int64)
    best_forward = torch.empty(n)
    column_value = torch.full((m,), -float("inf"))
    column_index = torch.zeros(m, dtype=torch.int64)
    best_backward = torch.full((m,), -float("inf"))
    new_r_x = torch.empty(n)
    column_topk = []
    for start in range(0, n, block_rows):
        scores = xw[start : start + block_rows] @ zw.T
        top = scores.topk(csls_k, dim=1).values
        new_r_x[start : start + block_rows] = top.mean(dim=1)
        best_forward[start : start + block_rows] = top[:, 0]
        column_top = scores.topk(min(csls_k, scores.shape[0]), dim=0).values
        column_topk.append(column_top)
        best_backward = torch.maximum(best_backward, column_top[0])
        scores.mul_(2).sub_(r_x[start : start + block_rows, None]).sub_(r_z[None, :])
        if keep_prob < 1.0 and masks is not None:
            scores.masked_fill_(~masks.keep(scores.shape, keep_prob), -float("inf"))
        forward[start : start + block_rows] = scores.argmax(dim=1)
        value, index = scores.max(dim=0)
        better = value > column_value
        column_value = torch.where(better, value, column_value)
        column_index = torch.where(better, index + start, column_index)
    new_r_z = torch.cat(column_topk, dim=0).topk(min(csls_k, n), dim=0).values.mean(dim=0)
    objective = float((best_forward.mean() + best_backward.mean()) / 2)
    return forward.numpy(), column_index.numpy(), objective, new_r_x, new_r_z


def _whitening(matrix: np.ndarray) -> np.ndarray:
    """``(MᵀM)^(-1/2)``, the transformation that whitens the rows of ``matrix``."""
    _, s, vt = np.linalg.svd(matrix.astype(np.float64), full_matrices=False)
    s = np.maximum(s, 1e-6 * s.max())
    return vt.T @ np.diag(1.0 / s) @ vt


def reweighted_mapping(
    source: np.ndarray, target: np.ndarray, reweight: float = 0.5
) -> Tuple[np.ndarray, np.ndarray]:
    """Whitening, orthogonal mapping, symmetric re-weighting and de-whitening from paired rows.

    Returns ``(W_x, W_z)``: source rows map to ``x W_x`` and target rows to ``z W_z``.
    """
    wx1, wz1 = _whitening(source), _whitening(target)
    xs, zs = source.astype(np.float64) @ wx1, target.astype(np.float64) @ wz1
    wx2, s, wz2t = np.linalg.svd(xs.T @ zs)
    wz2 = wz2t.T
    scale = np.diag(s**reweight)
    wx = wx1 @ wx2 @ scale @ wx2.T @ np.linalg.inv(wx1) @ wx2
    wz = wz1 @ wz2 @ scale @ wz2.T @ np.linalg.inv(wz1) @ wz2
    return wx.astype(np.float32), wz.astype(np.float32)


def self_learning(
    source: np.ndarray,
    target: np.ndarray,
    seed_rows: Optional[Tuple[np.ndarray, np.ndarray]] = None,
    init_vocab: int = 4000,
    vocabulary_cutoff: int = 15000,
    csls_k: int = 10,
    keep_prob_initial: float = 0.1,
    keep_prob_multiplier: float = 2.0,
    patience: int = 3,
    threshold: float = 1e-6,
    max_iterations: int = 100,
    final_mapping: str = "orthogonal",
    reweight: float = 0.5,
    random_seed: int = 0,
    block_mb: float = 256.0,
) -> SelfLearningResult:
    """Fit the self-learning mapping of normalized ``source`` rows onto normalized ``target`` rows.

    ``seed_rows`` (source rows, target rows) replaces the unsupervised initialization when given.
    See the module docstring for the other parameters.
    """
    if final_mapping not in FINAL_MAPPINGS:
        raise ValueError(f"unknown final mapping {final_mapping!r}; choose from {', '.join(FINAL_MAPPINGS)}")
    generator = torch.Generator().manual_seed(random_seed)
    if seed_rows is None:
        source_rows, target_rows = similarity_distribution_init(source, target, init_vocab, csls_k)
    else:
        source_rows, target_rows = seed_rows
    n = min(vocabulary_cutoff, source.shape[0])
    m = min(vocabulary_cutoff, target.shape[0])
    x = torch.from_numpy(unit_rows(source[:n]))
    z = torch.from_numpy(unit_rows(target[:m]))
    block_rows = int(max(1, block_mb * 2**20 // (4 * m)))
    masks = _DropoutMasks(min(block_rows, n), m, generator)
    keep_prob = keep_prob_initial
    best_objective, last_improvement = -float("inf"), 0
    history: List[Dict[str, Any]] = []
    mapping = procrustes(source[source_rows], target[target_rows])
    xw = x @ torch.from_numpy(mapping)
    _, _, _, r_x, r_z = _induction_pass(xw, z, torch.zeros(n), torch.zeros(m), csls_k, 1.0, None, block_rows)
    progress = tqdm(range(1, max_iterations + 1), desc="self-learning", leave=False)
    objective = best_objective
    for iteration in progress:
        forward, backward, objective, r_x, r_z = _induction_pass(
            xw, z, r_x, r_z, csls_k, keep_prob, masks, block_rows
        )
        history.append({"iteration": iteration, "keep_prob": keep_prob, "objective": objective})
        progress.set_postfix(keep_prob=keep_prob, objective=f"{objective:.4f}")
        if objective - best_objective >= threshold:
            best_objective, last_improvement = objective, iteration
        elif iteration - last_improvement >= patience:
            if keep_prob >= 1.0:
                break
            keep_prob = min(1.0, keep_prob * keep_prob_multiplier)
            last_improvement = iteration
        source_rows = np.concatenate([np.arange(n), backward])
        target_rows = np.concatenate([forward, np.arange(m)])
        mapping = procrustes(source[source_rows], target[target_rows])
        xw = x @ torch.from_numpy(mapping)
    progress.close()
    logger.info("self-learning: %d iterations, objective %.4f", len(history), objective)
    target_mapping = None
    if final_mapping == "reweight":
        mapping, target_mapping = reweighted_mapping(source[source_rows], target[target_rows], reweight)
    return SelfLearningResult(mapping, target_mapping, source_rows, target_rows, best_objective, history)
