import json
import sys

import pytest
from allennlp.commands import main
from allennlp.commands.subcommand import Subcommand

from xlner_allennlp.alignment.artifact import load_alignment, write_vectors
from xlner_allennlp.commands.align import XlnerAlign

from tests.alignment.conftest import make_spaces


def run(monkeypatch, *argv):
    monkeypatch.setattr(sys, "argv", ["allennlp", *argv])
    main()


@pytest.fixture
def files(tmp_path):
    spaces = make_spaces()
    paths = {"es": str(tmp_path / "es.npy"), "en": str(tmp_path / "en.npy")}
    write_vectors(spaces.source, paths["es"])
    write_vectors(spaces.target, paths["en"])
    train = tmp_path / "es-en.train.txt"
    train.write_text("".join(f"{s} {t}\n" for s, t in spaces.pairs[:200]), encoding="utf-8")
    test = tmp_path / "es-en.test.txt"
    test.write_text("".join(f"{s}\t{t}\n" for s, t in spaces.pairs[200:]), encoding="utf-8")
    paths.update(train=str(train), test=str(test), out=str(tmp_path / "es-en"))
    return paths


def test_registered():
    available = Subcommand.list_available()
    assert {"xlner-align", "xlner-bli", "xlner-map"} <= set(available)
    assert Subcommand.by_name("xlner-align") is XlnerAlign


def test_align_writes_artifact_and_prints_summary(monkeypatch, capsys, files):
    run(monkeypatch, "xlner-align", "--source-vectors", files["es"], "--target-vectors", files["en"],
        "--method", "procrustes-refine", "--dictionary", files["train"], "--evaluation-dictionary", files["test"],
        "--hyperparameters", '{"refinement_iterations": 1, "refinement_vocab": 400}', "--output", files["out"])
    printed = capsys.readouterr().out
    assert "es->en  procrustes-refine" in printed and "P@1 csls" in printed
    alignment = load_alignment(files["out"])
    assert alignment.method == "procrustes-refine"
    assert alignment.hyperparameters["refinement_iterations"] == 1
    assert alignment.evaluation["bli"]["precision_at_1_csls"] > 0.95


def test_jsonnet_config_with_command_line_override(monkeypatch, tmp_path, files):
    config = tmp_path / "align.jsonnet"
    config.write_text(json.dumps({
        "source_vectors": files["es"], "target_vectors": files["en"], "method": "least-squares",
        "dictionary": files["train"], "output": str(tmp_path / "ignored"),
    }), encoding="utf-8")
    run(monkeypatch, "xlner-align", "--config", str(config), "--method", "procrustes", "--output", files["out"])
    assert load_alignment(files["out"]).method == "procrustes"
    assert not (tmp_path / "ignored").exists()


def test_pivot_mode_writes_one_artifact_per_language(monkeypatch, tmp_path, files):
    run(monkeypatch, "xlner-align", "--pivot", "en", "--target-vectors", files["en"], "--source-vectors", files["es"],
        "--dictionary", files["train"], "--method", "procrustes", "--output", str(tmp_path / "all"))
    assert load_alignment(str(tmp_path / "all" / "en-en")).method == "identity"
    assert load_alignment(str(tmp_path / "all" / "es-en")).source_language == "es"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--method", "procrustes"], "needs a dictionary or a seed"),
        (["--method", "procrustes", "--dictionary", "MISSING"], "MISSING: no such dictionary file"),
        (["--method", "procrustes", "--seed", "identical", "--max-vocab", "5000"],
         "max_vocab=5000 is larger than the file (400 rows)"),
        (["--method", "procrustes", "--seed", "identical", "--hyperparameters", "{bad"], "not a JSON object"),
    ],
)
def test_errors_are_one_line_without_traceback(monkeypatch, capsys, files, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, "xlner-align", "--source-vectors", files["es"], "--target-vectors", files["en"],
            "--output", files["out"], *extra)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_unknown_method_is_rejected(monkeypatch, capsys, files):
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, "xlner-align", "--source-vectors", files["es"], "--target-vectors", files["en"],
            "--method", "magic", "--output", files["out"])
    assert exit_info.value.code != 0
    assert "invalid choice: 'magic'" in capsys.readouterr().err
