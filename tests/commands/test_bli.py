import json

import pytest

from xlner_allennlp.alignment import align_files

from tests.commands.test_align import files, run  # noqa: F401  (fixture)


def test_bli_prints_json(monkeypatch, capsys, files):  # noqa: F811
    align_files(files["es"], files["en"], "procrustes", files["out"], dictionary=files["train"])
    capsys.readouterr()
    run(monkeypatch, "xlner-bli", files["out"], "--dictionary", files["test"])
    results = json.loads(capsys.readouterr().out)
    for key in ("precision_at_1_csls", "precision_at_1_nn", "precision_at_5_csls", "precision_at_10_csls",
                "coverage", "n_pairs"):
        assert key in results
    assert results["precision_at_1_csls"] > 0.95 and results["n_pairs"] == 200 and results["coverage"] == 1.0


def test_bli_on_missing_artifact(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    with pytest.raises(SystemExit):
        run(monkeypatch, "xlner-bli", str(tmp_path / "none"), "--dictionary", files["test"])
    assert "no such alignment directory" in capsys.readouterr().err
