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
