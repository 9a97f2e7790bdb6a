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


def test_bli_refuses_a_reversed_dictionary(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    align_files(files["es"], files["en"], "procrustes", files["out"], dictionary=files["train"])
    reversed_ = tmp_path / "en-es.test.txt"
    reversed_.write_text("".join(f"t{i} s{i}\n" for i in range(200, 400)) + "s0 t0\n", encoding="utf-8")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, "xlner-bli", files["out"], "--dictionary", str(reversed_))
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "the dictionary runs the other way round: 200 of its 201 pairs" in captured.err and not captured.out


def test_bli_warns_about_low_coverage_on_stderr_and_in_the_json(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    align_files(files["es"], files["en"], "procrustes", files["out"], dictionary=files["train"])
    sparse = tmp_path / "sparse.txt"
    sparse.write_text("s300 t300\n" + "".join(f"x{i} y{i}\n" for i in range(99)), encoding="utf-8")
    capsys.readouterr()
    run(monkeypatch, "xlner-bli", files["out"], "--dictionary", str(sparse))
    captured = capsys.readouterr()
    results = json.loads(captured.out)
    assert results["coverage"] == 0.01 and results["warning"].startswith(f"{sparse}: only 1 of its 100 pairs (1.00%)")
    assert f"warning: {sparse}: only 1 of its 100 pairs" in captured.err


def test_bli_reads_a_latin1_dictionary_with_its_option(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    align_files(files["es"], files["en"], "procrustes", files["out"], dictionary=files["train"])
    latin = tmp_path / "es-en.latin1.txt"
    latin.write_bytes(("año year\n" + "".join(f"s{i} t{i}\n" for i in range(200, 400))).encode("latin-1"))
    capsys.readouterr()
    with pytest.raises(SystemExit):
        run(monkeypatch, "xlner-bli", files["out"], "--dictionary", str(latin))
    assert "--dictionary-encoding" in capsys.readouterr().err
    run(monkeypatch, "xlner-bli", files["out"], "--dictionary", str(latin), "--dictionary-encoding", "latin-1")
    assert json.loads(capsys.readouterr().out)["n_pairs_read"] == 201
