import copy
import json
import os
import random
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
from xlner_allennlp.training.callbacks import PseudoLabelCallback, UnlabelledText
from xlner_allennlp.training.callbacks.pseudo_label import round_directory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cross_augmented"
EXPERIMENT = FIXTURES / "experiment.jsonnet"
SELF_TRAINING = FIXTURES / "self_training.jsonnet"
SOURCE = str(FIXTURES / "en.train.conll")
UNLABELLED = str(FIXTURES / "es.tokens")
SENTENCES = [sentence.tokens for sentence in read_conll_sentences(UNLABELLED)]
# A second target, in Latin-1: German sentences of 4, 1, 7, 6, 3 and 10 tokens.
GERMAN = str(FIXTURES / "de.latin1.tokens")
GERMAN_SENTENCES = [sentence.tokens for sentence in read_conll_sentences(GERMAN, "latin-1")]
TWO_TARGETS = [
    {"language": "es", "unlabelled_data_path": UNLABELLED},
    {"language": "de", "unlabelled_data_path": GERMAN, "encoding": "latin-1"},
]
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


def up_to(threshold: int, sentences: List[List[str]] = SENTENCES) -> List[int]:
    """Positions of the unlabelled sentences (Spanish by default) of at most `threshold` tokens."""
    return [index for index, tokens in enumerate(sentences) if len(tokens) <= threshold]


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


def two_target_callback(tmp_path: Path, **kwargs: Any) -> PseudoLabelCallback:
    """Spanish and Latin-1 German, as a config gives them."""
    params = Params({"type": "xlner_pseudo_label", "targets": copy.deepcopy(TWO_TARGETS), **kwargs})
    return TrainerCallback.from_params(params, serialization_dir=str(tmp_path))


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
        return [callback.draw_thresholds(round_number, [(3, 40)])[0] for round_number in range(1, 51)]

    drawn = thresholds(5)
    assert all(3 <= threshold <= 40 for threshold in drawn)
    assert len(set(drawn)) > 10
    assert drawn == thresholds(5)
    assert drawn != thresholds(6)
    assert callback_for(tmp_path).draw_thresholds(1, [(7, 7)]) == [7]
    # The single-target schedule of records measured before several targets existed.
    assert thresholds(13)[:3] == [random.Random(f"xlner_pseudo_label:13:{r}").randint(3, 40) for r in (1, 2, 3)]


def test_each_target_draws_its_own_threshold_in_its_own_bounds(tmp_path):
    callback = two_target_callback(tmp_path, seed=5)
    bounds = [(3, 40), (100, 200)]
    draws = [callback.draw_thresholds(round_number, bounds) for round_number in range(1, 41)]
    assert all(3 <= es <= 40 and 100 <= de <= 200 for es, de in draws)
    assert len({de for _, de in draws}) > 10  # redrawn every round
    # The first target draws what it would draw alone.
    assert [es for es, _ in draws] == [callback_for(tmp_path, seed=5).draw_thresholds(r, [(3, 40)])[0]
                                       for r in range(1, 41)]
    assert draws == [callback.draw_thresholds(round_number, bounds) for round_number in range(1, 41)]


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
        ({"target_language": None}, "no target"),
        ({"targets": [UnlabelledText("es", UNLABELLED)]}, "either targets or target_language"),
    ],
)
def test_bad_settings_are_configuration_errors(tmp_path, kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        PseudoLabelCallback(
            str(tmp_path), **{"unlabelled_data_path": UNLABELLED, "target_language": "es", **kwargs}
        )


def test_a_target_language_appears_once(tmp_path):
    with pytest.raises(ConfigurationError, match="each target language may appear once"):
        PseudoLabelCallback(str(tmp_path), targets=[UnlabelledText("es", UNLABELLED)] * 2)


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
    spanish = statistics["languages"]["es"]
    threshold = spanish["threshold"]
    assert 4 <= threshold <= 8 and spanish["threshold_range"] == [4, 8]
    assert list(statistics["languages"]) == ["es"]
    records, written = round_files(tmp_path, 1)
    assert written == statistics
    assert [record["index"] for record in records] == up_to(threshold)
    assert [record["words"] for record in records] == [SENTENCES[i] for i in up_to(threshold)]
    assert all(record["language"] == "es" for record in records)
    assert all(len(record["tags"]) == len(record["words"]) for record in records)
    assert statistics["sentences"] == statistics["selected_sentences"] == len(up_to(threshold))
    assert spanish["sentences"] == spanish["selected_sentences"] == len(up_to(threshold))
    assert statistics["unlabelled_sentences"] == spanish["unlabelled_sentences"] == len(SENTENCES)
    assert reader.pseudo_labelled_path == str(tmp_path / FIRST_FILE)
    state = callback.state_dict()
    assert state == {
        "round": 1,
        "thresholds": {"es": threshold},
        "statistics": {"es": spanish},
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
    tagged = callback_for(tmp_path, batch_size=3).tag_with_source_path(model, reader, SENTENCES, "es")
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
    tagged = callback_for(tmp_path).tag_with_source_path(model, reader, SENTENCES, "es")
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
    def rule_tagger(model, reader, sentences, language):
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
    spanish = statistics["languages"]["es"]
    assert (statistics["round"], statistics["first_epoch"], spanish["threshold"]) == (2, 3, 14)
    mean = sum(1 / len(s) for s in kept) / len(kept)
    for totals in (statistics, spanish):  # one target: its statistics are the totals
        assert totals["selected_sentences"] == len(SENTENCES)
        assert totals["sentences"] == len(kept)
        assert totals["tokens"] == sum(len(s) for s in kept)
        assert totals["entities"] == {"PER": persons} and totals["entities_total"] == persons
        assert totals["mean_confidence"] == pytest.approx(mean)
    assert statistics["label_encoding"] == "BIOUL"


def test_several_targets_have_their_own_thresholds_sentences_and_statistics(tmp_path, tiny_model, monkeypatch):
    model, reader = tiny_model
    # num_epochs=1: on_epoch starts no round of its own here.
    callback = two_target_callback(
        tmp_path, min_length=0.25, max_length=1.0, seed=3, min_confidence=0.2, num_epochs=1
    )
    tagged_languages = []

    def rule_tagger(model, reader, sentences, language):
        tagged_languages.append(language)
        return [(capitalized_as_persons(s), 1 / len(s)) for s in sentences]

    monkeypatch.setattr(callback, "tag_with_source_path", rule_tagger)
    metrics: Dict[str, Any] = {}
    for round_number in (1, 2, 3):
        statistics = callback.start_round(model, reader, round_number, first_epoch=round_number)
        records, written = round_files(tmp_path, round_number)
        assert written == statistics
        es, de = statistics["languages"]["es"], statistics["languages"]["de"]
        # Quantiles 0.25 and 1 of each language's own lengths (es 1, 2, 4, 5, 6, 8, 11, 14; de 1, 3, 4, 6, 7, 10).
        assert es["threshold_range"] == [4, 14] and de["threshold_range"] == [3, 10]
        assert [es["threshold"], de["threshold"]] == callback.draw_thresholds(round_number, [(4, 14), (3, 10)])
        assert de["unlabelled_data_path"] == GERMAN and de["unlabelled_sentences"] == 6
        # Targets in order; each record's index is its position in its own language's file.
        kept = {
            "es": [i for i in up_to(es["threshold"]) if 1 / len(SENTENCES[i]) >= 0.2],
            "de": [i for i in up_to(de["threshold"], GERMAN_SENTENCES) if 1 / len(GERMAN_SENTENCES[i]) >= 0.2],
        }
        assert [(r["language"], r["index"]) for r in records] == [
            (language, index) for language in ("es", "de") for index in kept[language]
        ]
        assert [r["words"] for r in records if r["language"] == "de"] == [GERMAN_SENTENCES[i] for i in kept["de"]]
        assert es["selected_sentences"] == len(up_to(es["threshold"]))
        for language, value in (("es", es), ("de", de)):
            assert value["sentences"] == len(kept[language])
        assert statistics["sentences"] == es["sentences"] + de["sentences"] == len(records)
        assert statistics["selected_sentences"] == es["selected_sentences"] + de["selected_sentences"]
        assert statistics["entities_total"] == es["entities_total"] + de["entities_total"]
        confidences = [r["confidence"] for r in records if r["language"] == "de"]
        assert de["mean_confidence"] == pytest.approx(sum(confidences) / len(confidences))
        # The state and the epoch metrics carry each language's statistics.
        state = callback.state_dict()
        assert state["round"] == round_number and state["statistics"] == {"es": es, "de": de}
        assert state["thresholds"] == {"es": es["threshold"], "de": de["threshold"]}
        callback.on_epoch(SimpleNamespace(model=model), metrics, epoch=round_number + 100)
        assert metrics["pseudo_label_round"] == round_number
        assert metrics["pseudo_label_de_threshold"] == de["threshold"]
        assert metrics["pseudo_label_es_sentences"] == es["sentences"]
        assert metrics["pseudo_label_de_mean_confidence"] == de["mean_confidence"]
    assert tagged_languages == ["es", "de"] * 3
    # The German file was decoded as Latin-1.
    assert "München" in GERMAN_SENTENCES[2]


def test_a_single_target_checkpoint_of_before_loads(tmp_path):
    callback = callback_for(tmp_path)
    callback.load_state_dict({"round": 2, "threshold": 9, "pseudo_labelled_file": "f", "sha256": "x"})
    assert (callback.round, callback.thresholds, callback.statistics) == (2, {"es": 9}, {})
    assert callback.state_dict()["pseudo_labelled_file"] == "f"


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
        threshold = statistics["languages"]["es"]["threshold"]
        # Quantiles 0.25 and 1 of the lengths 1, 2, 4, 5, 6, 8, 11, 14.
        assert statistics["languages"]["es"]["threshold_range"] == [4, 14] and 4 <= threshold <= 14
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


# ----- several targets in one run -----------------------------------------------------------------


def two_target_params(**probe: Any) -> Params:
    """The self-training fixture with Spanish and German targets instead of Spanish alone."""
    config = self_training_params(**probe).as_dict()
    callback = config["trainer"]["callbacks"][0]
    del callback["unlabelled_data_path"], callback["target_language"]
    callback["targets"] = copy.deepcopy(TWO_TARGETS)
    return Params(config)


def two_target_rounds(serialization_dir: Path) -> Dict[int, Dict[str, Any]]:
    """Per round and language: the threshold and the indices written; checks that every epoch of
    a round trained on the English sentences plus exactly that round's sentences of each language."""
    rounds: Dict[int, Dict[str, Any]] = {}
    for round_number in (1, 2):
        records, statistics = round_files(serialization_dir, round_number)
        rounds[round_number] = {
            language: {
                "threshold": statistics["languages"][language]["threshold"],
                "indices": [r["index"] for r in records if r["language"] == language],
            }
            for language in ("es", "de")
        }
        assert statistics["languages"]["de"]["threshold_range"] == [3, 10]
    probes = read_jsonl(serialization_dir / "probe.jsonl")
    for probe, round_number in zip(probes, [0, 1, 1, 2, 2]):
        assert probe["languages"]["en"] == 8
        for language in ("es", "de"):
            expected = len(rounds[round_number][language]["indices"]) if round_number else 0
            assert probe["languages"].get(language, 0) == expected
    return rounds


@pytest.fixture(scope="module")
def two_target_run(tmp_path_factory) -> Path:
    serialization_dir = tmp_path_factory.mktemp("two_targets") / "run"
    train_model(two_target_params(), str(serialization_dir))
    return serialization_dir


def test_several_targets_train_together_and_report_per_language(two_target_run):
    rounds = two_target_rounds(two_target_run)
    assert all(rounds[r]["de"]["indices"] for r in (1, 2))
    probes = read_jsonl(two_target_run / "probe.jsonl")
    assert sum(probe["mixed_batches"] for probe in probes) > 0
    # An epoch's metrics describe the round it trained on.
    for epoch, round_number in ((2, 1), (4, 2)):
        metrics = json.loads((two_target_run / f"metrics_epoch_{epoch}.json").read_text())
        assert metrics["pseudo_label_round"] == round_number
        for language in ("es", "de"):
            assert metrics[f"pseudo_label_{language}_threshold"] == rounds[round_number][language]["threshold"]
            assert metrics[f"pseudo_label_{language}_sentences"] == len(rounds[round_number][language]["indices"])
    final = json.loads((two_target_run / "metrics.json").read_text())
    assert final["pseudo_label_de_threshold"] == rounds[2]["de"]["threshold"]


def test_several_targets_recover_with_the_same_sets(tmp_path, two_target_run):
    serialization_dir = tmp_path / "run"
    with pytest.raises(SimulatedKill):
        train_model(two_target_params(kill_in_epoch=2), str(serialization_dir))
    _, training_state = Checkpointer(str(serialization_dir)).load_checkpoint()
    state = training_state["callbacks"][0]
    assert state["round"] == 1 and set(state["thresholds"]) == set(state["statistics"]) == {"es", "de"}
    train_model(two_target_params(kill_in_epoch=2), str(serialization_dir), recover=True)
    assert two_target_rounds(serialization_dir) == two_target_rounds(two_target_run)
