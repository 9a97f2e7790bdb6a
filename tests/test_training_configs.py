"""Every config under training_config/ builds and trains on the tiny generated data (allennlp-models' pattern)."""
import glob
import json
import os

import pytest
from allennlp.commands.train import train_model_from_file

from tests.conftest import PROJECT_ROOT

# Configs that are not NER experiments over the tiny data, each tested where its fixtures are built:
# bilm.jsonnet (a language model) in tests/models/test_bilm.py, cross_elmo.jsonnet (needs ELMo, anchor
# and alignment artifacts) in tests/test_cross_elmo_config.py, multitask_bwe.jsonnet (comparable
# document pairs) in tests/models/test_multitask_bwe.py.
OWN_TESTS = {"bilm.jsonnet", "cross_elmo.jsonnet", "multitask_bwe.jsonnet"}
CONFIGS = sorted(
    path for path in glob.glob(os.path.join(PROJECT_ROOT, "training_config", "*.jsonnet"))
    if os.path.basename(path) not in OWN_TESTS
)


def test_every_experiment_has_a_config():
    names = {os.path.basename(path) for path in CONFIGS}
    assert {"source_mono.jsonnet", "cross_word.jsonnet", "cross_shared.jsonnet", "cross_augmented.jsonnet"} <= names


@pytest.mark.parametrize("config", CONFIGS, ids=os.path.basename)
@pytest.mark.parametrize("target", ["es", "de", "fr"])
def test_config_trains_on_tiny_data(config, target, tiny_data, tmp_path, monkeypatch):
    for name, value in {**tiny_data, "XLNER_TARGET": target, "XLNER_SELECTION": "target"}.items():
        monkeypatch.setenv(name, value)
    model = train_model_from_file(config, str(tmp_path / "run"))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epoch"] == 0 and metrics["training_loss"] > 0
    assert "best_validation_f1-measure-overall" in metrics
    assert os.path.isfile(tmp_path / "run" / "model.tar.gz")
    assert model.vocab.get_vocab_size("labels") > 1


def test_unknown_target_language_is_a_clear_error(tiny_data, tmp_path, monkeypatch):
    for name, value in {**tiny_data, "XLNER_TARGET": "xx"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match="XLNER_TARGET must be one of"):
        train_model_from_file(os.path.join(PROJECT_ROOT, "training_config", "cross_word.jsonnet"), str(tmp_path / "r"))
