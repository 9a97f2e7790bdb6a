"""Exact nearest-neighbour and CSLS retrieval by blocked sgemm with threshold-filtered top-k.

CSLS (Conneau et al. 2018) scores a query ``x`` against a key ``y`` as
``2 cos(x, y) - r_K(x) - r_Q(y)``, where ``r_K(x)`` is the mean cosine of ``x`` to its ``k``
nearest keys and ``r_Q(y)`` the mean cosine of ``y`` to its ``k`` nearest queries.

Every function here makes one pass over the score matrix ``queries @ keysᵀ`` in tiles (a float32
matmul per tile, so the pass runs near the machine's sgemm rate). Each tile updates a running
top-k of every row and, when asked, of every column: a score enters only if it reaches the
current k-th best of its row or column, so after the first tiles only a few scores per tile are
merged and the top-k costs little next to the matmul.

:func:`csls_knn` needs no second pass: the same tiles give each query's ``candidates`` nearest
keys (hence ``r_K``) and each key's top-k over all queries (``r_Q``). A key outside a query's
candidates has ``cos <= cos_K(q)``, the candidate list's last cosine, so its CSLS is at most
``2 cos_K(q) - min r_Q - r_K(q)``; when the k-th best candidate scores above that bound the
answer is exact, and the few queries where it does not are recomputed over all keys. Ties are
broken by the lower key index, as a stable sort of the full score matrix would.
"""
from typing import Optional, Tuple

import numpy as np
import torch
from tqdm import tqdm

from xlner_allennlp.alignment.normalization import unit_rows
from xlner_allennlp.alignment.similarity import topk_values

RETRIEVAL_METHODS = ("nn", "csls")
DEFAULT_MEMORY_MB = 1024

# Tile shape of the pass: KEY_TILE keys by up to QUERY_TILE queries (a 256 MiB float32 tile),
# fewer queries when ``memory_mb`` asks for less.
KEY_TILE = 16384
QUERY_TILE = 4096
# The first tile of a row (column) sets its threshold from the k-th best of its first
# max(THRESHOLD_SAMPLE, 64 k) scores: any subset's k-th best is a lower bound of the row's, and a
# small subset is cheap while letting through at most about 1/64 of the tile.
THRESHOLD_SAMPLE = 1024
# CSLS keeps this many nearest keys per query (at least 2k and csls_k) to certify its answer.
MIN_CANDIDATES = 64
# csls_knn_in_space: the rows of the space that bound each key's r from below, the margin taken
# off that bound, and the candidates per query of its first round (at least 2k). Measured on en-es
# BLI (1,071 queries, 50k keys, 52k rows): P@1 in 23 s against 36 s measuring every key.
BOUND_ROWS = 10000
BOUND_MARGIN = 1e-4
IN_SPACE_CANDIDATES = 8


def _check_dimensions(queries: np.ndarray, keys: np.ndarray) -> None:
    if queries.shape[1] != keys.shape[1]:
        raise ValueError(f"queries have dimension {queries.shape[1]}, keys {keys.shape[1]}")


def _float32(matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(matrix, dtype=np.float32)


def _descending_key(values: np.ndarray) -> np.ndarray:
    """Unsigned integers that sort ascending as ``values`` (float32) sort descending (``-0.0`` as ``0.0``)."""
    bits = (np.float32(0) - values).astype(np.float32).view(np.uint32).astype(np.uint64)
    return np.where(bits >> 31, ~bits & 0xFFFFFFFF, bits | 0x80000000)


def _merge(
    values: np.ndarray, indices: np.ndarray, rows: np.ndarray, new_values: np.ndarray, new_indices: np.ndarray
) -> None:
    """Merge scores ``new_values`` (row ``rows``, column ``new_indices``, all columns above those
    already in the row's top-k, in increasing order per row) into the running top-k ``values`` /
    ``indices`` (``(n, k)``, best first; ties by lower index), in place."""
    touched, local = np.unique(rows, return_inverse=True)
    k = values.shape[1]
    all_rows = np.concatenate([np.repeat(np.arange(touched.size, dtype=np.uint64), k), local.astype(np.uint64)])
    all_values = np.concatenate([values[touched].ravel(), new_values])
    all_indices = np.concatenate([indices[touched].ravel(), new_indices])
    # A stable sort by (row, descending score) keeps equal scores in index order: the kept top-k
    # comes first and the new columns are all larger than its indices.
    order = np.argsort((all_rows << np.uint64(32)) | _descending_key(all_values), kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(local, minlength=touched.size) + k)[:-1]])
    take = order[starts[:, None] + np.arange(k)]
    values[touched], indices[touched] = all_values[take], all_indices[take]


def _sample_threshold(scores: torch.Tensor, k: int, dim: int) -> np.ndarray:
    """A lower bound of the k-th best score along ``dim`` of a tile: the k-th best of the first
    ``max(THRESHOLD_SAMPLE, 64 k)`` entries (``-inf`` when the tile has fewer than ``k``)."""
    sample = scores.narrow(dim, 0, min(max(THRESHOLD_SAMPLE, 64 * k), scores.shape[dim]))
    if sample.shape[dim] < k:
        return np.full(scores.shape[1 - dim], -np.inf, np.float32)
    if dim == 0:
        sample = sample.T.contiguous()
    return sample.topk(k, dim=1, sorted=False).values.min(dim=1).values.numpy()


def _threshold(scores: torch.Tensor, best: np.ndarray, k: int, dim: int) -> np.ndarray:
    """The score a tile entry must reach to enter the running top-k ``best`` along ``dim``: the
    current k-th best, or, while fewer than ``k`` are known, the tile's own sampled bound
    (``+inf`` when no top-k is kept along ``dim``)."""
    if k == 0:
        return np.full(scores.shape[1 - dim], np.inf, np.float32)
    current = best[:, -1]
    if np.isneginf(current).any():
        current = np.maximum(current, _sample_threshold(scores, k, dim))
    return current


def _tile_shape(n: int, m: int, memory_mb: float) -> Tuple[int, int]:
    """(keys, queries) of a tile of the pass over ``n`` queries by ``m`` keys: a float32 score tile
    and a boolean mask of it within ``memory_mb``."""
    tile_keys = max(1, min(m, KEY_TILE))
    return tile_keys, max(1, min(n, QUERY_TILE, int(memory_mb * 2**20 // (5 * tile_keys))))


def _blocked_topk(
    queries: np.ndarray,
    keys: np.ndarray,
    row_k: int,
    column_k: int = 0,
    memory_mb: float = DEFAULT_MEMORY_MB,
    desc: Optional[str] = None,
    key_bias: Optional[np.ndarray] = None,
    query_bias: Optional[np.ndarray] = None,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One tiled pass over ``S = queries @ keysᵀ``, or the CSLS scores ``(2 S - key_bias) -
    query_bias`` when the biases (``(m,)`` and ``(n,)``) are given.

    ``queries`` ``(n, d)`` and ``keys`` ``(m, d)`` are float32 C-contiguous. Returns each row's
    ``row_k`` best scores and their key indices, ``(n, row_k)`` each, best first with ties to the
    lower index, and each column's ``column_k`` best scores ``(m, column_k)`` (values only).
    """
    n, m = queries.shape[0], keys.shape[0]
    row_k, column_k = min(row_k, m), min(column_k, n)
    row_values = np.full((n, row_k), -np.inf, np.float32)
    row_indices = np.full((n, row_k), -1, np.int64)
    column_values = np.full((m, column_k), -np.inf, np.float32)
    column_indices = np.full((m, column_k), -1, np.int64)
    tile_keys, tile_queries = _tile_shape(n, m, memory_mb)
    tq, tk = torch.from_numpy(queries), torch.from_numpy(keys)
    biases = None if key_bias is None else (torch.from_numpy(_float32(key_bias)), torch.from_numpy(_float32(query_bias)))
    scores_buffer = torch.empty(tile_queries * tile_keys)
    mask_buffer = np.empty(tile_queries * tile_keys, dtype=bool)
    starts = range(0, n, tile_queries)
    with torch.no_grad():
        for q0 in tqdm(starts, desc=desc, disable=desc is None or len(starts) < 2, leave=False):
            q1 = min(n, q0 + tile_queries)
            for k0 in range(0, m, tile_keys):
                k1 = min(m, k0 + tile_keys)
                scores = scores_buffer[: (q1 - q0) * (k1 - k0)].view(q1 - q0, k1 - k0)
                torch.matmul(tq[q0:q1], tk[k0:k1].T, out=scores)
                if biases is not None:
                    scores.mul_(2).sub_(biases[0][k0:k1]).sub_(biases[1][q0:q1, None])
                _update(scores, q0, k0, row_k, column_k, row_values, row_indices, column_values, column_indices,
                        mask_buffer)
    return row_values, row_indices, column_values


def _update(
    scores: torch.Tensor, q0: int, k0: int, row_k: int, column_k: int, row_values: np.ndarray,
    row_indices: np.ndarray, column_values: np.ndarray, column_indices: np.ndarray, mask_buffer: np.ndarray,
) -> None:
    """Merge the scores of one tile (rows ``q0:``, columns ``k0:``) that can enter a running top-k."""
    rows, columns = scores.shape
    row_threshold = _threshold(scores, row_values[q0 : q0 + rows], row_k, 1)
    column_threshold = _threshold(scores, column_values[k0 : k0 + columns], column_k, 0)
    values = scores.numpy()
    lowest = min(row_threshold.min(), column_threshold.min())
    mask = mask_buffer[: rows * columns].reshape(rows, columns)
    np.greater_equal(values, lowest, out=mask)
    flat = np.flatnonzero(mask)
    if flat.size == 0:
        return
    r, c = np.divmod(flat, columns)
    v = values.ravel()[flat]
    keep = v >= row_threshold[r]
    if keep.any():
        _merge(row_values[q0 : q0 + rows], row_indices[q0 : q0 + rows], r[keep], v[keep], c[keep] + k0)
    keep = v >= column_threshold[c]
    if keep.any():
        _merge(column_values[k0 : k0 + columns], column_indices[k0 : k0 + columns], c[keep], v[keep], r[keep] + q0)


def knn(
    queries: np.ndarray,
    keys: np.ndarray,
    k: int,
    normalize: bool = True,
    memory_mb: float = DEFAULT_MEMORY_MB,
    desc: Optional[str] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """The ``k`` keys of largest inner product (cosine when ``normalize``) for each query.

    Returns ``(scores, indices)``, both of shape ``(n_queries, k)``, best first (ties: lower index).
    """
    _check_dimensions(queries, keys)
    queries, keys = (unit_rows(queries), unit_rows(keys)) if normalize else (_float32(queries), _float32(keys))
    scores, indices, _ = _blocked_topk(queries, keys, k, 0, memory_mb, desc)
    return scores, indices


def mean_topk_similarity(
    queries: np.ndarray,
    keys: np.ndarray,
    k: int = 10,
    normalize: bool = True,
    memory_mb: float = DEFAULT_MEMORY_MB,
    desc: Optional[str] = None,
) -> np.ndarray:
    """``r(x)``: mean cosine of each query to its ``k`` nearest keys, shape ``(n_queries,)``.

    The same tiles as :func:`knn`, so the same scores, but only their values are kept: each tile's
    top-k by :func:`~xlner_allennlp.alignment.similarity.topk_values`, merged into the running
    top-k of its rows; the mean is taken over the ``k`` values sorted best first, as from
    :func:`knn` (the same result to the bit, at about the cost of the matmul).
    """
    _check_dimensions(queries, keys)
    queries, keys = (unit_rows(queries), unit_rows(keys)) if normalize else (_float32(queries), _float32(keys))
    n, m = queries.shape[0], keys.shape[0]
    k = min(k, m)
    tile_keys, tile_queries = _tile_shape(n, m, memory_mb)
    tq, tk = torch.from_numpy(queries), torch.from_numpy(keys)
    best = np.empty((n, k), np.float32)
    scores_buffer = torch.empty(tile_queries * tile_keys)
    starts = range(0, n, tile_queries)
    with torch.no_grad():
        for q0 in tqdm(starts, desc=desc, disable=desc is None or len(starts) < 2, leave=False):
            q1 = min(n, q0 + tile_queries)
            running = None
            for k0 in range(0, m, tile_keys):
                k1 = min(m, k0 + tile_keys)
                scores = scores_buffer[: (q1 - q0) * (k1 - k0)].view(q1 - q0, k1 - k0)
                torch.matmul(tq[q0:q1], tk[k0:k1].T, out=scores)
                tile_best = topk_values(scores, k)
                running = tile_best if running is None else topk_values(torch.cat([running, tile_best], 1), k)
            best[q0:q1] = running.numpy()
    return best.mean(axis=1)


def csls_knn(
    queries: np.ndarray,
    keys: np.ndarray,
    k: int,
    csls_k: int = 10,
    normalize: bool = True,
    memory_mb: float = DEFAULT_MEMORY_MB,
    desc: Optional[str] = None,
    query_r: Optional[np.ndarray] = None,
    key_r: Optional[np.ndarray] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """The ``k`` keys of highest CSLS score for each query, ``(scores, indices)``, best first.

    ``query_r`` (``r`` of each query among ``keys``) and ``key_r`` (``r`` of each key among
    ``queries``) come from the same pass as the candidates when not given; pass them to reuse
    them across calls that share the two spaces, or when the keys' neighbourhoods are measured
    in a larger space than these queries. Scores are full CSLS values ``2 cos - r(query) - r(key)``.
    """
    _check_dimensions(queries, keys)
    queries, keys = (unit_rows(queries), unit_rows(keys)) if normalize else (_float32(queries), _float32(keys))
    k = min(k, keys.shape[0])
    candidates = max(MIN_CANDIDATES, 2 * k, csls_k)
    cosines, indices, column_best = _blocked_topk(
        queries, keys, candidates, csls_k if key_r is None else 0, memory_mb, desc
    )
    if query_r is None:
        query_r = cosines[:, : min(csls_k, keys.shape[0])].mean(axis=1)
    if key_r is None:
        key_r = column_best.mean(axis=1)
    query_r, key_r = _float32(query_r), _float32(key_r)
    # One operation order everywhere, (2 cos - r(key)) - r(query): float rounding is monotonic,
    # so the bound below holds exactly for the float32 scores.
    scores = (2 * cosines - key_r[indices]) - query_r[:, None]
    order = np.lexsort((indices, -scores))[:, :k]
    scores, indices = np.take_along_axis(scores, order, 1), np.take_along_axis(indices, order, 1)
    if cosines.shape[1] < keys.shape[0]:
        bound = (2 * cosines[:, -1] - key_r.min()) - query_r
        uncertain = np.flatnonzero(~(scores[:, -1] > bound))
        if uncertain.size:
            scores[uncertain], indices[uncertain], _ = _blocked_topk(
                queries[uncertain], keys, k, 0, memory_mb, key_bias=key_r, query_bias=query_r[uncertain]
            )
    return scores, indices


def csls_knn_in_space(
    queries: np.ndarray,
    keys: np.ndarray,
    space: np.ndarray,
    k: int,
    csls_k: int = 10,
    memory_mb: float = DEFAULT_MEMORY_MB,
    bound_rows: int = BOUND_ROWS,
    desc: Optional[str] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """:func:`csls_knn` of unit ``queries`` ``(n, d)`` against unit ``keys`` ``(m, d)`` with each
    key's ``r`` measured among all rows of the unit ``space`` ``(N, d)`` that the queries come from
    (BLI: the dictionary's source words among the whole mapped vocabulary), ``(scores, indices)``
    ``(n, k)`` as ``csls_knn(queries, keys, k, csls_k, False, key_r=mean_topk_similarity(keys,
    space, csls_k, False))`` returns them, without measuring ``r`` of every key (an ``m x N`` pass).

    ``r`` of a key among the first ``bound_rows`` rows of ``space`` (a frequency-sorted
    vocabulary's most frequent words) is a lower bound of its ``r`` among all rows, so ``2 cos -
    lower - r(query)`` bounds each key's score from above. A pass over ``queries @ keysᵀ`` with
    those bounds gives each query's ``C`` keys of highest bound; ``r`` is measured exactly for
    them only, and a second pass scores exactly the keys whose ``r`` is known. A query whose
    ``k``-th exact score is above its ``C``-th bound has its answer (a key outside its candidates
    scores at most that bound); the others are retried with ``4 C`` candidates, and after that
    with every key measured.
    """
    _check_dimensions(queries, keys)
    _check_dimensions(queries, space)
    queries, keys, space = _float32(queries), _float32(keys), _float32(space)
    n, m = queries.shape[0], keys.shape[0]
    k = min(k, m)
    if space.shape[0] <= bound_rows or n == 0:
        return csls_knn(queries, keys, k, csls_k, False, memory_mb, desc,
                        key_r=mean_topk_similarity(keys, space, csls_k, False, memory_mb))
    cosines, _, _ = _blocked_topk(queries, keys, min(csls_k, m), 0, memory_mb)
    query_r = cosines.mean(axis=1)
    # Cosines of one key computed in another pass can differ in the last bits: a margin far above
    # float32 rounding keeps the bound below the exact r.
    lower = mean_topk_similarity(keys, space[:bound_rows], csls_k, False, memory_mb) - BOUND_MARGIN
    key_r = np.zeros(m, np.float32)
    measured = np.zeros(m, bool)
    scores = np.empty((n, k), np.float32)
    indices = np.empty((n, k), np.int64)
    pending = np.arange(n)
    candidates = max(IN_SPACE_CANDIDATES, 2 * k)
    while pending.size:
        every_key = candidates >= m // 4
        if every_key:
            new = np.flatnonzero(~measured)
        else:
            # Exact scores where r is known, upper bounds elsewhere: each query's best candidates.
            bound, chosen, _ = _blocked_topk(queries[pending], keys, candidates, 0, memory_mb,
                                             key_bias=np.where(measured, key_r, lower), query_bias=query_r[pending])
            new = np.setdiff1d(chosen, np.flatnonzero(measured))
        if new.size:
            key_r[new] = mean_topk_similarity(keys[new], space, csls_k, False, memory_mb, desc)
            measured[new] = True
        # Keys whose r is not known score -inf here (2 cos - inf).
        found, rows, _ = _blocked_topk(queries[pending], keys, k, 0, memory_mb,
                                       key_bias=np.where(measured, key_r, np.inf), query_bias=query_r[pending])
        done = np.ones(pending.size, bool) if every_key else found[:, -1] > bound[:, -1]
        scores[pending[done]], indices[pending[done]] = found[done], rows[done]
        pending, candidates = pending[~done], 4 * candidates
    return scores, indices


def retrieve(
    queries: np.ndarray,
    keys: np.ndarray,
    k: int,
    method: str = "csls",
    csls_k: int = 10,
    normalize: bool = True,
    memory_mb: float = DEFAULT_MEMORY_MB,
    desc: Optional[str] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """``k`` best keys per query by cosine (``"nn"``) or CSLS (``"csls"``), ``(scores, indices)``.

    When the queries are a subset of the space the keys' neighbourhoods should be measured in (as
    in BLI), use :func:`csls_knn_in_space`.
    """
    if method == "nn":
        return knn(queries, keys, k, normalize, memory_mb, desc)
    if method == "csls":
        return csls_knn(queries, keys, k, csls_k, normalize, memory_mb, desc)
    raise ValueError(f"unknown retrieval method {method!r}; choose from {', '.join(RETRIEVAL_METHODS)}")
