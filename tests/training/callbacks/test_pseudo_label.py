import json
import os
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Tuple

import pytest
from allennlp.commands.train import train_model
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.data import Batch, DatasetReader, Vocabulary
from allennlp.data.data_loaders import MultiProcessDataLoader
from allennlp.models import Model
from allennlp.training.callbacks.callback import TrainerCallback
from allennlp.training.checkpointer import Checkpointer

from xlner_allennlp.data.dataset_readers import (
    ConllReader,
    PseudoLabelledReader,
    read_conll_sentences,
)
from xlner_allennlp.tag_encoding import tags_to_spans
from xlner_allennlp.training.callbacks import PseudoLabelCallback
from xlner_allennlp.training.callbacks.pseudo_label import round_directory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cross_augmented"
EXPERIMENT = FIXTURES / "experiment.jsonnet"
SELF_TRAINING = FIXTURES / "self_training.jsonnet"
SOURCE = str(FIXTURES / "en.train.conll")
UNLABELLED = str(FIXTURES / "es.tokens")
SENTENCES = [sentence.tokens for sentence in read_conll_sentences(UNLABELLED)]
FIRST_FILE = os.path.join("pseudo_labels", "round_1", "pseudo_labelled.jsonl")


class SimulatedKill(Exception):
    """Stands in for the training process being killed."""


@TrainerCallback.register("xlner_test_probe", exist_ok=True)
class Probe(TrainerCallback):
    """Records, per training epoch, the languages of the training sentences, how many batches
    mixed languages and the pseudo-labelled file the reader was reading. In epoch
    `kill_in_epoch` it "kills" the run at its first batch, once per serialization directory (a
    marker file remembers the kill)."""

    def __init__(self, serialization_dir: str, kill_in_epoch: int = -1) -> None:
        super().__init__(serialization_dir)
        self.kill_in_epoch = kill_in_epoch
        self.languages: Counter = Counter()
        self.files: set = set()
        self.mixed_batches = 0

    def on_batch(self, trainer, batch_inputs, batch_outputs, batch_metrics, epoch, batch_number,
                 is_training, **kwargs):
        if not is_training:
            return
        marker = os.path.join(self.serialization_dir, "killed")
        if epoch == self.kill_in_epoch and not os.path.exists(marker):
            open(marker, "w").close()
            raise SimulatedKill(f"killed in epoch {epoch}")
        for batch in batch_inputs:
            languages = [meta["language"] for meta in batch["metadata"]]
            self.languages.update(languages)
            self.mixed_batches += len(set(languages)) > 1
        path = trainer.data_loader.reader.pseudo_labelled_path
        self.files.add(None if path is None else os.path.relpath(path, self.serialization_dir))

    def on_epoch(self, trainer, metrics, epoch, **kwargs):
        record = {
            "epoch": epoch,
            "languages": dict(self.languages),
            "files": sorted(self.files, key=str),
            "mixed_batches": self.mixed_batches,
        }
        with open(os.path.join(self.serialization_dir, "probe.jsonl"), "a") as handle:
            handle.write(json.dumps(record) + "\n")
        self.languages, self.files, self.mixed_batches = Counter(), set(), 0


def self_training_params(**probe: Any) -> Params:
    """The self-training fixture config with a `Probe` after the pseudo-label callback."""
    config = Params.from_file(str(SELF_TRAINING)).as_dict()
    config["trainer"]["callbacks"].append({"type": "xlner_test_probe", **probe})
    return Params(config)


def read_jsonl(path: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def round_files(serialization_dir: Path, round_number: int) -> Tuple[List[Dict], Dict[str, Any]]:
    """The pseudo-labelled sentences and the statistics of a round."""
    directory = Path(round_directory(str(serialization_dir), round_number))
    statistics = json.loads((directory / "statistics.json").read_text())
    return read_jsonl(directory / "pseudo_labelled.jsonl"), statistics


def up_to(threshold: int) -> List[int]:
    """Positions of the unlabelled sentences of at most `threshold` tokens."""
    return [index for index, tokens in enumerate(SENTENCES) if len(tokens) <= threshold]


@pytest.fixture(scope="module")
def tiny_model():
    """The fixture config's model (untrained) and a pseudo-labelled reader with its vocabulary."""
    params = Params.from_file(str(EXPERIMENT))
    reader_params = params.pop("dataset_reader")
    reader_params["pseudo_labelled_path"] = None
    reader = DatasetReader.from_params(reader_params)
    assert isinstance(reader, PseudoLabelledReader)
    instances = list(reader.read(SOURCE)) + list(reader.base_reader.read(UNLABELLED))
    vocab = Vocabulary.from_instances(instances)
    model = Model.from_params(vocab=vocab, params=params.pop("model"))
    return model, reader


def callback_for(tmp_path: Path, **kwargs: Any) -> PseudoLabelCallback:
    return PseudoLabelCallback(
        str(tmp_path), unlabelled_data_path=UNLABELLED, target_language="es", **kwargs
    )


# ----- schedule -----------------------------------------------------------------------------------


def test_rounds_follow_pretraining_and_the_last_round_stays(tmp_path):
    callback = callback_for(tmp_path, pretrain_epochs=2, rounds=3, epochs_per_round=2)
    rounds = [callback.round_for_epoch(epoch) for epoch in range(10)]
    assert rounds == [0, 0, 1, 1, 2, 2, 3, 3, 3, 3]


def test_length_bounds_in_quantiles_and_tokens(tmp_path):
    lengths = [len(tokens) for tokens in SENTENCES]  # 2, 4, 6, 8, 11, 1, 14, 5
    assert callback_for(tmp_path).length_bounds(lengths) == (1, 14)
    quartiles = callback_for(tmp_path, min_length=0.25, max_length=0.75)
    assert quartiles.length_bounds(lengths) == (4, 8)
    tokens = callback_for(tmp_path, length_unit="tokens", min_length=3, max_length=9)
    assert tokens.length_bounds(lengths) == (3, 9)


def test_threshold_is_redrawn_each_round_within_bounds_and_fixed_by_the_seed(tmp_path):
    def thresholds(seed: int) -> List[int]:
        callback = callback_for(tmp_path, seed=seed)
        return [callback.draw_threshold(round_number, 3, 40) for round_number in range(1, 51)]

    drawn = thresholds(5)
    assert all(3 <= threshold <= 40 for threshold in drawn)
    assert len(set(drawn)) > 10
    assert drawn == thresholds(5)
    assert drawn != thresholds(6)
    assert callback_for(tmp_path).draw_threshold(1, 7, 7) == 7


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pretrain_epochs": 0}, "pretrain_epochs must be at least 1"),
        ({"rounds": 0}, "rounds and epochs_per_round"),
        ({"length_unit": "words"}, "length_unit must be one of"),
        ({"min_length": 0.8, "max_length": 0.5}, "quantiles need"),
        ({"length_unit": "tokens", "min_length": 2.5, "max_length": 9}, "token lengths need"),
        ({"min_confidence": 1.5}, "min_confidence must be in"),
        ({"num_epochs": 0}, "num_epochs must be at least 1"),
    ],
)
def test_bad_settings_are_configuration_errors(tmp_path, kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        callback_for(tmp_path, **kwargs)


def test_no_round_is_labelled_for_an_epoch_that_will_not_run(tmp_path, monkeypatch):
    callback = callback_for(tmp_path, pretrain_epochs=1, rounds=3, epochs_per_round=1, num_epochs=3)
    started = []
    monkeypatch.setattr(callback, "_reader", lambda trainer: None)
    monkeypatch.setattr(
        callback, "start_round", lambda model, reader, round_number, first_epoch: started.append(round_number)
    )
    trainer = SimpleNamespace(model=None)
    for epoch in range(3):
        callback.on_epoch(trainer, {}, epoch)
        callback.round = callback.round_for_epoch(epoch + 1)
    # Epochs 0, 1, 2 run: rounds 1 and 2 start before epochs 1 and 2; round 3 (epoch 3) never.
    assert started == [1, 2]


def test_models_that_cannot_pseudo_label_are_refused(tmp_path):
    trainer = SimpleNamespace(model=object(), data_loader=None)
    with pytest.raises(ConfigurationError, match="PseudoLabeller"):
        callback_for(tmp_path).on_start(trainer)


# ----- one round ----------------------------------------------------------------------------------


def test_round_labels_exactly_the_sentences_up_to_the_threshold(tmp_path, tiny_model):
    model, reader = tiny_model
    callback = callback_for(tmp_path, length_unit="tokens", min_length=4, max_length=8, seed=3)
    model.train()
    statistics = callback.start_round(model, reader, 1, first_epoch=1)
    assert model.training  # tagged in eval mode, then restored
    threshold = statistics["threshold"]
    assert 4 <= threshold <= 8 and statistics["threshold_range"] == [4, 8]
    records, written = round_files(tmp_path, 1)
    assert written == statistics
    assert [record["index"] for record in records] == up_to(threshold)
    assert [record["words"] for record in records] == [SENTENCES[i] for i in up_to(threshold)]
    assert all(record["language"] == "es" for record in records)
    assert all(len(record["tags"]) == len(record["words"]) for record in records)
    assert statistics["sentences"] == statistics["selected_sentences"] == len(up_to(threshold))
    assert statistics["unlabelled_sentences"] == len(SENTENCES)
    assert reader.pseudo_labelled_path == str(tmp_path / FIRST_FILE)
    state = callback.state_dict()
    assert state == {
        "round": 1,
        "threshold": threshold,
        "pseudo_labelled_file": FIRST_FILE,
        "sha256": statistics["sha256"],
    }
    # Written atomically: no temporary file is left behind.
    assert sorted(os.listdir(tmp_path / "pseudo_labels" / "round_1")) == [
        "pseudo_labelled.jsonl",
        "statistics.json",
    ]


def test_tags_come_from_the_source_path(tmp_path, tiny_model):
    model, reader = tiny_model
    tagged = callback_for(tmp_path, batch_size=3).tag_with_source_path(model, reader, SENTENCES)
    model.eval()
    for tokens, (tags, confidence) in zip(SENTENCES, tagged):
        instance = reader.text_to_instance(tokens, None, "es")
        reader.apply_token_indexers(instance)
        batch = Batch([instance])
        batch.index_instances(model.vocab)
        output = model(**batch.as_tensor_dict(), tagging_path="source")
        assert tags == model.make_output_human_readable(output)["tags"][0]
        assert confidence == pytest.approx(float(output["confidence"][0]), abs=1e-6)


def test_other_models_tag_with_their_own_forward(tmp_path, tiny_model):
    vocab, reader = tiny_model[0].vocab, tiny_model[1]
    characters = {
        "type": "character_encoding",
        "embedding": {"embedding_dim": 3, "vocab_namespace": "token_characters"},
        "encoder": {"type": "lstm", "input_size": 3, "hidden_size": 2},
    }
    params = {
        "type": "xlner_crf_tagger",
        "text_field_embedder": {
            "token_embedders": {
                "tokens": {"type": "embedding", "embedding_dim": 4},
                "token_characters": characters,
            }
        },
        "encoder": {"type": "lstm", "input_size": 6, "hidden_size": 3, "bidirectional": True},
    }
    model = Model.from_params(vocab=vocab, params=Params(params))
    tagged = callback_for(tmp_path).tag_with_source_path(model, reader, SENTENCES)
    instances = [reader.text_to_instance(tokens, None, "es") for tokens in SENTENCES]
    for instance in instances:
        reader.apply_token_indexers(instance)
    model.eval()
    outputs = model.forward_on_instances(instances)
    assert [tags for tags, _ in tagged] == [output["tags"] for output in outputs]
    expected = [float(output["confidence"]) for output in outputs]
    assert [confidence for _, confidence in tagged] == pytest.approx(expected, abs=1e-6)


def capitalized_as_persons(tokens: List[str]) -> List[str]:
    """Deterministic stand-in tagger (BIOUL): each run of capitalized words is a person."""
    tags = []
    for index, word in enumerate(tokens):
        if not word[:1].isupper():
            tags.append("O")
            continue
        starts = index == 0 or not tokens[index - 1][:1].isupper()
        ends = index + 1 == len(tokens) or not tokens[index + 1][:1].isupper()
        prefixes = {(True, True): "U", (True, False): "B", (False, True): "L"}
        prefix = prefixes.get((starts, ends), "I")
        tags.append(prefix + "-PER")
    return tags


@pytest.mark.parametrize("min_confidence", [None, 0.2])
def test_statistics_describe_the_written_set(tmp_path, tiny_model, monkeypatch, min_confidence):
    model, reader = tiny_model
    callback = callback_for(
        tmp_path, length_unit="tokens", min_length=14, max_length=14, min_confidence=min_confidence
    )
    # Confidence 1 / length: the filter at 0.2 keeps the sentences of at most 5 tokens.
    def rule_tagger(model, reader, sentences):
        return [(capitalized_as_persons(s), 1 / len(s)) for s in sentences]

    monkeypatch.setattr(callback, "tag_with_source_path", rule_tagger)
    statistics = callback.start_round(model, reader, 2, first_epoch=3)
    records, _ = round_files(tmp_path, 2)
    kept = [s for s in SENTENCES if min_confidence is None or 1 / len(s) >= min_confidence]
    assert len(kept) == (8 if min_confidence is None else 4)
    assert [record["words"] for record in records] == kept
    assert [record["tags"] for record in records] == [capitalized_as_persons(s) for s in kept]
    persons = sum(len(tags_to_spans(capitalized_as_persons(s), "BIOUL")) for s in kept)
    assert persons > 0
    assert (statistics["round"], statistics["first_epoch"], statistics["threshold"]) == (2, 3, 14)
    assert statistics["selected_sentences"] == len(SENTENCES)
    assert statistics["sentences"] == len(kept)
    assert statistics["tokens"] == sum(len(s) for s in kept)
    assert statistics["entities"] == {"PER": persons} and statistics["entities_total"] == persons
    mean = sum(1 / len(s) for s in kept) / len(kept)
    assert statistics["mean_confidence"] == pytest.approx(mean)
    assert statistics["label_encoding"] == "BIOUL"


# ----- the loader and recovery checks -------------------------------------------------------------


def test_reader_and_loader_are_checked(tmp_path, tiny_model):
    model, reader = tiny_model
    callback = callback_for(tmp_path)
    caching = MultiProcessDataLoader(reader, SOURCE, batch_size=2)
    with pytest.raises(ConfigurationError, match="caches its instances"):
        callback.on_start(SimpleNamespace(model=model, data_loader=caching))
    plain = MultiProcessDataLoader(ConllReader(), SOURCE, batch_size=2, max_instances_in_memory=10)
    with pytest.raises(ConfigurationError, match="reader to be xlner_pseudo_labelled"):
        callback.on_start(SimpleNamespace(model=model, data_loader=plain))


def test_recovery_needs_the_unchanged_file_of_the_current_round(tmp_path, tiny_model):
    model, reader = tiny_model
    loader = SimpleNamespace(
        model=model,
        data_loader=MultiProcessDataLoader(reader, SOURCE, batch_size=2, max_instances_in_memory=9),
    )
    labelled = callback_for(tmp_path)
    labelled.start_round(model, reader, 1, first_epoch=1)
    state = labelled.state_dict()
    reader.set_pseudo_labelled_path(None)

    recovered = callback_for(tmp_path)
    recovered.load_state_dict(state)
    recovered.on_start(loader)
    assert reader.pseudo_labelled_path == str(tmp_path / FIRST_FILE)

    with open(tmp_path / FIRST_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"words": ["x"], "tags": ["O"], "language": "es"}) + "\n")
    with pytest.raises(ConfigurationError, match="cannot resume round 1: .* changed"):
        recovered.on_start(loader)
    os.remove(tmp_path / FIRST_FILE)
    with pytest.raises(ConfigurationError, match="cannot resume round 1: .* missing"):
        recovered.on_start(loader)


# ----- training runs ------------------------------------------------------------------------------


def check_rounds(serialization_dir: Path) -> Dict[int, Dict[str, Any]]:
    """Checks both rounds' files of a finished self-training run (1 + 2 x 2 epochs) and that each
    epoch trained on the English sentences plus exactly its round's sentences."""
    rounds = {}
    for round_number in (1, 2):
        records, statistics = round_files(serialization_dir, round_number)
        threshold = statistics["threshold"]
        # Quantiles 0.25 and 1 of the lengths 1, 2, 4, 5, 6, 8, 11, 14.
        assert statistics["threshold_range"] == [4, 14] and 4 <= threshold <= 14
        assert [record["index"] for record in records] == up_to(threshold)
        assert statistics["sentences"] == len(records)
        assert statistics["first_epoch"] == 2 * round_number - 1
        rounds[round_number] = {"threshold": threshold, "indices": up_to(threshold)}
    assert not os.path.exists(round_directory(str(serialization_dir), 3))
    probes = read_jsonl(serialization_dir / "probe.jsonl")
    assert [probe["epoch"] for probe in probes] == [0, 1, 2, 3, 4]
    for probe, round_number in zip(probes, [0, 1, 1, 2, 2]):
        assert probe["languages"]["en"] == 8
        if round_number == 0:
            assert "es" not in probe["languages"] and probe["files"] == [None]
        else:
            assert probe["languages"]["es"] == len(rounds[round_number]["indices"])
            file = os.path.join("pseudo_labels", f"round_{round_number}", "pseudo_labelled.jsonl")
            assert probe["files"] == [file]
    return rounds


@pytest.fixture(scope="module")
def uninterrupted_run(tmp_path_factory) -> Path:
    serialization_dir = tmp_path_factory.mktemp("uninterrupted") / "run"
    train_model(self_training_params(), str(serialization_dir))
    return serialization_dir


def test_rounds_write_their_files_and_the_loader_sees_each_round(uninterrupted_run):
    rounds = check_rounds(uninterrupted_run)
    assert rounds[1]["threshold"] != rounds[2]["threshold"]
    # Shuffled batches mix English and pseudo-labelled Spanish sentences.
    probes = read_jsonl(uninterrupted_run / "probe.jsonl")
    assert sum(probe["mixed_batches"] for probe in probes) > 0
    assert (uninterrupted_run / "model.tar.gz").is_file()


def test_recovery_continues_the_round_with_the_same_set(tmp_path, uninterrupted_run):
    serialization_dir = tmp_path / "run"
    with pytest.raises(SimulatedKill):
        train_model(self_training_params(kill_in_epoch=2), str(serialization_dir))
    # Killed in the second epoch of round 1: round 1 is labelled, round 2 is not, and the last
    # checkpoint (after epoch 1) is in round 1.
    first_file = serialization_dir / FIRST_FILE
    before = (first_file.read_bytes(), first_file.stat().st_mtime_ns)
    assert not os.path.exists(round_directory(str(serialization_dir), 2))
    _, training_state = Checkpointer(str(serialization_dir)).load_checkpoint()
    assert training_state["epochs_completed"] == 2
    assert training_state["callbacks"][0]["round"] == 1

    train_model(self_training_params(kill_in_epoch=2), str(serialization_dir), recover=True)
    assert (first_file.read_bytes(), first_file.stat().st_mtime_ns) == before  # not relabelled
    # The schedule depends on (seed, round) only: the same thresholds and sets as without a kill.
    assert check_rounds(serialization_dir) == check_rounds(uninterrupted_run)
    assert json.loads((serialization_dir / "metrics.json").read_text())["epoch"] == 4
