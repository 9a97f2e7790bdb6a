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


# Row normalizations work on blocks of this many rows, so no temporary is as large as the matrix.
BLOCK_ROWS = 65536


def _writable_float32(matrix: np.ndarray, in_place: bool) -> np.ndarray:
    """``matrix`` itself when ``in_place`` and it is a writable C-contiguous float32 array, else a
    float32 C-contiguous copy (the one copy a normalization makes)."""
    if (
        in_place and isinstance(matrix, np.ndarray) and matrix.dtype == np.float32
        and matrix.flags.c_contiguous and matrix.flags.writeable
    ):
        return matrix
    return np.array(matrix, dtype=np.float32, copy=True, order="C")


def _unit_rows_in_place(matrix: np.ndarray) -> None:
    for start in range(0, matrix.shape[0], BLOCK_ROWS):
        block = matrix[start : start + BLOCK_ROWS]
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        block /= norms


def unit_rows(matrix: np.ndarray, in_place: bool = False) -> np.ndarray:
    """``matrix`` (shape ``(n, d)``) as float32, C-contiguous, with rows scaled to unit length;
    zero rows stay zero. The one row normalization of the package (the ``unit`` step, cosine
    retrieval, dictionary induction, analysis). A copy, unless ``in_place`` and ``matrix`` is
    already a writable float32 C-contiguous array, which is then normalized in place (block by
    block: no temporary as large as the matrix)."""
    matrix = _writable_float32(matrix, in_place)
    _unit_rows_in_place(matrix)
    return matrix


def _column_mean(matrix: np.ndarray, steps: Sequence[str], means: Sequence[Optional[np.ndarray]]) -> np.ndarray:
    """The float32 mean row of ``matrix`` after the fitted ``steps`` (``means`` theirs), summed in
    float64 block by block so the transformed matrix is never held whole."""
    total = np.zeros(matrix.shape[1], np.float64)
    for start in range(0, matrix.shape[0], BLOCK_ROWS):
        block = _writable_float32(matrix[start : start + BLOCK_ROWS], False)
        _apply_steps(block, steps, means)
        total += block.sum(axis=0, dtype=np.float64)
    return (total / max(1, matrix.shape[0])).astype(np.float32)


def _apply_steps(matrix: np.ndarray, steps: Sequence[str], means: Sequence[Optional[np.ndarray]]) -> None:
    """Apply fitted steps to a writable float32 array in place (checked before any change)."""
    for name, mean in zip(steps, means):
        if name != "unit" and (mean is None or mean.shape[0] != matrix.shape[1]):
            raise ValueError(
                f"center statistics have dimension {None if mean is None else mean.shape[0]}, "
                f"vectors have {matrix.shape[1]}"
            )
    for name, mean in zip(steps, means):
        if name == "unit":
            _unit_rows_in_place(matrix)
        else:
            for start in range(0, matrix.shape[0], BLOCK_ROWS):
                matrix[start : start + BLOCK_ROWS] -= mean


@dataclass
class Normalization:
    """Fitted steps; ``means[i]`` is the mean subtracted by step ``i`` (``None`` for ``unit``)."""

    steps: List[str] = field(default_factory=list)
    means: List[Optional[np.ndarray]] = field(default_factory=list)

    @classmethod
    def fit(cls, matrix: np.ndarray, steps: Union[str, Sequence[str], None]) -> "Normalization":
        """Learn the statistics of ``steps`` on ``matrix`` (shape ``(n, d)``), block by block
        (``matrix`` is not changed and never copied whole)."""
        names = parse_steps(steps)
        means: List[Optional[np.ndarray]] = []
        for i, name in enumerate(names):
            means.append(None if name == "unit" else _column_mean(matrix, names[:i], means))
        return cls(names, means)

    def apply(self, matrix: np.ndarray, in_place: bool = False) -> np.ndarray:
        """Apply the fitted steps to ``matrix`` (shape ``(n, d)``): a new float32 array, or
        ``matrix`` itself changed in place when ``in_place`` and it is a writable float32
        C-contiguous array (see :func:`unit_rows`)."""
        matrix = _writable_float32(matrix, in_place)
        _apply_steps(matrix, self.steps, self.means)
        return matrix
