"""`allennlp xlner-evaluate`: evaluate a trained tagger or parser on any language, plugging that language in.

    allennlp xlner-evaluate runs/cw/model.tar.gz --language nl --data ned.testa \
        --vectors ../shared/data/emb/nl.npy --alignment artifacts/alignments/nl-en

The language's vectors (and alignment, if any) are added to the archive's word indexer and
embedder through config overrides, so a model trained with English and Spanish vectors tags Dutch
without retraining: the "one model, any aligned language" use. A model over aligned ELMo
(cross_elmo.jsonnet) takes the language's ELMo, anchors and per-layer alignments instead::

    allennlp xlner-evaluate runs/cross_elmo-es/model.tar.gz --language nl --data ned.testa \
        --elmo artifacts/elmo/nl --anchors artifacts/anchors/nl --elmo-alignment artifacts/elmo_alignments/nl-en

Prints the metrics as JSON and
writes them atomically with ``--output-file``.

A parser (training_config/parser_*.jsonnet) is scored on a CoNLL-U treebank the same way: UAS, LAS
(punctuation excluded) and the CoNLL 2018 scores.

A tagger's gold tags are checked against the model's tags first: a tokens-only file, or a tag the model
cannot predict (an entity type it never saw, such as ``B-FOO``), is refused naming the file and
line, unless ``--unseen-types miss`` asks to score such entities as missed.
"""
import argparse
import json
import logging
import os
import tarfile
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from allennlp.commands.subcommand import Subcommand
from allennlp.common.checks import ConfigurationError
from allennlp.common.file_utils import cached_path
from allennlp.data import DatasetReader
from allennlp.data.data_loaders import MultiProcessDataLoader
from allennlp.models import Model
from allennlp.models.archival import CONFIG_NAME, load_archive
from allennlp.training.util import evaluate

from xlner_allennlp.commands.errors import exit_on_error
from xlner_allennlp.data.dataset_readers import ConllSentence, evaluation_reader, read_conll_sentences
from xlner_allennlp.file_utils import atomic_write_text
from xlner_allennlp.tag_encoding import convert_iob, split_tag, tags_to_spans

logger = logging.getLogger(__name__)

# What to do with gold tags the model cannot predict: refuse the file, or count their entities as missed.
UNSEEN_TYPES = ("error", "miss")


class EvaluationDataError(ValueError):
    """A file the model cannot be evaluated on (no gold tags, or tags the model does not know);
    the message names the file and, where there is one, the line."""


def aligned_elmo_key(archive_path: str) -> str:
    """The name of the archive's ``xlner_aligned_elmo`` token embedder (``elmo`` in cross_elmo.jsonnet),
    read from the archive's config; `ConfigurationError` if it has none."""
    if os.path.isdir(archive_path):
        with open(os.path.join(archive_path, CONFIG_NAME), encoding="utf-8") as handle:
            config = json.load(handle)
    else:
        with tarfile.open(cached_path(archive_path)) as archive:
            member = archive.extractfile(CONFIG_NAME)
            if member is None:
                raise ConfigurationError(f"{archive_path}: no {CONFIG_NAME} in the archive")
            config = json.load(member)
    embedders = config.get("model", {}).get("text_field_embedder", {}).get("token_embedders", {})
    for key, embedder in embedders.items():
        if isinstance(embedder, dict) and embedder.get("type") == "xlner_aligned_elmo":
            return key
    raise ConfigurationError(
        f"{archive_path}: the model has no xlner_aligned_elmo embedder, so an ELMo (--elmo) cannot be plugged in"
    )


def language_overrides(
    language: str,
    vectors: Optional[str],
    alignment: Optional[str],
    encoding: str,
    elmo: Optional[Dict[str, str]] = None,
    elmo_key: str = "elmo",
) -> Dict[str, Any]:
    """Config overrides that make an archive's validation reader and embedder handle ``language``:
    its word vectors (and their alignment), and for an ELMo model its ``elmo`` entry (the
    ``xlner_aligned_elmo`` settings ``elmo``, ``anchors``, ``alignment``) under the embedder ``elmo_key``."""
    overrides: Dict[str, Any] = {
        "validation_dataset_reader.language": language,
        "validation_dataset_reader.encoding": encoding,
    }
    if elmo is not None:
        entry = {name: value for name, value in elmo.items() if value is not None}
        if entry.get("alignment"):
            entry["side"] = "mapped"
        overrides[f"model.text_field_embedder.token_embedders.{elmo_key}.languages.{language}"] = entry
    if vectors is not None:
        spec: Dict[str, Any] = {"vectors": vectors}
        if alignment is not None:
            spec.update(alignment=alignment, side="mapped")
        overrides["model.text_field_embedder.token_embedders.tokens.languages." + language] = spec
        overrides["validation_dataset_reader.token_indexers.tokens.languages." + language] = spec
    return overrides


def load_with_language(
    archive_path: str,
    language: str,
    vectors: Optional[str] = None,
    alignment: Optional[str] = None,
    encoding: str = "utf-8",
    elmo: Optional[Dict[str, str]] = None,
) -> Tuple[Model, DatasetReader]:
    """The archive's model with ``language`` plugged in (its ``vectors`` and ``alignment``, or its
    ``elmo`` entry, as `evaluate_language` takes them) and the reader of that language's files."""
    if alignment is not None and vectors is None:
        raise ConfigurationError("an alignment needs the vectors it maps (--vectors)")
    if elmo is not None and elmo.get("alignment") and not elmo.get("anchors"):
        raise ConfigurationError("an ELMo alignment needs the anchors it was fitted on (--anchors: their mean token norms)")
    if elmo is not None and not elmo.get("elmo"):
        raise ConfigurationError("--anchors and --elmo-alignment need the language's ELMo (--elmo)")
    elmo_key = aligned_elmo_key(archive_path) if elmo is not None else "elmo"
    overrides = language_overrides(language, vectors, alignment, encoding, elmo, elmo_key)
    archive = load_archive(archive_path, overrides=json.dumps(overrides))
    return archive.model, evaluation_reader(archive.config, language, encoding)


def evaluate_language(
    archive_path: str,
    language: str,
    data_path: str,
    vectors: Optional[str] = None,
    alignment: Optional[str] = None,
    encoding: str = "utf-8",
    batch_size: int = 64,
    unseen_types: str = "error",
    elmo: Optional[Dict[str, str]] = None,
) -> Dict[str, float]:
    """Metrics of the archive on ``data_path`` read as ``language``; ``vectors`` (and ``alignment``)
    add or replace that language's word vectors in the model (omit them for a language it has), and
    ``elmo`` (``{"elmo": DIR, "anchors": DIR, "alignment": DIR}``, the last two optional: without an
    alignment, the unaligned baseline) its ELMo in a model over aligned ELMo.

    The file must be labelled. A gold tag the model cannot predict (one not among its tags once
    converted to its label encoding, e.g. ``B-FOO`` of a type it never saw) raises
    `EvaluationDataError` naming the tag, file and line with ``unseen_types="error"``; with
    ``"miss"``, such a file is scored by `span_scores` of the model's predicted tags against all
    gold entities, those the model cannot predict counting as missed (span precision, recall and
    F1 only: no loss or token accuracy, which need gold tag ids)."""
    if unseen_types not in UNSEEN_TYPES:
        raise ConfigurationError(f"unseen_types must be one of {UNSEEN_TYPES}, got {unseen_types!r}")
    model, reader = load_with_language(archive_path, language, vectors, alignment, encoding, elmo)
    if hasattr(model, "label_namespace"):  # a tagger: its gold entity tags are checked first
        sentences = list(read_conll_sentences(cached_path(data_path), encoding))
        labels = set(model.vocab.get_token_to_index_vocabulary(model.label_namespace))
        unknown = unknown_gold_tags(data_path, sentences, reader.label_encoding, labels)
        if unknown:
            if unseen_types == "error":
                raise EvaluationDataError(unknown_tags_message(data_path, unknown, reader.label_encoding, labels))
            logger.warning(
                "%s: %d gold tags (of the entity types %s) are not among the model's tags; their "
                "entities are counted as missed", data_path, len(unknown),
                ", ".join(sorted({split_tag(written)[1] for written, _ in unknown.values()})),
            )
            return predicted_span_scores(model, reader, sentences, batch_size)
    loader = MultiProcessDataLoader(reader, data_path, batch_size=batch_size)
    loader.index_with(model.vocab)
    return {key: float(value) for key, value in evaluate(model, loader, cuda_device=-1).items()}


def unknown_gold_tags(
    data_path: str, sentences: Sequence[ConllSentence], label_encoding: str, labels: Set[str]
) -> Dict[int, Tuple[str, str]]:
    """The gold tags of ``sentences`` that are not in ``labels`` once converted to
    ``label_encoding``: line number -> (tag as written, converted tag). `EvaluationDataError` for a
    tokens-only file."""
    if sentences and sentences[0].tags is None:
        raise EvaluationDataError(
            f"{data_path}: the file has tokens only, no gold tags to evaluate against; to tag it, "
            "run `allennlp predict ARCHIVE FILE --use-dataset-reader --predictor xlner_tagger "
            "--output-file OUTPUT` (with -o '{\"validation_dataset_reader.language\": \"xx\"}' for "
            "its language)"
        )
    unknown: Dict[int, Tuple[str, str]] = {}
    for sentence in sentences:
        converted = convert_iob(sentence.tags, label_encoding)
        for written, tag, line in zip(sentence.tags, converted, sentence.line_numbers):
            if tag not in labels:
                unknown[line] = (written, tag)
    return unknown


def unknown_tags_message(
    data_path: str, unknown: Dict[int, Tuple[str, str]], label_encoding: str, labels: Set[str]
) -> str:
    """Why the model cannot be evaluated on a file with the ``unknown`` tags (see
    `unknown_gold_tags`): the first one and its line, whether the model knows its type, the types
    it knows and the file's other unknown types."""
    known_types = sorted({split_tag(label)[1] for label in labels if label != "O"})
    line = min(unknown)
    written, converted = unknown[line]
    entity_type = split_tag(written)[1]
    if entity_type not in known_types:
        problem = f"has the entity type {entity_type!r}, which the model does not know"
    else:
        problem = (
            f"({converted} in the model's {label_encoding} tags) is not among the tags the model "
            "can predict (its training data had none)"
        )
    first_lines: Dict[str, int] = {}
    for number in sorted(unknown):
        first_lines.setdefault(split_tag(unknown[number][0])[1], number)
    others = [
        f"{name!r} (first at line {number})"
        for name, number in first_lines.items()
        if name != entity_type and name not in known_types
    ]
    also = f"; the file also has the unknown types {', '.join(others)}" if others else ""
    return (
        f"{data_path}, line {line}: the tag {written!r} {problem}; the model knows the entity types "
        f"{', '.join(known_types)}{also}. Pass --unseen-types miss to count the entities it cannot "
        "predict as missed"
    )


def predicted_span_scores(
    model: Model, reader: DatasetReader, sentences: Sequence[ConllSentence], batch_size: int
) -> Dict[str, float]:
    """`span_scores` of the model's tags for ``sentences`` against their gold tags, in the reader's
    label encoding."""
    model.eval()
    predicted: List[List[str]] = []
    for start in range(0, len(sentences), batch_size):
        instances = [reader.text_to_instance(sentence.tokens) for sentence in sentences[start : start + batch_size]]
        for instance in instances:
            reader.apply_token_indexers(instance)
        predicted.extend(output["tags"] for output in model.forward_on_instances(instances))
    gold = [convert_iob(sentence.tags, reader.label_encoding) for sentence in sentences]
    return span_scores(gold, predicted, reader.label_encoding)


def span_scores(
    gold: Sequence[List[str]], predicted: Sequence[List[str]], label_encoding: str
) -> Dict[str, float]:
    """Exact-match entity precision, recall and F1, overall and per type, named as allennlp's
    `SpanBasedF1Measure` names them (``precision-overall``, ``f1-measure-PER``, ...): an entity is
    correct when a predicted one has its type and token range. ``gold`` and ``predicted`` hold one
    tag sequence per sentence in ``label_encoding``."""
    correct: Counter = Counter()
    n_gold: Counter = Counter()
    n_predicted: Counter = Counter()
    for gold_tags, predicted_tags in zip(gold, predicted):
        gold_spans = set(tags_to_spans(gold_tags, label_encoding))
        predicted_spans = set(tags_to_spans(predicted_tags, label_encoding))
        correct.update(span.type for span in gold_spans & predicted_spans)
        n_gold.update(span.type for span in gold_spans)
        n_predicted.update(span.type for span in predicted_spans)
    scores: Dict[str, float] = {}
    for name in sorted(set(n_gold) | set(n_predicted)) + ["overall"]:
        hits, gold_count, predicted_count = (
            (sum(correct.values()), sum(n_gold.values()), sum(n_predicted.values()))
            if name == "overall" else (correct[name], n_gold[name], n_predicted[name])
        )
        precision = hits / predicted_count if predicted_count else 0.0
        recall = hits / gold_count if gold_count else 0.0
        scores[f"precision-{name}"] = precision
        scores[f"recall-{name}"] = recall
        scores[f"f1-measure-{name}"] = 2 * precision * recall / (precision + recall) if hits else 0.0
    return scores


@Subcommand.register("xlner-evaluate")
class XlnerEvaluate(Subcommand):
    """Evaluate a trained tagger on a labelled file of any language, adding that language's vectors."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = "Evaluate a tagger or parser archive on a labelled file in any (aligned) language."
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("archive", help="model.tar.gz of a trained tagger or parser")
        subparser.add_argument("--language", required=True, help="ISO code of the data's language")
        subparser.add_argument("--data", required=True, help="labelled CoNLL / tsv file (a tagger) or CoNLL-U treebank (a parser)")
        subparser.add_argument("--vectors", help="the language's vectors, if the model lacks them")
        subparser.add_argument("--alignment", help="alignment artifact mapping them into the model's space")
        subparser.add_argument("--elmo", help="the language's ELMo directory (xlner-export-elmo), for a model over aligned ELMo")
        subparser.add_argument("--anchors", help="its anchors directory (xlner-anchors): the mean token norms")
        subparser.add_argument("--elmo-alignment", help="its per-layer alignments (layer<l>/) into the model's space; "
                               "omit for the unaligned baseline")
        subparser.add_argument("--encoding", default="utf-8")
        subparser.add_argument(
            "--unseen-types", choices=UNSEEN_TYPES, default="error",
            help="gold tags the model cannot predict (an entity type it never saw): refuse the file "
            "(error), or count their entities as missed in span precision/recall/F1 (miss)",
        )
        subparser.add_argument("--output-file", help="write the metrics here as JSON")
        subparser.set_defaults(func=exit_on_error(_run))
        return subparser


def _run(args: argparse.Namespace) -> None:
    metrics = evaluate_language(
        args.archive, args.language, args.data, args.vectors, args.alignment, args.encoding,
        unseen_types=args.unseen_types,
        elmo=None if not (args.elmo or args.anchors or args.elmo_alignment) else {"elmo": args.elmo, "anchors": args.anchors, "alignment": args.elmo_alignment},
    )
    text = json.dumps(metrics, indent=2, sort_keys=True)
    print(text)
    if args.output_file:
        atomic_write_text(args.output_file, text + "\n")
