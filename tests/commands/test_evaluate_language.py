"""Zero-shot transfer on the tiny generated data: target vectors are exact rotations of the English
ones and the alignment artifacts hold those rotations, so Cross-Word must tag the target languages
as well as English, including a language the model never saw (plugged in at evaluation time)."""
import json
import os
import subprocess
import sys

import pytest
from allennlp.commands.train import train_model_from_file
from allennlp.common.checks import ConfigurationError

from tests.conftest import PROJECT_ROOT
from xlner_allennlp.commands.evaluate_language import evaluate_language, language_overrides

CONFIG = os.path.join(PROJECT_ROOT, "training_config", "cross_word.jsonnet")


@pytest.fixture(scope="module")
def cross_word_archive(tiny_data, tmp_path_factory):
    env = {**tiny_data, "XLNER_TARGET": "es"}
    old = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        directory = tmp_path_factory.mktemp("cross_word")
        train_model_from_file(CONFIG, str(directory / "run"), overrides=json.dumps({"trainer.num_epochs": 30}))
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return str(directory / "run" / "model.tar.gz")


def _f1(archive, data, language, **kwargs):
    return evaluate_language(archive, language, data, **kwargs)["f1-measure-overall"]


def test_aligned_target_gets_the_source_accuracy(cross_word_archive, tiny_data):
    root = tiny_data["XLNER_DATA"]
    english = _f1(cross_word_archive, f"{root}/ner/en/conll2003/eng.testa", "en")
    spanish = _f1(cross_word_archive, f"{root}/ner/es/conll2002/esp.testa", "es")
    assert english > 0.9
    assert spanish >= english - 0.1


def test_a_language_never_trained_on_is_plugged_in(cross_word_archive, tiny_data):
    root = tiny_data["XLNER_DATA"]
    english = _f1(cross_word_archive, f"{root}/ner/en/conll2003/eng.testa", "en")
    dutch = _f1(
        cross_word_archive, f"{root}/ner/nl/conll2002/ned.testa", "nl",
        vectors=f"{root}/emb/nl.npy", alignment=f"{root}/alignments/nl-en",
    )
    assert dutch >= english - 0.1
    # Without its vectors the model has no table for Dutch: a clear error, not a crash in torch.
    with pytest.raises(ConfigurationError, match="unknown language 'nl'; configured languages: en, es"):
        _f1(cross_word_archive, f"{root}/ner/nl/conll2002/ned.testa", "nl")


def test_overrides_name_both_the_indexer_and_the_embedder():
    overrides = language_overrides("nl", "nl.npy", "al/nl-en", "utf-8")
    spec = {"vectors": "nl.npy", "alignment": "al/nl-en", "side": "mapped"}
    assert overrides["model.text_field_embedder.token_embedders.tokens.languages.nl"] == spec
    assert overrides["validation_dataset_reader.token_indexers.tokens.languages.nl"] == spec
    assert language_overrides("es", None, None, "latin-1") == {
        "validation_dataset_reader.language": "es", "validation_dataset_reader.encoding": "latin-1"}


def test_command_line(cross_word_archive, tiny_data, tmp_path):
    root = tiny_data["XLNER_DATA"]
    output = tmp_path / "metrics.json"
    result = subprocess.run(
        [sys.executable, "-m", "allennlp", "xlner-evaluate", cross_word_archive, "--language", "de",
         "--data", f"{root}/ner/de/conll2003/deu.testa", "--encoding", "latin-1",
         "--vectors", f"{root}/emb/de.npy", "--alignment", f"{root}/alignments/de-en",
         "--output-file", str(output), "--include-package", "xlner_allennlp"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={**os.environ, **tiny_data},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(output.read_text())["f1-measure-overall"] > 0.8
    missing = subprocess.run(
        [sys.executable, "-m", "allennlp", "xlner-evaluate", cross_word_archive, "--language", "de",
         "--data", str(tmp_path / "absent.conll"), "--include-package", "xlner_allennlp"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={**os.environ, **tiny_data},
    )
    assert missing.returncode == 1
    assert "absent.conll" in missing.stderr and "Traceback" not in missing.stderr
