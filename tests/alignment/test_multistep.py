import numpy as np
import pytest

from xlner_allennlp.alignment import align, load_alignment, save_alignment
from xlner_allennlp.alignment.multistep import MultiStep, multistep_mapping, whitening
from xlner_allennlp.alignment.supervised import procrustes

from tests.alignment.conftest import make_spaces, translation_accuracy

# Every step off: no whitening, no re-weighting, no de-whitening.
OFF = dict(whiten_source=False, whiten_target=False, reweight_source=0.0, reweight_target=0.0,
           dewhiten_source="none", dewhiten_target="none")


def _pairs(seed=0, n=120, d=5):
    """Anisotropic source rows and a noisy non-orthogonal linear image of them."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * np.linspace(3.0, 0.3, d)
    z = x @ rng.standard_normal((d, d)) + 0.05 * rng.standard_normal((n, d))
    return x, z


def _inverse_sqrt_by_eigh(m):
    """(MᵀM)^(-1/2) and (MᵀM)^(1/2) from the eigendecomposition of MᵀM (an independent route)."""
    values, vectors = np.linalg.eigh(m.T @ m)
    return vectors @ np.diag(values**-0.5) @ vectors.T, vectors @ np.diag(values**0.5) @ vectors.T


def test_whitening_makes_the_covariance_the_identity_and_its_inverse_undoes_it():
    x, _ = _pairs()
    w, w_inv = whitening(x)
    np.testing.assert_allclose((x @ w).T @ (x @ w), np.eye(x.shape[1]), atol=1e-8)
    np.testing.assert_allclose(w @ w_inv, np.eye(x.shape[1]), atol=1e-8)
    expected, expected_inv = _inverse_sqrt_by_eigh(x)
    np.testing.assert_allclose(w, expected, atol=1e-8)
    np.testing.assert_allclose(w_inv, expected_inv, atol=1e-8)


def test_the_full_framework_against_a_reference_computed_step_by_step():
    x, z = _pairs(1)
    wx1, wx1_inv = _inverse_sqrt_by_eigh(x)
    wz1, wz1_inv = _inverse_sqrt_by_eigh(z)
    u, s, vt = np.linalg.svd((x @ wx1).T @ (z @ wz1))
    v = vt.T
    expected_x = wx1 @ u @ np.diag(s**0.5) @ (u.T @ wx1_inv @ u)
    expected_z = wz1 @ v @ np.diag(s**0.25) @ (v.T @ wz1_inv @ v)
    wx, wz = multistep_mapping(x, z, MultiStep(reweight_source=0.5, reweight_target=0.25))
    np.testing.assert_allclose(wx, expected_x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(wz, expected_z, rtol=1e-4, atol=1e-5)


def test_de_whitening_restores_the_covariance_whitening_removed():
    x, z = _pairs(2)
    settings = MultiStep(reweight_source=0.0, reweight_target=1.0)
    wx, _ = multistep_mapping(x, z, settings)
    u, _, _ = np.linalg.svd((x @ whitening(x)[0]).T @ (z @ whitening(z)[0]))
    # Whitened, rotated by U, de-whitened with the source's own whitening: x U, the original
    # covariance in the rotated basis.
    np.testing.assert_allclose(x @ wx, x @ u, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose((x @ wx).T @ (x @ wx), u.T @ (x.T @ x) @ u, rtol=1e-4, atol=1e-3)


def test_re_weighting_scales_by_powers_of_the_singular_values():
    x, z = _pairs(3)
    u, s, vt = np.linalg.svd(x.T @ z)
    wx, wz = multistep_mapping(x, z, MultiStep(**{**OFF, "reweight_source": 0.5, "reweight_target": 1.0}))
    np.testing.assert_allclose(wx, u @ np.diag(s**0.5), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(wz, vt.T @ np.diag(s), rtol=1e-4, atol=1e-4)
    # A target side that is only rotated is folded into the source mapping.
    folded, none = multistep_mapping(x, z, MultiStep(**{**OFF, "reweight_source": 0.5}))
    assert none is None
    np.testing.assert_allclose(folded, u @ np.diag(s**0.5) @ vt, rtol=1e-4, atol=1e-5)


def test_every_step_off_is_plain_procrustes():
    x, z = _pairs(4)
    wx, wz = multistep_mapping(x, z, MultiStep(**OFF))
    assert wz is None
    np.testing.assert_allclose(wx, procrustes(x, z), atol=1e-5)


def test_the_target_is_folded_exactly_when_it_is_only_rotated():
    x, z = _pairs(5)
    for kw, folded in [({}, False), ({"reweight_target": 0.0}, True), ({"reweight_target": 0.0, "dewhiten_target": "none"}, False),
                       ({"reweight_target": 0.0, "dewhiten_target": "source"}, False),
                       ({"reweight_target": 0.0, "whiten_target": False, "whiten_source": False, "dewhiten_target": "source",
                         "dewhiten_source": "none"}, True),
                       ({"reweight_target": 0.0, "dim_reduction": 3}, False)]:
        settings = MultiStep(**kw)
        wx, wz = multistep_mapping(x, z, settings)
        assert (wz is None) is folded, kw
        if not folded:
            # Had it been folded, its transform would have had to be orthogonal: it is not.
            assert not np.allclose(wz @ wz.T, np.eye(x.shape[1]), atol=1e-3), kw


def test_dimensionality_reduction_keeps_the_first_dimensions():
    x, z = _pairs(6)
    full_x, full_z = multistep_mapping(x, z, MultiStep())
    wx, wz = multistep_mapping(x, z, MultiStep(dim_reduction=2))
    np.testing.assert_allclose(wx[:, :2], full_x[:, :2], rtol=1e-5)
    np.testing.assert_allclose(wz[:, :2], full_z[:, :2], rtol=1e-5)
    assert not wx[:, 2:].any() and not wz[:, 2:].any()


def test_whitening_recovers_a_non_orthogonal_relation_that_procrustes_cannot():
    rng = np.random.default_rng(7)
    d = 8
    x = rng.standard_normal((1000, d)) * np.linspace(2.0, 0.5, d)
    relation = np.linalg.qr(rng.standard_normal((d, d)))[0] @ np.diag(np.linspace(6.0, 0.1, d)) @ np.linalg.qr(
        rng.standard_normal((d, d)))[0]
    z = x @ relation + 0.02 * rng.standard_normal((1000, d))
    train, test = slice(0, 500), slice(500, 1000)

    def accuracy(settings):
        wx, wz = multistep_mapping(x[train], z[train], settings)
        mapped, reference = x[test] @ wx, z[test] if wz is None else z[test] @ wz
        a = mapped / np.linalg.norm(mapped, axis=1, keepdims=True)
        b = reference / np.linalg.norm(reference, axis=1, keepdims=True)
        return float(((a @ b.T).argmax(axis=1) == np.arange(500)).mean())

    whitened = accuracy(MultiStep(**{**OFF, "whiten_source": True, "whiten_target": True}))
    plain = accuracy(MultiStep(**OFF))
    assert whitened > 0.95 and whitened > plain + 0.2, (whitened, plain)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="unknown dewhiten_source 'src'"):
        MultiStep(dewhiten_source="src")
    with pytest.raises(ValueError, match="dim_reduction must be 0"):
        MultiStep(dim_reduction=-1)
    with pytest.raises(ValueError, match="same shape"):
        multistep_mapping(np.ones((3, 2)), np.ones((4, 2)))


@pytest.mark.parametrize("settings", [{"refinement_iterations": 0}, {"heldout_fraction": 0.0, "refinement_vocab": 300}, {}])
def test_the_method_maps_both_sides_and_its_artifact_round_trips(tmp_path, settings):
    spaces = make_spaces(noise=0.02, shuffle=True)
    pairs = spaces.pairs[:150]
    alignment = align(spaces.source, spaces.target, "multistep", dictionary=pairs, **settings)
    assert alignment.reference_mapping is not None
    mapped = alignment.apply(spaces.source.matrix, "mapped")
    reference = alignment.apply(spaces.target.matrix, "reference")
    assert translation_accuracy(mapped, reference, spaces) > 0.95
    if settings.get("heldout_fraction") == 0.0:
        assert len(alignment.evaluation["refinement"]["history"]) == 3
    if not settings:
        selection = alignment.evaluation["heldout_selection"]
        scores = [h["heldout_p1_csls"] for h in selection["history"]]
        # The unrefined and the twice-refined trial fits, refined only when that scored higher.
        assert [h["iteration"] for h in selection["history"]] == [0, 2]
        assert selection["iterations"] == (2 if scores[1] > scores[0] else 0) and selection["n_heldout_pairs"] == 30
        assert ("refinement" in alignment.evaluation) == (selection["iterations"] > 0)
    save_alignment(alignment, str(tmp_path / "es-en"))
    loaded = load_alignment(str(tmp_path / "es-en"))
    np.testing.assert_array_equal(loaded.apply(spaces.source.matrix, "mapped"), mapped)
    np.testing.assert_array_equal(loaded.apply(spaces.target.matrix, "reference"), reference)


def test_identical_seed_with_self_learning_refinement():
    spaces = make_spaces(noise=0.02, shuffle=True)
    # Rename so that a few words are spelled the same on both sides: the identical-strings seed.
    from xlner_allennlp.alignment.vectors import WordVectors
    source = WordVectors([f"w{i}" if i < 60 else w for i, w in enumerate(spaces.source.words)], spaces.source.matrix)
    target = WordVectors([f"w{w[1:]}" if int(w[1:]) < 60 else w for w in spaces.target.words], spaces.target.matrix)
    alignment = align(source, target, "multistep", seed="identical", refinement_iterations=3, refinement_vocab=400,
                      heldout_fraction=0.0)
    assert alignment.evaluation["training_dictionary"]["n_pairs"] == 60
    accuracy = translation_accuracy(
        alignment.apply(source.matrix, "mapped"), alignment.apply(target.matrix, "reference"), spaces
    )
    assert accuracy > 0.95


def test_heldout_split_holds_out_the_last_source_words_and_a_too_small_dictionary_is_an_error():
    from xlner_allennlp.alignment.methods import AlignmentError, _heldout_split

    spaces = make_spaces()
    pairs = [("s0", "t0"), ("s0", "t1"), ("s1", "t1"), ("s2", "t2"), ("s3", "t3"), ("s4", "t4")]
    from xlner_allennlp.alignment.dictionary import index_dictionary
    indexed = index_dictionary(pairs, spaces.source, spaces.target)
    (kept_s, _), (held_s, held_t) = _heldout_split(indexed, 0.4)
    assert sorted(set(kept_s.tolist())) == [0, 1, 2] and sorted(held_s.tolist()) == [3, 4]
    with pytest.raises(AlignmentError, match="leaves no held-out or no training pair"):
        align(spaces.source, spaces.target, "multistep", dictionary=pairs[:2], heldout_fraction=0.2)


def test_heldout_pairs_are_scored_as_a_test_split(monkeypatch):
    """Both trial fits (unrefined, refined) are scored by BLI P@1 CSLS on the held-out pairs over every row of both
    vocabularies (not among the refinement_vocab most frequent words), and its value is recorded."""
    from xlner_allennlp.alignment import methods

    spaces = make_spaces(noise=0.02, shuffle=True)
    calls = []
    original = methods.evaluate_bli

    def recording(mapped, shared, dictionary, **kwargs):
        result = original(mapped, shared, dictionary, **kwargs)
        calls.append((mapped.shape[0], shared.shape[0], sorted(set(dictionary.source.tolist())),
                      result["precision_at_1_csls"]))
        return result

    monkeypatch.setattr(methods, "evaluate_bli", recording)
    alignment = align(spaces.source, spaces.target, "multistep", dictionary=spaces.pairs[:150], refinement_vocab=100)
    held = sorted({spaces.source.index[s] for s, _ in spaces.pairs[120:150]})
    scores = [h["heldout_p1_csls"] for h in alignment.evaluation["heldout_selection"]["history"]]
    assert [c[:3] for c in calls] == [(len(spaces.source), len(spaces.target), held)] * 2
    assert scores == [c[3] for c in calls]
