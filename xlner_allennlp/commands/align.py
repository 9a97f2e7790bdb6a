"""``allennlp xlner-align``: fit a word-vector alignment and write the artifact.

A thin layer over :func:`xlner_allennlp.alignment.align.align_files` (one pair) and
:func:`~xlner_allennlp.alignment.align.align_to_pivot` (``--pivot``: several languages into one
space). Settings come from the command line or from a jsonnet ``--config`` file with the same
names (underscored: ``source_vectors``, ``method``, ..., plus ``hyperparameters``: {...});
options given on the command line win over the file.

Examples::

    allennlp xlner-align --source-vectors es.npy --target-vectors en.npy \\
        --method procrustes-refine --dictionary es-en.0-5000.txt --output artifacts/es-en
    allennlp xlner-align --pivot en --target-vectors en.npy --source-vectors es.npy nl.npy \\
        --dictionary es-en.0-5000.txt nl-en.0-5000.txt --method procrustes-refine \\
        --output artifacts/alignments      # writes es-en/, nl-en/ and en-en/ (identity)
"""
import argparse
import json
import logging
from typing import Any, Dict, List, Optional

from allennlp.commands.subcommand import Subcommand
from allennlp.common.params import Params

from xlner_allennlp.alignment.align import METHODS, align_files, align_to_pivot
from xlner_allennlp.alignment.artifact import Alignment
from xlner_allennlp.alignment.dictionary import SEEDS
from xlner_allennlp.alignment.report import format_table, percent
from xlner_allennlp.commands.errors import exit_on_error

logger = logging.getLogger(__name__)

# Settings the command passes through to the library, with the list-valued ones of --pivot mode.
_SETTINGS = (
    "source_vectors", "target_vectors", "method", "dictionary", "seed", "max_vocab", "output",
    "evaluation_dictionary", "normalization", "source_language", "target_language", "random_seed", "pivot",
)
_LISTS = ("source_vectors", "dictionary", "evaluation_dictionary")


@Subcommand.register("xlner-align")
class XlnerAlign(Subcommand):
    """Registers ``allennlp xlner-align``; see the module docstring."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = "Map source word vectors onto target word vectors and write an alignment artifact."
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("--config", help="jsonnet file giving any of the settings below")
        subparser.add_argument("--source-vectors", nargs="+", help="vectors to map (several with --pivot)")
        subparser.add_argument("--target-vectors", help="vectors of the reference space (the pivot with --pivot)")
        subparser.add_argument("--method", choices=METHODS)
        subparser.add_argument("--dictionary", nargs="+", help="MUSE training dictionary (one per source)")
        subparser.add_argument("--seed", choices=SEEDS, help="identical-strings or numerals seed dictionary")
        subparser.add_argument("--max-vocab", type=int, help="keep the N most frequent words of each file")
        subparser.add_argument("--output", help="artifact directory (with --pivot: parent directory)")
        subparser.add_argument(
            "--evaluation-dictionary", nargs="+", help="MUSE test dictionary: BLI results go into the artifact"
        )
        subparser.add_argument("--normalization", help="normalization steps (default unit,center,unit)")
        subparser.add_argument("--source-language", help="source language code (default: file name)")
        subparser.add_argument("--target-language", help="target language code (default: file name)")
        subparser.add_argument("--random-seed", type=int, help="random seed of stochastic methods")
        subparser.add_argument(
            "--pivot", help="map every --source-vectors file into this language's space (--target-vectors)"
        )
        subparser.add_argument(
            "--hyperparameters", help='JSON object of method hyperparameters, e.g. \'{"refinement_iterations": 3}\''
        )
        subparser.set_defaults(func=exit_on_error(align_from_args))
        return subparser


def settings_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """Merge the ``--config`` file and the command line (which wins) into library keyword arguments."""
    settings: Dict[str, Any] = Params.from_file(args.config).as_dict(quiet=True) if args.config else {}
    unknown = set(settings) - set(_SETTINGS) - {"hyperparameters"}
    if unknown:
        raise ValueError(f"{args.config}: unknown setting(s) {', '.join(sorted(unknown))}")
    for name in _SETTINGS:
        value = getattr(args, name, None)
        if value is not None:
            settings[name] = value
    hyperparameters = dict(settings.pop("hyperparameters", {}) or {})
    if args.hyperparameters:
        try:
            hyperparameters.update(json.loads(args.hyperparameters))
        except json.JSONDecodeError as error:
            raise ValueError(f"--hyperparameters is not a JSON object: {error}") from None
    for name in _LISTS:
        if isinstance(settings.get(name), str):
            settings[name] = [settings[name]]
    for name in ("source_vectors", "target_vectors", "method", "output"):
        if not settings.get(name):
            raise ValueError(f"--{name.replace('_', '-')} is required (on the command line or in --config)")
    settings["hyperparameters"] = hyperparameters
    return settings


def _single(settings: Dict[str, Any], name: str) -> Optional[str]:
    values: Optional[List[str]] = settings.get(name)
    if values and len(values) > 1:
        raise ValueError(f"several --{name.replace('_', '-')} values need --pivot")
    return values[0] if values else None


def summary_row(alignment: Alignment) -> Dict[str, Any]:
    """One line of the summary table for an alignment."""
    evaluation = alignment.evaluation
    train = evaluation.get("training_dictionary", {})
    bli = evaluation.get("bli", {})
    return {
        "pair": f"{alignment.source_language}->{alignment.target_language}",
        "method": alignment.method,
        "vocab": f"{alignment.inputs.get('source_vocab_size')}/{alignment.inputs.get('target_vocab_size')}",
        "train pairs": train.get("n_pairs"),
        "dropped": train.get("n_pairs_dropped"),
        "criterion": evaluation.get("criterion"),
        "status": evaluation.get("status", "ok"),
        "P@1 nn": percent(bli.get("precision_at_1_nn")),
        "P@1 csls": percent(bli.get("precision_at_1_csls")),
        "coverage": percent(bli.get("coverage")),
        "fit s": evaluation.get("fit_seconds"),
    }


def align_from_args(args: argparse.Namespace) -> None:
    """Run the alignment the arguments describe and print a summary table."""
    settings = settings_from_args(args)
    hyperparameters = settings.pop("hyperparameters")
    pivot = settings.pop("pivot", None)
    if pivot:
        alignments = list(
            align_to_pivot(
                settings["target_vectors"],
                settings["source_vectors"],
                settings["method"],
                settings["output"],
                dictionaries=settings.get("dictionary"),
                evaluation_dictionaries=settings.get("evaluation_dictionary"),
                seed=settings.get("seed"),
                max_vocab=settings.get("max_vocab"),
                pivot_language=pivot,
                random_seed=settings.get("random_seed", 0),
                **({"normalization": settings["normalization"]} if settings.get("normalization") else {}),
                **hyperparameters,
            ).values()
        )
    else:
        optional = {
            name: settings[name]
            for name in ("normalization", "source_language", "target_language", "random_seed")
            if settings.get(name) is not None
        }
        alignments = [
            align_files(
                _single(settings, "source_vectors"),
                settings["target_vectors"],
                settings["method"],
                settings["output"],
                dictionary=_single(settings, "dictionary"),
                seed=settings.get("seed"),
                max_vocab=settings.get("max_vocab"),
                evaluation_dictionary=_single(settings, "evaluation_dictionary"),
                **optional,
                **hyperparameters,
            )
        ]
    columns = ["pair", "method", "vocab", "train pairs", "dropped", "criterion", "status",
               "P@1 nn", "P@1 csls", "coverage", "fit s"]
    print(format_table([summary_row(a) for a in alignments], columns))
    for alignment in alignments:
        if alignment.evaluation.get("status", "ok") != "ok":
            print(f"warning: {alignment.source_language}->{alignment.target_language}: "
                  f"{alignment.evaluation.get('status_reason', 'the unsupervised criterion indicates failure')}")
    print(f"written to {settings['output']}")
