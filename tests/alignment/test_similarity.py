import numpy as np

from xlner_allennlp.alignment.similarity import csls_best_matches, topk_means


def test_blocked_passes_match_dense_reference():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((50, 6)).astype(np.float32)
    b = rng.standard_normal((40, 6)).astype(np.float32)
    scores = a.astype(np.float64) @ b.T.astype(np.float64)
    r_a, r_b = topk_means(a, b, 4, block_mb=0.0001)  # several blocks of rows
    np.testing.assert_allclose(r_a, np.sort(scores, axis=1)[:, -4:].mean(axis=1), atol=1e-5)
    np.testing.assert_allclose(r_b, np.sort(scores.T, axis=1)[:, -4:].mean(axis=1), atol=1e-5)
    csls = 2 * scores - r_a[:, None] - r_b[None, :]
    rows, row_scores, columns, column_scores = csls_best_matches(a, b, r_a, r_b, block_mb=0.0001)
    np.testing.assert_array_equal(rows, csls.argmax(axis=1))
    np.testing.assert_array_equal(columns, csls.argmax(axis=0))
    np.testing.assert_allclose(row_scores, csls.max(axis=1), atol=1e-5)
    np.testing.assert_allclose(column_scores, csls.max(axis=0), atol=1e-5)


def test_dropout_changes_choices_but_keeps_true_scores():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((200, 6)).astype(np.float32)
    b = rng.standard_normal((200, 6)).astype(np.float32)
    plain = csls_best_matches(a, b)[0]
    import torch

    dropped, dropped_scores, _, _ = csls_best_matches(a, b, keep_prob=0.3, generator=torch.Generator().manual_seed(0))
    assert (dropped != plain).mean() > 0.3
    np.testing.assert_allclose(dropped_scores, np.einsum("ij,ij->i", a, b[dropped]), atol=1e-5)
