"""Dense, blocked similarity passes in torch for dictionary induction (both directions at once).

Inducing a dictionary needs, for two sets of unit rows ``A`` (n × d) and ``B`` (m × d), the CSLS
neighbourhood terms of both sides and the best match of every row *and* every column of
``A Bᵀ``. Two blocked passes over ``A Bᵀ`` give all of it (the first for the top-k means, the
second for the arg-maxes), so the n × m matrix is never held whole and each product is computed
twice instead of four times.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import torch

DEFAULT_BLOCK_MB = 256.0
# topk_values cuts each line into groups of this many entries and looks only inside the k groups
# of largest maximum: one pass of maxima, then a top-k among k · TOPK_GROUP candidates.
TOPK_GROUP = 64
# Along columns (a strided direction for torch) groups are of ROW_GROUP rows, found recursively,
# and at most DIRECT_ROWS rows are ranked by torch's own top-k.
ROW_GROUP = 8
DIRECT_ROWS = 256


@dataclass(frozen=True)
class CslsSettings:
    """The CSLS neighbourhood, a setting of every method that induces dictionaries or measures
    the mean-cosine criterion.

    # Parameters

    csls_k : `int`, optional (default = `10`)
        CSLS's ``r`` terms average the cosines of a word's ``csls_k`` nearest neighbours.
    """

    csls_k: int = 10

    def __post_init__(self) -> None:
        # Settings dataclasses are combined by inheritance: let every base check its own fields.
        getattr(super(), "__post_init__", lambda: None)()
        if self.csls_k < 1:
            raise ValueError(f"csls_k must be a positive number of neighbours, got {self.csls_k}")


def rows_per_block(n_columns: int, block_mb: float) -> int:
    """Rows of a dense float32 block with ``n_columns`` columns that fit in ``block_mb`` MiB (at
    least one): the block size of every blocked similarity pass of the package."""
    return int(max(1, block_mb * 2**20 // (4 * max(1, n_columns))))


def map_rows(
    matrix: np.ndarray, mapping: np.ndarray, out: Optional[np.ndarray] = None, block_mb: float = 64.0
) -> np.ndarray:
    """``matrix @ mapping`` (``(n, d)`` by ``(d, d')``) block by block into ``out`` (a new float32
    array when ``None``; ``matrix`` itself maps in place), so no temporary is as large as ``matrix``."""
    if out is None:
        out = np.empty((matrix.shape[0], mapping.shape[1]), np.float32)
    rows = rows_per_block(max(matrix.shape[1], mapping.shape[1]), block_mb)
    for start in range(0, matrix.shape[0], rows):
        out[start : start + rows] = matrix[start : start + rows] @ mapping
    return out


def _as_tensor(matrix: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(matrix, dtype=np.float32))


def _grouped(scores: torch.Tensor, dim: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """``scores`` (2-D) cut along ``dim`` into groups of :data:`TOPK_GROUP` entries: the whole
    groups as a view with the group index at ``dim`` and the entries at ``dim + 1``, and the last,
    shorter group (possibly empty) as a view of ``scores``."""
    whole = scores.shape[dim] // TOPK_GROUP * TOPK_GROUP
    head = scores.narrow(dim, 0, whole).unflatten(dim, (whole // TOPK_GROUP, TOPK_GROUP))
    return head, scores.narrow(dim, whole, scores.shape[dim] - whole)


def _top_rows(values: torch.Tensor, k: int) -> torch.Tensor:
    """Row indices ``(k, columns)`` of ``k`` largest entries of each column of ``values`` ``(rows,
    columns)`` (which of equal entries is not defined). Torch ranks along rows slowly (a strided
    pass), so the rows are cut into groups of :data:`ROW_GROUP`: the ``k`` groups of largest
    maximum are found the same way among the groups' maxima, recursively, and only their
    entries (and the rows after the last whole group) are ranked; see :func:`topk_values` for
    why that is exact."""
    rows, columns = values.shape
    whole = rows // ROW_GROUP * ROW_GROUP
    if rows <= DIRECT_ROWS or whole // ROW_GROUP <= k:
        return values.topk(k, dim=0).indices
    maxima = values.narrow(0, 0, whole).unflatten(0, (whole // ROW_GROUP, ROW_GROUP)).amax(dim=1)
    groups = _top_rows(maxima, k)
    candidates = (groups.unsqueeze(1) * ROW_GROUP + torch.arange(ROW_GROUP).view(1, -1, 1)).flatten(0, 1)
    if rows > whole:
        candidates = torch.cat([candidates, torch.arange(whole, rows).view(-1, 1).expand(-1, columns)], 0)
    return candidates.gather(0, values.gather(0, candidates).topk(k, dim=0).indices)


def topk_values(scores: torch.Tensor, k: int, dim: int = 1) -> torch.Tensor:
    """The ``k`` largest values along ``dim`` (0 or 1) of a 2-D tensor, sorted decreasing and
    contiguous: the values of ``scores.topk(k, dim)`` exactly, in about one read of ``scores``.

    Along a row the entries are cut into groups of :data:`TOPK_GROUP`; only the ``k`` groups of
    largest maximum (plus the last, shorter group) can hold the ``k`` largest values, so ``topk``
    runs on those ``k · TOPK_GROUP`` candidates instead of every entry (a group holding a value
    above the ``k``-th largest has one of the ``k`` largest maxima, else ``k`` other groups
    exceed that value; the same argument gives enough ties of the ``k``-th largest). Along a
    column the same is done with groups of rows (:func:`_top_rows`). Values only:
    which of several equal entries is taken is not defined. Shape: ``(rows, k)`` for ``dim=1``,
    ``(k, columns)`` for ``dim=0``.
    """
    k = min(k, scores.shape[dim])
    head, tail = _grouped(scores, dim)
    if head.shape[dim] <= k:
        best = scores.topk(k, dim=dim).values
    elif dim == 1:
        chosen = head.amax(dim=2).topk(k, dim=1).indices
        candidates = head.gather(1, chosen.unsqueeze(2).expand(-1, -1, TOPK_GROUP)).flatten(1, 2)
        if tail.shape[1]:
            candidates = torch.cat([candidates, tail], 1)
        best = candidates.topk(k, dim=1).values
    else:
        best = scores.gather(0, _top_rows(scores, k)).sort(dim=0, descending=True).values
    # Contiguous as topk's own result, so a reduction over it sums in the same order.
    return best.contiguous()


def column_max(scores: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``scores.max(dim=0)`` of a 2-D tensor, ``(values, indices)`` with the first row on ties,
    without torch's slow strided arg-max over all rows: the first group (of :data:`TOPK_GROUP`
    rows) holding each column's maximum, then the first row of that group holding it."""
    head, tail = _grouped(scores, 0)
    if head.shape[0] < 2:
        return scores.max(dim=0)
    values = head.amax(dim=1)
    if tail.shape[0]:
        values = torch.cat([values, tail.amax(dim=0, keepdim=True)], 0)
    _, group = values.max(dim=0)
    rows = group.unsqueeze(0) * TOPK_GROUP + torch.arange(TOPK_GROUP).unsqueeze(1)
    inside = scores.gather(0, rows.clamp_(max=scores.shape[0] - 1))
    best, offset = inside.max(dim=0)
    return best, group * TOPK_GROUP + offset


def topk_means(
    a: np.ndarray, b: np.ndarray, k: int = 10, block_mb: float = DEFAULT_BLOCK_MB
) -> Tuple[np.ndarray, np.ndarray]:
    """Mean of the ``k`` largest inner products of each row of ``a`` with ``b`` and of each row of
    ``b`` with ``a`` (CSLS's ``r`` terms), computed in one blocked pass over ``a bᵀ``."""
    ta, tb = _as_tensor(a), _as_tensor(b)
    n, m = ta.shape[0], tb.shape[0]
    ka, kb = min(k, m), min(k, n)
    rows = rows_per_block(m, block_mb)
    r_a = torch.empty(n)
    best_b = []
    with torch.no_grad():
        for start in range(0, n, rows):
            scores = ta[start : start + rows] @ tb.T
            r_a[start : start + rows] = topk_values(scores, ka).mean(dim=1)
            best_b.append(topk_values(scores, min(kb, scores.shape[0]), dim=0))
        r_b = topk_values(torch.cat(best_b, dim=0), kb, dim=0).mean(dim=0)
    return r_a.numpy(), r_b.numpy()


def csls_best_matches(
    a: np.ndarray,
    b: np.ndarray,
    r_a: Optional[np.ndarray] = None,
    r_b: Optional[np.ndarray] = None,
    block_mb: float = DEFAULT_BLOCK_MB,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best column of every row and best row of every column of ``2 a bᵀ - r_a - r_b``.

    Without ``r_a``/``r_b`` the scores are plain inner products (NN). Returns
    ``(row_best, row_score, column_best, column_score)``.
    """
    ta, tb = _as_tensor(a), _as_tensor(b)
    n, m = ta.shape[0], tb.shape[0]
    tr_a = _as_tensor(r_a) if r_a is not None else None
    tr_b = _as_tensor(r_b) if r_b is not None else None
    rows = rows_per_block(m, block_mb)
    row_best = torch.empty(n, dtype=torch.int64)
    row_score = torch.empty(n)
    column_best = torch.zeros(m, dtype=torch.int64)
    column_score = torch.full((m,), -float("inf"))
    with torch.no_grad():
        for start in range(0, n, rows):
            scores = ta[start : start + rows] @ tb.T
            if tr_a is not None:
                scores.mul_(2).sub_(tr_a[start : start + rows, None]).sub_(tr_b[None, :])
            row_score[start : start + rows], row_best[start : start + rows] = scores.max(dim=1)
            value, index = column_max(scores)
            better = value > column_score
            column_score = torch.where(better, value, column_score)
            column_best = torch.where(better, index + start, column_best)
    return row_best.numpy(), row_score.numpy(), column_best.numpy(), column_score.numpy()

