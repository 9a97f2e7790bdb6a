"""cross_augmented_multi.jsonnet: one Cross-Augmented model for several target languages, trained
on the tiny generated data; its archive tags sentences of every target, and a language left out of
training is tagged by plugging it in through overrides."""
import json
import os
from pathlib import Path
from typing import Any, Dict, List

import pytest
from allennlp.commands.train import train_model_from_file
from allennlp.common import Params
from allennlp.predictors import Predictor

from tests.conftest import PROJECT_ROOT
from tests.tiny_data import sentences
from xlner_allennlp import data_layout
from xlner_allennlp.commands.evaluate_language import evaluate_language
from xlner_allennlp.training.callbacks.pseudo_label import round_directory

CONFIG = os.path.join(PROJECT_ROOT, "training_config", "cross_augmented_multi.jsonnet")
LIBRARY = os.path.join(PROJECT_ROOT, "training_config", "cross_augmented.libsonnet")
TARGETS = ["es", "nl", "de", "fr"]
# Two epochs: one of pretraining, then one round.
SHORT = {
    "trainer.num_epochs": 2,
    "trainer.callbacks.0.num_epochs": 2,
    "trainer.callbacks.0.pretrain_epochs": 1,
    "trainer.callbacks.0.rounds": 1,
    "trainer.callbacks.0.epochs_per_round": 1,
}


@pytest.fixture(autouse=True)
def environment(tiny_data, monkeypatch):
    monkeypatch.delenv("XLNER_TARGET", raising=False)  # the config reads no target language
    for name, value in tiny_data.items():
        monkeypatch.setenv(name, value)


def tokens_of(language: str) -> List[str]:
    return [word for word, _ in sentences(language, 1, 99)[0]]


def test_targets_and_hyperparameters_are_plain_values(tiny_data):
    params = Params.from_file(CONFIG).as_dict()
    assert params["trainer"]["num_epochs"] == 12
    assert params["random_seed"] == params["numpy_seed"] == params["pytorch_seed"] == 13
    model = params["model"]
    assert model["target_encoders"] == "per_language" and model["target_languages"] == TARGETS
    assert sorted(model["text_field_embedder"]["token_embedders"]["tokens"]["languages"]) == sorted(["en"] + TARGETS)
    callback = params["trainer"]["callbacks"][0]
    assert [target["language"] for target in callback["targets"]] == TARGETS
    data = tiny_data["XLNER_DATA"]
    assert callback["targets"][2] == {
        "language": "de",
        "unlabelled_data_path": data_layout.path("de", "unlabelled", data),
        "encoding": data_layout.encoding("de", "unlabelled"),
    }
    assert callback["pretrain_epochs"] + callback["rounds"] * callback["epochs_per_round"] == 12
    assert callback["seed"] == params["random_seed"]
    # The same schedule and model as the one-target config.
    single = Params.from_file(os.path.join(PROJECT_ROOT, "training_config", "cross_augmented.jsonnet"),
                              ext_vars={"XLNER_TARGET": "es"}).as_dict()
    assert {k: v for k, v in single["trainer"]["callbacks"][0].items() if k not in ("unlabelled_data_path", "target_language", "encoding", "type")} == \
        {k: v for k, v in callback.items() if k not in ("targets", "type")}
    assert {k: v for k, v in single["model"].items() if k != "text_field_embedder"} == \
        {k: v for k, v in model.items() if k not in ("text_field_embedder", "target_encoders", "target_languages")}
    shared = Params.from_file(CONFIG, json.dumps({"model.target_encoders": "shared"})).as_dict()
    assert shared["model"]["target_encoders"] == "shared"


def test_a_bad_target_list_is_a_clear_error(tmp_path):
    config = tmp_path / "bad.jsonnet"
    config.write_text(f"(import {json.dumps(LIBRARY)}).multi(['es', 'xx'], 'shared')")
    with pytest.raises(RuntimeError, match="targets must be distinct languages of de, es, fr, nl"):
        Params.from_file(str(config))


def train(config: str, directory: Path, **overrides: Any):
    return train_model_from_file(config, str(directory), overrides=json.dumps({**SHORT, **overrides}))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["per_language", "shared"])
def test_one_model_trains_on_every_target_and_tags_each(mode, tmp_path):
    model = train(CONFIG, tmp_path / "run", **{"model.target_encoders": mode})
    assert model.target_encoders == mode
    if mode == "per_language":
        assert sorted(model.target_paths) == sorted(TARGETS)
    statistics = json.loads((Path(round_directory(str(tmp_path / "run"), 1)) / "statistics.json").read_text())
    assert list(statistics["languages"]) == TARGETS
    assert all(statistics["languages"][language]["sentences"] > 0 for language in TARGETS)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["pseudo_label_round"] == 1
    assert metrics["pseudo_label_fr_threshold"] == statistics["languages"]["fr"]["threshold"]
    # One archive tags sentences of two languages, each through its own target path.
    predictor = Predictor.from_path(str(tmp_path / "run" / "model.tar.gz"), "xlner_tagger")
    inputs = [{"tokens": tokens_of(language), "language": language} for language in ("es", "de")]
    outputs = predictor.predict_batch_json(inputs)
    for given, output in zip(inputs, outputs):
        assert output["tokens"] == given["tokens"]
        assert len(output["tags"]) == len(given["tokens"])
    instance = predictor._json_to_instance(inputs[1])
    assert predictor._model.forward_on_instance(instance)["path"] == "target"


@pytest.mark.slow
def test_a_language_left_out_of_training_is_tagged_when_plugged_in(tiny_data, tmp_path):
    config = tmp_path / "three.jsonnet"
    config.write_text(f"(import {json.dumps(LIBRARY)}).multi(['es', 'nl', 'de'], 'per_language')")
    train(str(config), tmp_path / "run")
    archive = str(tmp_path / "run" / "model.tar.gz")
    data = tiny_data["XLNER_DATA"]
    spec = {
        "vectors": data_layout.path("fr", "vectors", data),
        "alignment": os.path.join(tiny_data["XLNER_ALIGNMENTS"], "fr-en"),
        "side": "mapped",
    }
    overrides: Dict[str, Any] = {
        "model.text_field_embedder.token_embedders.tokens.languages.fr": spec,
        "validation_dataset_reader.token_indexers.tokens.languages.fr": spec,
    }
    predictor = Predictor.from_path(archive, "xlner_tagger", overrides=overrides)
    french = {"tokens": tokens_of("fr"), "language": "fr"}
    output = predictor.predict_json(french)
    assert output["tokens"] == french["tokens"] and len(output["tags"]) == len(french["tokens"])
    # French has no target model of its own: the source path tags it.
    instance = predictor._json_to_instance(french)
    assert predictor._model.forward_on_instance(instance)["path"] == "source"
    metrics = evaluate_language(
        archive, "fr", data_layout.path("fr", "dev", data), vectors=spec["vectors"], alignment=spec["alignment"],
        encoding=data_layout.encoding("fr"),
    )
    assert 0.0 <= metrics["f1-measure-overall"] <= 1.0
