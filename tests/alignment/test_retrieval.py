import numpy as np
import pytest

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
def test_faiss_csls_equals_numpy_reference(spaces, memory_mb):
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
