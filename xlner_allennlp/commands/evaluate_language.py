"""`allennlp xlner-evaluate`: evaluate a trained tagger on any language, plugging that language in.

    allennlp xlner-evaluate runs/cw/model.tar.gz --language nl --data ned.testa \
        --vectors ../shared/data/emb/nl.npy --alignment artifacts/alignments/nl-en

The language's vectors (and alignment, if any) are added to the archive's word indexer and
embedder through config overrides, so a model trained with English and Spanish vectors tags Dutch
without retraining: the "one model, any aligned language" use. Prints the metrics as JSON and
writes them atomically with ``--output-file``.
"""
import argparse
import json
from typing import Any, Dict, Optional

from allennlp.commands.subcommand import Subcommand
from allennlp.common.checks import ConfigurationError
from allennlp.data.data_loaders import MultiProcessDataLoader
from allennlp.models.archival import load_archive
from allennlp.training.util import evaluate

from xlner_allennlp.commands.errors import exit_on_error
from xlner_allennlp.data.dataset_readers import evaluation_reader
from xlner_allennlp.file_utils import atomic_write_text


def language_overrides(
    language: str, vectors: Optional[str], alignment: Optional[str], encoding: str
) -> Dict[str, Any]:
    """Config overrides that make an archive's validation reader and embedder handle ``language``."""
    overrides: Dict[str, Any] = {
        "validation_dataset_reader.language": language,
        "validation_dataset_reader.encoding": encoding,
    }
    if vectors is not None:
        spec: Dict[str, Any] = {"vectors": vectors}
        if alignment is not None:
            spec.update(alignment=alignment, side="mapped")
        overrides["model.text_field_embedder.token_embedders.tokens.languages." + language] = spec
        overrides["validation_dataset_reader.token_indexers.tokens.languages." + language] = spec
    return overrides


def evaluate_language(
    archive_path: str,
    language: str,
    data_path: str,
    vectors: Optional[str] = None,
    alignment: Optional[str] = None,
    encoding: str = "utf-8",
    batch_size: int = 64,
) -> Dict[str, float]:
    """Metrics of the archive on ``data_path`` read as ``language``; ``vectors`` (and ``alignment``)
    add or replace that language's word vectors in the model (omit them for a language it has)."""
    if alignment is not None and vectors is None:
        raise ConfigurationError("an alignment needs the vectors it maps (--vectors)")
    overrides = language_overrides(language, vectors, alignment, encoding)
    archive = load_archive(archive_path, overrides=json.dumps(overrides))
    reader = evaluation_reader(archive.config, language, encoding)
    loader = MultiProcessDataLoader(reader, data_path, batch_size=batch_size)
    loader.index_with(archive.model.vocab)
    return {key: float(value) for key, value in evaluate(archive.model, loader, cuda_device=-1).items()}


@Subcommand.register("xlner-evaluate")
class XlnerEvaluate(Subcommand):
    """Evaluate a trained tagger on a labelled file of any language, adding that language's vectors."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = "Evaluate a tagger archive on a labelled file in any (aligned) language."
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("archive", help="model.tar.gz of a trained tagger")
        subparser.add_argument("--language", required=True, help="ISO code of the data's language")
        subparser.add_argument("--data", required=True, help="labelled CoNLL / tsv file")
        subparser.add_argument("--vectors", help="the language's vectors, if the model lacks them")
        subparser.add_argument("--alignment", help="alignment artifact mapping them into the model's space")
        subparser.add_argument("--encoding", default="utf-8")
        subparser.add_argument("--output-file", help="write the metrics here as JSON")
        subparser.set_defaults(func=exit_on_error(_run))
        return subparser


def _run(args: argparse.Namespace) -> None:
    metrics = evaluate_language(
        args.archive, args.language, args.data, args.vectors, args.alignment, args.encoding
    )
    text = json.dumps(metrics, indent=2, sort_keys=True)
    print(text)
    if args.output_file:
        atomic_write_text(args.output_file, text + "\n")
