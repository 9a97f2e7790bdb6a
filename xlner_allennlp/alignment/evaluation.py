"""Bilingual lexicon induction (BLI) with MUSE's semantics.

Each distinct source word of the dictionary (with both words in the vocabularies) is a query;
it counts as correct at ``k`` when any of its gold translations is among its ``k`` retrieved
target words. Precision is the mean over queries. Pairs with a word missing from the vocabulary
are dropped and counted, and coverage is reported next to the precisions. CSLS uses the whole
(kept) vocabularies for its neighbourhood terms, as MUSE does (measured only for the target words
that can rank among a query's best: :func:`~xlner_allennlp.alignment.retrieval.csls_knn_in_space`).
"""
from typing import Dict, Sequence

import numpy as np

from xlner_allennlp.alignment.dictionary import IndexedDictionary
from xlner_allennlp.alignment.normalization import unit_rows
from xlner_allennlp.alignment.retrieval import DEFAULT_MEMORY_MB, RETRIEVAL_METHODS, csls_knn_in_space, retrieve


def bli_precision(
    retrieved: np.ndarray, dictionary: IndexedDictionary, queries: np.ndarray, ks: Sequence[int]
) -> Dict[int, float]:
    """Precision at each ``k`` given the ranked target rows ``retrieved[q]`` of query row ``queries[q]``."""
    gold: Dict[int, set] = {}
    for s, t in zip(dictionary.source.tolist(), dictionary.target.tolist()):
        gold.setdefault(s, set()).add(t)
    results = {}
    for k in ks:
        hits = sum(
            1 for q, row in zip(queries.tolist(), retrieved[:, :k].tolist()) if gold[q].intersection(row)
        )
        results[k] = hits / len(queries)
    return results


def evaluate_bli(
    mapped_source: np.ndarray,
    target: np.ndarray,
    dictionary: IndexedDictionary,
    ks: Sequence[int] = (1, 5, 10),
    methods: Sequence[str] = ("nn", "csls"),
    csls_k: int = 10,
    memory_mb: float = DEFAULT_MEMORY_MB,
    overwrite: bool = False,
) -> Dict[str, float]:
    """BLI of mapped source vectors against target vectors (both in the shared space).

    With ``overwrite`` the two matrices (scratch arrays of the caller) are normalized in place
    instead of copied, so a large vocabulary is held once.

    Returns ``precision_at_{k}_{method}`` (in [0, 1]) for each ``k`` and method, plus the
    dictionary's accounting: ``n_pairs`` (kept), ``n_pairs_read``, ``n_pairs_dropped``,
    ``n_source_words`` (queries), ``coverage`` (kept / read pairs) and ``source_word_coverage``.
    """
    if mapped_source.shape[1] != target.shape[1]:
        raise ValueError(
            f"mapped source vectors have dimension {mapped_source.shape[1]}, target {target.shape[1]}"
        )
    source_unit, target_unit = unit_rows(mapped_source, overwrite), unit_rows(target, overwrite)
    queries = np.unique(dictionary.source)
    top = max(ks)
    results: Dict[str, float] = dict(dictionary.summary())
    for method in methods:
        if method not in RETRIEVAL_METHODS:
            raise ValueError(f"unknown retrieval method {method!r}; choose from {', '.join(RETRIEVAL_METHODS)}")
        if method == "csls":
            # CSLS measures each target word's neighbourhood among all source words, not the queries only.
            _, retrieved = csls_knn_in_space(
                source_unit[queries], target_unit, source_unit, top, csls_k, memory_mb, desc="CSLS r(target)"
            )
        else:
            _, retrieved = retrieve(source_unit[queries], target_unit, top, "nn", csls_k, False, memory_mb, "BLI nn")
        for k, value in bli_precision(retrieved, dictionary, queries, ks).items():
            results[f"precision_at_{k}_{method}"] = value
    return results
