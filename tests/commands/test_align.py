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
    run(monkeypatch, "xlner-align", "--mapped-vectors", files["es"], "--reference-vectors", files["en"],
        "--method", "procrustes-refine", "--dictionary", files["train"], "--evaluation-dictionary", files["test"],
        "--set", "refinement_iterations=1", "--set", "refinement_vocab=400", "--output", files["out"])
    printed = capsys.readouterr().out
    assert "es->en  procrustes-refine" in printed and "P@1 csls" in printed
    alignment = load_alignment(files["out"])
    assert alignment.method == "procrustes-refine"
    assert alignment.hyperparameters["refinement_iterations"] == 1
    assert alignment.evaluation["bli"]["precision_at_1_csls"] > 0.95


def test_jsonnet_config_with_command_line_override(monkeypatch, tmp_path, files):
    config = tmp_path / "align.jsonnet"
    config.write_text(json.dumps({
        "mapped_vectors": files["es"], "reference_vectors": files["en"], "method": "least-squares",
        "dictionary": files["train"], "output": str(tmp_path / "ignored"),
    }), encoding="utf-8")
    run(monkeypatch, "xlner-align", "--config", str(config), "--method", "procrustes", "--output", files["out"])
    assert load_alignment(files["out"]).method == "procrustes"
    assert not (tmp_path / "ignored").exists()


def test_pivot_mode_writes_one_artifact_per_language(monkeypatch, tmp_path, files):
    run(monkeypatch, "xlner-align", "--pivot", "en", "--reference-vectors", files["en"], "--mapped-vectors", files["es"],
        "--dictionary", files["train"], "--method", "procrustes", "--output", str(tmp_path / "all"))
    assert load_alignment(str(tmp_path / "all" / "en-en")).method == "identity"
    assert load_alignment(str(tmp_path / "all" / "es-en")).mapped_language == "es"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--method", "procrustes"], "needs a dictionary or a seed"),
        (["--method", "procrustes", "--dictionary", "MISSING"], "MISSING: no such dictionary file"),
        (["--method", "procrustes", "--seed", "identical", "--max-vocab", "5000"],
         "max_vocab=5000 is larger than the file (400 rows)"),
        (["--method", "procrustes", "--seed", "identical", "--set", "{bad"], "expected NAME=VALUE"),
        (["--method", "procrustes-refine", "--seed", "identical", "--set", "refinement_vocab=many"],
         "setting refinement_vocab of method procrustes-refine must be int, got 'many'"),
        (["--method", "procrustes", "--seed", "identical", "--set", "refinement_vocab=4"],
         "unknown setting(s) refinement_vocab for method procrustes"),
    ],
)
def test_errors_are_one_line_without_traceback(monkeypatch, capsys, files, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, "xlner-align", "--mapped-vectors", files["es"], "--reference-vectors", files["en"],
            "--output", files["out"], *extra)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_unknown_method_is_rejected(monkeypatch, capsys, files):
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, "xlner-align", "--mapped-vectors", files["es"], "--reference-vectors", files["en"],
            "--method", "magic", "--output", files["out"])
    assert exit_info.value.code != 0
    assert "invalid choice: 'magic'" in capsys.readouterr().err


def test_settings_from_a_config_file_and_set_typed_by_the_method(monkeypatch, tmp_path, files):
    config = tmp_path / "align.jsonnet"
    config.write_text("""{
        mapped_vectors: "%s", reference_vectors: "%s", method: "procrustes-refine",
        dictionary: "%s", settings: { refinement_vocab: 400, refinement_iterations: 2 },
    }""" % (files["es"], files["en"], files["train"]), encoding="utf-8")
    run(monkeypatch, "xlner-align", "--config", str(config), "--set", "refinement_iterations=1",
        "--set", "keep_training_dictionary=false", "--set", "reweight_source=0.25", "--output", files["out"])
    hyperparameters = load_alignment(files["out"]).hyperparameters
    assert hyperparameters["refinement_iterations"] == 1 and hyperparameters["refinement_vocab"] == 400
    assert hyperparameters["keep_training_dictionary"] is False and hyperparameters["reweight_source"] == 0.25


def test_list_methods_shows_every_setting_with_its_default(monkeypatch, capsys):
    run(monkeypatch, "xlner-align", "--list-methods")
    printed = capsys.readouterr().out
    for method in ("least-squares", "procrustes", "procrustes-refine", "adversarial", "self-learning"):
        assert f"{method}:" in printed
    for setting in ("smoothing=0.1", "refinement_induction='truncated'", "refinement_keep='last'",
                    "keep_training_dictionary=True", "stage_iterations=30"):
        assert setting in printed
    with pytest.raises(SystemExit):
        run(monkeypatch, "xlner-align", "--help")
    assert "smoothing=0.1" in capsys.readouterr().out


def test_adversarial_muse_preset_from_the_command_line(monkeypatch, files):
    # MUSE's sizes on a tiny vocabulary: one epoch of one batch keeps it fast.
    run(monkeypatch, "xlner-align", "--mapped-vectors", files["es"], "--reference-vectors", files["en"],
        "--method", "adversarial", "--set", "preset=muse", "--set", "epoch_size=32", "--set", "epochs=1",
        "--set", "device=auto", "--output", files["out"])
    alignment = load_alignment(files["out"])
    hyperparameters = alignment.hyperparameters
    assert hyperparameters["preset"] == "muse" and hyperparameters["epochs"] == 1
    assert hyperparameters["batch_size"] == 32 and hyperparameters["discriminator_hidden"] == 2048
    assert hyperparameters["most_frequent"] == 75000 and hyperparameters["refinement_induction"] == "muse"
    assert alignment.evaluation["adversarial"]["device"] in ("cpu", "cuda")
