"""``allennlp xlner-translate DIR --words FILE|-``: use an alignment artifact as a bilingual dictionary.

Reads one word per line (``-``: standard input) and prints, as tab-separated values with a
header, each word's ``--k`` best translations in the aligned space ranked by ``--retrieval``
(``csls``, the default, or ``nn``), each with its cosine and CSLS score. Words of the mapped side
are translated into the reference language (``--side reference``: the other way). The vectors
default to the files and vocabulary size recorded in the artifact. A word missing from the
vectors is reported on stderr and skipped; the exit status is then 2 (1 for an error, 0 when
every word was translated). A thin layer over :func:`xlner_allennlp.alignment.translate_words`.
"""
import argparse
import sys
from typing import List

from allennlp.commands.subcommand import Subcommand

from xlner_allennlp.alignment import artifact_vectors, load_alignment, translate_words
from xlner_allennlp.alignment.artifact import SIDES
from xlner_allennlp.alignment.retrieval import RETRIEVAL_METHODS
from xlner_allennlp.commands.errors import exit_on_error
from xlner_allennlp.file_utils import decoded_lines, text_lines

# Exit status when some words were not in the vectors (the others are printed).
UNKNOWN_WORDS_STATUS = 2


@Subcommand.register("xlner-translate")
class XlnerTranslate(Subcommand):
    """Registers ``allennlp xlner-translate``; see the module docstring."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = "Print the nearest translations of words through an alignment artifact (NN or CSLS)."
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("artifact", help="alignment directory written by xlner-align")
        subparser.add_argument("--words", required=True, help="file with one word per line, or - for standard input")
        subparser.add_argument("--k", type=int, default=5, help="translations per word (default: 5)")
        subparser.add_argument("--retrieval", choices=RETRIEVAL_METHODS, default="csls",
                               help="rank translations by csls (default) or nn (cosine)")
        subparser.add_argument("--side", choices=SIDES, default="mapped",
                               help="which side of the artifact the words belong to: mapped (default; "
                                    "translated into the reference language) or reference (the other way)")
        subparser.add_argument("--csls-k", type=int, default=10, help="CSLS neighbourhood size (default: 10)")
        subparser.add_argument("--mapped-vectors", help="vectors of the mapped side (default: the artifact's)")
        subparser.add_argument("--reference-vectors", help="vectors of the reference side (default: the artifact's)")
        subparser.add_argument("--max-vocab", type=int, help="rows kept per file (default: the artifact's)")
        subparser.add_argument("--encoding", default="utf-8", help="encoding of the vector files (text or .vocab)")
        subparser.add_argument("--words-encoding", default="utf-8", help="encoding of the words file (default: utf-8)")
        subparser.set_defaults(func=exit_on_error(translate_from_args))
        return subparser


def _read_words(path: str, encoding: str) -> List[str]:
    """The non-empty lines of ``path`` (``-``: standard input), stripped."""
    if path == "-":
        lines = decoded_lines(sys.stdin.buffer, "<stdin>", encoding, ValueError)
        return [line.strip() for _, line in lines if line.strip()]
    return [line.strip() for _, line in text_lines(path, encoding, ValueError) if line.strip()]


def translate_from_args(args: argparse.Namespace) -> None:
    words = _read_words(args.words, args.words_encoding)
    if not words:
        raise ValueError(f"{args.words}: no words to translate")
    alignment = load_alignment(args.artifact)
    mapped, reference = artifact_vectors(
        args.artifact, alignment, args.mapped_vectors, args.reference_vectors, args.max_vocab,
        warn=lambda message: print(f"warning: {message}", file=sys.stderr), encoding=args.encoding,
    )
    translations, unknown = translate_words(
        alignment, mapped, reference, words, args.k, args.retrieval, args.side, args.csls_k
    )
    source_language = alignment.language(args.side)
    target_language = alignment.language("reference" if args.side == "mapped" else "mapped")
    print(f"{source_language}\trank\t{target_language}\tcosine\tcsls")
    for word in words:
        for translation in translations.get(word, []):
            print(f"{word}\t{translation.rank}\t{translation.word}\t{translation.cosine:.4f}\t{translation.csls:.4f}")
    if unknown:
        vectors = mapped if args.side == "mapped" else reference
        for word in unknown:
            print(f"unknown word: {word!r} is not in the {source_language} vectors ({vectors.path})", file=sys.stderr)
        print(f"{len(unknown)} of {len(set(words))} words unknown, not translated", file=sys.stderr)
        sys.exit(UNKNOWN_WORDS_STATUS)
