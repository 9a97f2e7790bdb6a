"""Unsupervised failure assessment of a fitted mapping (no bilingual dictionary involved)."""
import logging
from typing import Any, Dict, Optional, Sequence

import numpy as np

from xlner_allennlp.alignment.refinement import (
    CRITERION_RANK,
    IDENTICAL_RANK,
    chance_criterion,
    identical_strings_agreement,
    mean_cosine_criterion,
)

logger = logging.getLogger(__name__)

# The criterion must exceed its chance level by FAILURE_MARGIN, and when at least MIN_IDENTICAL
# strings are shared, at least MIN_AGREEMENT of them must translate to themselves.
FAILURE_MARGIN = 0.05
MIN_IDENTICAL = 100
MIN_AGREEMENT = 0.05
# The checks only look at the most frequent words: rows past this rank are never mapped for them.
ASSESSMENT_RANK = max(CRITERION_RANK, IDENTICAL_RANK)


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
    agreement, n_identical = identical_strings_agreement(
        list(mapped_words[:ASSESSMENT_RANK]), list(reference_words[:ASSESSMENT_RANK]), mapped, reference
    )
    assessment: Dict[str, Any] = {
        "criterion": criterion, "criterion_chance": chance,
        "identical_agreement": agreement, "n_identical": n_identical, "status": "ok",
    }
    reasons = []
    if criterion < chance + FAILURE_MARGIN:
        reasons.append(
            f"the unsupervised criterion ({criterion:.4f}) is within {FAILURE_MARGIN} of its value for random "
            f"rotations ({chance:.4f})"
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
