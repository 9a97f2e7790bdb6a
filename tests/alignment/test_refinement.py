import numpy as np
import pytest

from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.refinement import (
    Refinement,
    chance_criterion,
    induce_dictionary,
    mean_cosine_criterion,
    muse_induce_dictionary,
    refine,
)

from tests.alignment.conftest import make_spaces, translation_accuracy


def _normalized(spaces):
    return (Normalization.fit(spaces.source.matrix, "unit,center,unit").apply(spaces.source.matrix),
            Normalization.fit(spaces.target.matrix, "unit,center,unit").apply(spaces.target.matrix))


def _perturbed(spaces):
    rng = np.random.default_rng(5)
    return np.linalg.qr(spaces.rotation + 0.12 * rng.standard_normal(spaces.rotation.shape))[0].astype(np.float32)


@pytest.mark.parametrize("induction", ["truncated", "muse"])
def test_refinement_repairs_a_perturbed_rotation(induction):
    spaces = make_spaces(noise=0.02)
    x, z = _normalized(spaces)
    perturbed = _perturbed(spaces)
    start = translation_accuracy(x @ perturbed, z, spaces)
    settings = Refinement(refinement_iterations=4, refinement_vocab=400, refinement_induction=induction)
    result = refine(x, z, perturbed, settings, criterion_rank=400)
    assert start < 0.9
    assert translation_accuracy(x @ result.mapping, z, spaces) > 0.95
    assert result.best_iteration > 0 and result.criterion > result.history[0]["criterion"]


@pytest.mark.parametrize("start", ["true", "perturbed"])
def test_refinement_can_keep_the_last_iteration(start):
    spaces = make_spaces(noise=0.02)
    x, z = _normalized(spaces)
    initial = spaces.rotation if start == "true" else _perturbed(spaces)
    settings = Refinement(refinement_iterations=3, refinement_vocab=400, refinement_keep="last")
    result = refine(x, z, initial, settings, criterion_rank=400)
    # Nothing reads a criterion when the last iteration is kept: none is measured.
    assert result.best_iteration == 3 and result.criterion is None
    assert [h["iteration"] for h in result.history] == [0, 1, 2, 3]
    assert not any("criterion" in h for h in result.history)
    # From the perturbed start (below 0.9) only the refinement itself can reach this.
    assert translation_accuracy(x @ result.mapping, z, spaces) > 0.95
    with pytest.raises(ValueError, match="unknown refinement_keep 'first'"):
        Refinement(refinement_iterations=1, refinement_vocab=400, refinement_keep="first")


def _muse_reference(mapped, target, max_rank, direction, csls_k):
    """MUSE's CSLS induction (get_candidates + build_dictionary) written out densely in float64."""
    s = mapped / np.linalg.norm(mapped, axis=1, keepdims=True)
    t = target / np.linalg.norm(target, axis=1, keepdims=True)
    cos = s.astype(np.float64) @ t.T.astype(np.float64)
    r_s = np.sort(cos, axis=1)[:, -csls_k:].mean(axis=1)
    r_t = np.sort(cos, axis=0)[-csls_k:, :].mean(axis=0)
    csls = 2 * cos - r_s[:, None] - r_t[None, :]
    forward = [(i, int(csls[i].argmax())) for i in range(min(max_rank, s.shape[0]))]
    backward = [(int(csls[:, j].argmax()), j) for j in range(min(max_rank, t.shape[0]))]
    forward = [p for p in forward if max(p) <= max_rank]
    backward = [p for p in backward if max(p) <= max_rank]
    margins = {i: np.sort(csls[i])[-1] - np.sort(csls[i])[-2] for i, _ in forward}
    ordered = sorted(forward, key=lambda p: -margins[p[0]])
    if direction == "s2t":
        return ordered
    if direction == "t2s":
        return backward
    return [p for p in ordered if p in set(backward)] if direction == "mutual" else set(forward) | set(backward)


@pytest.mark.parametrize("direction", ["s2t", "t2s", "mutual", "union"])
def test_muse_induction_follows_muse_definition(direction):
    rng = np.random.default_rng(7)
    mapped = rng.standard_normal((60, 6)).astype(np.float32)
    target = (mapped[rng.permutation(60)] + 0.8 * rng.standard_normal((60, 6))).astype(np.float32)
    src, tgt, margins = muse_induce_dictionary(mapped, target, max_rank=20, direction=direction, csls_k=4)
    found = list(zip(src.tolist(), tgt.tolist()))
    expected = _muse_reference(mapped, target, 20, direction, 4)
    if direction in ("s2t", "mutual"):
        assert found == expected  # in MUSE's order: by decreasing margin
        assert np.all(np.diff(margins) <= 1e-6)
    else:
        assert set(found) == set(expected) and len(found) == len(set(found))
    # This case tells the inductions apart: the truncated one re-matches words MUSE drops.
    truncated = induce_dictionary(mapped, target, max_rank=20, direction=direction, csls_k=4)
    assert set(zip(truncated[0].tolist(), truncated[1].tolist())) != set(found)


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

