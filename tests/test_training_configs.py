"""Every config under training_config/ builds and trains on the tiny generated data (allennlp-models' pattern)."""
import glob
import json
import os

import pytest
from allennlp.commands.train import train_model_from_file

from tests.conftest import PROJECT_ROOT

ALL_CONFIGS = sorted(glob.glob(os.path.join(PROJECT_ROOT, "training_config", "*.jsonnet")))
PARSER_CONFIGS = [path for path in ALL_CONFIGS if os.path.basename(path).startswith("parser_")]
CONFIGS = [path for path in ALL_CONFIGS if path not in PARSER_CONFIGS]


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


# Word-based configs run with and without gold UPOS; the delexicalised one always reads it.
PARSER_RUNS = [(path, False) for path in PARSER_CONFIGS] + [
    (path, True) for path in PARSER_CONFIGS if "delex" not in os.path.basename(path)
]


@pytest.mark.parametrize(
    "config,upos", PARSER_RUNS, ids=[os.path.basename(c) + ("+upos" if u else "") for c, u in PARSER_RUNS]
)
def test_parser_config_trains_one_batch_on_tiny_data(config, upos, tiny_data, tmp_path, monkeypatch):
    for name, value in tiny_data.items():
        monkeypatch.setenv(name, value)
    overrides = {"trainer.num_epochs": 1, "data_loader.batch_sampler.batch_size": 32}
    if upos:
        overrides.update({"model.upos_embedding_dim": 50, "model.encoder.input_size": 350})
    model = train_model_from_file(config, str(tmp_path / "run"), overrides=json.dumps(overrides))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epoch"] == 0 and metrics["training_loss"] > 0
    assert {"best_validation_LAS", "best_validation_conll18_LAS"} <= set(metrics)
    assert (model.upos_embedding is not None) == (upos or "delex" in config)
    assert (model.text_field_embedder is None) == ("delex" in config)
    assert model.vocab.get_vocab_size("dependency_relations") > 5


def test_every_parser_experiment_has_a_config():
    assert {"parser_word.jsonnet", "parser_delex.jsonnet"} <= {os.path.basename(path) for path in PARSER_CONFIGS}
