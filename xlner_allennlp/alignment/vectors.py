"""Loading word vectors: word2vec text (optionally gzipped, header optional) and ``.npy`` + ``.vocab``.

Files are frequency-sorted, so ``max_vocab`` keeps the first N rows. Text is read in blocks of
lines: a C parser reads the numbers of a whole block into the float32 matrix of kept rows,
preallocated from the header (checked against the file size) or grown in place, so memory stays
near one float32 copy of the kept rows. The C parser is the package's own (``_textparse.c``, built
by ``setup.py`` when a C compiler is present) or else numpy's ``np.loadtxt``; both give the same
bits. A block the C parser refuses is read again line by line in Python, which names the exact bad
line; ``TextLoading(parser="lines")`` reads every block that way (the reference path, measured by
``benchmarks/vector_loading.py``). Every problem raises :class:`VectorFileError` naming the file
and, where there is one, the line.

A whole text file read once is cached as a memory-mappable ``.npy`` + ``.vocab`` pair (see
:class:`TextLoading`): next to the file in ``NAME.xlner-cache/``, or under the user's cache
directory when the file's directory is read-only. Later loads map the cached matrix instead of
parsing the text; a cache is keyed by the file's path, size, modification time and encoding, so
a changed file is parsed again and its stale cache removed.
"""
import hashlib
import io
import json
import logging
import mmap
import multiprocessing
import os
import shutil
import stat
from dataclasses import dataclass, field
from typing import BinaryIO, Dict, Iterator, List, Mapping, Optional, Tuple

import numpy as np
from tqdm import tqdm

from xlner_allennlp.alignment.vector_stamp import check_stamp
from xlner_allennlp.file_utils import (
    TEMPORARY_STEM,
    atomic_write_text,
    decoded_lines,
    file_sha256,
    fsync_path,
    make_temporary,
    open_input,
    text_lines,
)

try:
    from xlner_allennlp.alignment import _textparse
except ImportError:  # not built: installed without a C compiler
    _textparse = None

logger = logging.getLogger(__name__)

PARSERS = ("blocks", "numpy", "lines")
# The on-disk layout of a cache unit; a unit of another version is never read.
CACHE_FORMAT = 1
CACHE_SUFFIX = ".xlner-cache"
# The file in a cache folder that remembers the sha256 of the text file it caches.
CHECKSUM_FILE = "source.sha256.json"
# Rows checked for NaN/inf at a time in a .npy file (a bounded temporary, not a copy of the matrix).
_FINITE_CHECK_ROWS = 1 << 16


class VectorFileError(ValueError):
    """A word-vector or vocabulary file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class TextLoading:
    """How word2vec text files are read, and whether a parsed file is cached.

    Commands take these from the environment (:meth:`from_environment`): ``XLNER_VECTOR_CACHE``
    (``auto``, ``off`` or a directory), ``XLNER_VECTOR_PARSER`` (``blocks``, ``numpy`` or ``lines``) and
    ``XLNER_VECTOR_WORKERS`` (a number).

    # Parameters

    parser : `str`, optional (default = `"blocks"`)
        ``blocks``: a C parser reads a block of lines at once, Python only a block it refuses
        (to name the bad line); the package's compiled parser when it is built
        (:attr:`compiled`), numpy's ``loadtxt`` otherwise. ``numpy``: blocks, always with
        ``loadtxt`` (same values, about 6x slower per value). ``lines``: every line in Python
        (slow; the reference).
    block_bytes : `int`, optional (default = `32 MiB`)
        Text read per block; the parsing temporaries are a few times this.
    cache : `str`, optional (default = `"auto"`)
        ``auto``: cache next to the file (``NAME.xlner-cache/``), or under
        ``$XDG_CACHE_HOME/xlner_allennlp/vectors`` (``~/.cache/...``) when the file's directory
        is read-only (no write permission, or no write bit at all, which counts for root too);
        ``off``: neither read nor write caches; any other value: the directory to keep them in.
        Only whole-file loads (``max_vocab=None``) write a cache; any ``max_vocab`` reads one.
    cache_min_bytes : `int`, optional (default = `64 MiB`)
        Smaller text files are parsed every time (parsing them takes about a second).
    workers : `int`, optional (default = `0`)
        Processes that parse a whole plain text file with a header, each a byte range of it,
        into one shared matrix (block parsers only; not for ``.gz`` or ``max_vocab``
        loads). 0: one per core this process may run on (``os.sched_getaffinity``); 1: in this
        process. Thread settings such as ``OMP_NUM_THREADS`` do not change it: the parser is
        single-threaded C code, so cores are what it can use.
    parallel_min_bytes : `int`, optional (default = `256 MiB`)
        Smaller files are parsed in this process (starting workers costs more than it saves).
    """

    parser: str = "blocks"
    block_bytes: int = 32 << 20
    cache: str = "auto"
    cache_min_bytes: int = 64 << 20
    workers: int = 0
    parallel_min_bytes: int = 256 << 20

    def __post_init__(self) -> None:
        if self.parser not in PARSERS:
            raise ValueError(f"parser must be one of {', '.join(PARSERS)}, got {self.parser!r}")
        if self.block_bytes < 1:
            raise ValueError(f"block_bytes must be positive, got {self.block_bytes}")
        if self.workers < 0:
            raise ValueError(f"workers must be 0 (one per usable core) or a number of processes, got {self.workers}")
        if not self.cache:
            raise ValueError("cache must be 'auto', 'off' or a directory, got ''")

    @classmethod
    def from_environment(cls, environ: Optional[Mapping[str, str]] = None) -> "TextLoading":
        """The defaults, overridden by ``XLNER_VECTOR_PARSER`` and ``XLNER_VECTOR_CACHE`` when set."""
        environ = os.environ if environ is None else environ
        overrides = {
            name: environ[variable]
            for name, variable in (("parser", "XLNER_VECTOR_PARSER"), ("cache", "XLNER_VECTOR_CACHE"))
            if environ.get(variable)
        }
        try:
            if environ.get("XLNER_VECTOR_WORKERS"):
                overrides["workers"] = int(environ["XLNER_VECTOR_WORKERS"])
            return cls(**overrides)
        except ValueError as error:
            raise VectorFileError(f"XLNER_VECTOR_PARSER / XLNER_VECTOR_CACHE / XLNER_VECTOR_WORKERS: {error}") from None

    @property
    def compiled(self) -> bool:
        """Whether blocks are parsed by the package's compiled parser."""
        return self.parser == "blocks" and _textparse is not None

    @property
    def processes(self) -> int:
        """The number of parsing processes ``workers`` asks for on this machine."""
        return self.workers or len(os.sched_getaffinity(0))


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


def _file_lines(path: str, encoding: str) -> Iterator[Tuple[int, str]]:
    return text_lines(path, encoding, VectorFileError, ENCODING_HINT)


def _check_duplicates(words: List[str], path: str, first_line: int) -> None:
    if len(set(words)) == len(words):
        return
    seen: Dict[str, int] = {}
    for i, word in enumerate(words):
        if word in seen:
            raise VectorFileError(
                f"{path}:{first_line + i}: duplicate word {word!r} (first at line {first_line + seen[word]})"
            )
        seen[word] = i


def _non_finite_rows(matrix: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``matrix`` holding NaN or inf, checked a bounded block at a time."""
    bad = [
        start + np.flatnonzero(~np.isfinite(matrix[start:start + _FINITE_CHECK_ROWS]).all(axis=1))
        for start in range(0, matrix.shape[0], _FINITE_CHECK_ROWS)
    ]
    return np.concatenate(bad) if bad else np.zeros(0, np.int64)


def _non_finite_error(path: str, count: int, places: List[str], kind: str) -> VectorFileError:
    return VectorFileError(
        f"{path}: {count} row(s) contain NaN or infinite values ({kind} {', '.join(places)}"
        f"{', ...' if count > len(places) else ''})"
    )


def load_vocab(path: str, max_vocab: Optional[int] = None, encoding: str = "utf-8") -> List[str]:
    """Only the words of a vector file, in row order (cheap: no vectors are parsed)."""
    _check_exists(path)
    if _is_npy(path):
        vocab_file = vocab_path(path)
        if not os.path.isfile(vocab_file):
            raise VectorFileError(f"{path}: the word list {vocab_file} is missing")
        words = []
        for line_number, line in _file_lines(vocab_file, encoding):
            if max_vocab is not None and len(words) >= max_vocab:
                break
            word = line.rstrip("\n").rstrip("\r")
            if not word or word.strip() != word or " " in word:
                raise VectorFileError(f"{vocab_file}:{line_number}: expected one word, got {line!r}")
            words.append(word)
        return words
    words = []
    for line_number, line in _file_lines(path, encoding):
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
    path: str, max_vocab: Optional[int] = None, encoding: str = "utf-8",
    loading: Optional[TextLoading] = None,
) -> WordVectors:
    """Load the first ``max_vocab`` rows (all when ``None``) of a vector file as float32.

    Formats: ``.npy`` (any float dtype) with the words one per line in the sibling ``.vocab`` file,
    or word2vec text (``word v1 ... vd`` per line, ``.gz`` allowed, ``rows dim`` header optional),
    read as ``loading`` says (default: :meth:`TextLoading.from_environment`). A text file served
    from its cache comes back as a copy-on-write memory map of the cached ``.npy`` (writable; the
    cache is never changed). Raises :class:`VectorFileError` on a missing file, a row of the wrong
    width, NaN/inf values, duplicate words, undecodable bytes, ``max_vocab`` larger than the file,
    an empty file, or a header whose row count the file contradicts. Without ``max_vocab`` the
    header must give the exact number of rows; with it, only the kept rows are read, so the header
    must promise at least ``max_vocab`` rows and the rows read must not outnumber it, but a file
    truncated after the kept rows goes unnoticed.
    """
    if max_vocab is not None and max_vocab <= 0:
        raise VectorFileError(f"{path}: max_vocab must be positive, got {max_vocab}")
    _check_exists(path)
    if _is_npy(path):
        vectors = _load_npy(path, max_vocab, encoding)
    else:
        vectors = _load_text_cached(path, max_vocab, encoding, loading or TextLoading.from_environment())
    if len(vectors) == 0:
        raise VectorFileError(f"{path}: the file holds no vectors")
    if max_vocab is not None and len(vectors) < max_vocab:
        raise VectorFileError(
            f"{path}: max_vocab={max_vocab} is larger than the file ({len(vectors)} rows)"
        )
    return vectors


def _read_rows(path: str, array: np.memmap, n: int) -> np.ndarray:
    """The first ``n`` rows of the ``.npy`` file ``path`` (``array``: its memory map) as a float32
    array ``(n, d)``. A C-ordered float32 file is read straight into the result: reading, not
    copying out of the map, keeps the file's pages out of the process, so the peak is one copy."""
    if array.dtype != np.float32 or not array.flags.c_contiguous:
        return np.array(array[:n], dtype=np.float32)
    matrix = np.empty((n, array.shape[1]), np.float32)
    with open(path, "rb") as handle:
        handle.seek(array.offset)
        if handle.readinto(memoryview(matrix).cast("B")) != matrix.nbytes:
            raise VectorFileError(f"{path}: the file ends before its {n} rows")
    return matrix


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
    matrix = _read_rows(path, array, n)
    _check_duplicates(words, vocab_file, 1)
    bad = _non_finite_rows(matrix)
    if bad.size:
        places = [f"{int(row)} ({words[int(row)]!r})" for row in bad[:5]]
        raise _non_finite_error(path, int(bad.size), places, "row(s), counted from 0, with their words from " + vocab_file + ":")
    return WordVectors(words, matrix, path)


# --- word2vec text, in blocks -------------------------------------------------------------------


@dataclass
class _Header:
    """The ``rows dim`` first line of a word2vec text file."""

    rows: int
    dim: int


class _KeptRows:
    """The float32 matrix of kept rows, filled block by block: allocated for the expected rows
    and grown in place (``ndarray.resize``, which reallocates without a second copy alive) when
    the file has more, then cut to the rows filled."""

    def __init__(self, capacity: int, dim: int) -> None:
        self.matrix = np.empty((max(1, capacity), dim), dtype=np.float32)
        self.filled = 0

    def append(self, values: np.ndarray) -> None:
        needed = self.filled + values.shape[0]
        if needed > self.matrix.shape[0]:
            self.matrix.resize((max(needed, self.matrix.shape[0] * 5 // 4 + 1), self.matrix.shape[1]), refcheck=False)
        self.matrix[self.filled:needed] = values
        self.filled = needed

    def result(self) -> np.ndarray:
        if self.filled != self.matrix.shape[0]:
            self.matrix.resize((self.filled, self.matrix.shape[1]), refcheck=False)
        return self.matrix


def _read_header(raw: bytes, path: str, encoding: str) -> Tuple[str, Optional[_Header]]:
    """Line 1 decoded (a UTF-8 byte-order mark dropped) and the header it is, if it is one."""
    [(_, line)] = decoded_lines(io.BytesIO(raw), path, encoding, VectorFileError, ENCODING_HINT)
    stripped = line.rstrip()
    if _is_header(stripped.split(" ", 1)):
        rows, dim = (int(f) for f in stripped.split())
        return line, _Header(rows, dim)
    return line, None


def _check_header_fits(header: _Header, path: str, header_bytes: int) -> int:
    """The most rows of ``header.dim`` values a plain text file's size allows (a row takes at least
    ``2 * dim + 1`` bytes: one-character values and separators); a header asking for more is an
    error here, before any memory is allocated for it."""
    remaining = os.path.getsize(path) - header_bytes
    most = (remaining + 1) // (2 * max(1, header.dim) + 1)
    if header.rows > most:
        raise VectorFileError(
            f"{path}: the header says {header.rows} rows of {header.dim} values, but the file has "
            f"{remaining} bytes after it, room for at most {most} such rows"
        )
    return most


def _cut_lines(block: bytes, lines: int) -> bytes:
    """The first ``lines`` lines of ``block`` (fewer if it has fewer)."""
    end = -1
    for _ in range(lines):
        end = block.find(b"\n", end + 1)
        if end < 0:
            return block
    return block[: end + 1]


def _line_count(block: bytes) -> int:
    return block.count(b"\n") + (0 if block.endswith(b"\n") else 1)


def _parse_block_fast(
    block: bytes, dim: int, encoding: str, compiled: bool
) -> Optional[Tuple[List[str], np.ndarray]]:
    """Words and values ``(lines, dim)`` of a block of whole lines with a C parser (the package's
    when ``compiled``, else numpy's), or ``None`` when any line is not exactly ``word v1 ... v{dim}``
    (one space apart, at most one trailing space), a value is not a number or a word does not
    decode: the caller then reads the block line by line, which names the line."""
    if compiled:
        values = np.empty((_line_count(block), dim), np.float32)
        raw_words = _textparse.parse_block(block, dim, values)
        if raw_words is None or len(raw_words) != len(values):
            return None
        try:
            return [word.decode(encoding) for word in raw_words], values
        except UnicodeDecodeError:
            return None
    lines = block.split(b"\n")
    if not lines[-1]:
        lines.pop()  # the empty piece after the last newline
    ends = [line.find(b" ") for line in lines]
    if -1 in ends:
        return None
    # Each line has dim spaces between its word and values, plus one if it ends with a space; the
    # C parser below needs at least that many, so equal totals mean exactly that many on each line.
    trailing = sum(1 for line in lines if line.endswith(b" ") or line.endswith(b" \r"))
    if block.count(b" ") != len(lines) * dim + trailing:
        return None
    try:
        words = [line[:end].decode(encoding) for line, end in zip(lines, ends)]
        values = np.loadtxt(
            io.BytesIO(block), dtype=np.float32, delimiter=" ", comments=None,
            usecols=range(1, dim + 1), ndmin=2,
        )
    except (UnicodeDecodeError, ValueError):
        return None
    if values.shape != (len(lines), dim):  # the C parser skips blank lines
        return None
    return words, values


def _parse_block_lines(
    block: bytes, dim: Optional[int], path: str, encoding: str, first_line: int
) -> Tuple[List[str], np.ndarray]:
    """Words and values of a block of lines, one line at a time in Python: the path that names
    the first bad line (an empty line, a row of the wrong width, a value that is not a number,
    bytes that do not decode). ``dim`` is ``None`` when the block's first line sets it."""
    words: List[str] = []
    rows: List[np.ndarray] = []
    lines = decoded_lines(io.BytesIO(block), path, encoding, VectorFileError, ENCODING_HINT, first_line)
    for line_number, line in lines:
        stripped = line.rstrip()
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
        try:
            rows.append(np.asarray(values, dtype=np.float32))
        except ValueError:
            raise VectorFileError(f"{path}:{line_number}: a value is not a number") from None
        words.append(word)
    return words, (np.stack(rows) if rows else np.zeros((0, dim or 0), np.float32))


def _blocks(handle: BinaryIO, block_bytes: int, limit: Optional[int] = None) -> Iterator[bytes]:
    """Successive blocks of whole lines of ``handle`` (the last one may lack its newline), from
    its position to its end or through the next ``limit`` bytes."""
    carry = b""
    while True:
        size = block_bytes if limit is None else min(block_bytes, limit)
        data = handle.read(size) if size > 0 else b""
        if limit is not None:
            limit -= len(data)
        if not data:
            if carry:
                yield carry
            return
        data = carry + data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
            continue
        carry = data[cut:]
        yield data[:cut]


def _load_text(path: str, max_vocab: Optional[int], encoding: str, loading: TextLoading) -> WordVectors:
    """Parse a word2vec text file block by block into the preallocated matrix of kept rows."""
    plain = not path.endswith(".gz")
    with open_input(path, VectorFileError) as handle, tqdm(
        total=os.path.getsize(path) if plain else None, desc=f"loading {os.path.basename(path)}",
        unit="B", unit_scale=True, mininterval=2.0, leave=False,
    ) as progress:
        raw = handle.readline()
        progress.update(len(raw))
        if not raw:
            return WordVectors([], np.zeros((0, 0), np.float32), path)
        first, header = _read_header(raw, path, encoding)
        if header is None and not first.strip():
            raise VectorFileError(f"{path}:1: empty line")
        dim: Optional[int] = header.dim if header else None
        expected = header.rows if header else None
        if max_vocab is not None:
            expected = min(expected, max_vocab) if expected is not None else max_vocab
        most = _check_header_fits(header, path, len(raw)) if header and plain else None
        if (header is not None and plain and max_vocab is None and loading.parser != "lines"
                and loading.processes > 1 and os.path.getsize(path) >= loading.parallel_min_bytes):
            vectors = _load_text_parallel(path, header, len(raw), encoding, loading)
            progress.update(os.path.getsize(path) - len(raw))
            return vectors
        words: List[str] = []
        non_finite: List[int] = []  # line numbers
        kept: Optional[_KeptRows] = None
        line_number = 2 if header else 1
        # Without a header, line 1 is data: read on its own, it sets the width of the rest.
        pending = [] if header else [first.encode(encoding)]
        complete = True
        for block in _chain(pending, _blocks(handle, loading.block_bytes)):
            if max_vocab is not None and len(words) >= max_vocab:
                complete = False
                break
            cut = block if max_vocab is None else _cut_lines(block, max_vocab - len(words))
            truncated, block = len(cut) < len(block), cut
            if line_number > 1:
                progress.update(len(block))
            parsed = None
            if dim is not None and loading.parser != "lines":
                parsed = _parse_block_fast(block, dim, encoding, loading.compiled)
            if parsed is None:
                parsed = _parse_block_lines(block, dim, path, encoding, line_number)
            block_words, values = parsed
            if dim is None:
                dim = values.shape[1]
            if kept is None:
                kept = _KeptRows(_capacity(expected, most, path, len(raw), len(block), values.shape[0], plain), dim)
            finite = np.isfinite(values).all(axis=1)
            if not finite.all():
                non_finite.extend(line_number + int(i) for i in np.flatnonzero(~finite))
            kept.append(values)
            words.extend(block_words)
            line_number += len(block_words)
            if truncated:
                complete = False
                break
    first_data_line = 2 if header else 1
    matrix = kept.result() if kept is not None else np.zeros((0, dim or 0), np.float32)
    if header is not None:
        _check_header_rows(header, len(words), complete, max_vocab, path)
    _check_duplicates(words, path, first_data_line)
    if non_finite:
        raise _non_finite_error(path, len(non_finite), [str(n) for n in non_finite[:5]], "line(s)")
    return WordVectors(words, matrix, path)


# --- parsing a large file in several processes ---------------------------------------------------

# The shared output of a parallel parse, set before the worker processes fork from this one:
# (anonymous shared memory of rows x dim float32, dim). Workers write their rows into it.
_SHARED_OUTPUT: Optional[Tuple[mmap.mmap, int]] = None


def _ranges(path: str, start: int, pieces: int) -> List[Tuple[int, int]]:
    """``pieces`` consecutive byte ranges covering ``path`` from ``start`` to its end, each
    beginning at a line start (fewer when lines are longer than a piece)."""
    size = os.path.getsize(path)
    bounds = [start]
    with open(path, "rb") as handle:
        for i in range(1, pieces):
            handle.seek(max(bounds[-1], start + (size - start) * i // pieces))
            handle.readline()  # to the end of the line the cut fell in
            bounds.append(max(bounds[-1], handle.tell()))
    bounds.append(size)
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _range_blocks(path: str, start: int, end: int, block_bytes: int) -> Iterator[bytes]:
    """Blocks of whole lines of bytes ``start:end`` of ``path`` (a range of whole lines)."""
    with open(path, "rb") as handle:
        handle.seek(start)
        yield from _blocks(handle, block_bytes, end - start)


def _count_range_lines(task: Tuple[str, int, int, int]) -> int:
    path, start, end, block_bytes = task
    return sum(_line_count(block) for block in _range_blocks(path, start, end, block_bytes))


def _parse_range(task: Tuple[str, int, int, int, int, str, int, bool]) -> Tuple[List[str], List[int]]:
    """Parse bytes ``start:end`` (whole lines, the first being line ``first_line`` of the file) into
    rows ``first_row:`` of the shared output; returns the words and the line numbers of rows with
    non-finite values. Errors name the file and the line, as in-process parsing does."""
    path, start, end, first_line, first_row, encoding, block_bytes, compiled = task
    assert _SHARED_OUTPUT is not None
    memory, dim = _SHARED_OUTPUT
    output = np.frombuffer(memory, dtype=np.float32).reshape(-1, dim)
    words: List[str] = []
    non_finite: List[int] = []
    line_number, row = first_line, first_row
    for block in _range_blocks(path, start, end, block_bytes):
        parsed = _parse_block_fast(block, dim, encoding, compiled)
        if parsed is None:
            parsed = _parse_block_lines(block, dim, path, encoding, line_number)
        block_words, values = parsed
        output[row : row + len(block_words)] = values
        finite = np.isfinite(values).all(axis=1)
        if not finite.all():
            non_finite.extend(line_number + int(i) for i in np.flatnonzero(~finite))
        words.extend(block_words)
        line_number += len(block_words)
        row += len(block_words)
    return words, non_finite


def _load_text_parallel(
    path: str, header: _Header, header_bytes: int, encoding: str, loading: TextLoading
) -> WordVectors:
    """A whole plain text file with a header, parsed by ``loading.processes`` forked processes.

    The file is cut into one byte range of whole lines per process. A first pass counts each
    range's lines, which fixes where its rows go and checks the header's row count before the
    ``(rows, dim)`` float32 output is allocated, in anonymous shared memory; a second pass parses
    each range into its rows. Results are those of the in-process parse (same block parser, the
    same per-line fallback naming the first bad line of the earliest range that has one)."""
    global _SHARED_OUTPUT
    ranges = _ranges(path, header_bytes, loading.processes)
    context = multiprocessing.get_context("fork")
    with context.Pool(len(ranges)) as pool:
        counts = pool.map(_count_range_lines, [(path, a, b, loading.block_bytes) for a, b in ranges], chunksize=1)
    rows = sum(counts)
    _check_header_rows(header, rows, True, None, path)
    memory = mmap.mmap(-1, max(1, rows * header.dim * 4))
    first_lines = np.cumsum([2] + counts[:-1]).tolist()
    first_rows = np.cumsum([0] + counts[:-1]).tolist()
    tasks = [(path, a, b, line, row, encoding, loading.block_bytes, loading.compiled)
             for (a, b), line, row in zip(ranges, first_lines, first_rows)]
    _SHARED_OUTPUT = (memory, header.dim)
    try:
        with context.Pool(len(ranges)) as pool:
            parsed = list(pool.imap(_parse_range, tasks))  # in order: the earliest range's error is raised
    finally:
        _SHARED_OUTPUT = None
    words = [word for range_words, _ in parsed for word in range_words]
    non_finite = [line for _, lines in parsed for line in lines]
    _check_duplicates(words, path, 2)
    if non_finite:
        raise _non_finite_error(path, len(non_finite), [str(n) for n in non_finite[:5]], "line(s)")
    matrix = np.frombuffer(memory, dtype=np.float32)[: rows * header.dim].reshape(rows, header.dim)
    return WordVectors(words, matrix, path)


def _chain(first: List[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


def _capacity(
    expected: Optional[int], most: Optional[int], path: str, header_bytes: int,
    block_bytes: int, block_rows: int, plain: bool,
) -> int:
    """Rows to allocate at the first block: the rows expected (header or ``max_vocab``), capped by
    what a plain file's size allows and, without a header, by the file size over the first block's
    bytes per row; a gzipped file starts at most at 2^20 rows (its size says little). ``_KeptRows``
    grows past it if the file has more rows."""
    if not plain:
        estimate: Optional[int] = 1 << 20
    elif block_rows:
        estimate = int((os.path.getsize(path) - header_bytes) / (block_bytes / block_rows)) + 1
    else:
        estimate = None
    caps = [value for value in (expected, most, estimate) if value is not None]
    return min(caps) if caps else 1 << 16


def _check_header_rows(header: _Header, rows: int, complete: bool, max_vocab: Optional[int], path: str) -> None:
    """A header's row count must be the rows the file has; with ``max_vocab``, at least the rows
    kept (the file may end past them unread)."""
    if complete and rows != header.rows:
        what = "truncated?" if rows < header.rows else "extra rows after the count"
        raise VectorFileError(f"{path}: the header says {header.rows} rows, the file has {rows} ({what})")
    if not complete and rows > header.rows:
        raise VectorFileError(
            f"{path}: the header says {header.rows} rows, the file has more "
            f"(max_vocab={max_vocab} rows were read)"
        )


# --- the cache of parsed text files -------------------------------------------------------------


def _user_cache_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "xlner_allennlp", "vectors")


def _writable(directory: str) -> bool:
    """Whether caches may be written in ``directory``: it grants us write access and has a write
    bit at all (a read-only directory stays read-only for root, who passes every access check)."""
    try:
        mode = os.stat(directory).st_mode
    except OSError:
        return False
    return os.access(directory, os.W_OK) and bool(stat.S_IMODE(mode) & 0o222)


def _may_write(folder: str) -> bool:
    """Whether a cache folder may be written: it is writable, or it does not exist yet and its
    parent is writable or does not exist either (then it is created)."""
    if os.path.isdir(folder):
        return _writable(folder)
    parent = os.path.dirname(folder)
    return not os.path.isdir(parent) or _writable(parent)


def _source_stamp(path: str, encoding: str) -> Dict[str, object]:
    info = os.stat(path)
    return {
        "format": CACHE_FORMAT, "source": os.path.realpath(path), "size": info.st_size,
        "mtime_ns": info.st_mtime_ns, "encoding": encoding,
    }


def _cache_folders(path: str, loading: TextLoading) -> List[str]:
    """Where ``path``'s cache units may live, in the order they are looked for and written."""
    real = os.path.realpath(path)
    named = hashlib.sha256(real.encode("utf-8")).hexdigest()[:16] + "-" + os.path.basename(real)
    if loading.cache != "auto":
        return [os.path.join(loading.cache, named)]
    return [real + CACHE_SUFFIX, os.path.join(_user_cache_root(), named)]


def _unit_name(stamp: Mapping[str, object]) -> str:
    return hashlib.sha256(json.dumps(stamp, sort_keys=True).encode("utf-8")).hexdigest()[:20]


def _load_text_cached(path: str, max_vocab: Optional[int], encoding: str, loading: TextLoading) -> WordVectors:
    """A text file from its cache when one matches the file as it is now, else parsed (and
    cached, when the whole file was read and caching applies)."""
    use_cache = loading.cache != "off" and os.path.getsize(path) >= loading.cache_min_bytes
    if not use_cache:
        return _load_text(path, max_vocab, encoding, loading)
    stamp = _source_stamp(path, encoding)
    folders = _cache_folders(path, loading)
    for folder in folders:
        cached = _read_cache_unit(os.path.join(folder, _unit_name(stamp)), stamp, max_vocab, path)
        if cached is not None:
            return cached
    vectors = _load_text(path, max_vocab, encoding, loading)
    if max_vocab is None and _source_stamp(path, encoding) == stamp:
        _write_cache(vectors, stamp, folders)
    return vectors


def text_file_sha256(path: str, loading: Optional[TextLoading] = None) -> str:
    """The sha256 of the text vector file ``path``, remembered in its cache folder (see
    :class:`TextLoading`) for the file as it is now (real path, size, modification time: the cache
    units' own rule), so that commands after the first do not read gigabytes again to name their
    inputs. Files below ``cache_min_bytes``, or with the cache ``off``, are hashed every time."""
    loading = loading or TextLoading.from_environment()
    if loading.cache == "off" or os.path.getsize(path) < loading.cache_min_bytes:
        return file_sha256(path)
    stamp = _source_stamp(path, encoding="")
    folders = _cache_folders(path, loading)
    for folder in folders:
        try:
            with open(os.path.join(folder, CHECKSUM_FILE), encoding="utf-8") as handle:
                remembered = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(remembered, dict) and remembered.get("stamp") == stamp and isinstance(remembered.get("sha256"), str):
            return remembered["sha256"]
    digest = file_sha256(path)
    if _source_stamp(path, encoding="") != stamp:  # changed while it was read: remember nothing
        return digest
    record = json.dumps({"stamp": stamp, "sha256": digest}, sort_keys=True)
    for folder in folders:
        if not _may_write(folder):
            continue
        try:
            atomic_write_text(os.path.join(folder, CHECKSUM_FILE), record)
        except OSError as error:
            logger.warning("%s: cannot remember the checksum of %s here (%s)", folder, path, error)
            continue
        break
    return digest


def _read_cache_unit(
    unit: str, stamp: Mapping[str, object], max_vocab: Optional[int], path: str
) -> Optional[WordVectors]:
    """The vectors of a cache unit written for ``stamp``, or ``None`` if there is none that fits
    (a unit that cannot be read is parsed over, with a warning)."""
    if not os.path.isdir(unit):
        return None
    try:
        with open(os.path.join(unit, "meta.json"), encoding="utf-8") as handle:
            meta = json.load(handle)
        if meta.get("stamp") != dict(stamp):
            return None
        matrix = np.load(os.path.join(unit, "vectors.npy"), mmap_mode="c")
        with open(os.path.join(unit, "vectors.vocab"), encoding="utf-8") as handle:
            words = handle.read().split("\n")[:-1]
        if matrix.ndim != 2 or matrix.dtype != np.float32 or matrix.shape != (meta["rows"], meta["dim"]) \
                or len(words) != matrix.shape[0]:
            raise ValueError(f"shape {matrix.shape}, {len(words)} words, meta {meta.get('rows')} x {meta.get('dim')}")
    except (OSError, ValueError, KeyError) as error:
        logger.warning("%s: ignoring the unreadable vector cache %s (%s)", path, unit, error)
        return None
    n = len(words) if max_vocab is None else min(max_vocab, len(words))
    logger.info("%s: loaded from the cache %s", path, unit)
    return WordVectors(words[:n], np.asarray(matrix[:n]), path)


def _write_cache(vectors: WordVectors, stamp: Mapping[str, object], folders: List[str]) -> None:
    """Write ``vectors`` as a cache unit in the first folder that takes it (its parent writable and
    room on the disk), then remove the folder's units of older versions of the file. A unit is a
    directory (``vectors.npy``, ``vectors.vocab``, ``meta.json``) written under a temporary name
    and renamed into place, so a reader sees all of it or none."""
    needed = vectors.matrix.nbytes + sum(len(w) + 1 for w in vectors.words)
    for folder in folders:
        if not _may_write(folder):
            continue
        try:
            os.makedirs(folder, exist_ok=True)
            if shutil.disk_usage(folder).free < 1.1 * needed:
                logger.warning("%s: not enough disk space for a vector cache (%.1f GB)", folder, needed / 1e9)
                continue
            _write_unit(vectors, stamp, folder)
        except OSError as error:
            logger.warning("%s: cannot write a vector cache here (%s)", folder, error)
            continue
        return
    logger.warning("%s: no writable place for a vector cache; the text is parsed on every load "
                   "(XLNER_VECTOR_CACHE=DIR chooses one, =off stops trying)", stamp["source"])


def _write_unit(vectors: WordVectors, stamp: Mapping[str, object], folder: str) -> None:
    name = _unit_name(stamp)
    # Named .tmp-<pid>-*, with the umask's permissions; one a killed write left is removed here.
    tmp = make_temporary(folder, TEMPORARY_STEM, is_directory=True)
    try:
        np.save(os.path.join(tmp, "vectors.npy"), vectors.matrix)
        with open(os.path.join(tmp, "vectors.vocab"), "w", encoding="utf-8") as handle:
            handle.write("".join(word + "\n" for word in vectors.words))
        meta = {"stamp": dict(stamp), "rows": len(vectors), "dim": vectors.dim}
        with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as handle:
            json.dump(meta, handle, sort_keys=True)
        for file_name in ("vectors.npy", "vectors.vocab", "meta.json"):
            fsync_path(os.path.join(tmp, file_name))
        try:
            os.rename(tmp, os.path.join(folder, name))
        except OSError:
            if not os.path.isdir(os.path.join(folder, name)):  # not another process's identical unit
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("%s: cached as %s (%.1f GB; XLNER_VECTOR_CACHE=off disables caching)",
                stamp["source"], os.path.join(folder, name), vectors.matrix.nbytes / 1e9)
    for other in os.listdir(folder):
        if other not in (name, CHECKSUM_FILE) and not other.startswith(TEMPORARY_STEM):
            shutil.rmtree(os.path.join(folder, other), ignore_errors=True)
