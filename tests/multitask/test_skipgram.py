import math

import numpy as np
import pytest
import torch

from xlner_allennlp.multitask import NegativeSampler, keep_probabilities, sgns_loss, sgns_sgd_update, skipgram_pairs


def _brute_force(V, theta, centers, contexts, negatives):
    """The SGNS loss and its gradients, pair by pair with Python floats (no autograd)."""
    sigmoid = lambda x: 1.0 / (1.0 + math.exp(-x))
    loss = 0.0
    grad_v = np.zeros_like(V, dtype=np.float64)
    grad_theta = np.zeros_like(theta, dtype=np.float64)
    for c, o, ks in zip(centers, contexts, negatives):
        score = float(np.dot(V[c], theta[o]))
        loss -= math.log(sigmoid(score))
        grad_v[c] += (sigmoid(score) - 1.0) * theta[o]
        grad_theta[o] += (sigmoid(score) - 1.0) * V[c]
        for k in ks:
            score = float(np.dot(V[c], theta[k]))
            loss -= math.log(sigmoid(-score))
            grad_v[c] += sigmoid(score) * theta[k]
            grad_theta[k] += sigmoid(score) * V[c]
    return loss, grad_v, grad_theta


def test_sgns_loss_and_gradients_equal_brute_force_on_a_tiny_vocabulary():
    rng = np.random.default_rng(0)
    V, theta = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    centers, contexts = np.array([0, 1, 1, 4]), np.array([2, 0, 3, 4])
    negatives = np.array([[1, 3], [4, 4], [0, 2], [3, 1]])
    v = torch.tensor(V, requires_grad=True)
    t = torch.tensor(theta, requires_grad=True)
    loss = sgns_loss(v[centers], t[contexts], t[negatives])
    loss.backward()
    expected_loss, expected_v, expected_theta = _brute_force(V, theta, centers, contexts, negatives)
    assert math.isclose(float(loss.detach()), expected_loss, rel_tol=1e-12)
    np.testing.assert_allclose(v.grad.numpy(), expected_v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), expected_theta, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("frozen", [None, [True, False, False, True, False]])
def test_sgd_update_by_hand_equals_brute_force_gradients(frozen):
    rng = np.random.default_rng(1)
    V, theta = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    centers, contexts = np.array([0, 1, 1, 4, 3]), np.array([2, 0, 3, 4, 1])
    negatives = np.array([[1, 3], [4, 4], [0, 2], [3, 1], [0, 0]])
    v, t = torch.tensor(V), torch.tensor(theta)
    frozen_rows = None if frozen is None else torch.tensor(frozen)
    loss = sgns_sgd_update(v, t, torch.from_numpy(centers), torch.from_numpy(contexts), torch.from_numpy(negatives),
                           learning_rate=0.1, scale=0.5, frozen_rows=frozen_rows)
    expected_loss, grad_v, grad_theta = _brute_force(V, theta, centers, contexts, negatives)
    if frozen is not None:
        grad_v[np.asarray(frozen)] = 0.0
    assert math.isclose(loss, 0.5 * expected_loss, rel_tol=1e-12)
    np.testing.assert_allclose(v.numpy(), V - 0.1 * 0.5 * grad_v, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.numpy(), theta - 0.1 * 0.5 * grad_theta, rtol=1e-12, atol=1e-14)
    if frozen is not None:
        assert np.array_equal(v.numpy()[np.asarray(frozen)], V[np.asarray(frozen)])


def test_pairs_cover_the_window_exactly():
    centers, contexts = skipgram_pairs(np.array([10, 11, 12, 13]), window=2)
    pairs = sorted(zip(centers.tolist(), contexts.tolist()))
    expected = sorted((a, b) for i, a in enumerate([10, 11, 12, 13]) for j, b in enumerate([10, 11, 12, 13])
                      if 0 < abs(i - j) <= 2)
    assert pairs == expected
    assert len(skipgram_pairs(np.array([5]), window=3)[0]) == 0


def test_reduced_window_keeps_a_subset_weighted_towards_near_contexts():
    document = np.arange(2000)
    centers, contexts = skipgram_pairs(document, window=5, generator=np.random.default_rng(0))
    distance = np.abs(centers - contexts)
    assert distance.min() >= 1 and distance.max() <= 5
    share = [(distance == d).sum() / (2 * (len(document) - d)) for d in range(1, 6)]
    np.testing.assert_allclose(share, [1.0, 0.8, 0.6, 0.4, 0.2], atol=0.04)  # P(b >= d) = (6 - d) / 5


def test_subsampling_follows_the_word2vec_rule():
    counts = np.array([0, 1, 1_000, 1_000_000])
    keep = keep_probabilities(counts, 1e-3)
    f = counts[3] / counts.sum()
    assert keep[0] == 1.0 and keep[1] == 1.0
    assert math.isclose(keep[3], (math.sqrt(f / 1e-3) + 1) * 1e-3 / f)
    assert np.all(keep_probabilities(counts, 0.0) == 1.0)


def test_negatives_follow_counts_to_the_three_quarters():
    counts = np.array([0, 16, 81, 0])
    draws = NegativeSampler(counts, 0.75).sample((200_000,), np.random.default_rng(0))
    assert set(np.unique(draws).tolist()) == {1, 2}
    expected = 16 ** 0.75 / (16 ** 0.75 + 81 ** 0.75)  # 8 / 35
    assert abs(float((draws == 1).mean()) - expected) < 0.005


def test_alias_draws_match_a_skewed_distribution():
    counts = np.array([1, 0, 5, 1000, 3, 0, 40])
    draws = NegativeSampler(counts, 0.75).sample((400_000,), np.random.default_rng(1))
    weights = np.where(counts > 0, counts.astype(float) ** 0.75, 0.0)
    observed = np.bincount(draws, minlength=len(counts)) / len(draws)
    np.testing.assert_allclose(observed, weights / weights.sum(), atol=0.003)
    assert observed[1] == 0 and observed[5] == 0
