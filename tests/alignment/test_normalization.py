import numpy as np
import pytest

from xlner_allennlp.alignment import normalization as normalization_module
from xlner_allennlp.alignment.normalization import Normalization, parse_steps, unit_rows


def test_steps_are_recorded_and_reapplied_identically():
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((50, 4)).astype(np.float32) + 3
    normalization = Normalization.fit(matrix, "unit,center,unit")
    fitted = normalization.apply(matrix)
    np.testing.assert_allclose(np.linalg.norm(fitted, axis=1), 1, rtol=1e-5)
    assert normalization.steps == ["unit", "center", "unit"]
    # A single row is normalized with the statistics of the whole matrix, not its own.
    np.testing.assert_allclose(normalization.apply(matrix[3:4]), fitted[3:4], rtol=1e-5)
    centered = Normalization.fit(matrix, "center").apply(matrix)
    np.testing.assert_allclose(centered.mean(axis=0), 0, atol=1e-5)


def test_unknown_step():
    assert parse_steps("none") == []
    with pytest.raises(ValueError, match="unknown normalization step 'scale'"):
        parse_steps("unit,scale")


def _unblocked(matrix, steps):
    """The normalization as whole-matrix numpy expressions (statistics in float64)."""
    current, means = matrix.astype(np.float64), []
    for name in steps.split(","):
        if name == "unit":
            current = current / np.linalg.norm(current, axis=1, keepdims=True)
        else:
            means.append(current.mean(axis=0))
            current = current - means[-1]
    return current, means


@pytest.mark.parametrize("steps", ["unit,center,unit", "center,unit", "unit"])
def test_blocked_and_in_place_equal_the_whole_matrix_computation(monkeypatch, steps):
    monkeypatch.setattr(normalization_module, "BLOCK_ROWS", 7)  # many blocks, a partial last one
    rng = np.random.default_rng(1)
    matrix = (rng.standard_normal((53, 6)) * 3 + 2).astype(np.float32)
    original = matrix.copy()
    expected, expected_means = _unblocked(matrix, steps)
    fitted = Normalization.fit(matrix, steps)
    for mean, reference in zip([m for m in fitted.means if m is not None], expected_means):
        np.testing.assert_allclose(mean, reference, rtol=1e-6, atol=1e-6)
    copy = fitted.apply(matrix)
    np.testing.assert_array_equal(matrix, original)  # fit and a plain apply leave the input alone
    np.testing.assert_allclose(copy, expected, rtol=1e-5, atol=1e-6)
    in_place = fitted.apply(matrix, in_place=True)
    assert in_place is matrix
    np.testing.assert_array_equal(in_place, copy)
    # An input that is not writable float32 is copied even when in_place is asked.
    doubles = original.astype(np.float64)
    assert fitted.apply(doubles, in_place=True) is not doubles
    np.testing.assert_array_equal(fitted.apply(doubles, in_place=True), copy)


def test_unit_rows_in_place_keeps_zero_rows():
    matrix = np.array([[3, 4], [0, 0]], np.float32)
    assert unit_rows(matrix, in_place=True) is matrix
    np.testing.assert_allclose(matrix, [[0.6, 0.8], [0, 0]])
    frozen = np.ones((2, 2), np.float32)
    frozen.flags.writeable = False
    assert unit_rows(frozen, in_place=True) is not frozen


def test_wrong_center_dimension_changes_nothing():
    fitted = Normalization(["unit", "center"], [None, np.zeros(3, np.float32)])
    matrix = np.full((2, 4), 2.0, np.float32)
    with pytest.raises(ValueError, match="center statistics have dimension 3, vectors have 4"):
        fitted.apply(matrix, in_place=True)
    np.testing.assert_array_equal(matrix, 2.0)
