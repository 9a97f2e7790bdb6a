"""Reading the comparable corpus: ``.jsonl(.gz)`` files of document pairs, one JSON object a line.

Each line is ``{"id": "<source>:<document>", "<lang>": "<tokens>", "<other>": "<tokens>"}`` with
tokens separated by spaces. Plain Python; every problem raises :class:`PairFileError` naming the
file and the line.
"""
import json
import math
import os
from dataclasses import dataclass
from typing import Iterator, List

from xlner_allennlp.file_utils import text_lines

# Longest document side (tokens) of one skip-gram step; longer pairs are cut by split_pair.
MAX_DOCUMENT_TOKENS = 1000


class PairFileError(ValueError):
    """A pairs file is missing or malformed; the message names the file and the line."""


@dataclass
class DocumentPair:
    """One comparable document pair: ``source`` and ``target`` token lists, non-empty.

    ``line`` is the 1-based line of the pairs file the pair was read from.
    """

    id: str
    source: List[str]
    target: List[str]
    line: int


def read_pairs(path: str, target_language: str, source_language: str = "en") -> Iterator[DocumentPair]:
    """Lazily yield the pairs of ``path`` as :class:`DocumentPair` (``source_language`` side first).

    Raises :class:`PairFileError` for an unreadable file or line, a line that is not a JSON object,
    a pair lacking one of the two language keys (naming the languages the line has, so that a
    target language absent from the whole file is visible at its first line), a document with
    no token, and a file with no pair.
    """
    if not os.path.isfile(path):
        raise PairFileError(f"{path}: cannot open the pairs file (no such file)")
    count = 0
    for line_number, raw in text_lines(path, "utf-8", PairFileError, " (pairs files are UTF-8)"):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as error:
            raise PairFileError(f"{path}, line {line_number}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise PairFileError(f"{path}, line {line_number}: expected a JSON object, got {type(record).__name__}")
        languages = sorted(key for key in record if key != "id")
        sides = []
        for language in (source_language, target_language):
            if language not in record:
                raise PairFileError(
                    f"{path}, line {line_number}: the pair has no {language!r} document "
                    f"(languages on this line: {', '.join(languages) or 'none'})"
                )
            text = record[language]
            if not isinstance(text, str):
                raise PairFileError(
                    f"{path}, line {line_number}: the {language!r} document must be a string, "
                    f"got {type(text).__name__}"
                )
            tokens = text.split()
            if not tokens:
                raise PairFileError(f"{path}, line {line_number}: the {language!r} document is empty")
            sides.append(tokens)
        count += 1
        yield DocumentPair(str(record.get("id", f"line{line_number}")), sides[0], sides[1], line_number)
    if count == 0:
        raise PairFileError(f"{path}: the file holds no document pair")


def split_pair(pair: DocumentPair, max_tokens: int = MAX_DOCUMENT_TOKENS) -> List[DocumentPair]:
    """Cut a long pair into ``m = ceil(max(len) / max_tokens)`` aligned pieces.

    Piece ``k`` holds the ``k``-th ``1/m`` of each side, so every piece has at most ``max_tokens``
    tokens a side and the pieces keep the documents' order. The documents are translations of each
    other at document level, so proportional pieces stay comparable; this bounds the memory of one
    skip-gram step on very long pages.
    """
    if max_tokens <= 0:
        raise ValueError(f"max_tokens must be positive, got {max_tokens}")
    pieces = max(1, math.ceil(max(len(pair.source), len(pair.target)) / max_tokens))
    if pieces == 1:
        return [pair]
    result = []
    for k in range(pieces):
        source = pair.source[len(pair.source) * k // pieces : len(pair.source) * (k + 1) // pieces]
        target = pair.target[len(pair.target) * k // pieces : len(pair.target) * (k + 1) // pieces]
        if source and target:
            result.append(DocumentPair(f"{pair.id}#{k}", source, target, pair.line))
    return result
