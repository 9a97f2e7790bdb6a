import json
import os
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from xlner_allennlp.alignment import artifact as artifact_module
from xlner_allennlp.alignment.artifact import (
    Alignment,
    ArtifactError,
    FailedFitError,
    load_alignment,
    refuse_failed_over_passed,
    save_alignment,
)
from xlner_allennlp.alignment.normalization import Normalization


def _alignment(seed=0, reference_mapping=False):
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((30, 4)).astype(np.float32)
    return Alignment(
        mapping=np.linalg.qr(rng.standard_normal((4, 4)))[0],
        reference_mapping=np.diag([1.0, 2.0, 0.5, 1.0]) if reference_mapping else None,
        mapped_normalization=Normalization.fit(matrix, "unit,center,unit"),
        reference_normalization=Normalization.fit(matrix + 1, "center"),
        mapped_language="es", reference_language="en", method="procrustes",
        hyperparameters={"normalization": "unit,center,unit"}, evaluation={"criterion": 0.5},
    ), matrix


@pytest.mark.parametrize("reference_mapping", [False, True])
def test_round_trip_applies_identically(tmp_path, reference_mapping):
    alignment, matrix = _alignment(reference_mapping=reference_mapping)
    save_alignment(alignment, str(tmp_path / "es-en"))
    loaded = load_alignment(str(tmp_path / "es-en"))
    for side in ("mapped", "reference"):
        np.testing.assert_allclose(loaded.apply(matrix, side), alignment.apply(matrix, side), atol=1e-6)
    assert (loaded.reference_mapping is not None) == reference_mapping
    meta = json.loads((tmp_path / "es-en" / "meta.json").read_text())
    assert meta["normalization"]["mapped"] == ["unit", "center", "unit"]


def test_interrupted_write_keeps_the_old_artifact(tmp_path, monkeypatch):
    old, matrix = _alignment(seed=0)
    save_alignment(old, str(tmp_path / "es-en"))
    new, _ = _alignment(seed=1)
    real_save = np.save

    def failing_save(path, array):
        if str(path).endswith("mapping.npy"):
            real_save(path, array)
            raise OSError("disk full")
        real_save(path, array)

    monkeypatch.setattr(artifact_module.np, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_alignment(new, str(tmp_path / "es-en"))
    monkeypatch.undo()
    loaded = load_alignment(str(tmp_path / "es-en"))
    np.testing.assert_allclose(loaded.mapping, old.mapping)
    assert os.listdir(tmp_path) == ["es-en"]  # no temporary directory left behind


def test_incomplete_or_bad_artifacts(tmp_path):
    with pytest.raises(ArtifactError, match="no such alignment directory"):
        load_alignment(str(tmp_path / "none"))
    alignment, matrix = _alignment()
    save_alignment(alignment, str(tmp_path / "a"))
    os.remove(tmp_path / "a" / "normalization.npz")
    with pytest.raises(ArtifactError, match="incomplete alignment artifact, normalization.npz is missing"):
        load_alignment(str(tmp_path / "a"))
    with pytest.raises(ArtifactError, match="side must be 'mapped' or 'reference'"):
        alignment.apply(matrix, "middle")
    with pytest.raises(ArtifactError, match="do not fit a 4-dimensional alignment"):
        alignment.apply(matrix[:, :3])
    with pytest.raises(ArtifactError, match="NaN or infinite"):
        Alignment(mapping=np.full((2, 2), np.nan))


def test_format_1_artifacts_with_source_and_target_sides_are_read(tmp_path):
    alignment, matrix = _alignment(reference_mapping=True)
    alignment.inputs = {"mapped_vectors": "/v/es.npy", "reference_sha256": "ab", "max_vocab": None}
    directory = tmp_path / "es-en"
    save_alignment(alignment, str(directory))
    # Rewrite it as format 1 wrote it: sides called source / target.
    meta = json.loads((directory / "meta.json").read_text())
    meta["format_version"] = 1
    meta["source_language"], meta["target_language"] = meta.pop("mapped_language"), meta.pop("reference_language")
    meta["normalization"] = {"source": meta["normalization"]["mapped"], "target": meta["normalization"]["reference"]}
    meta["inputs"] = {"source_vectors": "/v/es.npy", "target_sha256": "ab", "max_vocab": None}
    (directory / "meta.json").write_text(json.dumps(meta))
    with np.load(directory / "normalization.npz") as arrays:
        renamed = {k.replace("mapped", "source").replace("reference", "target"): arrays[k] for k in arrays.files}
    np.savez(directory / "normalization.npz", **renamed)
    os.replace(directory / "reference_mapping.npy", directory / "target_mapping.npy")
    loaded = load_alignment(str(directory))
    assert (loaded.mapped_language, loaded.reference_language) == ("es", "en")
    assert loaded.inputs == alignment.inputs
    for side in ("mapped", "reference"):
        np.testing.assert_allclose(loaded.apply(matrix, side), alignment.apply(matrix, side), atol=1e-6)


@pytest.mark.parametrize("reference_mapping", [False, True])
def test_blocked_and_in_place_mapping_equal_the_whole_matrix_product(monkeypatch, reference_mapping):
    from xlner_allennlp.alignment import normalization, similarity

    alignment, matrix = _alignment(reference_mapping=reference_mapping)
    monkeypatch.setattr(normalization, "BLOCK_ROWS", 4)
    blocks = []
    monkeypatch.setattr(similarity, "rows_per_block", lambda *args: blocks.append(args) or 7)
    for side, norm, mapping in (
        ("mapped", alignment.mapped_normalization, alignment.mapping),
        ("reference", alignment.reference_normalization, alignment.reference_mapping),
    ):
        unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        expected = (unit - norm.means[1]) if side == "mapped" else matrix - norm.means[0]
        if side == "mapped":
            expected = expected / np.linalg.norm(expected, axis=1, keepdims=True)
        expected = expected if mapping is None else expected @ mapping
        copy = alignment.apply(matrix, side)
        np.testing.assert_allclose(copy, expected, rtol=1e-5, atol=1e-6)
        scratch = matrix.copy()
        assert alignment.apply(scratch, side, in_place=True) is scratch
        np.testing.assert_array_equal(scratch, copy)
    assert blocks  # the product went through blocks of 7 rows


def _failed(seed=1):
    alignment, _ = _alignment(seed=seed)
    alignment.evaluation = {"status": "failed", "status_reason": "the criterion is at chance"}
    return alignment


def test_a_failed_fit_does_not_replace_a_passed_artifact_unless_asked(tmp_path):
    good, _ = _alignment(seed=0)
    directory = str(tmp_path / "es-en")
    save_alignment(good, directory)
    with pytest.raises(FailedFitError, match=r"es-en: the new es->en fit failed its checks \(the criterion is at chance\), "
                                             r"and the artifact already there passed them, so it is kept and the failed "
                                             r"fit is in .*es-en\.failed for inspection; pass --overwrite-failed"):
        save_alignment(_failed(), directory)
    np.testing.assert_array_equal(load_alignment(directory).mapping, good.mapping)
    assert load_alignment(directory + ".failed").evaluation["status"] == "failed"
    save_alignment(_failed(), directory, overwrite_failed=True)
    assert load_alignment(directory).evaluation["status"] == "failed"
    save_alignment(_failed(seed=2), directory)  # a failed artifact may be replaced by another failed fit
    np.testing.assert_array_equal(load_alignment(directory).mapping, _failed(seed=2).mapping)


def test_a_failed_fit_is_written_where_no_passed_artifact_is(tmp_path):
    save_alignment(_failed(), str(tmp_path / "new"))
    assert load_alignment(str(tmp_path / "new")).evaluation["status"] == "failed"
    assert not os.path.exists(tmp_path / "new.failed")


def test_refusal_checks_every_directory_before_writing_any(tmp_path):
    good, _ = _alignment(seed=0)
    save_alignment(good, str(tmp_path / "es-en"))
    targets = {str(tmp_path / "nl-en"): _alignment(seed=3)[0], str(tmp_path / "es-en"): _failed()}
    with pytest.raises(FailedFitError):
        refuse_failed_over_passed(targets)
    assert sorted(os.listdir(tmp_path)) == ["es-en", "es-en.failed"]


def test_artifacts_respect_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        save_alignment(_alignment()[0], str(tmp_path / "es-en"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "es-en").st_mode) == 0o750
    assert stat.S_IMODE(os.stat(tmp_path / "es-en" / "meta.json").st_mode) == 0o640


def test_temporaries_a_killed_write_left_are_removed_by_the_next_write(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    leftovers = [tmp_path / f".es-en.tmp-{process.pid}-k1ll3d", tmp_path / f".es-en.old-{process.pid}-k1ll3d"]
    for leftover in leftovers:
        leftover.mkdir()
        (leftover / "mapping.npy").write_bytes(b"half")
        then = time.time() - 3600
        os.utime(leftover, (then, then))
    other = tmp_path / ".nl-en.tmp-1-notmine"  # another artifact's temporary: not this write's business
    other.mkdir()
    save_alignment(_alignment()[0], str(tmp_path / "es-en"))
    assert sorted(os.listdir(tmp_path)) == sorted(["es-en", other.name])
