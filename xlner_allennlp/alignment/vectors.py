"""Loading word vectors: word2vec text (optionally gzipped, header optional) and ``.npy`` + ``.vocab``.

Files are frequency-sorted, so ``max_vocab`` keeps the first N rows. Text files are parsed line by
line into a preallocated float32 array, so memory stays near one float32 copy of the kept rows.
Every problem raises :class:`VectorFileError` naming the file and, where there is one, the line.
"""
import os
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from xlner_allennlp.alignment.vector_stamp import check_stamp
from xlner_allennlp.file_utils import text_lines


class VectorFileError(ValueError):
    """A word-vector or vocabulary file is malformed; the message names the file and line."""


@dataclass
class WordVectors:
    """Words and their vectors, row ``i`` of ``matrix`` (float32, shape ``(n, d)``) for ``words[i]``."""

    words: List[str]
    matrix: np.ndarray
    path: str = ""
    _index: Optional[Dict[str, int]] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.words) != self.matrix.shape[0]:
            raise VectorFileError(
                f"{self.path or '<vectors>'}: {len(self.words)} words but {self.matrix.shape[0]} rows"
            )

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    @property
    def index(self) -> Dict[str, int]:
        """Word to row, built once on first use."""
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index


def _is_npy(path: str) -> bool:
    return path.endswith(".npy")


def vocab_path(npy_path: str) -> str:
    """The word list of a ``.npy`` vector file: ``es.npy`` -> ``es.vocab``."""
    return npy_path[: -len(".npy")] + ".vocab"


def _check_exists(path: str) -> None:
    if not os.path.isfile(path):
        raise VectorFileError(f"{path}: no such vector file")


# Appended to a decoding error: how to say which encoding the file has.
ENCODING_HINT = "; pass the file's encoding (encoding= in Python, --encoding on the command line, e.g. latin-1)"


def _numbered_lines(path: str, encoding: str) -> Iterator[Tuple[int, str]]:
    """Yield ``(line_number, line)``; undecodable bytes and broken gzip streams are reported by file and line."""
    return text_lines(path, encoding, VectorFileError, ENCODING_HINT)


def _check_duplicates(words: List[str], path: str, first_line: int) -> None:
    seen: Dict[str, int] = {}
    for i, word in enumerate(words):
        if word in seen:
            raise VectorFileError(
                f"{path}:{first_line + i}: duplicate word {word!r} (first at line {first_line + seen[word]})"
            )
        seen[word] = i


def _check_finite(matrix: np.ndarray, path: str, first_line: int) -> None:
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        listed = ", ".join(str(first_line + int(r)) for r in rows[:5])
        raise VectorFileError(
            f"{path}: {len(rows)} row(s) contain NaN or infinite values (line(s) {listed}"
            f"{', ...' if len(rows) > 5 else ''})"
        )


def load_vocab(path: str, max_vocab: Optional[int] = None, encoding: str = "utf-8") -> List[str]:
    """Only the words of a vector file, in row order (cheap: no vectors are parsed)."""
    _check_exists(path)
    if _is_npy(path):
        vocab_file = vocab_path(path)
        if not os.path.isfile(vocab_file):
            raise VectorFileError(f"{path}: the word list {vocab_file} is missing")
        words = []
        for line_number, line in _numbered_lines(vocab_file, encoding):
            if max_vocab is not None and len(words) >= max_vocab:
                break
            word = line.rstrip("\n").rstrip("\r")
            if not word or word.strip() != word or " " in word:
                raise VectorFileError(f"{vocab_file}:{line_number}: expected one word, got {line!r}")
            words.append(word)
        return words
    words = []
    for line_number, line in _numbered_lines(path, encoding):
        parts = line.rstrip().split(" ", 1)
        if line_number == 1 and _is_header(parts):
            continue
        if max_vocab is not None and len(words) >= max_vocab:
            break
        words.append(parts[0])
    return words


def _is_header(parts: List[str]) -> bool:
    fields = " ".join(parts).split()
    return len(fields) == 2 and all(f.isdigit() for f in fields)


def load_vectors(
    path: str, max_vocab: Optional[int] = None, encoding: str = "utf-8"
) -> WordVectors:
    """Load the first ``max_vocab`` rows (all when ``None``) of a vector file as float32.

    Formats: ``.npy`` (any float dtype) with the words one per line in the sibling ``.vocab`` file,
    or word2vec text (``word v1 ... vd`` per line, ``.gz`` allowed, ``rows dim`` header optional).
    Raises :class:`VectorFileError` on a missing file, a row of the wrong width, NaN/inf values,
    duplicate words, undecodable bytes, ``max_vocab`` larger than the file, or an empty file.
    """
    if max_vocab is not None and max_vocab <= 0:
        raise VectorFileError(f"{path}: max_vocab must be positive, got {max_vocab}")
    _check_exists(path)
    if _is_npy(path):
        vectors = _load_npy(path, max_vocab, encoding)
    else:
        vectors = _load_text(path, max_vocab, encoding)
    if len(vectors) == 0:
        raise VectorFileError(f"{path}: the file holds no vectors")
    if max_vocab is not None and len(vectors) < max_vocab:
        raise VectorFileError(
            f"{path}: max_vocab={max_vocab} is larger than the file ({len(vectors)} rows)"
        )
    return vectors


def _load_npy(path: str, max_vocab: Optional[int], encoding: str) -> WordVectors:
    try:
        array = np.load(path, mmap_mode="r")
    except (ValueError, OSError) as error:
        raise VectorFileError(f"{path}: not a readable .npy array ({error})") from None
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.floating):
        raise VectorFileError(f"{path}: expected a 2-D float array, got shape {array.shape} {array.dtype}")
    words = load_vocab(path, max_vocab, encoding)
    vocab_file = vocab_path(path)
    n = len(words)
    if max_vocab is None and n != array.shape[0]:
        raise VectorFileError(f"{vocab_file}: {n} words but {path} has {array.shape[0]} rows")
    if n > array.shape[0]:
        raise VectorFileError(f"{vocab_file}: more words ({n}) than rows in {path} ({array.shape[0]})")
    check_stamp(path, vocab_file, VectorFileError)
    matrix = np.array(array[:n], dtype=np.float32)
    _check_duplicates(words, vocab_file, 1)
    _check_finite(matrix, vocab_file, 1)
    return WordVectors(words, matrix, path)


def _load_text(path: str, max_vocab: Optional[int], encoding: str) -> WordVectors:
    words: List[str] = []
    chunks: List[np.ndarray] = []
    chunk: Optional[np.ndarray] = None
    filled = 0
    dim: Optional[int] = None
    first_data_line = 1
    chunk_rows = 65536
    lines = tqdm(_numbered_lines(path, encoding), desc=f"loading {os.path.basename(path)}", unit=" lines",
                 total=max_vocab, mininterval=2.0, leave=False)
    for line_number, line in lines:
        stripped = line.rstrip()
        if line_number == 1 and _is_header(stripped.split(" ", 1)):
            rows, header_dim = (int(f) for f in stripped.split())
            dim = header_dim
            chunk_rows = max(1, min(rows, max_vocab or rows))
            first_data_line = 2
            continue
        if max_vocab is not None and len(words) >= max_vocab:
            break
        if not stripped:
            raise VectorFileError(f"{path}:{line_number}: empty line")
        parts = stripped.split(" ")
        word, values = parts[0], parts[1:]
        if dim is None:
            dim = len(values)
            if dim == 0:
                raise VectorFileError(f"{path}:{line_number}: a word with no vector values")
        if len(values) != dim:
            raise VectorFileError(
                f"{path}:{line_number}: expected {dim} values after the word, found {len(values)}"
            )
        if chunk is None or filled == chunk.shape[0]:
            if chunk is not None:
                chunks.append(chunk)
            chunk = np.empty((chunk_rows, dim), dtype=np.float32)
            filled = 0
        try:
            chunk[filled] = np.asarray(values, dtype=np.float32)
        except ValueError:
            raise VectorFileError(f"{path}:{line_number}: a value is not a number") from None
        filled += 1
        words.append(word)
    if chunk is not None:
        chunks.append(chunk[:filled])
    matrix = (
        np.concatenate(chunks) if len(chunks) > 1 else (chunks[0] if chunks else np.zeros((0, dim or 0), np.float32))
    )
    _check_duplicates(words, path, first_data_line)
    _check_finite(matrix, path, first_data_line)
    return WordVectors(words, matrix, path)
