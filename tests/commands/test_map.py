import numpy as np

from xlner_allennlp.alignment import align_files
from xlner_allennlp.alignment.artifact import load_alignment
from xlner_allennlp.alignment.vectors import load_vectors

from tests.commands.test_align import files, run  # noqa: F401  (fixture)


def test_map_writes_the_vectors_of_the_mapped_side(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    align_files(files["es"], files["en"], "procrustes", files["out"], dictionary=files["train"])
    output = str(tmp_path / "es.mapped.vec")
    run(monkeypatch, "xlner-map", files["out"], "--output", output, "--max-vocab", "50")
    assert "mapped 50 es vectors" in capsys.readouterr().out
    mapped = load_vectors(output)
    source = load_vectors(files["es"], 50)
    assert mapped.words == source.words
    expected = load_alignment(files["out"]).apply(source.matrix, "mapped")
    np.testing.assert_allclose(mapped.matrix, expected, atol=1e-5)


def test_map_writes_a_stamped_pair_and_a_killed_map_is_refused_later(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    import os

    import pytest

    align_files(files["es"], files["en"], "procrustes", files["out"], dictionary=files["train"])
    output = str(tmp_path / "es.mapped.npy")
    run(monkeypatch, "xlner-map", files["out"], "--output", output)
    assert (tmp_path / "es.mapped.stamp.json").is_file()
    real_replace, renamed = os.replace, []

    def killed_after_two(src, dst):
        if len(renamed) == 2:
            raise KeyboardInterrupt
        renamed.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        # the English side: as many rows as before, other words, so only the stamp can tell
        run(monkeypatch, "xlner-map", files["out"], "--side", "reference", "--output", output)
    monkeypatch.setattr(os, "replace", real_replace)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, "xlner-align", "--mapped-vectors", output, "--reference-vectors", files["en"],
            "--method", "procrustes", "--dictionary", files["train"], "--output", str(tmp_path / "again"))
    assert exit_info.value.code == 1
    assert "were not written together" in capsys.readouterr().err


def test_map_reads_latin1_text_vectors_with_encoding(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    align_files(files["es"], files["en"], "procrustes", files["out"], dictionary=files["train"])
    source = load_vectors(files["es"])
    latin = tmp_path / "es.latin1.vec"
    latin.write_bytes("".join(("ñ" + w) + " " + " ".join(f"{v:.6g}" for v in row) + "\n"
                              for w, row in zip(source.words, source.matrix)).encode("latin-1"))
    output = str(tmp_path / "es.mapped.vec")
    run(monkeypatch, "xlner-map", files["out"], "--vectors", str(latin), "--output", output, "--encoding", "latin-1")
    assert load_vectors(output).words[0] == "ñs0"  # written as UTF-8
