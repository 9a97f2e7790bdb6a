import numpy as np
import pytest
import torch

from xlner_allennlp.alignment.similarity import (
    column_max,
    csls_best_matches,
    rows_per_block,
    topk_means,
    topk_values,
)


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


@pytest.mark.parametrize("shape", [(300, 1000), (50, 64 * 11 + 5), (7, 3), (64 * 30 + 13, 77), (3001, 20)])
@pytest.mark.parametrize("rounded", [False, True])
def test_grouped_topk_and_column_max_equal_torch(shape, rounded):
    """The grouped passes give torch's own results exactly, ties included (rounded scores tie often)."""
    rng = np.random.default_rng(4)
    scores = rng.standard_normal(shape).astype(np.float32)
    scores = torch.from_numpy(np.round(scores) if rounded else scores)
    for k in (1, 10, 64):
        for dim in (0, 1):
            kept = min(k, shape[dim])
            found = topk_values(scores, kept, dim)
            assert found.is_contiguous() and torch.equal(found, scores.topk(kept, dim=dim).values)
    values, rows = column_max(scores)
    assert torch.equal(values, scores.max(dim=0).values)
    np.testing.assert_array_equal(rows.numpy(), scores.numpy().argmax(axis=0))  # the first row on ties


def test_grouped_topk_reads_only_the_best_groups(monkeypatch):
    """A row whose largest values all sit in one group: a top-k over every entry would see the
    others; the grouped pass ranks only the chosen groups' candidates (k · group + tail entries)."""
    ranked = []
    original = torch.Tensor.topk

    def counting(self, k, dim=-1, *args, **kwargs):
        ranked.append(self.shape[dim])
        return original(self, k, dim, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "topk", counting)
    scores = torch.zeros(2, 64 * 100 + 3)
    scores[:, 128:138] = torch.arange(10, dtype=torch.float32)
    assert torch.equal(topk_values(scores, 2), torch.tensor([[9.0, 8.0], [9.0, 8.0]]))
    assert ranked == [100, 2 * 64 + 3]
