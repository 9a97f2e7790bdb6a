"""Vector normalization steps (``unit``, ``center``, and sequences such as ``unit,center,unit``).

A fitted :class:`Normalization` keeps the statistics it used (the mean of each ``center`` step),
so the exact same transformation is re-applied when an alignment is used on other vectors.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Union

import numpy as np

STEPS = ("unit", "center", "none")


def parse_steps(steps: Union[str, Sequence[str], None]) -> List[str]:
    """``"unit,center,unit"`` or a list of step names to a validated list (``none``/empty: no step)."""
    if steps is None:
        return []
    names = [s.strip() for s in steps.split(",")] if isinstance(steps, str) else [str(s) for s in steps]
    names = [n for n in names if n and n != "none"]
    for name in names:
        if name not in STEPS:
            raise ValueError(f"unknown normalization step {name!r}; choose from unit, center, none")
    return names


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """A float32, C-contiguous copy of ``matrix`` (shape ``(n, d)``) with rows scaled to unit
    length; zero rows stay zero. The one row normalization of the package (the ``unit`` step,
    cosine retrieval, dictionary induction, analysis)."""
    matrix = np.array(matrix, dtype=np.float32, copy=True, order="C")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    matrix /= norms
    return matrix


@dataclass
class Normalization:
    """Fitted steps; ``means[i]`` is the mean subtracted by step ``i`` (``None`` for ``unit``)."""

    steps: List[str] = field(default_factory=list)
    means: List[Optional[np.ndarray]] = field(default_factory=list)

    @classmethod
    def fit(cls, matrix: np.ndarray, steps: Union[str, Sequence[str], None]) -> "Normalization":
        """Learn the statistics of ``steps`` on ``matrix`` (shape ``(n, d)``)."""
        names = parse_steps(steps)
        means: List[Optional[np.ndarray]] = []
        current = np.asarray(matrix, dtype=np.float32)
        for name in names:
            if name == "unit":
                means.append(None)
                current = unit_rows(current)
            else:
                mean = current.mean(axis=0).astype(np.float32)
                means.append(mean)
                current = current - mean
        return cls(names, means)

    def apply(self, matrix: np.ndarray) -> np.ndarray:
        """Apply the fitted steps to ``matrix`` (shape ``(n, d)``); returns a new float32 array."""
        current = np.asarray(matrix, dtype=np.float32)
        for name, mean in zip(self.steps, self.means):
            if name == "unit":
                current = unit_rows(current)
            else:
                if mean is None or mean.shape[0] != current.shape[1]:
                    raise ValueError(
                        f"center statistics have dimension {None if mean is None else mean.shape[0]}, "
                        f"vectors have {current.shape[1]}"
                    )
                current = current - mean
        return np.array(current, dtype=np.float32, copy=True)
