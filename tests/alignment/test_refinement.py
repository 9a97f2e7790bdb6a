import numpy as np
import pytest

from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.refinement import chance_criterion, induce_dictionary, mean_cosine_criterion, refine

from tests.alignment.conftest import make_spaces, translation_accuracy


def _normalized(spaces):
    return (Normalization.fit(spaces.source.matrix, "unit,center,unit").apply(spaces.source.matrix),
            Normalization.fit(spaces.target.matrix, "unit,center,unit").apply(spaces.target.matrix))


def test_refinement_repairs_a_perturbed_rotation():
    spaces = make_spaces(noise=0.02)
    x, z = _normalized(spaces)
    rng = np.random.default_rng(5)
    perturbed = np.linalg.qr(spaces.rotation + 0.12 * rng.standard_normal(spaces.rotation.shape))[0].astype(np.float32)
    start = translation_accuracy(x @ perturbed, z, spaces)
    result = refine(x, z, perturbed, iterations=4, max_rank=400, criterion_rank=400)
    assert start < 0.9
    assert translation_accuracy(x @ result.mapping, z, spaces) > 0.95
    assert result.best_iteration > 0 and result.criterion > result.history[0]["criterion"]


def test_refinement_can_keep_the_last_iteration():
    spaces = make_spaces(noise=0.02)
    x, z = _normalized(spaces)
    result = refine(x, z, spaces.rotation, iterations=3, max_rank=400, criterion_rank=400, keep="last")
    assert result.best_iteration == 3 and result.criterion == result.history[-1]["criterion"]
    assert translation_accuracy(x @ result.mapping, z, spaces) > 0.95
    with pytest.raises(ValueError, match="unknown refinement keep 'first'"):
        refine(x, z, spaces.rotation, iterations=1, max_rank=400, keep="first")


def test_induced_dictionary_directions_and_criterion():
    spaces = make_spaces(noise=0.02)
    x, z = _normalized(spaces)
    mapped = x @ spaces.rotation
    src, tgt, cosines = induce_dictionary(mapped, z, max_rank=400, direction="mutual")
    correct = np.mean([spaces.target.words[t] == f"t{s}" for s, t in zip(src, tgt)])
    assert correct > 0.98 and np.all(np.diff(cosines) <= 0)
    union = induce_dictionary(mapped, z, max_rank=400, direction="union")[0].size
    s2t = induce_dictionary(mapped, z, max_rank=400, direction="s2t")[0].size
    assert src.size <= s2t <= union and s2t == 400
    good = mean_cosine_criterion(mapped, z, max_rank=400)
    assert good > chance_criterion(x, z, max_rank=400) + 0.2
    with pytest.raises(ValueError, match="unknown direction"):
        induce_dictionary(mapped, z, direction="both")
