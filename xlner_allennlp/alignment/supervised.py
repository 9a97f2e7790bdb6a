"""Supervised mappings from paired rows: least squares (Mikolov et al. 2013) and orthogonal Procrustes.

Both take ``X`` (source rows) and ``Z`` (their translations' target rows), float32 ``(n, d)``, and
return ``W`` (``d × d``) such that ``X @ W`` approximates ``Z``.
"""
import numpy as np


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


def orthogonalize(mapping: np.ndarray) -> np.ndarray:
    """The orthogonal matrix nearest to ``mapping`` (polar factor ``U Vᵀ`` of its SVD)."""
    u, _, vt = np.linalg.svd(mapping.astype(np.float64))
    return (u @ vt).astype(np.float32)
