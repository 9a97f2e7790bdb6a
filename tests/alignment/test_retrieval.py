import numpy as np
import pytest

from xlner_allennlp.alignment import retrieval
from xlner_allennlp.alignment.retrieval import csls_knn, knn, mean_topk_similarity, retrieve


def _unit(m):
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def _brute_force_csls(queries, keys, k_csls):
    q, y = _unit(queries.astype(np.float64)), _unit(keys.astype(np.float64))
    cos = q @ y.T
    r_q = np.sort(cos, axis=1)[:, -k_csls:].mean(axis=1)
    r_y = np.sort(cos.T, axis=1)[:, -k_csls:].mean(axis=1)
    return 2 * cos - r_q[:, None] - r_y[None, :]


@pytest.fixture
def spaces():
    rng = np.random.default_rng(1)
    return rng.standard_normal((70, 8)).astype(np.float32), rng.standard_normal((90, 8)).astype(np.float32)


@pytest.mark.parametrize("memory_mb", [1024, 0.0005])  # the second forces batches of one query
def test_nn_matches_brute_force(spaces, memory_mb):
    queries, keys = spaces
    scores, indices = knn(queries, keys, 5, memory_mb=memory_mb)
    cos = _unit(queries) @ _unit(keys).T
    expected = np.argsort(-cos, axis=1)[:, :5]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(cos, expected, axis=1), atol=1e-5)
    np.testing.assert_allclose(
        mean_topk_similarity(queries, keys, 3), np.sort(cos, axis=1)[:, -3:].mean(axis=1), atol=1e-5
    )


@pytest.mark.parametrize("memory_mb", [1024, 0.0005])
def test_csls_equals_numpy_reference(spaces, memory_mb):
    queries, keys = spaces
    reference = _brute_force_csls(queries, keys, 10)
    scores, indices = csls_knn(queries, keys, 10, csls_k=10, memory_mb=memory_mb)
    expected = np.argsort(-reference, axis=1)[:, :10]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(reference, expected, axis=1), atol=1e-5)
    # CSLS differs from NN on these random spaces (hubs are demoted), so the test can tell them apart.
    assert not np.array_equal(indices[:, 0], retrieve(queries, keys, 1, "nn")[1][:, 0])


def test_errors(spaces):
    queries, keys = spaces
    with pytest.raises(ValueError, match="queries have dimension 8, keys 7"):
        knn(queries, keys[:, :7], 3)
    with pytest.raises(ValueError, match="unknown retrieval method 'cos'"):
        retrieve(queries, keys, 1, "cos")


def _stable_top(scores, k):
    """Best first, ties to the lower index: a stable sort of the whole score matrix."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), order


def _csls_float32(queries, keys, csls_k):
    """Brute-force CSLS in the library's float32 operation order ((2 cos - r(key)) - r(query))."""
    cos = queries @ keys.T
    r_q = -np.sort(-cos, axis=1)[:, :csls_k].mean(axis=1, dtype=np.float32)
    r_y = -np.sort(-cos.T, axis=1)[:, :csls_k].mean(axis=1, dtype=np.float32)
    return (2 * cos - r_y[None, :]) - r_q[:, None]


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles of a few rows and columns, so the pass runs its thresholds and merges many times."""
    monkeypatch.setattr(retrieval, "KEY_TILE", 7)
    monkeypatch.setattr(retrieval, "QUERY_TILE", 5)
    monkeypatch.setattr(retrieval, "THRESHOLD_SAMPLE", 3)


@pytest.mark.parametrize("seed", range(6))
def test_tied_scores_rank_like_a_stable_sort(small_tiles, seed):
    # Integer vectors make many exactly equal scores; every float32 product is exact.
    rng = np.random.default_rng(seed)
    queries = rng.integers(-2, 3, (int(rng.integers(20, 60)), 3)).astype(np.float32)
    keys = rng.integers(-2, 3, (int(rng.integers(20, 60)), 3)).astype(np.float32)
    for k in (1, 4, 9):
        scores, indices = knn(queries, keys, k, normalize=False)
        expected_scores, expected = _stable_top(queries @ keys.T, k)
        np.testing.assert_array_equal(indices, expected)
        np.testing.assert_array_equal(scores, expected_scores)
        scores, indices = csls_knn(queries, keys, k, csls_k=4, normalize=False)
        expected_scores, expected = _stable_top(_csls_float32(queries, keys, 4), k)
        np.testing.assert_array_equal(indices, expected)
        np.testing.assert_array_equal(scores, expected_scores)


def test_uncertified_queries_are_recomputed_exactly(small_tiles, monkeypatch):
    """With few candidates the bound certifies few queries: those take the exact second pass."""
    rng = np.random.default_rng(3)
    queries, keys = rng.standard_normal((40, 6)).astype(np.float32), rng.standard_normal((50, 6)).astype(np.float32)
    passes = []
    original = retrieval._blocked_topk

    def counting(*args, **kwargs):
        passes.append(args[0].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(retrieval, "_blocked_topk", counting)
    monkeypatch.setattr(retrieval, "MIN_CANDIDATES", 3)
    scores, indices = csls_knn(queries, keys, 3, csls_k=3, normalize=False)
    assert len(passes) == 2 and 0 < passes[1] <= 40  # some queries were not certified
    expected_scores, expected = _stable_top(_csls_float32(queries, keys, 3), 3)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-5)
    # Many candidates certify every query: no second pass.
    passes.clear()
    monkeypatch.setattr(retrieval, "MIN_CANDIDATES", 50)
    assert np.array_equal(csls_knn(queries, keys, 3, csls_k=3, normalize=False)[1], expected) and len(passes) == 1


def test_given_neighbourhoods_are_used(spaces):
    queries, keys = spaces
    key_r = np.linspace(-1, 1, keys.shape[0]).astype(np.float32)
    query_r = np.zeros(queries.shape[0], np.float32)
    cos = _unit(queries) @ _unit(keys).T
    expected = np.argsort(-(2 * cos - key_r[None, :]), axis=1, kind="stable")[:, :4]
    _, indices = csls_knn(queries, keys, 4, csls_k=10, query_r=query_r, key_r=key_r)
    np.testing.assert_array_equal(indices, expected)


def test_more_neighbours_than_keys(spaces):
    queries, keys = spaces
    scores, indices = knn(queries, keys[:3], 10)
    assert indices.shape == (70, 3) and sorted(indices[0].tolist()) == [0, 1, 2]
    assert csls_knn(queries, keys[:3], 10, csls_k=10)[1].shape == (70, 3)


@pytest.mark.parametrize("tiles", ["one", "small"])
def test_mean_topk_similarity_is_knn_mean_to_the_bit(tiles, monkeypatch, request):
    """The values-only pass keeps knn's tiles, so its means are knn's exactly (not just close)."""
    if tiles == "small":
        request.getfixturevalue("small_tiles")
    rng = np.random.default_rng(8)
    queries, keys = rng.standard_normal((130, 6)).astype(np.float32), rng.standard_normal((700, 6)).astype(np.float32)
    tied = np.round(queries), np.round(keys)  # many equal scores
    for q, y in ((queries, keys), tied):
        for k in (1, 10, 200):
            expected = knn(q, y, k, normalize=False)[0].mean(axis=1)
            np.testing.assert_array_equal(mean_topk_similarity(q, y, k, normalize=False), expected)


def _in_space_reference(queries, keys, space, k, csls_k):
    """CSLS with every key's r measured among the whole space (what BLI asks for)."""
    return csls_knn(queries, keys, k, csls_k, False, key_r=mean_topk_similarity(keys, space, csls_k, False))


def _queries_of(space, rng, n):
    return np.ascontiguousarray(space[np.sort(rng.choice(space.shape[0], n, replace=False))])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("bound_rows", [1, 40, 400])
def test_csls_in_space_measures_few_keys_and_equals_measuring_every_key(seed, bound_rows, monkeypatch):
    rng = np.random.default_rng(seed)
    # Clustered spaces, as word vectors are: hubs and neighbourhoods of very different density.
    centres = rng.standard_normal((12, 16))
    space = _unit(centres[rng.integers(0, 12, 600)] + 0.6 * rng.standard_normal((600, 16))).astype(np.float32)
    keys = _unit(centres[rng.integers(0, 12, 700)] + 0.6 * rng.standard_normal((700, 16))).astype(np.float32)
    queries = _queries_of(space, rng, 30)
    measured = []
    original = retrieval.mean_topk_similarity

    def counting(rows, *args, **kwargs):
        if rows.shape[0] != keys.shape[0]:  # not the lower bound's pass over every key
            measured.append(rows.shape[0])
        return original(rows, *args, **kwargs)

    monkeypatch.setattr(retrieval, "mean_topk_similarity", counting)
    monkeypatch.setattr(retrieval, "IN_SPACE_CANDIDATES", 8)
    for k in (1, 5):
        measured.clear()
        scores, indices = retrieval.csls_knn_in_space(queries, keys, space, k, csls_k=5, bound_rows=bound_rows)
        expected_scores, expected = _in_space_reference(queries, keys, space, k, 5)
        np.testing.assert_array_equal(indices, expected)
        np.testing.assert_allclose(scores, expected_scores, atol=1e-6)
        if bound_rows == 400:
            assert 0 < sum(measured) < keys.shape[0] // 2  # a good bound: few keys measured


def test_csls_in_space_retries_and_at_worst_measures_every_key(monkeypatch):
    """A bound from one row of the space certifies few queries: they are retried with more
    candidates, and in the end with every key measured; the answer stays exact."""
    rng = np.random.default_rng(7)
    space = _unit(rng.standard_normal((300, 4))).astype(np.float32)
    keys = _unit(rng.standard_normal((200, 4))).astype(np.float32)
    queries = _queries_of(space, rng, 40)
    rounds = []
    original = retrieval._blocked_topk

    def counting(*args, **kwargs):
        rounds.append((args[0].shape[0], args[2]))
        return original(*args, **kwargs)

    monkeypatch.setattr(retrieval, "_blocked_topk", counting)
    monkeypatch.setattr(retrieval, "IN_SPACE_CANDIDATES", 2)
    scores, indices = retrieval.csls_knn_in_space(queries, keys, space, 2, csls_k=3, bound_rows=1)
    exact_passes = [n for n, c in rounds if c == 2]  # the queries still open in each round
    assert len(exact_passes) == 3 and exact_passes[-1] < 40  # 4 candidates, 16, then every key
    expected_scores, expected = _in_space_reference(queries, keys, space, 2, 3)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-6)


def test_csls_in_space_with_a_small_space_measures_every_key():
    rng = np.random.default_rng(2)
    space = _unit(rng.standard_normal((50, 6))).astype(np.float32)
    keys = _unit(rng.standard_normal((60, 6))).astype(np.float32)
    queries = _queries_of(space, rng, 10)
    np.testing.assert_array_equal(retrieval.csls_knn_in_space(queries, keys, space, 3)[1],
                                  _in_space_reference(queries, keys, space, 3, 10)[1])
