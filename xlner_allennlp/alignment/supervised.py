"""Supervised mappings from paired rows: least squares (Mikolov et al. 2013) and orthogonal
Procrustes; and :class:`FinalMapping`, how the iterative methods end (Procrustes kept, or the
multi-step framework of :mod:`~xlner_allennlp.alignment.multistep`).

They take ``X`` (source rows) and ``Z`` (their translations' target rows), float32 ``(n, d)``, and
return ``W`` (``d × d``) such that ``X @ W`` approximates ``Z``.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from xlner_allennlp.alignment.multistep import MultiStep, check_pairs, multistep_mapping

FINAL_MAPPINGS = ("orthogonal", "multistep")


def least_squares(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``argmin_W ||X W - Z||_F`` (unconstrained; minimum-norm solution when under-determined)."""
    check_pairs(source, target)
    mapping, *_ = np.linalg.lstsq(source.astype(np.float64), target.astype(np.float64), rcond=None)
    return mapping.astype(np.float32)


def procrustes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The orthogonal ``W = U Vᵀ`` minimising ``||X W - Z||_F``, from the SVD ``Xᵀ Z = U Σ Vᵀ``."""
    check_pairs(source, target)
    u, _, vt = np.linalg.svd(source.astype(np.float64).T @ target.astype(np.float64))
    return (u @ vt).astype(np.float32)


@dataclass(frozen=True)
class FinalMapping(MultiStep):
    """How an iterative method ends (settings shared by the methods that refine a dictionary).

    # Parameters

    final_mapping : `str`, optional (default = `"multistep"`)
        ``orthogonal`` keeps the last orthogonal mapping (MUSE); ``multistep`` solves the final
        dictionary with the multi-step framework (:func:`~xlner_allennlp.alignment.multistep.multistep_mapping`,
        VecMap's last step), configured by the :class:`~xlner_allennlp.alignment.multistep.MultiStep`
        settings.
    reweight_target : `float`, optional (default = `0.0`)
        As in ``MultiStep``, but 0 by default here: the reference space stays as it is, so
        languages aligned to one reference share its space.
    """

    final_mapping: str = "multistep"
    reweight_target: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.final_mapping not in FINAL_MAPPINGS:
            raise ValueError(
                f"unknown final_mapping {self.final_mapping!r}; choose from {', '.join(FINAL_MAPPINGS)}"
            )

    @property
    def transforms_reference(self) -> bool:
        """Whether the final step also maps the reference space (a reference-side mapping)."""
        return self.final_mapping == "multistep" and self.transforms_target


def finish_mapping(
    mapping: np.ndarray, source: np.ndarray, target: np.ndarray, settings: FinalMapping
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """The (source, target) mappings an iterative method ends with: ``mapping`` itself for
    ``orthogonal``, or the multi-step mapping solved on the paired rows ``source`` / ``target``
    (each ``(n, d)``) of its final dictionary for ``multistep``."""
    if settings.final_mapping == "orthogonal":
        return mapping, None
    return multistep_mapping(source, target, settings)
