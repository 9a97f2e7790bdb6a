"""Nearest-neighbour and CSLS retrieval through faiss (exact inner product on unit vectors).

CSLS (Conneau et al. 2018) scores a query ``x`` against a key ``y`` as
``2 cos(x, y) - r_K(x) - r_Q(y)``, where ``r_K(x)`` is the mean cosine of ``x`` to its ``k``
nearest keys and ``r_Q(y)`` the mean cosine of ``y`` to its ``k`` nearest queries. Ranking the keys
of one query only needs ``2 cos(x, y) - r_Q(y)``, which is the inner product of ``[2x, -1]`` with
``[y, r_Q(y)]``: an exact faiss inner-product search over augmented vectors, so CSLS costs one
search like plain NN. Queries go through faiss in batches whose score block stays under
``memory_mb``, with a progress bar.
"""
import logging
import os
import sys
from typing import Optional, Tuple

import numpy as np
from tqdm import tqdm

from xlner_allennlp.alignment.normalization import unit_rows
from xlner_allennlp.alignment.similarity import rows_per_block


def _import_faiss():  # type: ignore[no-untyped-def]
    """Import faiss, letting its bundled OpenBLAS use AVX2 kernels on CPUs too new for it to know.

    The OpenBLAS inside faiss-cpu wheels falls back to slow generic kernels on recent Xeons
    (3-4x slower searches here). On x86 CPUs with AVX2 and FMA, and unless the user set
    ``OPENBLAS_CORETYPE``, the Haswell kernels are selected while faiss loads; the variable is
    restored right after, so nothing else is affected.
    """
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # its CPU-feature probing is noise
    if "faiss" in sys.modules or "OPENBLAS_CORETYPE" in os.environ:
        import faiss

        return faiss
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = next((line.split() for line in handle if line.startswith("flags")), [])
    except OSError:
        flags = []
    if "avx2" in flags and "fma" in flags:
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"
    try:
        import faiss
    finally:
        os.environ.pop("OPENBLAS_CORETYPE", None)
    return faiss


faiss = _import_faiss()

RETRIEVAL_METHODS = ("nn", "csls")
DEFAULT_MEMORY_MB = 1024


# faiss gains nothing from query batches larger than this.
MAX_QUERY_BATCH = 65536


def knn(
    queries: np.ndarray,
    keys: np.ndarray,
    k: int,
    normalize: bool = True,
    memory_mb: float = DEFAULT_MEMORY_MB,
    desc: Optional[str] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """The ``k`` keys of largest inner product (cosine when ``normalize``) for each query.

    Returns ``(scores, indices)``, both of shape ``(n_queries, k)``, best first.
    """
    if queries.shape[1] != keys.shape[1]:
        raise ValueError(f"queries have dimension {queries.shape[1]}, keys {keys.shape[1]}")
    k = min(k, keys.shape[0])
    if normalize:
        queries, keys = unit_rows(queries), unit_rows(keys)
    else:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        keys = np.ascontiguousarray(keys, dtype=np.float32)
    index = faiss.IndexFlatIP(keys.shape[1])
    index.add(keys)
    n = queries.shape[0]
    scores = np.empty((n, k), dtype=np.float32)
    indices = np.empty((n, k), dtype=np.int64)
    batch = min(MAX_QUERY_BATCH, rows_per_block(keys.shape[0], memory_mb))
    starts = range(0, n, batch)
    for start in tqdm(starts, desc=desc, disable=desc is None or len(starts) < 2, leave=False):
        scores[start : start + batch], indices[start : start + batch] = index.search(
            queries[start : start + batch], k
        )
    return scores, indices


def mean_topk_similarity(
    queries: np.ndarray,
    keys: np.ndarray,
    k: int = 10,
    normalize: bool = True,
    memory_mb: float = DEFAULT_MEMORY_MB,
    desc: Optional[str] = None,
) -> np.ndarray:
    """``r(x)``: mean cosine of each query to its ``k`` nearest keys, shape ``(n_queries,)``."""
    scores, _ = knn(queries, keys, k, normalize, memory_mb, desc)
    return scores.mean(axis=1)


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
    ``queries``) are computed when not given; pass them to reuse them across calls that share
    the two spaces. Scores are full CSLS values ``2 cos - r(query) - r(key)``.
    """
    if queries.shape[1] != keys.shape[1]:
        raise ValueError(f"queries have dimension {queries.shape[1]}, keys {keys.shape[1]}")
    if normalize:
        queries, keys = unit_rows(queries), unit_rows(keys)
    if key_r is None:
        key_r = mean_topk_similarity(keys, queries, csls_k, False, memory_mb)
    if query_r is None:
        query_r = mean_topk_similarity(queries, keys, csls_k, False, memory_mb)
    augmented_queries = np.hstack([2 * queries, -np.ones((queries.shape[0], 1), np.float32)])
    augmented_keys = np.hstack([keys, np.asarray(key_r, np.float32)[:, None]])
    scores, indices = knn(augmented_queries, augmented_keys, k, False, memory_mb, desc)
    return scores - np.asarray(query_r, np.float32)[:, None], indices


def retrieve(
    queries: np.ndarray,
    keys: np.ndarray,
    k: int,
    method: str = "csls",
    csls_k: int = 10,
    normalize: bool = True,
    memory_mb: float = DEFAULT_MEMORY_MB,
    desc: Optional[str] = None,
    key_r: Optional[np.ndarray] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """``k`` best keys per query by cosine (``"nn"``) or CSLS (``"csls"``), ``(scores, indices)``.

    ``key_r`` (CSLS only) is passed to :func:`csls_knn`: give it when the queries are a subset of
    the space the keys' neighbourhoods should be measured in (as BLI does).
    """
    if method == "nn":
        return knn(queries, keys, k, normalize, memory_mb, desc)
    if method == "csls":
        return csls_knn(queries, keys, k, csls_k, normalize, memory_mb, desc, key_r=key_r)
    raise ValueError(f"unknown retrieval method {method!r}; choose from {', '.join(RETRIEVAL_METHODS)}")
