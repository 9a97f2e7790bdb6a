import numpy as np

from xlner_allennlp.alignment.similarity import csls_best_matches, rows_per_block, topk_means


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



def test_rows_per_block():
    assert rows_per_block(1024, 1.0) == 256  # 1 MiB of float32 rows of 1024 columns
    assert rows_per_block(10**9, 1.0) == 1
