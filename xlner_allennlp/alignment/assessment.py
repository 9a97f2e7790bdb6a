"""Unsupervised failure assessment of a fitted mapping (no bilingual dictionary involved)."""
import logging
from typing import Any, Dict, Optional, Sequence

import numpy as np

from xlner_allennlp.alignment.refinement import (
    CRITERION_RANK,
    IDENTICAL_RANK,
    chance_criterion,
    chance_level,
    identical_strings_agreement,
    mean_cosine_criterion,
)
from xlner_allennlp.alignment.retrieval import knn

logger = logging.getLogger(__name__)

# The criterion must exceed its chance level by FAILURE_MARGIN; the nearest neighbours' standout
# must be at least MIN_STANDOUT_RATIO times its chance level; and when at least MIN_IDENTICAL
# strings are shared, at least MIN_AGREEMENT of them must translate to themselves.
FAILURE_MARGIN = 0.05
MIN_STANDOUT_RATIO = 1.8
MIN_IDENTICAL = 100
MIN_AGREEMENT = 0.05
# The standout compares each mapped word's nearest reference word with its next STANDOUT_K.
STANDOUT_K = 10
# The checks only look at the most frequent words: rows past this rank are never mapped for them.
ASSESSMENT_RANK = max(CRITERION_RANK, IDENTICAL_RANK)


def neighbour_standout(mapped: np.ndarray, reference: np.ndarray, max_rank: int = CRITERION_RANK,
                       k: int = STANDOUT_K) -> float:
    """How much each mapped word's nearest reference word stands out from the next ``k``: the mean,
    over the first ``max_rank`` rows of ``mapped`` ``(n, d)``, of the cosine of the nearest of the
    first ``max_rank`` rows of ``reference`` ``(m, d)`` minus the mean cosine of the next ``k``.
    A mapping that found the correspondence gives most words one clearly nearest translation; one
    that only lined up coarse structure (clusters, the main directions) leaves the nearest word
    among near-equals, as a random rotation does, while the mean-cosine criterion can still rise
    above its chance level. ``nan`` when the reference side has fewer than two rows."""
    keys = reference[:max_rank]
    k = min(k, keys.shape[0] - 1)
    if k < 1:
        return float("nan")
    scores, _ = knn(mapped[:max_rank], keys, k + 1)
    return float(np.mean(scores[:, 0] - scores[:, 1:].mean(axis=1)))


def chance_standout(x: np.ndarray, reference: np.ndarray, trials: int = 2, max_rank: int = CRITERION_RANK,
                    random_seed: int = 0) -> float:
    """:func:`neighbour_standout`'s chance level (:func:`chance_level` over random rotations of the
    normalized mapped side ``x``)."""
    return chance_level(lambda mapped, keys: neighbour_standout(mapped, keys, max_rank),
                        x, reference, trials, max_rank, random_seed)


def assess_alignment(
    normalized_mapped: np.ndarray,
    normalized_reference: np.ndarray,
    mapping: np.ndarray,
    reference_mapping: Optional[np.ndarray],
    mapped_words: Sequence[str],
    reference_words: Sequence[str],
    random_seed: int = 0,
) -> Dict[str, Any]:
    """Unsupervised checks of a fitted mapping ``mapping`` (``d × d``; ``reference_mapping`` for
    the reference side, ``None`` for none) of the normalized sides ``normalized_mapped`` ``(n, d)``
    and ``normalized_reference`` ``(m, d)``. Only their first :data:`ASSESSMENT_RANK` rows are
    read and mapped, so a large vocabulary costs no full-size product.

    * ``criterion`` (MUSE's mean CSLS cosine) against ``criterion_chance``, its mean under random
      rotations of the normalized spaces: failed when less than :data:`FAILURE_MARGIN` above it.
    * ``standout`` (:func:`neighbour_standout`) against ``standout_chance``, its mean under random
      rotations: failed below :data:`MIN_STANDOUT_RATIO` times it. This catches a mapping that
      lined up only the clusters of the spaces (adversarial training on clustered vectors with no
      shared strings), whose criterion can pass.
    * ``identical_agreement``: the fraction of strings shared by both vocabularies that the
      mapping translates to themselves (:func:`identical_strings_agreement`), when there are at
      least :data:`MIN_IDENTICAL` of them: failed below :data:`MIN_AGREEMENT`. On weak vectors a
      wrong mapping can reach a criterion as high as the right one; this check catches that.

    Returns those values, ``status`` (``ok`` / ``failed``) and, on failure, ``status_reason``.
    """
    x, z = normalized_mapped[:ASSESSMENT_RANK], normalized_reference[:ASSESSMENT_RANK]
    mapped = x @ mapping
    reference = z if reference_mapping is None else z @ reference_mapping
    criterion = mean_cosine_criterion(mapped, reference)
    chance = chance_criterion(x, z, random_seed=random_seed)
    standout = neighbour_standout(mapped, reference)
    standout_chance = chance_standout(x, reference, random_seed=random_seed)
    agreement, n_identical = identical_strings_agreement(
        list(mapped_words[:ASSESSMENT_RANK]), list(reference_words[:ASSESSMENT_RANK]), mapped, reference
    )
    assessment: Dict[str, Any] = {
        "criterion": criterion, "criterion_chance": chance, "standout": standout, "standout_chance": standout_chance,
        "identical_agreement": agreement, "n_identical": n_identical, "status": "ok",
    }
    reasons = []
    if criterion < chance + FAILURE_MARGIN:
        reasons.append(
            f"the unsupervised criterion ({criterion:.4f}) is within {FAILURE_MARGIN} of its value for random "
            f"rotations ({chance:.4f})"
        )
    if standout < MIN_STANDOUT_RATIO * standout_chance:  # False for nan (too few words to tell)
        reasons.append(
            f"each word's nearest translation stands out from the next {STANDOUT_K} by {standout:.4f} on average, "
            f"under {MIN_STANDOUT_RATIO} times its value for random rotations ({standout_chance:.4f})"
        )
    if n_identical >= MIN_IDENTICAL and agreement < MIN_AGREEMENT:
        reasons.append(
            f"only {agreement:.1%} of the {n_identical} strings shared by both vocabularies translate to "
            f"themselves (a working mapping gives well over {MIN_AGREEMENT:.0%})"
        )
    if reasons:
        assessment["status"] = "failed"
        assessment["status_reason"] = (
            "; ".join(reasons) + ": the mapping did not find the correspondence between the spaces"
        )
        logger.warning("alignment failed: %s", assessment["status_reason"])
    return assessment
