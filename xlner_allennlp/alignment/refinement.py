"""Dictionary induction, MUSE's unsupervised selection criterion, and iterative Procrustes refinement.

Vector files are sorted by frequency, so "the K most frequent words" are the first K rows. All
functions here take unit-length (normalized) source rows already mapped into the target space.

Two inductions are available to the refinement (``refinement_induction``):

* ``truncated`` (:func:`induce_dictionary`): both vocabularies are cut to their ``max_rank`` most
  frequent words first, and CSLS (neighbourhood terms included) is computed among those words
  only, so every induced word has its best translation among the kept words.
* ``muse`` (:func:`muse_induce_dictionary`): MUSE's ``get_candidates`` / ``build_dictionary``.
  CSLS neighbourhood terms come from the full vocabularies; each of the ``max_rank`` most
  frequent query words takes its best key among *all* keys; pairs are sorted by the margin
  between the best and second-best score, and a pair is kept only when both of its ranks are at
  most ``max_rank`` (a query whose best key is rarer is dropped rather than re-matched).
"""
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from xlner_allennlp.alignment.normalization import unit_rows
from xlner_allennlp.alignment.retrieval import DEFAULT_MEMORY_MB, csls_knn, mean_topk_similarity
from xlner_allennlp.alignment.similarity import CslsSettings, csls_best_matches, map_rows, topk_means
from xlner_allennlp.alignment.supervised import procrustes

logger = logging.getLogger(__name__)

DIRECTIONS = ("s2t", "t2s", "mutual", "union")
INDUCTIONS = ("truncated", "muse")
REFINEMENT_KEEP = ("best", "last")
# The mean-cosine criterion is measured among the 10,000 most frequent words of each side.
CRITERION_RANK = 10000
# Identical strings are looked for among the 20,000 most frequent words of each side.
IDENTICAL_RANK = 20000


def _combine(
    forward: List[Tuple[int, int]], backward: List[Tuple[int, int]], direction: str
) -> List[Tuple[int, int]]:
    """The pairs of ``direction`` from the source→target and target→source pairs (as (s, t))."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; choose from {', '.join(DIRECTIONS)}")
    if direction == "s2t":
        return forward
    if direction == "t2s":
        return backward
    if direction == "mutual":
        found = set(backward)
        return [pair for pair in forward if pair in found]
    seen = set(forward)
    return forward + [pair for pair in backward if pair not in seen]


def induce_dictionary(
    mapped_source: np.ndarray,
    target: np.ndarray,
    max_rank: int = 15000,
    direction: str = "mutual",
    method: str = "csls",
    csls_k: int = 10,
    memory_mb: float = DEFAULT_MEMORY_MB,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Translation pairs among the ``max_rank`` most frequent words of each side (the
    ``truncated`` induction: both vocabularies are cut before CSLS).

    ``direction``: ``s2t`` (each source word's best target), ``t2s``, ``mutual`` (pairs found in
    both directions) or ``union``. ``method``: ``csls`` or ``nn``. Returns source rows, target
    rows and the cosine of each pair, sorted by decreasing cosine.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; choose from {', '.join(DIRECTIONS)}")
    src = unit_rows(mapped_source[:max_rank])
    tgt = unit_rows(target[:max_rank])
    if method == "csls":
        r_src, r_tgt = topk_means(src, tgt, csls_k, block_mb=memory_mb / 4)
        forward, _, backward, _ = csls_best_matches(src, tgt, r_src, r_tgt, block_mb=memory_mb / 4)
    elif method == "nn":
        forward, _, backward, _ = csls_best_matches(src, tgt, block_mb=memory_mb / 4)
    else:
        raise ValueError(f"unknown induction method {method!r}; choose from csls, nn")
    pairs = _combine(
        list(zip(range(src.shape[0]), forward.tolist())), list(zip(backward.tolist(), range(tgt.shape[0]))), direction
    )
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    rows = np.asarray(sorted(set(pairs)), dtype=np.int64)
    cosines = np.einsum("ij,ij->i", src[rows[:, 0]], tgt[rows[:, 1]])
    order = np.argsort(-cosines, kind="stable")
    return rows[order, 0], rows[order, 1], cosines[order]


def _muse_candidates(
    queries: np.ndarray, keys: np.ndarray, r_queries: np.ndarray, r_keys: np.ndarray, max_rank: int, memory_mb: float
) -> Tuple[List[Tuple[int, int]], np.ndarray]:
    """MUSE's ``get_candidates`` with CSLS on unit rows: (query row, key row) pairs of the
    ``max_rank`` most frequent queries, best key among all keys, sorted by decreasing margin (best
    minus second-best score), with both rows at most ``max_rank``; and the margins."""
    n = min(max_rank, queries.shape[0])
    scores, best = csls_knn(
        queries[:n], keys, 2, normalize=False, memory_mb=memory_mb, query_r=r_queries[:n], key_r=r_keys
    )
    margins = scores[:, 0] - scores[:, 1] if scores.shape[1] > 1 else np.full(n, np.inf, np.float32)
    order = np.argsort(-margins, kind="stable")
    kept = [i for i in order.tolist() if max(i, int(best[i, 0])) <= max_rank]
    return [(i, int(best[i, 0])) for i in kept], margins[kept]


def muse_induce_dictionary(
    mapped_source: np.ndarray,
    target: np.ndarray,
    max_rank: int = 15000,
    direction: str = "mutual",
    csls_k: int = 10,
    memory_mb: float = DEFAULT_MEMORY_MB,
    overwrite_source: bool = False,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MUSE's CSLS dictionary induction (``get_candidates`` + ``build_dictionary``; see the module
    docstring for how it differs from :func:`induce_dictionary`).

    ``mapped_source`` ``(n, d)`` and ``target`` ``(m, d)`` are whole vocabularies, most frequent
    first. ``direction`` as in :func:`induce_dictionary` (MUSE's ``S2T``, ``T2S``, ``S2T&T2S``,
    ``S2T|T2S``). Returns source rows, target rows and each pair's CSLS margin in the direction
    that found it, ordered by the source→target margin (then, for ``union``, the target→source
    pairs not found source→target, by their margin). With ``overwrite_source``, ``mapped_source``
    (a scratch array of the caller) is normalized in place instead of copied.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; choose from {', '.join(DIRECTIONS)}")
    src, tgt = unit_rows(mapped_source, in_place=overwrite_source), unit_rows(target)
    # CSLS neighbourhoods over the full vocabularies, as MUSE's get_nn_avg_dist.
    r_src = mean_topk_similarity(src, tgt, csls_k, False, memory_mb, "CSLS r(source)")
    r_tgt = mean_topk_similarity(tgt, src, csls_k, False, memory_mb, "CSLS r(target)")
    forward, forward_margins = _muse_candidates(src, tgt, r_src, r_tgt, max_rank, memory_mb)
    backward_swapped, backward_margins = _muse_candidates(tgt, src, r_tgt, r_src, max_rank, memory_mb)
    backward = [(s, t) for t, s in backward_swapped]
    margin = {**dict(zip(backward, backward_margins.tolist())), **dict(zip(forward, forward_margins.tolist()))}
    pairs = _combine(forward, backward, direction)
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    rows = np.asarray(pairs, dtype=np.int64)
    return rows[:, 0], rows[:, 1], np.asarray([margin[p] for p in pairs], dtype=np.float32)


def mean_cosine_criterion(
    mapped_source: np.ndarray,
    target: np.ndarray,
    max_rank: int = CRITERION_RANK,
    csls_k: int = 10,
    memory_mb: float = DEFAULT_MEMORY_MB,
) -> float:
    """The mean-cosine model-selection criterion: the mean cosine of the CSLS source-to-target
    dictionary among the ``max_rank`` most frequent words of both sides. MUSE defines it the same way
    but computes the CSLS neighbourhoods over the full vocabularies; here both are cut to ``max_rank``
    first. Higher is better; it needs no gold pairs."""
    _, _, cosines = induce_dictionary(mapped_source, target, max_rank, "s2t", "csls", csls_k, memory_mb)
    return float(cosines.mean()) if cosines.size else 0.0


def chance_level(
    statistic: Callable[[np.ndarray, np.ndarray], float], source: np.ndarray, target: np.ndarray, trials: int = 2,
    max_rank: int = CRITERION_RANK, random_seed: int = 0,
) -> float:
    """``statistic(mapped_source, target)``'s chance level: its mean over ``trials`` random
    orthogonal mappings of ``source`` (only the ``max_rank`` rows the statistic reads are rotated)."""
    rng = np.random.default_rng(random_seed)
    values = []
    for _ in range(trials):
        rotation, _ = np.linalg.qr(rng.standard_normal((source.shape[1], source.shape[1])))
        values.append(statistic(source[:max_rank] @ rotation.astype(np.float32), target))
    return float(np.mean(values))


def chance_criterion(
    source: np.ndarray, target: np.ndarray, trials: int = 2, max_rank: int = CRITERION_RANK, csls_k: int = 10,
    random_seed: int = 0,
) -> float:
    """The criterion's chance level (:func:`chance_level` of :func:`mean_cosine_criterion`)."""
    return chance_level(lambda mapped, reference: mean_cosine_criterion(mapped, reference, max_rank, csls_k),
                        source, target, trials, max_rank, random_seed)


@dataclass(frozen=True)
class Refinement(CslsSettings):
    """Settings of iterative Procrustes refinement (:func:`refine`).

    # Parameters

    refinement_iterations : `int`, optional (default = `5`)
        Rounds of induction + Procrustes after the initial mapping (0: keep the initial mapping).
    refinement_vocab : `int`, optional (default = `15000`)
        The induction's rank limit: pairs among the N most frequent words of each side.
    refinement_direction : `str`, optional (default = `"mutual"`)
        ``s2t``, ``t2s``, ``mutual`` (found in both directions) or ``union``.
    refinement_induction : `str`, optional (default = `"truncated"`)
        ``truncated`` (CSLS among the cut vocabularies) or ``muse`` (MUSE's induction); see the
        module docstring.
    refinement_keep : `str`, optional (default = `"best"`)
        ``best``: the iteration with the highest mean-cosine criterion (as MUSE keeps); ``last``: the last one,
        for vectors on which the criterion does not rank refined mappings by accuracy.
    csls_k : `int`, optional (default = `10`)
        CSLS neighbourhood size of the induction and the criterion.
    """

    refinement_iterations: int = 5
    refinement_vocab: int = 15000
    refinement_direction: str = "mutual"
    refinement_induction: str = "truncated"
    refinement_keep: str = "best"

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, value, choices in (
            ("refinement_direction", self.refinement_direction, DIRECTIONS),
            ("refinement_induction", self.refinement_induction, INDUCTIONS),
            ("refinement_keep", self.refinement_keep, REFINEMENT_KEEP),
        ):
            if value not in choices:
                raise ValueError(f"unknown {name} {value!r}; choose from {', '.join(choices)}")
        if self.refinement_iterations < 0:
            raise ValueError(f"refinement_iterations must be 0 or more, got {self.refinement_iterations}")
        if self.refinement_vocab < 1:
            raise ValueError(f"refinement_vocab must be a positive number of words, got {self.refinement_vocab}")


@dataclass
class RefinementResult:
    """The selected mapping (and reference-side mapping, ``None`` when the reference space is
    kept), its criterion value (``None`` when no iteration was scored), the dictionary it was solved from (source rows, target rows; empty
    for an initial mapping given without one) and one log entry per iteration."""

    mapping: np.ndarray
    criterion: Optional[float]
    best_iteration: int
    history: List[Dict[str, Any]] = field(default_factory=list)
    source_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    target_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    reference_mapping: Optional[np.ndarray] = None


# Fits the (mapping, reference mapping or None) of one refinement iteration from paired rows.
Solver = Callable[[np.ndarray, np.ndarray], Tuple[np.ndarray, Optional[np.ndarray]]]


def _procrustes_solver(source: np.ndarray, target: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    return procrustes(source, target), None


def refine(
    source: np.ndarray,
    target: np.ndarray,
    mapping: np.ndarray,
    settings: Refinement,
    anchor: Optional[Tuple[np.ndarray, np.ndarray]] = None,
    initial_rows: Optional[Tuple[np.ndarray, np.ndarray]] = None,
    criterion_rank: int = CRITERION_RANK,
    memory_mb: float = DEFAULT_MEMORY_MB,
    desc: str = "refinement",
    solve: Solver = _procrustes_solver,
    reference_mapping: Optional[np.ndarray] = None,
    criterion: Optional[Callable[[np.ndarray, np.ndarray], float]] = None,
) -> RefinementResult:
    """Iterative refinement (Conneau et al. 2018) of ``mapping`` (``d × d``).

    Each iteration induces a dictionary with ``settings`` under the current mapping, adds the
    ``anchor`` pairs (source rows, target rows; e.g. a supervised training dictionary) when given,
    and solves the mapping again with ``solve`` (Procrustes unless given; the multi-step method
    passes its own, which may map the reference side too: ``reference_mapping`` is then the initial
    one). ``source`` ``(n, d)`` and ``target`` ``(m, d)`` are normalized rows; iteration 0 is the
    initial ``mapping`` (solved from ``initial_rows`` when it came from a dictionary).
    ``settings.refinement_keep`` selects the returned iteration: the best by MUSE's criterion
    (among the ``criterion_rank`` most frequent words) or the last. The criterion and accuracy can
    disagree after refinement, which is why ``last`` exists. ``criterion`` (mapped source rows,
    target rows in the shared space → a score, higher is better) replaces MUSE's criterion, e.g.
    BLI accuracy on held-out pairs. With ``last`` and no ``criterion`` nothing
    reads a score, so no iteration is scored (the history has no ``criterion`` entries).
    """
    scored = criterion is not None or settings.refinement_keep == "best"
    def shared_target(reference: Optional[np.ndarray]) -> np.ndarray:
        return target if reference is None else target @ reference

    def score(mapping: np.ndarray, shared: np.ndarray) -> Optional[float]:
        # MUSE's criterion reads only the criterion_rank most frequent rows: map just those.
        if not scored:
            return None
        if criterion is not None:
            return criterion(map_rows(source, mapping), shared)
        return mean_cosine_criterion(source[:criterion_rank] @ mapping, shared, criterion_rank, settings.csls_k,
                                     memory_mb)

    best = RefinementResult(
        mapping, score(mapping, shared_target(reference_mapping)), 0, reference_mapping=reference_mapping,
    )
    if initial_rows is not None:
        best.source_rows, best.target_rows = initial_rows
    best.history.append({"iteration": 0, **({"criterion": best.criterion} if scored else {})})
    current, current_reference = mapping, reference_mapping
    for iteration in tqdm(range(1, settings.refinement_iterations + 1), desc=desc, leave=False):
        # MUSE's induction reads every row; the truncated one only the refinement_vocab most frequent.
        if settings.refinement_induction == "muse":
            src_rows, tgt_rows, _ = muse_induce_dictionary(
                map_rows(source, current), shared_target(current_reference), settings.refinement_vocab,
                settings.refinement_direction, settings.csls_k, memory_mb, overwrite_source=True,
            )
        else:
            src_rows, tgt_rows, _ = induce_dictionary(
                source[: settings.refinement_vocab] @ current, shared_target(current_reference),
                settings.refinement_vocab,
                settings.refinement_direction, "csls", settings.csls_k, memory_mb,
            )
        if anchor is not None:
            src_rows = np.concatenate([src_rows, anchor[0]])
            tgt_rows = np.concatenate([tgt_rows, anchor[1]])
        if src_rows.size == 0:
            logger.warning("refinement iteration %d induced no pair; stopping", iteration)
            break
        current, current_reference = solve(source[src_rows], target[tgt_rows])
        value = score(current, shared_target(current_reference))
        best.history.append(
            {"iteration": iteration, **({"criterion": value} if scored else {}), "n_pairs": int(src_rows.size)}
        )
        logger.info("refinement %d: %d pairs, criterion %s", iteration, src_rows.size, value)
        if settings.refinement_keep == "last" or value > best.criterion:
            best.mapping, best.criterion, best.best_iteration = current, value, iteration
            best.reference_mapping = current_reference
            best.source_rows, best.target_rows = src_rows, tgt_rows
    return best


def identical_strings_agreement(
    source_words: List[str],
    target_words: List[str],
    mapped_source: np.ndarray,
    target: np.ndarray,
    max_rank: int = IDENTICAL_RANK,
    csls_k: int = 10,
    memory_mb: float = DEFAULT_MEMORY_MB,
) -> Tuple[float, int]:
    """Fraction of the strings found among the ``max_rank`` most frequent words of both sides
    (numbers, names, punctuation, cognates) whose CSLS translation is the same string, and their count.

    It needs no bilingual dictionary. A mapping that found the correspondence between two
    languages sharing a script translates many of these strings to themselves; a failed one
    almost none (chance is about ``1 / max_rank``), even when its mean-cosine criterion is high.
    """
    source_rows = {w: i for i, w in enumerate(source_words[:max_rank])}
    pairs = [(source_rows[w], j) for j, w in enumerate(target_words[:max_rank]) if w in source_rows]
    if not pairs:
        return 0.0, 0
    rows = np.asarray(pairs, dtype=np.int64)
    # CSLS among the max_rank most frequent words of both sides, as the truncated induction.
    src = unit_rows(mapped_source[:max_rank])
    tgt = unit_rows(target[:max_rank])
    r_src, r_tgt = topk_means(src, tgt, csls_k, block_mb=memory_mb / 4)
    best, _, _, _ = csls_best_matches(src[rows[:, 0]], tgt, r_src[rows[:, 0]], r_tgt, block_mb=memory_mb / 4)
    return float((best == rows[:, 1]).mean()), len(pairs)
