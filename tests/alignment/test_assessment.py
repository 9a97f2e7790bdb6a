"""The unsupervised failure checks' nearest-neighbour standout, against values computed by hand."""
import math

import numpy as np

from xlner_allennlp.alignment.assessment import chance_standout, neighbour_standout


def test_standout_is_the_nearest_cosine_minus_the_mean_of_the_next_k():
    mapped = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    angles = np.radians([0.0, 30.0, 60.0, 90.0])
    reference = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    # word 1: nearest cos 1, next two cos 30° and cos 60°; word 2 (90°): the same by symmetry
    expected = 1 - (math.cos(math.radians(30)) + math.cos(math.radians(60))) / 2
    assert math.isclose(neighbour_standout(mapped, reference, k=2), expected, rel_tol=1e-5)
    assert math.isnan(neighbour_standout(mapped, reference[:1]))


def test_a_right_mapping_stands_out_far_above_random_rotations():
    rng = np.random.default_rng(0)
    words = rng.standard_normal((500, 20)).astype(np.float32)
    noisy = words + 0.1 * rng.standard_normal(words.shape).astype(np.float32)
    assert neighbour_standout(noisy, words) > 3 * chance_standout(noisy, words)
