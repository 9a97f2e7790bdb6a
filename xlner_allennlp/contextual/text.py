"""Reading one-sentence-per-line text (tokens separated by spaces, optionally gzipped)."""
import os
from typing import Iterator, List, Optional, Tuple

from xlner_allennlp.file_utils import text_lines


# Appended to a decoding error: how to say which encoding the text has.
TEXT_ENCODING_HINT = "; pass the file's encoding (the reader's \"encoding\", --encoding of xlner-anchors)"


class TextFileError(ValueError):
    """A text corpus is missing, empty or undecodable; the message names the file and line."""


def read_sentences(
    path: str, max_length: Optional[int] = None, encoding: str = "utf-8"
) -> Iterator[Tuple[int, List[str]]]:
    """Yield ``(line_number, tokens)`` for every non-blank line of ``path`` (plain, or gzip by name
    or content).

    ``max_length`` keeps the first ``max_length`` tokens of longer lines (``None``: all). Raises
    :class:`TextFileError` for a missing file, bytes that do not decode (naming the line), a
    corrupt or truncated gzip stream (naming the line), or a file without any token.
    """
    if not os.path.isfile(path):
        raise TextFileError(f"{path}: no such text file")
    if max_length is not None and max_length <= 0:
        raise TextFileError(f"{path}: max_length must be positive, got {max_length}")
    found = False
    for line_number, line in text_lines(path, encoding, TextFileError, TEXT_ENCODING_HINT):
        tokens = line.split()
        if tokens:
            found = True
            yield line_number, tokens[:max_length] if max_length else tokens
    if not found:
        raise TextFileError(f"{path}: the file holds no tokens")
