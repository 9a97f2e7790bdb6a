"""``allennlp xlner-bli DIR --dictionary PATH``: bilingual lexicon induction of an alignment artifact.

Prints one JSON object (precision at 1, 5, 10 with NN and CSLS retrieval, or those of ``--retrieval``, coverage and the
dictionary counts). The vectors default to the files recorded in the artifact, with the
vocabulary size it was fitted on; a vector file whose checksum differs from the recorded one is
reported on stderr. ``--encoding`` is the vector files' encoding, ``--dictionary-encoding`` the
dictionary's (both UTF-8 by default). A dictionary that runs the other way round (its first column
in the reference language) is refused, and when fewer than 20% of the dictionary's pairs are in
the vocabularies a warning goes to stderr and into the JSON (``"warning"``). A thin layer over
:func:`xlner_allennlp.alignment.evaluate_files`.
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
        subparser.add_argument("--encoding", default="utf-8", help="encoding of the vector files (text or .vocab)")
        subparser.add_argument("--dictionary-encoding", default="utf-8", help="encoding of the dictionary")
        subparser.set_defaults(func=exit_on_error(bli_from_args))
        return subparser


def bli_from_args(args: argparse.Namespace) -> None:
    results = evaluate_files(
        args.artifact,
        args.dictionary,
        mapped_vectors=args.mapped_vectors,
        reference_vectors=args.reference_vectors,
        max_vocab=args.max_vocab,
        encoding=args.encoding,
        dictionary_encoding=args.dictionary_encoding,
        warn=lambda message: print(f"warning: {message}", file=sys.stderr),
        methods=args.retrieval,
    )
    print(json.dumps(results, indent=2, sort_keys=True))
