import numpy as np
import pytest

from xlner_allennlp.multitask import stochastic_merge


def _is_subsequence(part: np.ndarray, whole: np.ndarray) -> bool:
    iterator = iter(whole.tolist())
    return all(any(x == y for y in iterator) for x in part.tolist())


@pytest.mark.parametrize("lengths", [(1, 1), (3, 17), (40, 5), (200, 200), (1, 0), (0, 4)])
def test_merge_keeps_both_orders_and_every_token(lengths):
    source = np.arange(lengths[0])  # source ids 0..n-1, target ids 1000.. : disjoint as tagged ids
    target = 1000 + np.arange(lengths[1])
    merged = stochastic_merge(source, target, np.random.default_rng(0))
    assert len(merged) == sum(lengths)
    assert np.array_equal(merged[merged < 1000], source)  # source order kept, all present
    assert np.array_equal(merged[merged >= 1000], target)
    assert _is_subsequence(source, merged) and _is_subsequence(target, merged)


def test_merge_draws_source_tokens_at_rate_r_on_long_documents():
    source, target = np.zeros(30_000, dtype=np.int64), np.ones(70_000, dtype=np.int64)
    merged = stochastic_merge(source, target, np.random.default_rng(1))
    r = 30_000 / 100_000
    # Over the first half no side is exhausted: the share of source tokens is a Binomial(n, r) mean.
    first = merged[:50_000]
    share = float((first == 0).mean())
    assert abs(share - r) < 4 * np.sqrt(r * (1 - r) / len(first))
    # Not a deterministic interleaving: runs of target tokens vary in length.
    runs = np.diff(np.flatnonzero(np.diff(first) != 0))
    assert len(set(runs.tolist())) > 5


def test_merge_is_reproducible_and_new_each_call():
    source, target = np.arange(50), 100 + np.arange(60)
    first = stochastic_merge(source, target, np.random.default_rng(7))
    assert np.array_equal(first, stochastic_merge(source, target, np.random.default_rng(7)))
    generator = np.random.default_rng(7)
    epoch_1 = stochastic_merge(source, target, generator)
    epoch_2 = stochastic_merge(source, target, generator)
    assert np.array_equal(epoch_1, first) and not np.array_equal(epoch_1, epoch_2)
