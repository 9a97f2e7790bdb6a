"""Both unsupervised methods on a synthetic pair whose hidden rotation is identifiable
(:mod:`tests.alignment.synthetic`: 10,000 words a side in 300 dimensions, clustered and anisotropic,
20% of each side's words without a counterpart, noise, noisy Zipf-like frequency orders)."""
from typing import Dict, Sequence

import numpy as np
import pytest

from xlner_allennlp.alignment import align, index_dictionary
from xlner_allennlp.alignment.artifact import Alignment
from xlner_allennlp.alignment.assessment import MIN_STANDOUT_RATIO, assess_alignment
from xlner_allennlp.alignment.evaluation import evaluate_bli

from tests.alignment.synthetic import SyntheticPair, make_synthetic_pair, normalized_sides, principal_directions_only


@pytest.fixture(scope="module")
def pair() -> SyntheticPair:
    return make_synthetic_pair()


def true_pair_precision(
    mapped: np.ndarray, reference: np.ndarray, pair: SyntheticPair, methods: Sequence[str] = ("nn", "csls")
) -> Dict[str, float]:
    """P@1 by each retrieval method (whole vocabularies) of every source word that has a counterpart."""
    gold = index_dictionary(pair.pairs, pair.source, pair.target)
    results = evaluate_bli(mapped, reference, gold, ks=(1,), methods=methods)
    return {method: results[f"precision_at_1_{method}"] for method in methods}


def aligned_precision(alignment: Alignment, pair: SyntheticPair) -> Dict[str, float]:
    return true_pair_precision(
        alignment.apply(pair.source.matrix, "mapped"), alignment.apply(pair.target.matrix, "reference"), pair
    )


def test_the_hidden_rotation_is_identifiable_and_a_wrong_one_is_not(pair):
    assert len(pair.source) == len(pair.target) == 10000 and pair.source.dim == 300
    assert len(pair.pairs) == 8000  # 20% of each side's words have no counterpart
    x, z = normalized_sides(pair)
    assert true_pair_precision(x @ pair.rotation, z, pair, methods=("nn",))["nn"] > 0.99
    assert true_pair_precision(x, z, pair, methods=("nn",))["nn"] < 0.01
    # anisotropic: the top tenth of the principal directions carries most of the variance
    variances = np.linalg.svd(z - z.mean(axis=0), compute_uv=False) ** 2
    assert variances[:30].sum() > 0.5 * variances.sum()
    # the frequency orders agree only roughly: under two thirds of the top 4000 words are shared
    top = {w[1:] for w in pair.source.words[:4000]} & {w[1:] for w in pair.target.words[:4000]}
    assert 0.4 * 4000 < len(top) < 0.67 * 4000


@pytest.mark.slow
def test_self_learning_recovers_the_hidden_rotation(pair):
    # Cutoffs scaled to a 10,000-word vocabulary (the defaults are for 200,000-word files).
    alignment = align(
        pair.source, pair.target, "self-learning", init_vocab=2000, search_cutoff=2000, vocabulary_cutoff=4000,
        refinement_iterations=1, refinement_vocab=4000,
    )
    assert min(aligned_precision(alignment, pair).values()) >= 0.9
    assert alignment.evaluation["status"] == "ok"


def test_a_map_that_lines_up_only_the_main_directions_fails_the_standout_check(pair):
    """The true rotation on the 10 principal directions of the mapped side, a random one on the
    rest: the spaces' coarse shape matches, so the mean-cosine criterion is far above chance, but
    few words find their translation; the nearest-neighbour standout says so."""
    x, z = normalized_sides(pair)
    partial = principal_directions_only(x, pair.rotation, np.random.default_rng(1)).astype(np.float32)
    assert true_pair_precision(x @ partial, z, pair, methods=("nn",))["nn"] < 0.2
    lined_up = assess_alignment(x, z, partial, None, pair.source.words, pair.target.words)
    assert lined_up["criterion"] > lined_up["criterion_chance"] + 0.2
    assert lined_up["status"] == "failed" and "stands out" in lined_up["status_reason"]
    assert lined_up["standout"] < MIN_STANDOUT_RATIO * lined_up["standout_chance"]
    true = assess_alignment(x, z, pair.rotation.astype(np.float32), None, pair.source.words, pair.target.words)
    assert true["status"] == "ok" and true["standout"] > 3 * true["standout_chance"]
