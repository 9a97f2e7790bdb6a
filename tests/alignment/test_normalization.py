import numpy as np
import pytest

from xlner_allennlp.alignment.normalization import Normalization, parse_steps


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
