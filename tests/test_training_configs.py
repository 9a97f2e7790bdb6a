"""Every config under training_config/ builds and trains on the tiny generated data (allennlp-models'
pattern); the configs hold their own hyperparameters and read only machine paths and the target
language from the environment."""
import glob
import json
import os
import subprocess
import sys
import textwrap

import pytest
from allennlp.commands.train import train_model_from_file
from allennlp.common import Params
from allennlp.data import DatasetReader, Vocabulary

import xlner_allennlp.plugin  # noqa: F401  registers the components the configs name
from tests.conftest import PROJECT_ROOT
from xlner_allennlp import data_layout

# Configs that are not NER experiments over the tiny data, each tested where its fixtures are built:
# bilm.jsonnet and bilm_anchored.jsonnet (language models) in tests/models/test_bilm.py,
# cross_elmo.jsonnet and parser_elmo.jsonnet (need ELMo, anchor and alignment artifacts) in
# tests/test_cross_elmo_config.py,
# multitask_bwe.jsonnet (comparable document pairs) in tests/models/test_multitask_bwe.py,
# cross_augmented_multi.jsonnet (several targets, no XLNER_TARGET) in
# tests/test_cross_augmented_multi_config.py.
OWN_TESTS = {"bilm.jsonnet", "bilm_anchored.jsonnet", "cross_elmo.jsonnet", "parser_elmo.jsonnet",
             "multitask_bwe.jsonnet", "cross_augmented_multi.jsonnet"}
ALL_CONFIGS = sorted(glob.glob(os.path.join(PROJECT_ROOT, "training_config", "*.jsonnet")))
PARSER_CONFIGS = [path for path in ALL_CONFIGS
                  if os.path.basename(path).startswith("parser_") and os.path.basename(path) not in OWN_TESTS]
CONFIGS = [path for path in ALL_CONFIGS if path not in PARSER_CONFIGS and os.path.basename(path) not in OWN_TESTS]
CROSS_AUGMENTED = os.path.join(PROJECT_ROOT, "training_config", "cross_augmented.jsonnet")


def _environment(monkeypatch, tiny_data, target):
    for name, value in {**tiny_data, "XLNER_TARGET": target}.items():
        monkeypatch.setenv(name, value)


def test_every_experiment_has_a_config():
    names = {os.path.basename(path) for path in CONFIGS}
    assert {"source_mono.jsonnet", "cross_word.jsonnet", "cross_shared.jsonnet", "cross_augmented.jsonnet"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS, ids=os.path.basename)
@pytest.mark.parametrize("target", ["es", "de", "fr"])
def test_config_trains_on_tiny_data(config, target, tiny_data, tmp_path, monkeypatch):
    _environment(monkeypatch, tiny_data, target)
    overrides = {"trainer.num_epochs": 1, **data_layout.selection_overrides(target, tiny_data["XLNER_DATA"])}
    model = train_model_from_file(config, str(tmp_path / "run"), overrides=json.dumps(overrides))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epoch"] == 0 and metrics["training_loss"] > 0
    assert "best_validation_f1-measure-overall" in metrics
    assert os.path.isfile(tmp_path / "run" / "model.tar.gz")
    assert model.vocab.get_vocab_size("labels") > 1


def test_hyperparameters_are_plain_values_with_defaults_overridable_with_o(tiny_data, monkeypatch):
    _environment(monkeypatch, tiny_data, "es")
    for config in CONFIGS:
        params = Params.from_file(config).as_dict()
        assert params["trainer"]["num_epochs"] == 12
        assert params["random_seed"] == params["numpy_seed"] == params["pytorch_seed"] == 13
        assert params["validation_data_path"] == data_layout.path("en", "dev", tiny_data["XLNER_DATA"])
        overridden = Params.from_file(config, json.dumps({"trainer.num_epochs": 2, "random_seed": 7})).as_dict()
        assert overridden["trainer"]["num_epochs"] == 2 and overridden["random_seed"] == 7
    augmented = Params.from_file(CROSS_AUGMENTED).as_dict()
    assert augmented["dataset_reader"]["base_reader"]["max_instances"] is None
    callback = augmented["trainer"]["callbacks"][0]
    # The self-training schedule fills the trainer's epochs exactly.
    assert callback["pretrain_epochs"] + callback["rounds"] * callback["epochs_per_round"] == 12
    assert callback["seed"] == augmented["random_seed"]


def test_params_load_without_the_plugin_and_a_missing_variable_is_named(tiny_data):
    script = textwrap.dedent(f"""
        import sys
        from allennlp.common import Params
        params = Params.from_file({CROSS_AUGMENTED!r})
        assert not any(name.startswith("xlner_allennlp") for name in sys.modules), "plugin imported"
        print(params["trainer"]["num_epochs"])
    """)
    base = {name: value for name, value in os.environ.items() if not name.startswith("XLNER_")}
    env = {**base, **tiny_data, "XLNER_TARGET": "fr"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "12"
    del env["XLNER_ALIGNMENTS"]
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0 and "undefined external variable: XLNER_ALIGNMENTS" in result.stderr


def test_target_characters_unseen_in_english_get_their_own_id(tiny_data, monkeypatch):
    """Cross-Augmented's vocabulary adds the unlabelled French text's characters, and nothing else."""
    _environment(monkeypatch, tiny_data, "fr")
    params = Params.from_file(CROSS_AUGMENTED)
    assert "test_data_path" not in params
    reader = DatasetReader.from_params(params["dataset_reader"]["base_reader"].duplicate())
    english = list(reader.read(params["train_data_path"]))
    english_only = Vocabulary.from_instances(english)
    vocab = Vocabulary.from_params(params.pop("vocabulary"), instances=english)
    oov = vocab.get_token_index(vocab._oov_token, "token_characters")
    assert english_only.get_token_index("à", "token_characters") == oov  # no "à" in the English text
    assert vocab.get_token_index("à", "token_characters") not in (0, oov)
    english_characters = set(english_only.get_token_to_index_vocabulary("token_characters"))
    assert english_characters < set(vocab.get_token_to_index_vocabulary("token_characters"))
    # Only characters come from the unlabelled text: the other namespaces are the English ones.
    assert vocab.get_token_to_index_vocabulary("labels") == english_only.get_token_to_index_vocabulary("labels")


def test_unknown_target_language_is_a_clear_error(tiny_data, tmp_path, monkeypatch):
    _environment(monkeypatch, tiny_data, "xx")
    with pytest.raises(RuntimeError, match="XLNER_TARGET must be one of de, es, fr, nl"):
        train_model_from_file(os.path.join(PROJECT_ROOT, "training_config", "cross_word.jsonnet"), str(tmp_path / "r"))


# Word-based configs run with and without gold UPOS; the delexicalised one always reads it.
PARSER_RUNS = [(path, False) for path in PARSER_CONFIGS] + [
    (path, True) for path in PARSER_CONFIGS if "delex" not in os.path.basename(path)
]


@pytest.mark.parametrize(
    "config,upos", PARSER_RUNS, ids=[os.path.basename(c) + ("+upos" if u else "") for c, u in PARSER_RUNS]
)
def test_parser_config_trains_one_batch_on_tiny_data(config, upos, tiny_data, tmp_path, monkeypatch):
    _environment(monkeypatch, tiny_data, "es")
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


@pytest.mark.parametrize("config", ["parser_word", "parser_delex"])
def test_a_parser_is_selected_on_a_target_treebank_by_overrides(config, tiny_data, tmp_path, monkeypatch):
    """XLNER_TARGET names the language whose vectors the model holds; `treebank_selection_overrides`
    validate on that treebank's dev set, read as the target language."""
    _environment(monkeypatch, tiny_data, "fr")
    overrides = {"trainer.num_epochs": 1, "data_loader.batch_sampler.batch_size": 32,
                 **data_layout.treebank_selection_overrides("fr_gsd", tiny_data["XLNER_DATA"])}
    path = os.path.join(PROJECT_ROOT, "training_config", f"{config}.jsonnet")
    params = Params.from_file(path, json.dumps(overrides)).as_dict()
    assert params["validation_data_path"] == data_layout.treebank("fr_gsd", "dev", tiny_data["XLNER_DATA"])
    assert params["validation_dataset_reader"]["language"] == "fr" and params["dataset_reader"]["language"] == "en"
    if config == "parser_word":
        assert set(params["model"]["text_field_embedder"]["token_embedders"]["tokens"]["languages"]) == {"en", "fr"}
    train_model_from_file(path, str(tmp_path / "run"), overrides=json.dumps(overrides))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 0 <= metrics["best_validation_LAS"] <= metrics["best_validation_UAS"] <= 1


def test_a_parser_config_names_an_unknown_target_language(tiny_data, tmp_path, monkeypatch):
    _environment(monkeypatch, tiny_data, "xx")
    with pytest.raises(RuntimeError, match="XLNER_TARGET must be one of de, es, fr, nl"):
        Params.from_file(os.path.join(PROJECT_ROOT, "training_config", "parser_word.jsonnet"))


def test_every_parser_experiment_has_a_config():
    assert {"parser_word.jsonnet", "parser_word_unaligned.jsonnet", "parser_delex.jsonnet", "parser_elmo.jsonnet"} <= {
        os.path.basename(path) for path in ALL_CONFIGS
    }


@pytest.mark.parametrize("name,aligned", [("parser_word", True), ("parser_word_unaligned", False)])
def test_parser_word_configs_differ_only_in_the_alignment(name, aligned, tiny_data, monkeypatch):
    _environment(monkeypatch, tiny_data, "es")
    config = Params.from_file(os.path.join(PROJECT_ROOT, "training_config", f"{name}.jsonnet")).as_dict()
    embedder = config["model"]["text_field_embedder"]["token_embedders"]["tokens"]["languages"]
    indexer = config["dataset_reader"]["token_indexers"]["tokens"]["languages"]
    assert embedder == indexer and set(embedder) == {"en", "es"}
    assert all(("alignment" in spec) == aligned for spec in embedder.values())
