"""Supervised mappings from paired rows: least squares (Mikolov et al. 2013), orthogonal Procrustes
and the re-weighted multi-step mapping (Artetxe et al. 2018).

They take ``X`` (source rows) and ``Z`` (their translations' target rows), float32 ``(n, d)``, and
return ``W`` (``d × d``) such that ``X @ W`` approximates ``Z``.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

FINAL_MAPPINGS = ("orthogonal", "reweight")


def _check_pairs(source: np.ndarray, target: np.ndarray) -> None:
    if source.ndim != 2 or target.ndim != 2 or source.shape != target.shape:
        raise ValueError(
            f"paired matrices must have the same shape, got {source.shape} and {target.shape}"
        )
    if source.shape[0] == 0:
        raise ValueError("no pairs to fit a mapping on")


def least_squares(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``argmin_W ||X W - Z||_F`` (unconstrained; minimum-norm solution when under-determined)."""
    _check_pairs(source, target)
    mapping, *_ = np.linalg.lstsq(source.astype(np.float64), target.astype(np.float64), rcond=None)
    return mapping.astype(np.float32)


def procrustes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The orthogonal ``W = U Vᵀ`` minimising ``||X W - Z||_F``, from the SVD ``Xᵀ Z = U Σ Vᵀ``."""
    _check_pairs(source, target)
    u, _, vt = np.linalg.svd(source.astype(np.float64).T @ target.astype(np.float64))
    return (u @ vt).astype(np.float32)


def whitening(matrix: np.ndarray) -> np.ndarray:
    """``(MᵀM)^(-1/2)``, the transformation that whitens the rows of ``matrix`` (float64)."""
    _, s, vt = np.linalg.svd(matrix.astype(np.float64), full_matrices=False)
    s = np.maximum(s, 1e-6 * s.max())
    return vt.T @ np.diag(1.0 / s) @ vt


def reweighted_mapping(
    source: np.ndarray, target: np.ndarray, source_power: float = 0.5, target_power: float = 0.5
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """The multi-step mapping of Artetxe et al. (2018, AAAI) from paired rows: whitening of both
    sides, orthogonal mapping, re-weighting by the singular values and de-whitening.

    ``source_power`` / ``target_power`` re-weight the source / target side by ``Σ^power``.
    Returns ``(W_x, W_z)`` with source rows mapping to ``x W_x`` and target rows to ``z W_z``.
    With ``target_power = 0`` the target transformation is a rotation, which changes no cosine;
    it is then folded into ``W_x`` and ``W_z`` is ``None`` (the target space stays as it is).
    """
    _check_pairs(source, target)
    wx1, wz1 = whitening(source), whitening(target)
    wx2, s, wz2t = np.linalg.svd((source.astype(np.float64) @ wx1).T @ (target.astype(np.float64) @ wz1))
    wz2 = wz2t.T
    wx = wx1 @ wx2 @ np.diag(s**source_power) @ wx2.T @ np.linalg.inv(wx1) @ wx2
    wz = wz1 @ wz2 @ np.diag(s**target_power) @ wz2.T @ np.linalg.inv(wz1) @ wz2
    if target_power == 0:
        return (wx @ wz.T).astype(np.float32), None
    return wx.astype(np.float32), wz.astype(np.float32)


@dataclass(frozen=True)
class FinalMapping:
    """How an iterative method ends (settings shared by the methods that refine a dictionary).

    # Parameters

    final_mapping : `str`, optional (default = `"reweight"`)
        ``orthogonal`` keeps the last orthogonal mapping (MUSE); ``reweight`` solves the final
        dictionary with the re-weighted multi-step mapping (:func:`reweighted_mapping`, VecMap).
    reweight_source : `float`, optional (default = `0.5`)
        Power of the singular values re-weighting the mapped side (``reweight`` only).
    reweight_target : `float`, optional (default = `0.0`)
        The same for the reference side; above 0 the reference space is transformed too, so
        languages aligned to one reference no longer share its space.
    """

    final_mapping: str = "reweight"
    reweight_source: float = 0.5
    reweight_target: float = 0.0

    def __post_init__(self) -> None:
        getattr(super(), "__post_init__", lambda: None)()
        if self.final_mapping not in FINAL_MAPPINGS:
            raise ValueError(
                f"unknown final_mapping {self.final_mapping!r}; choose from {', '.join(FINAL_MAPPINGS)}"
            )

    @property
    def transforms_reference(self) -> bool:
        """Whether the final step also maps the reference space (a reference-side mapping)."""
        return self.final_mapping == "reweight" and self.reweight_target != 0


def finish_mapping(
    mapping: np.ndarray, source: np.ndarray, target: np.ndarray, settings: FinalMapping
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """The (source, target) mappings an iterative method ends with: ``mapping`` itself for
    ``orthogonal``, or the :func:`reweighted_mapping` solved on the paired rows ``source`` /
    ``target`` (each ``(n, d)``) of its final dictionary for ``reweight``."""
    if settings.final_mapping == "orthogonal":
        return mapping, None
    return reweighted_mapping(source, target, settings.reweight_source, settings.reweight_target)
