import numpy as np
import pytest

from xlner_allennlp.alignment import align
from xlner_allennlp.alignment.self_learning import SelfLearning, self_learning_objective
from xlner_allennlp.alignment.multistep import MultiStep, multistep_mapping
from xlner_allennlp.alignment.supervised import FinalMapping

from tests.alignment.conftest import make_spaces, translation_accuracy

SMALL = {"init_vocab": 400, "search_cutoff": 300, "vocabulary_cutoff": 400, "patience": 2, "max_iterations": 30}


def test_unsupervised_self_learning_recovers_a_rotation_with_shuffled_target():
    spaces = make_spaces(noise=0.02, shuffle=True)
    alignment = align(spaces.source, spaces.target, "self-learning", **SMALL)
    accuracy = translation_accuracy(
        alignment.apply(spaces.source.matrix, "mapped"), alignment.apply(spaces.target.matrix, "reference"), spaces
    )
    assert accuracy > 0.95
    assert alignment.evaluation["status"] == "ok"
    history = alignment.evaluation["self_learning"]["history"]
    assert len(history) >= 2
    # the stochastic search runs among the 300 most frequent words, the last stage among 400
    assert history[0]["cutoff"] == 300 and history[0]["keep_prob"] < 1
    assert history[-1]["cutoff"] == 400 and history[-1]["keep_prob"] == 1


def test_reweighted_final_mapping_transforms_both_sides():
    spaces = make_spaces(noise=0.02, shuffle=True)
    alignment = align(spaces.source, spaces.target, "self-learning", final_mapping="multistep", reweight_target=0.5, **SMALL)
    assert alignment.reference_mapping is not None
    accuracy = translation_accuracy(
        alignment.apply(spaces.source.matrix, "mapped"), alignment.apply(spaces.target.matrix, "reference"), spaces
    )
    assert accuracy > 0.95


def test_reweighting_with_exact_pairs_is_consistent():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 4)).astype(np.float32)
    q = np.linalg.qr(rng.standard_normal((4, 4)))[0].astype(np.float32)
    wx, wz = multistep_mapping(x, x @ q, MultiStep())
    np.testing.assert_allclose(x @ wx, (x @ q) @ wz, atol=1e-3)


def test_unknown_final_mapping():
    with pytest.raises(ValueError, match="unknown final_mapping 'pca'"):
        FinalMapping(final_mapping="pca")


@pytest.mark.parametrize("name", ["init_vocab", "search_cutoff", "vocabulary_cutoff"])
def test_non_positive_cutoffs_are_rejected(name):
    with pytest.raises(ValueError, match=f"{name} must be a positive number of words, got 0"):
        SelfLearning(**{name: 0})


def test_objective_ranks_the_true_rotation_above_a_wrong_one():
    spaces = make_spaces(noise=0.02, shuffle=False)
    x, z = spaces.source.matrix, spaces.target.matrix
    true = self_learning_objective(x, z, spaces.rotation, cutoff=200)
    wrong = self_learning_objective(x, z, np.eye(x.shape[1], dtype=np.float32), cutoff=200)
    assert true > 0.95 > wrong
    # it is the mean best cosine of both directions, as a brute-force computation gives
    xw, zz = x[:200] @ spaces.rotation, z[:200]
    xw /= np.linalg.norm(xw, axis=1, keepdims=True)
    zz = zz / np.linalg.norm(zz, axis=1, keepdims=True)
    cosines = xw @ zz.T
    assert true == pytest.approx((cosines.max(axis=1).mean() + cosines.max(axis=0).mean()) / 2, abs=1e-5)
