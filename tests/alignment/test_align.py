import json
import os

import numpy as np
import pytest

from xlner_allennlp.alignment import AlignmentError, align, align_files, align_to_pivot, evaluate_files
from xlner_allennlp.alignment.artifact import load_alignment, write_vectors
from xlner_allennlp.alignment.dictionary import DictionaryError
from xlner_allennlp.alignment.vectors import VectorFileError, WordVectors

from tests.alignment.conftest import make_spaces, translation_accuracy


def _files(tmp_path, spaces, source_name="es", target_name="en"):
    source = str(tmp_path / f"{source_name}.npy")
    target = str(tmp_path / f"{target_name}.npy")
    write_vectors(spaces.source, source)
    write_vectors(spaces.target, target)
    train = tmp_path / f"{source_name}-{target_name}.train.txt"
    train.write_text("".join(f"{s} {t}\n" for s, t in spaces.pairs[:200]) + "s0 extra\n", encoding="utf-8")
    test = tmp_path / f"{source_name}-{target_name}.test.txt"
    test.write_text("".join(f"{s} {t}\n" for s, t in spaces.pairs[200:]), encoding="utf-8")
    return source, target, str(train), str(test)


@pytest.mark.parametrize("method", ["least-squares", "procrustes", "procrustes-refine"])
def test_supervised_methods_recover_the_rotation(spaces, method):
    hyperparameters = {"refinement_vocab": 400, "refinement_iterations": 2} if method == "procrustes-refine" else {}
    alignment = align(spaces.source, spaces.target, method, dictionary=spaces.pairs[:150], **hyperparameters)
    mapped = alignment.apply(spaces.source.matrix, "mapped")
    assert translation_accuracy(mapped, alignment.apply(spaces.target.matrix, "reference"), spaces) > 0.95
    assert alignment.evaluation["training_dictionary"]["n_pairs"] == 150
    assert alignment.hyperparameters["normalization"] == "unit,center,unit"


def test_identical_seed_alone_is_a_training_dictionary():
    spaces = make_spaces()
    words = [f"w{i}" for i in range(len(spaces.source))]
    source = WordVectors(words, spaces.source.matrix)
    target = WordVectors(["w" + w[1:] for w in spaces.target.words], spaces.target.matrix)
    alignment = align(source, target, "procrustes", seed="identical")
    assert alignment.evaluation["training_dictionary"]["n_pairs"] == len(words)


def test_align_files_writes_a_complete_artifact_and_bli_reads_it(tmp_path, spaces):
    source, target, train, test = _files(tmp_path, spaces)
    alignment = align_files(source, target, "procrustes", str(tmp_path / "es-en"), dictionary=train,
                            evaluation_dictionary=test)
    meta = json.loads((tmp_path / "es-en" / "meta.json").read_text())
    assert meta["mapped_language"] == "es" and meta["reference_language"] == "en"
    assert len(meta["inputs"]["mapped_sha256"]) == 64 and meta["inputs"]["reference_vocab_size"] == 400
    assert meta["evaluation"]["training_dictionary"]["n_pairs_dropped"] == 1
    assert meta["evaluation"]["bli"]["precision_at_1_csls"] > 0.95
    results = evaluate_files(str(tmp_path / "es-en"), test)
    assert results["precision_at_1_csls"] == pytest.approx(alignment.evaluation["bli"]["precision_at_1_csls"])
    assert results["n_pairs"] == 200 and results["coverage"] == 1.0



def test_evaluate_files_gives_a_low_coverage_warning_once(tmp_path, spaces, caplog):
    source, target, train, _ = _files(tmp_path, spaces)
    align_files(source, target, "procrustes", str(tmp_path / "es-en"), dictionary=train)
    sparse = tmp_path / "sparse.txt"
    sparse.write_text("".join(f"{s} {t}\n" for s, t in spaces.pairs[200:205])
                      + "".join(f"missing{i} gone{i}\n" for i in range(40)), encoding="utf-8")
    warnings = []
    results = evaluate_files(str(tmp_path / "es-en"), str(sparse), warn=warnings.append)
    assert len(warnings) == 1 and "only 5 of its 45 pairs" in warnings[0]
    assert results["warning"] == warnings[0]
    assert "only 5 of its 45 pairs" not in caplog.text

def test_pivot_alignment_shares_one_space(tmp_path):
    es, nl = make_spaces(seed=0), make_spaces(seed=0, noise=0.03)
    nl_rotation_source = nl.source.matrix @ np.linalg.qr(np.random.default_rng(9).standard_normal((16, 16)))[0]
    es_files = _files(tmp_path, es, "es", "en")
    nl_path = str(tmp_path / "nl.npy")
    nl_words = [w.replace("s", "n") for w in nl.source.words]
    write_vectors(WordVectors(nl_words, nl_rotation_source.astype(np.float32)), nl_path)
    nl_train = tmp_path / "nl-en.txt"
    nl_train.write_text("".join(f"n{i} t{i}\n" for i in range(200)), encoding="utf-8")
    out = tmp_path / "alignments"
    results = align_to_pivot(es_files[1], [es_files[0], nl_path], "procrustes", str(out),
                             dictionaries=[es_files[2], str(nl_train)])
    assert sorted(os.listdir(out)) == ["en-en", "es-en", "nl-en"]
    pivot = load_alignment(str(out / "en-en"))
    np.testing.assert_allclose(pivot.mapping, np.eye(16), atol=0)
    target = es.target.matrix
    np.testing.assert_allclose(pivot.apply(target, "mapped"), results["es"].apply(target, "reference"), atol=1e-6)
    es_mapped = results["es"].apply(es.source.matrix, "mapped")
    nl_mapped = load_alignment(str(out / "nl-en")).apply(nl_rotation_source, "mapped")
    # Both languages land next to the same English words, so next to each other.
    cos = np.einsum("ij,ij->i", es_mapped, nl_mapped)
    assert np.median(cos) > 0.9


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"method": "magic"}, AlignmentError, "unknown method 'magic'; choose from least-squares"),
        ({"method": "procrustes"}, AlignmentError, "needs a dictionary or a seed"),
        ({"method": "adversarial", "seed": "identical"}, AlignmentError, "takes no dictionary or seed"),
        ({"method": "procrustes", "seed": "nonsense"}, DictionaryError, "unknown seed 'nonsense'"),
        ({"method": "procrustes", "dictionary": [], "seed": None, "refinement_iterations": 2},
         AlignmentError, "unknown setting"),
        ({"method": "procrustes-refine", "seed": "identical", "refinement_induction": "exact"},
         AlignmentError, "unknown refinement_induction 'exact'"),
        ({"method": "procrustes-refine", "seed": "identical", "refinement_vocab": 1.5},
         AlignmentError, "setting refinement_vocab of method procrustes-refine must be int, got 1.5"),
        ({"method": "procrustes", "dictionary": [("zz", "yy")]}, DictionaryError, "none of the 1 pairs"),
    ],
)
def test_bad_settings(spaces, kwargs, error, message):
    kwargs = dict(kwargs)
    method = kwargs.pop("method")
    with pytest.raises(error, match=message):
        align(spaces.source, spaces.target, method, **kwargs)


def test_dimension_mismatch_and_bad_files(tmp_path, spaces):
    source, target, train, _ = _files(tmp_path, spaces)
    narrow = str(tmp_path / "narrow.npy")
    write_vectors(WordVectors(spaces.target.words, spaces.target.matrix[:, :8]), narrow)
    with pytest.raises(AlignmentError, match=r"dimension mismatch: .*es.npy has 16-dimensional vectors, .*narrow.npy 8"):
        align_files(source, narrow, "procrustes", str(tmp_path / "out"), dictionary=train)
    with pytest.raises(VectorFileError, match=r"max_vocab=1000 is larger than the file \(400 rows\)"):
        align_files(source, target, "procrustes", str(tmp_path / "out"), dictionary=train, max_vocab=1000)
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DictionaryError, match="empty.txt: the dictionary is empty"):
        align_files(source, target, "procrustes", str(tmp_path / "out"), dictionary=str(empty))
    assert not (tmp_path / "out").exists()


def test_unknown_final_mapping(spaces):
    with pytest.raises(AlignmentError, match="unknown final_mapping 'pca'"):
        align(spaces.source, spaces.target, "procrustes-refine", dictionary=spaces.pairs, final_mapping="pca")


def test_unknown_refinement_keep(spaces):
    with pytest.raises(AlignmentError, match="unknown refinement_keep 'first'"):
        align(spaces.source, spaces.target, "self-learning", refinement_keep="first")


def test_every_setting_of_a_method_reaches_it(spaces, monkeypatch):
    from xlner_allennlp.alignment import methods

    seen = {}

    def fake_adversarial(x, z, settings, random_seed):
        seen["settings"] = settings
        raise RuntimeError("stop after the settings were passed")

    monkeypatch.setattr(methods, "adversarial", fake_adversarial)
    with pytest.raises(RuntimeError, match="stop after"):
        align(spaces.source, spaces.target, "adversarial", smoothing=0.2, lr_shrink=0.25)
    assert seen["settings"].smoothing == 0.2 and seen["settings"].lr_shrink == 0.25
    assert seen["settings"].epochs == 5  # the dataclass default


def test_adversarial_accepts_smoothing(spaces):
    alignment = align(spaces.source, spaces.target, "adversarial", smoothing=0.2, epochs=1, epoch_size=256,
                      batch_size=32, most_frequent=100, discriminator_hidden=8, refinement_iterations=0)
    assert alignment.hyperparameters["smoothing"] == 0.2 and alignment.hyperparameters["epochs"] == 1


@pytest.mark.parametrize("bad", ["name", "dimension", "reference-transform"])
def test_pivot_alignment_rejects_a_bad_language_before_writing_anything(tmp_path, spaces, bad):
    es_files = _files(tmp_path, spaces, "es", "en")
    nl_path = str(tmp_path / "nl.npy")
    matrix = spaces.source.matrix[:, :8] if bad == "dimension" else spaces.source.matrix
    write_vectors(WordVectors(spaces.source.words, matrix), nl_path)
    out = tmp_path / "alignments"
    kwargs = {
        "name": {"mapped_languages": ["es", "n/l"]},
        "dimension": {},
        "reference-transform": {"reweight_target": 0.5},
    }[bad]
    message = {
        "name": "language 'n/l' is not a plain code",
        "dimension": "dimension mismatch: .*nl.npy has 8-dimensional",
        "reference-transform": "transforms the pivot space too",
    }[bad]
    method = "procrustes-refine" if bad == "reference-transform" else "procrustes"
    with pytest.raises(AlignmentError, match=message):
        align_to_pivot(es_files[1], [es_files[0], nl_path], method, str(out),
                       dictionaries=[es_files[2], es_files[2]], **kwargs)
    assert not out.exists()


@pytest.mark.parametrize("method", ["procrustes", "procrustes-refine"])
def test_fitting_in_place_gives_the_same_alignment(spaces, method):
    from xlner_allennlp.alignment.align import fit_prepared, prepare

    settings = {"refinement_vocab": 400, "refinement_iterations": 1} if method == "procrustes-refine" else {}
    spec, typed = prepare(method, True, **settings)
    args = (spec, typed, spaces.pairs[:150], None, "unit,center,unit", "es", "en", "<dictionary>", 0)
    copied = fit_prepared(spaces.source, spaces.target, *args)
    source = WordVectors(spaces.source.words, spaces.source.matrix.copy())
    target = WordVectors(spaces.target.words, spaces.target.matrix.copy())
    consumed = fit_prepared(source, target, *args, in_place=True)
    np.testing.assert_array_equal(consumed.mapping, copied.mapping)
    assert consumed.evaluation["criterion"] == copied.evaluation["criterion"]
    # The consumed matrices now hold the normalized rows the artifact's normalization gives.
    np.testing.assert_array_equal(source.matrix, copied.mapped_normalization.apply(spaces.source.matrix))
