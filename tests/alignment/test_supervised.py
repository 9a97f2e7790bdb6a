import numpy as np
import pytest

from xlner_allennlp.alignment.supervised import (
    FinalMapping,
    finish_mapping,
    least_squares,
    procrustes,
)
from xlner_allennlp.alignment.multistep import MultiStep, multistep_mapping

from tests.alignment.conftest import make_spaces, translation_accuracy


def test_procrustes_recovers_rotation_with_noise_and_shuffled_target():
    spaces = make_spaces(noise=0.05, shuffle=True)
    source_rows = np.arange(150)
    target_rows = np.array([spaces.target.index[f"t{i}"] for i in source_rows])
    mapping = procrustes(spaces.source.matrix[source_rows], spaces.target.matrix[target_rows])
    np.testing.assert_allclose(mapping, spaces.rotation, atol=0.02)
    np.testing.assert_allclose(mapping @ mapping.T, np.eye(mapping.shape[0]), atol=1e-5)
    assert translation_accuracy(spaces.source.matrix @ mapping, spaces.target.matrix, spaces) > 0.95


def _polar(mapping):
    """The orthogonal matrix nearest to ``mapping`` (polar factor of its SVD)."""
    u, _, vt = np.linalg.svd(mapping.astype(np.float64))
    return u @ vt


def test_least_squares_fits_a_non_orthogonal_map_that_procrustes_cannot():
    rng = np.random.default_rng(0)
    source = rng.standard_normal((200, 5)).astype(np.float32)
    true = np.diag([3.0, 1.0, 0.5, 2.0, 1.0]).astype(np.float32) @ np.linalg.qr(rng.standard_normal((5, 5)))[0].astype(np.float32)
    target = source @ true
    np.testing.assert_allclose(least_squares(source, target), true, atol=1e-4)
    orthogonal = procrustes(source, target)
    assert np.linalg.norm(source @ orthogonal - target) > 0.1 * np.linalg.norm(target)
    np.testing.assert_allclose(_polar(true), _polar(least_squares(source, target)), atol=1e-4)


def test_pair_shapes_are_checked():
    with pytest.raises(ValueError, match="same shape"):
        procrustes(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="no pairs"):
        least_squares(np.ones((0, 2)), np.ones((0, 2)))


def test_final_mapping_keeps_or_solves_the_multistep_mapping():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((100, 4)).astype(np.float32)
    z = rng.standard_normal((100, 4)).astype(np.float32)
    w = procrustes(x, z)
    assert finish_mapping(w, x, z, FinalMapping(final_mapping="orthogonal")) == (w, None)
    settings = FinalMapping(final_mapping="multistep", reweight_source=0.5, reweight_target=0.5)
    assert settings.transforms_reference and not FinalMapping().transforms_reference
    wx, wz = finish_mapping(w, x, z, settings)
    expected_x, expected_z = multistep_mapping(x, z, MultiStep(reweight_source=0.5, reweight_target=0.5))
    np.testing.assert_allclose(wx, expected_x)
    np.testing.assert_allclose(wz, expected_z)
    with pytest.raises(ValueError, match="unknown final_mapping 'pca'"):
        FinalMapping(final_mapping="pca")
