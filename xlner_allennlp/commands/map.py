"""``allennlp xlner-map DIR --output PATH``: write vectors mapped into the alignment's shared space.

Maps the vectors of the artifact's mapped side by default (``--vectors`` and ``--side`` choose others) and
writes ``.npy`` + ``.vocab`` (+ the ``.stamp.json`` that ties them, so that a killed write is
never read as a pair) when ``PATH`` ends in ``.npy``, word2vec text otherwise; ``--encoding`` is
the input vector file's (the output is UTF-8). A thin layer
over :meth:`xlner_allennlp.alignment.artifact.Alignment.apply_file`.
"""
import argparse

from allennlp.commands.subcommand import Subcommand

from xlner_allennlp.alignment.artifact import SIDES, ArtifactError, load_alignment
from xlner_allennlp.commands.errors import exit_on_error


@Subcommand.register("xlner-map")
class XlnerMap(Subcommand):
    """Registers ``allennlp xlner-map``; see the module docstring."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = "Write word vectors mapped by an alignment artifact."
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("artifact", help="alignment directory written by xlner-align")
        subparser.add_argument("--output", required=True, help="output file (.npy + .vocab, or word2vec text)")
        subparser.add_argument("--vectors", help="vectors to map (default: the artifact's vectors of --side)")
        subparser.add_argument("--side", choices=SIDES, default="mapped",
                               help="which side of the artifact the vectors belong to: mapped (the language "
                                    "the mapping applies to) or reference (the space it maps into)")
        subparser.add_argument("--max-vocab", type=int, help="map only the N most frequent words")
        subparser.add_argument("--encoding", default="utf-8", help="encoding of the vector file (text or .vocab)")
        subparser.set_defaults(func=exit_on_error(map_from_args))
        return subparser


def map_from_args(args: argparse.Namespace) -> None:
    alignment = load_alignment(args.artifact)
    vectors = args.vectors or alignment.inputs.get(f"{args.side}_vectors")
    if not vectors:
        raise ArtifactError(f"{args.artifact}: no {args.side} vector file recorded; pass --vectors")
    count = alignment.apply_file(vectors, args.output, side=args.side, max_vocab=args.max_vocab, encoding=args.encoding)
    print(f"mapped {count} {alignment.language(args.side)} vectors from {vectors} into {args.output}")
