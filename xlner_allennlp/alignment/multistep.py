"""The multi-step mapping framework of Artetxe et al. (2018, AAAI), in plain numpy.

From paired rows ``X`` (source) and ``Z`` (their translations), float ``(n, d)``, both sides are
transformed in up to five steps, each optional, applied after the embedding normalization
(:mod:`~xlner_allennlp.alignment.normalization`):

1. whitening: ``W1 = (MᵀM)^(-1/2)`` of each side's paired rows (makes their covariance the identity);
2. orthogonal mapping: from the SVD ``(X W1x)ᵀ (Z W1z) = U Σ Vᵀ``, the source side is rotated by
   ``U`` and the target side by ``V`` (with every other step off this is Procrustes, ``W = U Vᵀ``);
3. re-weighting: each side's columns are scaled by ``Σ^p`` (``p`` = ``reweight_source`` /
   ``reweight_target``);
4. de-whitening: each side is multiplied by ``W2ᵀ W1⁻¹ W2`` of the source or the target side
   (``W2`` = ``U`` or ``V``), which restores that side's original covariance in the rotated basis;
5. dimensionality reduction: only the first ``k`` dimensions are kept.

The result is one ``d × d`` matrix per side, source rows going to ``x W_x`` and target rows to
``z W_z``. Dimensionality reduction zeroes the columns after ``k`` instead of dropping them, so
cosines are those of the reduced vectors and the mappings stay square.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

DEWHITENING = ("none", "source", "target")


@dataclass(frozen=True)
class MultiStep:
    """Settings of the multi-step mapping (:func:`multistep_mapping`); the defaults are VecMap's
    recommended supervised recipe.

    # Parameters

    whiten_source : `bool`, optional (default = `True`)
        Whiten the source side's paired rows before the orthogonal mapping.
    whiten_target : `bool`, optional (default = `True`)
        The same for the target side.
    reweight_source : `float`, optional (default = `0.5`)
        Power of the singular values ``Σ`` re-weighting the source side (0: no re-weighting).
    reweight_target : `float`, optional (default = `0.5`)
        The same for the target side; above 0 the target space is transformed too.
    dewhiten_source : `str`, optional (default = `"source"`)
        De-whitening of the source side with the source (``source``) or target (``target``) side's
        whitening, or ``none``.
    dewhiten_target : `str`, optional (default = `"target"`)
        The same for the target side.
    dim_reduction : `int`, optional (default = `0`)
        Keep only the first ``dim_reduction`` dimensions after the other steps (0: keep all).
    """

    whiten_source: bool = True
    whiten_target: bool = True
    reweight_source: float = 0.5
    reweight_target: float = 0.5
    dewhiten_source: str = "source"
    dewhiten_target: str = "target"
    dim_reduction: int = 0

    def __post_init__(self) -> None:
        getattr(super(), "__post_init__", lambda: None)()
        for name, value in (("dewhiten_source", self.dewhiten_source), ("dewhiten_target", self.dewhiten_target)):
            if value not in DEWHITENING:
                raise ValueError(f"unknown {name} {value!r}; choose from {', '.join(DEWHITENING)}")
        if self.dim_reduction < 0:
            raise ValueError(f"dim_reduction must be 0 (keep all) or a number of dimensions, got {self.dim_reduction}")

    @property
    def transforms_target(self) -> bool:
        """Whether the target side ends with a transformation other than a rotation (one that
        changes cosines among target words), so it cannot be folded into the source mapping."""
        return (
            self.reweight_target != 0 or self.dim_reduction > 0
            or (self.dewhiten_target == "source" and (self.whiten_source or self.whiten_target))
            or (self.dewhiten_target == "none" and self.whiten_target)
        )


def check_pairs(source: np.ndarray, target: np.ndarray) -> None:
    """Paired rows for a supervised solver (here and in :mod:`~xlner_allennlp.alignment.supervised`,
    which builds on this module): two non-empty matrices of one shape ``(n, d)``."""
    if source.ndim != 2 or target.ndim != 2 or source.shape != target.shape:
        raise ValueError(f"paired matrices must have the same shape, got {source.shape} and {target.shape}")
    if source.shape[0] == 0:
        raise ValueError("no pairs to fit a mapping on")


def whitening(matrix: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """``(MᵀM)^(-1/2)`` and its inverse ``(MᵀM)^(1/2)`` for the rows of ``matrix`` ``(n, d)``, float64
    ``(d, d)`` each; singular values below ``1e-6`` of the largest are raised to it."""
    _, s, vt = np.linalg.svd(np.asarray(matrix, dtype=np.float64), full_matrices=False)
    s = np.maximum(s, 1e-6 * s.max())
    return (vt.T / s) @ vt, (vt.T * s) @ vt


def multistep_mapping(
    source: np.ndarray, target: np.ndarray, settings: MultiStep = MultiStep()
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """``(W_x, W_z)``, float32 ``(d, d)``, from paired rows ``source`` / ``target`` (each ``(n, d)``).

    When the target transformation is a rotation (``settings.transforms_target`` false) it is
    folded into ``W_x`` (``W_x W_zᵀ``: the same cosines) and ``W_z`` is ``None``, so the target
    space stays as it is.
    """
    check_pairs(source, target)
    x, z = np.asarray(source, dtype=np.float64), np.asarray(target, dtype=np.float64)
    identity = np.eye(x.shape[1])
    wx1, wx1_inv = whitening(x) if settings.whiten_source else (identity, identity)
    wz1, wz1_inv = whitening(z) if settings.whiten_target else (identity, identity)
    wx2, s, wz2t = np.linalg.svd((x @ wx1).T @ (z @ wz1))
    wz2 = wz2t.T
    dewhitening = {"source": wx2.T @ wx1_inv @ wx2, "target": wz2.T @ wz1_inv @ wz2, "none": identity}
    wx = (wx1 @ wx2 * s**settings.reweight_source) @ dewhitening[settings.dewhiten_source]
    wz = (wz1 @ wz2 * s**settings.reweight_target) @ dewhitening[settings.dewhiten_target]
    if settings.dim_reduction:
        wx[:, settings.dim_reduction:] = 0.0
        wz[:, settings.dim_reduction:] = 0.0
    if not settings.transforms_target:
        return (wx @ wz.T).astype(np.float32), None
    return wx.astype(np.float32), wz.astype(np.float32)
