"""``allennlp xlner-align``: fit a word-vector alignment and write the artifact.

A thin layer over :func:`xlner_allennlp.alignment.align_files` (one pair) and
:func:`~xlner_allennlp.alignment.align_to_pivot` (``--pivot``: several languages into one
space). The artifact maps ``--mapped-vectors`` into the space of ``--reference-vectors``. Method
settings are given with repeated ``--set NAME=VALUE`` (typed by the method's settings dataclass)
and/or a jsonnet/json ``--config`` file holding any of the options below with underscored names
(``mapped_vectors``, ``method``, ...) plus ``settings``: {NAME: VALUE}; the command line wins over
the file. ``--list-methods`` (and ``--help``) print every method's settings with their defaults.

``--encoding`` is the vector files' encoding (text and ``.vocab``), ``--dictionary-encoding`` the
dictionaries' (both UTF-8 by default). A training or evaluation dictionary that runs the other way
round (first column in the reference language) is refused. A fit that fails its own checks is
written to ``--output`` with ``status: failed`` in its meta.json and a warning, except that it
never replaces an artifact there that passed them: it then goes to ``OUTPUT.failed/`` for
inspection and the command exits with an error, unless ``--overwrite-failed`` is given.

Examples::

    allennlp xlner-align --mapped-vectors es.npy --reference-vectors en.npy \\
        --method procrustes-refine --dictionary es-en.0-5000.txt --output artifacts/es-en \\
        --set refinement_iterations=3 --set refinement_induction=muse
    allennlp xlner-align --pivot en --reference-vectors en.npy --mapped-vectors es.npy nl.npy \\
        --dictionary es-en.0-5000.txt nl-en.0-5000.txt --method procrustes-refine \\
        --output artifacts/alignments      # writes es-en/, nl-en/ and en-en/ (identity)
"""
import argparse
import logging
import sys
from typing import Any, Dict, List, Optional

from allennlp.commands.subcommand import Subcommand
from allennlp.common.params import Params

from xlner_allennlp.alignment import METHODS, Alignment, align_files, align_to_pivot, describe_methods
from xlner_allennlp.alignment.dictionary import SEEDS
from xlner_allennlp.alignment.report import format_table, percent
from xlner_allennlp.commands.errors import exit_on_error

logger = logging.getLogger(__name__)

# Options the command passes through to the library, and the list-valued ones of --pivot mode.
_OPTIONS = (
    "mapped_vectors", "reference_vectors", "method", "dictionary", "seed", "max_vocab", "output",
    "evaluation_dictionary", "normalization", "mapped_language", "reference_language", "random_seed", "pivot",
    "encoding", "dictionary_encoding", "overwrite_failed",
)
_LISTS = ("mapped_vectors", "dictionary", "evaluation_dictionary")


@Subcommand.register("xlner-align")
class XlnerAlign(Subcommand):
    """Registers ``allennlp xlner-align``; see the module docstring."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = "Map word vectors into the space of reference word vectors and write an alignment artifact."
        subparser = parser.add_parser(
            self.name, description=description, help=description,
            epilog="methods and their settings (--set NAME=VALUE), with defaults:\n" + describe_methods(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        subparser.add_argument("--config", help="jsonnet/json file giving any of the options below and 'settings'")
        subparser.add_argument("--mapped-vectors", nargs="+", help="vectors to map (several with --pivot)")
        subparser.add_argument("--reference-vectors", help="vectors of the reference space (the pivot with --pivot)")
        subparser.add_argument("--method", choices=list(METHODS))
        subparser.add_argument("--dictionary", nargs="+", help="MUSE training dictionary (one per --mapped-vectors file)")
        subparser.add_argument("--seed", choices=SEEDS, help="identical-strings or numerals seed dictionary")
        subparser.add_argument("--max-vocab", type=int, help="keep the N most frequent words of each file")
        subparser.add_argument("--output", help="artifact directory (with --pivot: parent directory)")
        subparser.add_argument(
            "--evaluation-dictionary", nargs="+", help="MUSE test dictionary: BLI results go into the artifact"
        )
        subparser.add_argument("--normalization", help="normalization steps (default unit,center,unit)")
        subparser.add_argument("--mapped-language", help="language code of the mapped vectors (default: file name)")
        subparser.add_argument("--reference-language", help="language code of the reference vectors (default: file name)")
        subparser.add_argument("--random-seed", type=int, help="random seed of stochastic methods")
        subparser.add_argument(
            "--pivot", help="map every --mapped-vectors file into this language's space (--reference-vectors)"
        )
        subparser.add_argument("--encoding", help="encoding of the vector files, text or .vocab (default utf-8)")
        subparser.add_argument("--dictionary-encoding", help="encoding of the dictionaries (default utf-8)")
        subparser.add_argument(
            "--overwrite-failed", action="store_true", default=None,
            help="let a fit that fails its checks replace an artifact that passed them "
                 "(otherwise the failed fit goes to OUTPUT.failed and the command fails)",
        )
        subparser.add_argument(
            "--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
            help="a method setting, e.g. --set refinement_iterations=3 (repeatable; see below)",
        )
        subparser.add_argument("--list-methods", action="store_true", help="print every method's settings and exit")
        subparser.set_defaults(func=exit_on_error(align_from_args))
        return subparser


def _parse_set(assignment: str) -> Dict[str, str]:
    name, equals, value = assignment.partition("=")
    if not equals or not name.strip():
        raise ValueError(f"--set {assignment!r}: expected NAME=VALUE, e.g. --set refinement_iterations=3")
    return {name.strip(): value}


def settings_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """Merge the ``--config`` file and the command line (which wins) into library keyword arguments;
    the method settings are under ``settings`` (strings from ``--set`` are typed by the library)."""
    options: Dict[str, Any] = Params.from_file(args.config).as_dict(quiet=True) if args.config else {}
    unknown = set(options) - set(_OPTIONS) - {"settings"}
    if unknown:
        raise ValueError(f"{args.config}: unknown option(s) {', '.join(sorted(unknown))}")
    for name in _OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            options[name] = value
    settings = options.pop("settings", None) or {}
    if not isinstance(settings, dict):
        raise ValueError(f"{args.config}: 'settings' must be an object of method settings, got {settings!r}")
    for assignment in args.settings:
        settings.update(_parse_set(assignment))
    for name in _LISTS:
        if isinstance(options.get(name), str):
            options[name] = [options[name]]
    for name in ("mapped_vectors", "reference_vectors", "method", "output"):
        if not options.get(name):
            raise ValueError(f"--{name.replace('_', '-')} is required (on the command line or in --config)")
    options["settings"] = settings
    return options


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
        "pair": f"{alignment.mapped_language}->{alignment.reference_language}",
        "method": alignment.method,
        "vocab": f"{alignment.inputs.get('mapped_vocab_size')}/{alignment.inputs.get('reference_vocab_size')}",
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
    if args.list_methods:
        print(describe_methods())
        return
    options = settings_from_args(args)
    settings = options.pop("settings")
    pivot = options.pop("pivot", None)
    common = {
        name: options[name] for name in (
            "seed", "max_vocab", "normalization", "random_seed", "encoding", "dictionary_encoding", "overwrite_failed"
        )
        if options.get(name) is not None
    }
    if pivot:
        alignments = list(
            align_to_pivot(
                options["reference_vectors"],
                options["mapped_vectors"],
                options["method"],
                options["output"],
                dictionaries=options.get("dictionary"),
                evaluation_dictionaries=options.get("evaluation_dictionary"),
                pivot_language=pivot,
                **common,
                **settings,
            ).values()
        )
    else:
        alignments = [
            align_files(
                _single(options, "mapped_vectors"),
                options["reference_vectors"],
                options["method"],
                options["output"],
                dictionary=_single(options, "dictionary"),
                evaluation_dictionary=_single(options, "evaluation_dictionary"),
                mapped_language=options.get("mapped_language"),
                reference_language=options.get("reference_language"),
                **common,
                **settings,
            )
        ]
    columns = ["pair", "method", "vocab", "train pairs", "dropped", "criterion", "status",
               "P@1 nn", "P@1 csls", "coverage", "fit s"]
    print(format_table([summary_row(a) for a in alignments], columns))
    for alignment in alignments:
        pair = f"{alignment.mapped_language}->{alignment.reference_language}"
        if alignment.evaluation.get("status", "ok") != "ok":
            print(f"warning: {pair}: "
                  f"{alignment.evaluation.get('status_reason', 'the unsupervised criterion indicates failure')}")
        if alignment.evaluation.get("bli", {}).get("warning"):
            print(f"warning: {pair}: {alignment.evaluation['bli']['warning']}", file=sys.stderr)
    print(f"written to {options['output']}")
