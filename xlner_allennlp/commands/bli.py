"""``allennlp xlner-bli DIR --dictionary PATH``: bilingual lexicon induction of an alignment artifact.

Prints one JSON object (precision at 1, 5, 10 with NN and CSLS retrieval, or those of ``--retrieval``, coverage and the
dictionary counts). The vectors default to the files recorded in the artifact, with the
vocabulary size it was fitted on; a vector file whose checksum differs from the recorded one is
reported on stderr. A thin layer over :func:`xlner_allennlp.alignment.evaluate_files`.
"""
import argparse
import json
import sys

from allennlp.commands.subcommand import Subcommand

from xlner_allennlp.alignment import evaluate_files
from xlner_allennlp.alignment.retrieval import RETRIEVAL_METHODS
from xlner_allennlp.commands.errors import exit_on_error


@Subcommand.register("xlner-bli")
class XlnerBli(Subcommand):
    """Registers ``allennlp xlner-bli``; see the module docstring."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = "Evaluate an alignment artifact on a bilingual dictionary (BLI precision@k)."
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("artifact", help="alignment directory written by xlner-align")
        subparser.add_argument(
            "--dictionary", required=True, help="MUSE test dictionary (pairs: mapped-language word, reference-language word)"
        )
        subparser.add_argument("--mapped-vectors", help="vectors of the mapped side (default: the artifact's)")
        subparser.add_argument("--reference-vectors", help="vectors of the reference side (default: the artifact's)")
        subparser.add_argument("--max-vocab", type=int, help="rows kept per file (default: the artifact's)")
        subparser.add_argument("--retrieval", nargs="+", choices=RETRIEVAL_METHODS, default=list(RETRIEVAL_METHODS),
                               help="retrieval methods to measure (default: nn csls; CSLS costs a pass over "
                                    "every mapped-side vector for each reference word)")
        subparser.set_defaults(func=exit_on_error(bli_from_args))
        return subparser


def bli_from_args(args: argparse.Namespace) -> None:
    results = evaluate_files(
        args.artifact,
        args.dictionary,
        mapped_vectors=args.mapped_vectors,
        reference_vectors=args.reference_vectors,
        max_vocab=args.max_vocab,
        warn=lambda message: print(f"warning: {message}", file=sys.stderr),
        methods=args.retrieval,
    )
    print(json.dumps(results, indent=2, sort_keys=True))
