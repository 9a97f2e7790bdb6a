"""The `xlner_pseudo_label` trainer callback: self-training rounds on length-selected,
pseudo-labelled target-language sentences (Bari et al., 2020)."""
import json
import logging
import os
import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import torch
from allennlp.common import FromParams
from allennlp.common.checks import ConfigurationError
from allennlp.data import Batch, Instance
from allennlp.data.data_loaders import MultiProcessDataLoader
from allennlp.nn import util as nn_util
from allennlp.training.callbacks.callback import TrainerCallback

from xlner_allennlp.data.dataset_readers.conll import read_conll_sentences
from xlner_allennlp.data.dataset_readers.pseudo_labelled import PseudoLabelledReader
from xlner_allennlp.tag_encoding import canonical_encoding, tags_to_spans
from xlner_allennlp.file_utils import atomic_write_text, file_sha256
from xlner_allennlp.models.pseudo_labeller import PseudoLabeller

if TYPE_CHECKING:
    from allennlp.training.gradient_descent_trainer import GradientDescentTrainer

logger = logging.getLogger(__name__)

LENGTH_UNITS = ("quantile", "tokens")
PSEUDO_LABELS_DIR = "pseudo_labels"
PSEUDO_LABELLED_FILE = "pseudo_labelled.jsonl"
STATISTICS_FILE = "statistics.json"


# Per-language statistics of the round in force that also go into the trainer's epoch metrics, as
# `pseudo_label_<language>_<name>`.
METRIC_STATISTICS = ("threshold", "selected_sentences", "sentences", "entities_total", "mean_confidence")


def round_directory(serialization_dir: str, round_number: int) -> str:
    """Where round `round_number` (1-based) writes its pseudo-labelled set and statistics."""
    return os.path.join(serialization_dir, PSEUDO_LABELS_DIR, f"round_{round_number}")


@dataclass(frozen=True)
class UnlabelledText(FromParams):
    """
    One target language's unlabelled text for `xlner_pseudo_label`'s `targets`.

    # Parameters

    language : `str`
        ISO code of the text; selects its word vectors and, in `xlner_cross_augmented`, its
        target path.
    unlabelled_data_path : `str`
        Any file `xlner_conll` reads (one token per line, blank lines between sentences; a
        labelled file's tags are ignored).
    encoding : `str`, optional (default=`"utf-8"`)
        Its character encoding.
    """

    language: str
    unlabelled_data_path: str
    encoding: str = "utf-8"


@TrainerCallback.register("xlner_pseudo_label")
class PseudoLabelCallback(TrainerCallback):
    """
    Self-training with pseudo-labelled target sentences selected by length (Bari et al., 2020),
    for one target language or several at once.

    The targets are `targets` (each an `UnlabelledText`: language, unlabelled file, encoding) or,
    for one language, `target_language`, `unlabelled_data_path` and `encoding` (the same as a
    one-element `targets`). The source model first trains on the labelled source data alone for
    `pretrain_epochs` epochs. Then each of `rounds` rounds, lasting `epochs_per_round` epochs,
    starts (at the end of the epoch before it) by

    1. drawing, for each target in turn, its own length threshold `l ~ U{lo, ..., hi}`
       (integers, both ends included), where `lo` and `hi` come from `min_length` and
       `max_length` over that language's sentence lengths (see `length_unit`); the draws come
       from one generator seeded by `(seed, round)` alone and are taken in the order of the
       targets, so the schedule is the same in every run and after a recovery (and a single
       target draws what it drew before several were possible);
    2. tagging every unlabelled sentence of each target of at most its `l` tokens with the
       current model (a `PseudoLabeller`: Viterbi tags of its forward with
       `pseudo_labelling_arguments()`; for `xlner_cross_augmented` the source encoder, dense
       layer and CRF), and keeping those whose Viterbi path confidence is at least
       `min_confidence`;
    3. writing the kept sentences of every target, atomically, to one file,
       `<serialization_dir>/pseudo_labels/round_K/pseudo_labelled.jsonl` (targets in order; one
       JSON object per sentence: `words`, `tags` in the model's label encoding, `language`,
       `confidence`, `index` = the sentence's position in its language's unlabelled file), and
       their statistics to `statistics.json` next to it: the round's settings, the totals
       (sentences, tokens, entities per type, mean confidence), the file's SHA-256, and under
       `languages` each target's own (its file, threshold and bounds, unlabelled, selected and
       kept sentences, tokens, entities, mean confidence);
    4. pointing the training reader at the new file: the round trains on the source data and
       the pseudo-labelled sentences of every target together. After the last round its set
       stays in use; with `num_epochs`, a round that would start after the trainer's last epoch
       is not labelled.

    The round in force and its per-language statistics also go into the trainer's metrics, as
    `pseudo_label_round` and `pseudo_label_<language>_<statistic>` (`METRIC_STATISTICS`): an
    epoch's `metrics_epoch_K.json` (and the final `metrics.json`) describe the round that epoch
    trained on (not the first epoch after `--recover`, whose metrics the trainer starts afresh).

    The training reader must be `xlner_pseudo_labelled` and the training data loader must not
    cache its instances: a `MultiProcessDataLoader` needs `max_instances_in_memory` (AllenNLP's
    lazy mode, which re-reads the reader every epoch; set it above the size of the training set
    so that batches are shuffled over all of it). Both are checked in `on_start`.

    Recovery (`allennlp train --recover`): the round number, each target's threshold and
    statistics, the round's file and its SHA-256 are in the callback's `state_dict`, saved in
    every checkpoint (a checkpoint written before several targets were possible, with a single
    `threshold`, loads too). A recovered run
    points the reader back at the file of the round it was in and relabels nothing until the
    next round is due, so a round always trains on one pseudo-labelled set; a missing or changed
    file is an error. Distributed training is not supported.

    Registered as a `TrainerCallback` with name "xlner_pseudo_label".

    # Parameters

    serialization_dir : `str`
        Given by the trainer; the rounds are written under `<serialization_dir>/pseudo_labels`.
    unlabelled_data_path : `Optional[str]`, optional (default=`None`)
        One target's unlabelled text (an `UnlabelledText`'s); give it with `target_language`,
        or give `targets` instead.
    target_language : `Optional[str]`, optional (default=`None`)
        ISO code of that text; selects the target word vectors and, in
        `xlner_cross_augmented`, marks the pseudo-labelled instances for the target path.
    pretrain_epochs : `int`, optional (default=`1`)
        Epochs of training on the source data alone before the first round (at least 1).
    rounds : `int`, optional (default=`1`)
        Number of pseudo-labelling rounds.
    epochs_per_round : `int`, optional (default=`1`)
        Training epochs of each round.
    min_length : `float`, optional (default=`0.0`)
        Lower end `lo` of the threshold's range, in `length_unit`.
    max_length : `float`, optional (default=`1.0`)
        Upper end `hi` of the threshold's range, in `length_unit`.
    length_unit : `str`, optional (default=`"quantile"`)
        `"quantile"`: `min_length` and `max_length` are quantiles (in [0, 1]) of the lengths of
        the unlabelled sentences, taken as the length at rank `round(q * (n - 1))` of the sorted
        lengths (so 0 and 1 are the shortest and longest sentence); `"tokens"`: they are
        lengths in tokens (integers).
    min_confidence : `Optional[float]`, optional (default=`None`)
        Keep only sentences whose Viterbi confidence (probability of the best path under the
        CRF) is at least this; `None` keeps all selected sentences.
    encoding : `str`, optional (default=`"utf-8"`)
        Character encoding of `unlabelled_data_path` (`"latin-1"` for CoNLL-2003 German).
    targets : `Optional[List[UnlabelledText]]`, optional (default=`None`)
        Several target languages (distinct), each with its unlabelled file and encoding, in the
        order their thresholds are drawn and their sentences written; instead of the three
        settings above.
    batch_size : `int`, optional (default=`64`)
        Sentences per batch when tagging.
    seed : `int`, optional (default=`13`)
        Seed of the thresholds.
    num_epochs : `Optional[int]`, optional (default=`None`)
        The trainer's `num_epochs` (give the same value): no round is labelled for an epoch that
        will not run. `None` labels every scheduled round.
    """

    def __init__(
        self,
        serialization_dir: str,
        unlabelled_data_path: Optional[str] = None,
        target_language: Optional[str] = None,
        pretrain_epochs: int = 1,
        rounds: int = 1,
        epochs_per_round: int = 1,
        min_length: float = 0.0,
        max_length: float = 1.0,
        length_unit: str = "quantile",
        min_confidence: Optional[float] = None,
        encoding: str = "utf-8",
        batch_size: int = 64,
        seed: int = 13,
        num_epochs: Optional[int] = None,
        targets: Optional[List[UnlabelledText]] = None,
    ) -> None:
        super().__init__(serialization_dir)
        if targets is None and unlabelled_data_path is not None and target_language is not None:
            targets = [UnlabelledText(target_language, unlabelled_data_path, encoding)]
        elif targets is not None and (unlabelled_data_path, target_language) != (None, None):
            raise ConfigurationError(
                "xlner_pseudo_label: give either targets or target_language with "
                "unlabelled_data_path, not both"
            )
        problem = _settings_problem(
            pretrain_epochs,
            rounds,
            epochs_per_round,
            min_length,
            max_length,
            length_unit,
            min_confidence,
            batch_size,
            num_epochs,
            targets,
        )
        if problem is not None:
            raise ConfigurationError(f"xlner_pseudo_label: {problem}")
        self.targets: List[UnlabelledText] = list(targets or [])
        self.pretrain_epochs = pretrain_epochs
        self.rounds = rounds
        self.epochs_per_round = epochs_per_round
        self.min_length = min_length
        self.max_length = max_length
        self.length_unit = length_unit
        self.min_confidence = min_confidence
        self.batch_size = batch_size
        self.seed = seed
        self.num_epochs = num_epochs
        # The state saved in checkpoints: the round in force (0: pretraining), each target's
        # threshold and statistics in it, its file (relative to serialization_dir) and the file's
        # SHA-256.
        self.round = 0
        self.thresholds: Dict[str, int] = {}
        self.statistics: Dict[str, Dict[str, Any]] = {}
        self.pseudo_labelled_file: Optional[str] = None
        self.sha256: Optional[str] = None
        self._unlabelled: Dict[str, List[List[str]]] = {}

    # ----- schedule -------------------------------------------------------------------------

    def round_for_epoch(self, epoch: int) -> int:
        """The round whose pseudo-labelled set epoch `epoch` (0-based) trains on; 0 before the
        first round, and the last round for every epoch after it."""
        if epoch < self.pretrain_epochs:
            return 0
        return min(self.rounds, (epoch - self.pretrain_epochs) // self.epochs_per_round + 1)

    def length_bounds(self, lengths: List[int]) -> Tuple[int, int]:
        """The range `(lo, hi)` of the threshold for sentences of these lengths."""
        if self.length_unit == "tokens":
            return int(self.min_length), int(self.max_length)
        ordered = sorted(lengths)
        last = len(ordered) - 1
        return ordered[round(self.min_length * last)], ordered[round(self.max_length * last)]

    def draw_thresholds(self, round_number: int, bounds: List[Tuple[int, int]]) -> List[int]:
        """One `l ~ U{lo, ..., hi}` per `(lo, hi)` of `bounds` (one per target, in order), drawn
        in turn from one generator: a function of (`seed`, `round_number`, `bounds`) only."""
        generator = random.Random(f"xlner_pseudo_label:{self.seed}:{round_number}")
        return [generator.randint(lo, hi) for lo, hi in bounds]

    # ----- trainer hooks ----------------------------------------------------------------------

    def on_start(
        self, trainer: "GradientDescentTrainer", is_primary: bool = True, **kwargs
    ) -> None:
        super().on_start(trainer, is_primary=is_primary, **kwargs)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            raise ConfigurationError("xlner_pseudo_label does not support distributed training")
        if not isinstance(trainer.model, PseudoLabeller):
            raise ConfigurationError(
                "xlner_pseudo_label needs a model that implements PseudoLabeller (e.g. "
                f"xlner_crf_tagger, xlner_cross_augmented), got {type(trainer.model).__name__}"
            )
        reader = self._reader(trainer)
        if self.round == 0:
            reader.set_pseudo_labelled_path(None)
            return
        path = os.path.join(self.serialization_dir, self.pseudo_labelled_file)
        resume = f"xlner_pseudo_label: cannot resume round {self.round}"
        if not os.path.isfile(path):
            raise ConfigurationError(
                f"{resume}: its pseudo-labelled file {path} is missing (a round is never "
                "relabelled once it has started)"
            )
        if file_sha256(path) != self.sha256:
            raise ConfigurationError(
                f"{resume}: its pseudo-labelled file {path} changed since the checkpoint"
            )
        logger.info("Resuming pseudo-labelling round %d with %s", self.round, path)
        reader.set_pseudo_labelled_path(path)

    def on_epoch(
        self,
        trainer: "GradientDescentTrainer",
        metrics: Dict[str, Any],
        epoch: int,
        is_primary: bool = True,
        **kwargs,
    ) -> None:
        next_epoch = epoch + 1
        if self.num_epochs is None or next_epoch < self.num_epochs:
            next_round = self.round_for_epoch(next_epoch)
            if next_round != self.round:
                self.start_round(trainer.model, self._reader(trainer), next_round, next_epoch)
        metrics.update(self.round_metrics())

    def round_metrics(self) -> Dict[str, Any]:
        """`pseudo_label_round` and, per target of the round in force, `pseudo_label_<language>_<
        statistic>` for each of `METRIC_STATISTICS`."""
        metrics: Dict[str, Any] = {"pseudo_label_round": self.round}
        for language, statistics in self.statistics.items():
            for name in METRIC_STATISTICS:
                metrics[f"pseudo_label_{language}_{name}"] = statistics[name]
        return metrics

    def state_dict(self) -> Dict[str, Any]:
        return {
            "round": self.round,
            "thresholds": dict(self.thresholds),
            "statistics": {language: dict(value) for language, value in self.statistics.items()},
            "pseudo_labelled_file": self.pseudo_labelled_file,
            "sha256": self.sha256,
        }

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        self.round = state_dict["round"]
        if "thresholds" in state_dict:
            self.thresholds = dict(state_dict["thresholds"])
            self.statistics = {key: dict(value) for key, value in state_dict["statistics"].items()}
        else:  # a checkpoint of the single-target callback: one threshold, no statistics
            threshold = state_dict["threshold"]
            only = self.targets[0].language
            self.thresholds = {} if threshold is None else {only: threshold}
            self.statistics = {}
        self.pseudo_labelled_file = state_dict["pseudo_labelled_file"]
        self.sha256 = state_dict["sha256"]

    # ----- rounds -----------------------------------------------------------------------------

    def start_round(
        self, model: PseudoLabeller, reader: PseudoLabelledReader, round_number: int, first_epoch: int
    ) -> Dict[str, Any]:
        """Label round `round_number`'s sentences of every target with `model`, write its files,
        point `reader` at them and make it the current round, whose first epoch is
        `first_epoch`. Returns the round's statistics (as written to `statistics.json`)."""
        encoding = canonical_encoding(model.label_encoding)
        texts = [self._unlabelled_sentences(target) for target in self.targets]
        bounds = [self.length_bounds([len(tokens) for tokens in sentences]) for sentences in texts]
        thresholds = self.draw_thresholds(round_number, bounds)
        records: List[Dict[str, Any]] = []
        languages: Dict[str, Dict[str, Any]] = {}
        for target, sentences, (lo, hi), threshold in zip(self.targets, texts, bounds, thresholds):
            selected = [index for index, tokens in enumerate(sentences) if len(tokens) <= threshold]
            predictions = self.tag_with_source_path(
                model, reader, [sentences[index] for index in selected], target.language
            )
            kept = [
                {
                    "words": sentences[index],
                    "tags": tags,
                    "language": target.language,
                    "confidence": confidence,
                    "index": index,
                }
                for index, (tags, confidence) in zip(selected, predictions)
                if self.min_confidence is None or confidence >= self.min_confidence
            ]
            records += kept
            languages[target.language] = {
                "unlabelled_data_path": target.unlabelled_data_path,
                "threshold": threshold,
                "threshold_range": [lo, hi],
                "unlabelled_sentences": len(sentences),
                "selected_sentences": len(selected),
                **_set_statistics(kept, encoding),
            }
        text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        statistics = {
            "round": round_number,
            "first_epoch": first_epoch,
            "epochs_per_round": self.epochs_per_round,
            "seed": self.seed,
            "length_unit": self.length_unit,
            "min_length": self.min_length,
            "max_length": self.max_length,
            "min_confidence": self.min_confidence,
            "unlabelled_sentences": sum(len(sentences) for sentences in texts),
            "selected_sentences": sum(value["selected_sentences"] for value in languages.values()),
            **_set_statistics(records, encoding),
            "label_encoding": encoding,
            "languages": languages,
            "file": PSEUDO_LABELLED_FILE,
        }
        directory = round_directory(self.serialization_dir, round_number)
        path = os.path.join(directory, PSEUDO_LABELLED_FILE)
        atomic_write_text(path, text)
        statistics["sha256"] = file_sha256(path)
        atomic_write_text(
            os.path.join(directory, STATISTICS_FILE), json.dumps(statistics, indent=2) + "\n"
        )
        reader.set_pseudo_labelled_path(path)
        self.round = round_number
        self.thresholds = {language: value["threshold"] for language, value in languages.items()}
        self.statistics = languages
        self.pseudo_labelled_file = os.path.relpath(path, self.serialization_dir)
        self.sha256 = statistics["sha256"]
        for language, value in languages.items():
            logger.info(
                "Pseudo-labelling round %d, %s: threshold %d (range %d-%d), %d of %d sentences "
                "kept, in %s",
                round_number,
                language,
                value["threshold"],
                *value["threshold_range"],
                value["sentences"],
                value["unlabelled_sentences"],
                path,
            )
        if not records:
            logger.warning(
                "Pseudo-labelling round %d kept no sentence: it trains on the source data alone",
                round_number,
            )
        return statistics

    def tag_with_source_path(
        self,
        model: PseudoLabeller,
        reader: PseudoLabelledReader,
        sentences: List[List[str]],
        language: str,
    ) -> List[Tuple[List[str], float]]:
        """Viterbi tags and confidence of each sentence of `language` under the model's
        pseudo-labelling (source) path, in the order given. The model runs in eval mode (no
        dropout), then gets its mode back."""
        extra = model.pseudo_labelling_arguments()
        namespace = model.label_namespace
        device = nn_util.get_device_of(next(model.parameters()))
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        results: Dict[int, Tuple[List[str], float]] = {}
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                for start in range(0, len(order), self.batch_size):
                    chunk = order[start : start + self.batch_size]
                    instances: List[Instance] = []
                    for i in chunk:
                        instance = reader.text_to_instance(sentences[i], None, language)
                        reader.apply_token_indexers(instance)
                        instances.append(instance)
                    batch = Batch(instances)
                    batch.index_instances(model.vocab)
                    tensors = batch.as_tensor_dict()
                    if device >= 0:
                        tensors = nn_util.move_to_device(tensors, torch.device("cuda", device))
                    output = model(**tensors, **extra)
                    for i, tag_ids, confidence in zip(chunk, output["tags"], output["confidence"]):
                        tags = [
                            model.vocab.get_token_from_index(int(tag), namespace) for tag in tag_ids
                        ]
                        results[i] = (tags, float(confidence))
        finally:
            model.train(was_training)
        return [results[i] for i in range(len(sentences))]

    # ----- helpers ----------------------------------------------------------------------------

    def _reader(self, trainer: "GradientDescentTrainer") -> PseudoLabelledReader:
        """The training reader, after checking that it and its loader suit the rounds."""
        loader = trainer.data_loader
        reader = getattr(loader, "reader", None)
        if not isinstance(reader, PseudoLabelledReader):
            raise ConfigurationError(
                "xlner_pseudo_label needs the training dataset_reader to be xlner_pseudo_labelled, "
                f"got {type(reader).__name__}"
            )
        if isinstance(loader, MultiProcessDataLoader) and loader.max_instances_in_memory is None:
            raise ConfigurationError(
                "xlner_pseudo_label: the training data_loader caches its instances, so it would "
                "never see the pseudo-labelled sentences; set data_loader.max_instances_in_memory "
                "(larger than the training set, e.g. 1000000) so that it re-reads its reader "
                "every epoch"
            )
        return reader

    def _unlabelled_sentences(self, target: UnlabelledText) -> List[List[str]]:
        """The tokens of `target`'s unlabelled sentences (read once)."""
        if target.language not in self._unlabelled:
            sentences = read_conll_sentences(target.unlabelled_data_path, target.encoding)
            self._unlabelled[target.language] = [sentence.tokens for sentence in sentences]
        return self._unlabelled[target.language]


def _settings_problem(
    pretrain_epochs: int,
    rounds: int,
    epochs_per_round: int,
    min_length: float,
    max_length: float,
    length_unit: str,
    min_confidence: Optional[float],
    batch_size: int,
    num_epochs: Optional[int],
    targets: Optional[List[UnlabelledText]],
) -> Optional[str]:
    """What is wrong with the callback's settings, or None."""
    if not targets:
        return "no target: give targets, or target_language with unlabelled_data_path"
    languages = [target.language for target in targets]
    if len(set(languages)) != len(languages):
        return f"each target language may appear once, got {languages}"
    if pretrain_epochs < 1:
        return f"pretrain_epochs must be at least 1, got {pretrain_epochs}"
    if rounds < 1 or epochs_per_round < 1:
        return (
            f"rounds and epochs_per_round must be at least 1, got {rounds} and {epochs_per_round}"
        )
    if length_unit not in LENGTH_UNITS:
        return f"length_unit must be one of {LENGTH_UNITS}, got {length_unit!r}"
    if length_unit == "quantile" and not 0.0 <= min_length <= max_length <= 1.0:
        return (
            "quantiles need 0 <= min_length <= max_length <= 1, "
            f"got {min_length} and {max_length}"
        )
    whole = float(min_length).is_integer() and float(max_length).is_integer()
    if length_unit == "tokens" and not (whole and 1 <= min_length <= max_length):
        return (
            "token lengths need integers 1 <= min_length <= max_length, "
            f"got {min_length} and {max_length}"
        )
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        return f"min_confidence must be in [0, 1], got {min_confidence}"
    if batch_size < 1:
        return f"batch_size must be at least 1, got {batch_size}"
    if num_epochs is not None and num_epochs < 1:
        return f"num_epochs must be at least 1, got {num_epochs}"
    return None


def _set_statistics(records: List[Dict[str, Any]], encoding: str) -> Dict[str, Any]:
    """Size, entities per type (spans of `encoding`) and mean confidence of a pseudo-labelled set."""
    entities: Counter = Counter()
    for record in records:
        entities.update(span.type for span in tags_to_spans(record["tags"], encoding))
    confidences = [record["confidence"] for record in records]
    return {
        "sentences": len(records),
        "tokens": sum(len(record["words"]) for record in records),
        "entities": dict(sorted(entities.items())),
        "entities_total": sum(entities.values()),
        "mean_confidence": sum(confidences) / len(confidences) if confidences else None,
    }
