"""Reading one-sentence-per-line text (tokens separated by spaces, optionally gzipped)."""
import gzip
import os
from typing import BinaryIO, Iterator, List, Optional, Tuple


class TextFileError(ValueError):
    """A text corpus is missing, empty or undecodable; the message names the file and line."""


_GZIP_MAGIC = b"\x1f\x8b"


def _open(path: str) -> BinaryIO:
    """The file's bytes, decompressed when it starts with gzip's magic number (whatever its name)."""
    with open(path, "rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")  # type: ignore[return-value]


def read_sentences(
    path: str, max_length: Optional[int] = None, encoding: str = "utf-8"
) -> Iterator[Tuple[int, List[str]]]:
    """Yield ``(line_number, tokens)`` for every non-blank line of ``path``.

    ``max_length`` keeps the first ``max_length`` tokens of longer lines (``None``: all). Raises
    :class:`TextFileError` for a missing file, bytes that do not decode (naming the line), a
    corrupt gzip stream, or a file without any token.
    """
    if not os.path.isfile(path):
        raise TextFileError(f"{path}: no such text file")
    if max_length is not None and max_length <= 0:
        raise TextFileError(f"{path}: max_length must be positive, got {max_length}")
    found = False
    line_number = 0
    try:
        with _open(path) as handle:
            for raw in handle:  # bytes, decoded line by line so that an error names its line
                line_number += 1
                try:
                    line = raw.decode(encoding)
                except UnicodeDecodeError as error:
                    raise TextFileError(f"{path}:{line_number}: cannot decode as {encoding} ({error.reason})") from None
                tokens = line.split()
                if tokens:
                    found = True
                    yield line_number, tokens[:max_length] if max_length else tokens
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise TextFileError(f"{path}:{line_number + 1}: cannot read ({error})") from None
    if not found:
        raise TextFileError(f"{path}: the file holds no tokens")
