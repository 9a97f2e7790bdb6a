"""`decode_mst` against brute-force search over every dependency tree of small sentences."""
import itertools
import subprocess
import sys

import numpy as np
import pytest

from xlner_allennlp.parsing import decode_mst, decode_mst_batch


def is_tree(heads) -> bool:
    """Whether ``heads`` (heads[0] unused) reaches the root from every word without a cycle."""
    for start in range(1, len(heads)):
        node, steps = start, 0
        while node != 0:
            node = heads[node]
            steps += 1
            if steps > len(heads):
                return False
    return True


def brute_force(scores: np.ndarray, single_root: bool):
    """The best score over all trees, and the set of head tuples that reach it."""
    n = scores.shape[0] - 1
    choices = [[h for h in range(n + 1) if h != d] for d in range(1, n + 1)]
    best, argbest = -np.inf, []
    for heads in itertools.product(*choices):
        full = (0,) + heads
        if single_root and sum(h == 0 for h in heads) != 1:
            continue
        if not is_tree(full):
            continue
        score = sum(scores[h, d] for d, h in enumerate(full) if d > 0)
        if score > best + 1e-9:
            best, argbest = score, [full]
        elif abs(score - best) <= 1e-9:
            argbest.append(full)
    return best, argbest


def tree_score(scores, heads):
    return sum(scores[h, d] for d, h in enumerate(heads) if d > 0)


@pytest.mark.parametrize("single_root", [True, False])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_equals_brute_force_on_random_scores(n, single_root):
    rng = np.random.default_rng(n)
    for trial in range(40 if n < 6 else 4):
        scores = rng.standard_normal((n + 1, n + 1))
        if trial % 2:  # log-probability-like scores with a strong root preference
            scores = scores * 3 + np.where(np.arange(n + 1)[:, None] == 0, 2.0, 0.0)
        heads = decode_mst(scores, single_root)
        best, _ = brute_force(scores, single_root)
        assert heads[0] == 0 and is_tree(list(heads))
        if single_root:
            assert int((heads[1:] == 0).sum()) == 1
        assert tree_score(scores, heads) == pytest.approx(best, abs=1e-9)


def test_hand_made_cycle_is_broken_optimally():
    # Words 1 and 2 prefer each other (a 2-cycle); the best way in is root -> 2 (score 5),
    # not root -> 1 (score 1): the tree 0 -> 2 -> 1, 2 -> 3.
    scores = np.full((4, 4), -10.0)
    scores[2, 1], scores[1, 2] = 10, 9
    scores[0, 1], scores[0, 2] = 1, 5
    scores[2, 3], scores[1, 3] = 4, 3
    assert decode_mst(scores).tolist() == [0, 2, 0, 2]


def test_single_root_differs_from_unconstrained_when_two_roots_score_higher():
    scores = np.full((3, 3), -5.0)
    scores[0, 1] = scores[0, 2] = 2.0
    scores[1, 2] = 1.0
    assert decode_mst(scores, single_root=False).tolist() == [0, 0, 0]
    assert decode_mst(scores, single_root=True).tolist() == [0, 0, 1]


def test_batch_uses_each_sentences_length():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((2, 6, 6))
    heads = decode_mst_batch(scores, [5, 2])
    assert [len(h) for h in heads] == [6, 3]
    assert heads[1].tolist() == decode_mst(scores[1, :3, :3]).tolist()


def test_bad_scores_are_rejected():
    with pytest.raises(ValueError, match="square"):
        decode_mst(np.zeros((2, 3)))
    scores = np.zeros((3, 3))
    scores[0, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        decode_mst(scores)


def test_numerical_core_does_not_import_allennlp():
    code = (
        "import sys; sys.modules['allennlp'] = None\n"
        "import numpy\n"
        "from xlner_allennlp.parsing import decode_mst\n"
        "print(decode_mst(numpy.zeros((3, 3))).tolist())"
    )
    from tests.conftest import PROJECT_ROOT

    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
