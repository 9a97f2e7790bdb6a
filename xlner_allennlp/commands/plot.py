"""`allennlp xlner-plot`: pictures of the aligned space and of pseudo-label quality by sentence length.

    allennlp xlner-plot space --alignment artifacts/alignments/es-en \
        --reference-data eng.testa --mapped-data esp.testa [--model run/model.tar.gz] --output space.png
    allennlp xlner-plot length-accuracy --model run/model.tar.gz --data esp.testa --language es \
        --output length.png

Each writes the PNG and a JSON of the numbers beside it (same name, ``.json``).
"""
import argparse
import json
import os
from typing import Dict, List

from allennlp.commands.subcommand import Subcommand
from allennlp.data import DatasetReader, Instance
from allennlp.models.archival import Archive, load_archive

from xlner_allennlp.alignment import load_alignment, unit_rows
from xlner_allennlp.analysis.length_accuracy import length_buckets, plot_length_accuracy
from xlner_allennlp.analysis.model_outputs import encoder_word_vectors, predicted_tags
from xlner_allennlp.analysis.space import entity_word_vectors, entity_words, plot_views
from xlner_allennlp.commands.errors import exit_on_error
from xlner_allennlp.data.dataset_readers import evaluation_reader
from xlner_allennlp.file_utils import atomic_write_text
from xlner_allennlp.tag_encoding import canonical_encoding


@Subcommand.register("xlner-plot")
class Plot(Subcommand):
    """Draw the aligned space (entity words before/after alignment and from the encoder) or the
    pseudo-label accuracy against sentence length, as PNG files."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = "Draw the aligned space or pseudo-label accuracy by sentence length (PNG + JSON)."
        subparser = parser.add_parser(self.name, description=description, help=description)
        kinds = subparser.add_subparsers(dest="kind", required=True)

        space = kinds.add_parser("space", help="entity words of two languages, before/after alignment")
        space.add_argument("--alignment", required=True, help="alignment artifact of the target language")
        space.add_argument("--reference-vectors", help="default: the artifact's recorded reference_vectors (English)")
        space.add_argument("--mapped-vectors", help="default: the artifact's recorded mapped_vectors (the target language)")
        space.add_argument("--reference-data", required=True, help="labelled CoNLL file of the artifact's reference language")
        space.add_argument("--mapped-data", required=True, help="labelled CoNLL file of the artifact's mapped language")
        space.add_argument("--reference-encoding", default="utf-8", help="encoding of --reference-data")
        space.add_argument("--mapped-encoding", default="utf-8", help="encoding of --mapped-data")
        space.add_argument("--encoding", default="utf-8", help="encoding of the vector files (text or .vocab)")
        space.add_argument("--per-type", type=int, default=40, help="entity words per type and language")
        space.add_argument("--model", help="a trained archive: adds the view of its word encoder")
        space.add_argument("--overrides", default="", help="overrides for the archive's config (JSON)")
        space.add_argument("--output", required=True, help="PNG file to write")

        length = kinds.add_parser("length-accuracy", help="model labels vs gold by sentence length")
        length.add_argument("--model", required=True, help="a trained archive (the source model)")
        length.add_argument("--data", required=True, help="labelled target-language CoNLL file (dev)")
        length.add_argument("--language", required=True)
        length.add_argument("--encoding", default="utf-8")
        length.add_argument("--overrides", default="", help="overrides for the archive's config (JSON)")
        length.add_argument("--output", required=True, help="PNG file to write")

        for kind in (space, length):
            # allennlp adds --include-package to `xlner-plot` itself; accept it after the kind too.
            kind.add_argument("--include-package", action="append", default=[], help="additional packages to import")
        subparser.set_defaults(func=exit_on_error(_run))
        return subparser


def _run(args: argparse.Namespace) -> None:
    numbers = _space(args) if args.kind == "space" else _length_accuracy(args)
    atomic_write_text(os.path.splitext(args.output)[0] + ".json", json.dumps(numbers, indent=2))
    print(json.dumps(numbers, indent=2))
    print(f"wrote {args.output}")


def _archive(model: str, overrides: str) -> Archive:
    return load_archive(model, overrides=overrides or "")


def _instances(reader: DatasetReader, path: str) -> List[Instance]:
    instances = list(reader.read(path))
    if not instances:
        raise ValueError(f"{path}: no sentences")
    return instances


def _space(args: argparse.Namespace) -> Dict:
    alignment = load_alignment(args.alignment)
    reference_path = args.reference_vectors or alignment.inputs.get("reference_vectors")
    mapped_path = args.mapped_vectors or alignment.inputs.get("mapped_vectors")
    if not reference_path or not mapped_path:
        raise ValueError(f"{args.alignment}: no recorded vector paths; pass --reference-vectors/--mapped-vectors")
    reference, reference_raw = entity_word_vectors(entity_words(
        args.reference_data, alignment.reference_language, args.per_type, args.reference_encoding), reference_path,
        args.encoding)
    mapped, mapped_raw = entity_word_vectors(entity_words(
        args.mapped_data, alignment.mapped_language, args.per_type, args.mapped_encoding), mapped_path, args.encoding)
    views = {
        "before alignment": (unit_rows(reference_raw), unit_rows(mapped_raw)),
        "after alignment": (alignment.apply(reference_raw, "reference"), alignment.apply(mapped_raw, "mapped")),
    }
    if args.model:
        archive = _archive(args.model, args.overrides)
        for name, words, data, encoding in (
            ("reference", reference, args.reference_data, args.reference_encoding),
            ("mapped", mapped, args.mapped_data, args.mapped_encoding),
        ):
            reader = evaluation_reader(archive.config, words.language, encoding)
            features = encoder_word_vectors(archive.model, _instances(reader, data), words.words)
            views.setdefault("model encoder", [None, None])[0 if name == "reference" else 1] = features
        views["model encoder"] = tuple(views["model encoder"])
    rates = plot_views(views, reference, mapped, args.output)
    return {"same_type_neighbour_rate": rates, "reference_words": len(reference.words), "mapped_words": len(mapped.words)}


def _length_accuracy(args: argparse.Namespace) -> Dict:
    archive = _archive(args.model, args.overrides)
    reader = evaluation_reader(archive.config, args.language, args.encoding)
    instances = _instances(reader, args.data)
    if "tags" not in instances[0].fields:
        raise ValueError(f"{args.data}: the file has no tags; this analysis needs a labelled dev set")
    gold = [list(instance["tags"].labels) for instance in instances]
    predicted, confidences = predicted_tags(archive.model, instances)
    encoding = canonical_encoding(archive.model.label_encoding)
    buckets = length_buckets(gold, predicted, confidences, encoding)
    plot_length_accuracy(buckets, f"{args.language}: source-model labels vs gold by sentence length", args.output)
    return {"language": args.language, "data": os.path.abspath(args.data),
            "buckets": [b.as_dict() for b in buckets]}
