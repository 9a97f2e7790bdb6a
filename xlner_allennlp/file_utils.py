"""File helpers shared by the package, plain Python so the alignment library can use them too:
atomic writing (readers never see a half-written file, an interrupted write leaves the previous
file as it was, and the temporaries a killed write leaves behind are removed by the next write),
file checksums, and opening and decoding text input line by line so that bad input names the file
and the line.
"""
import codecs
import contextlib
import gzip
import hashlib
import os
import re
import shutil
import tempfile
import time
import zlib
from typing import IO, Any, BinaryIO, Callable, Iterator, List, Optional, Tuple, Type

# Temporaries are named <stem><pid>-<random>; one left behind by a dead process is removed by the
# next write into the same directory once untouched for STALE_AFTER_S seconds (so that a writer in
# another pid namespace sharing the directory is not disturbed mid-write), and any of them once
# untouched for ORPHAN_AFTER_S (the pid may have been reused).
TEMPORARY_STEM = ".tmp-"
STALE_AFTER_S = 60.0
ORPHAN_AFTER_S = 24 * 3600.0
_GZIP_MAGIC = b"\x1f\x8b"


def _umask() -> int:
    """The process's umask, read without changing it where Linux reports it (setting it to read it
    back would race with files other threads create meanwhile)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(directory: str, stem: str) -> List[str]:
    """Remove the temporary files and directories named ``<stem><pid>-<random>`` in ``directory``
    that a dead process left behind (see :data:`STALE_AFTER_S`, :data:`ORPHAN_AFTER_S`); returns
    the paths removed. Names without that exact pattern are never touched."""
    pattern = re.compile(re.escape(stem) + r"([0-9]+)-[A-Za-z0-9_]+")
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        match = pattern.fullmatch(name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        path = os.path.join(directory, name)
        try:
            age = now - os.lstat(path).st_mtime
        except OSError:
            continue
        if age < STALE_AFTER_S or (age < ORPHAN_AFTER_S and _pid_alive(int(match.group(1)))):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
        removed.append(path)
    return removed


def make_temporary(directory: str, stem: str = TEMPORARY_STEM, is_directory: bool = False) -> str:
    """A new temporary file (or directory) ``<stem><pid>-<random>`` in ``directory`` with the
    permissions the user's umask gives new files (0666 & ~umask) or directories (0777 & ~umask),
    not tempfile's private 0600 / 0700; stale temporaries of the same stem are removed first."""
    remove_stale_temporaries(directory, stem)
    prefix = f"{stem}{os.getpid()}-"
    if is_directory:
        path = tempfile.mkdtemp(prefix=prefix, dir=directory)
        os.chmod(path, 0o777 & ~_umask())
    else:
        fd, path = tempfile.mkstemp(prefix=prefix, dir=directory)
        os.close(fd)
        os.chmod(path, 0o666 & ~_umask())
    return path


def fsync_path(path: str) -> None:
    """Flush the file ``path`` to disk (before it is renamed into place)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_files(*paths: str) -> Iterator[List[str]]:
    """Temporary files for ``paths`` (one each, in each path's directory, created if needed): the
    block writes them, and when it ends without error they are flushed to disk and renamed onto
    ``paths`` in the order given; on error they are removed and ``paths`` are left as they were.

    The renames of several files are not one atomic step: a reader that needs them to match
    checks a stamp that is renamed first (see ``alignment.vector_stamp``)."""
    temporaries: List[str] = []
    try:
        for path in paths:
            directory = os.path.dirname(os.path.abspath(path))
            os.makedirs(directory, exist_ok=True)
            temporaries.append(make_temporary(directory))
        yield list(temporaries)
        for tmp in temporaries:
            fsync_path(tmp)
        for tmp, path in zip(temporaries, paths):
            os.replace(tmp, path)
    except BaseException:
        for tmp in temporaries:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


def atomic_write(path: str, writer: Callable[[IO[Any]], Any], binary: bool = False) -> None:
    """Call ``writer(handle)`` on a temporary file in ``path``'s directory (created if needed),
    flush it to disk, then ``os.replace`` it onto ``path``; the temporary file is removed on error."""
    with atomic_files(path) as (tmp,):
        with open(tmp, "wb" if binary else "w", encoding=None if binary else "utf-8") as handle:
            writer(handle)


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda handle: handle.write(text))


def file_sha256(*paths: str) -> str:
    """The sha256 hex digest of the concatenated contents of ``paths``, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _unreadable(path: str, error: BaseException, where: str) -> str:
    """The message for a read that failed with ``error`` (a broken gzip stream, an I/O error)."""
    if isinstance(error, EOFError):
        reason = "the gzip stream ends early (the file is truncated)"
    elif isinstance(error, (gzip.BadGzipFile, zlib.error)):
        reason = f"the gzip data is corrupt ({error})"
    else:
        reason = f"cannot read the file ({error})"
    return f"{path}{where}: {reason}"


class _CheckedGzipFile(gzip.GzipFile):
    """A gzip file whose read errors (truncated or corrupt stream) raise ``error`` naming the file
    and the line (for line reads) or the offset in the decompressed data (for block reads)."""

    def __init__(self, path: str, error: Type[Exception]) -> None:
        super().__init__(path, "rb")
        self._path, self._error, self._lines = path, error, 0

    def _checked(self, read: Callable[..., Any], *args: Any, line: bool = False) -> Any:
        try:
            result = read(*args)
        except (OSError, EOFError, zlib.error) as bad:
            where = f", line {self._lines + 1}" if line else f", after {self._offset()} decompressed bytes"
            raise self._error(_unreadable(self._path, bad, where)) from None
        if line and result:
            self._lines += 1
        return result

    def _offset(self) -> str:
        try:
            return str(self.tell())
        except (OSError, ValueError):
            return "some"

    def read(self, size: int = -1) -> bytes:
        return self._checked(super().read, size)

    def read1(self, size: int = -1) -> bytes:
        return self._checked(super().read1, size)

    def peek(self, n: int) -> bytes:
        return self._checked(super().peek, n)

    def readinto(self, buffer: Any) -> int:
        return self._checked(super().readinto, buffer)

    def readline(self, size: int = -1) -> bytes:
        return self._checked(super().readline, size, line=True)


def open_input(path: str, error: Type[Exception] = ValueError) -> BinaryIO:
    """Open a text input file for binary reading, decompressing gzip (a ``.gz`` name or gzip's
    magic bytes); a ``.gz`` file that is not gzip, and a truncated or corrupt gzip stream met
    while reading, raise ``error`` naming the file (and the line, for line reads), as does a file
    that cannot be opened."""
    try:
        with open(path, "rb") as probe:
            compressed = probe.read(2) == _GZIP_MAGIC
    except OSError as bad:
        raise error(f"{path}: cannot open the file ({bad.strerror or bad})") from None
    if path.endswith(".gz") and not compressed:
        raise error(f"{path}: not a gzip file (the name ends in .gz but the file does not start with gzip's magic bytes)")
    if compressed:
        return _CheckedGzipFile(path, error)  # type: ignore[return-value]
    return open(path, "rb")


def decoded_lines(
    handle: BinaryIO, path: str, encoding: str, error: Type[Exception], hint: str = "", first_line: int = 1
) -> Iterator[Tuple[int, str]]:
    """``(line_number, text)`` of every line of the binary ``handle`` (numbered from ``first_line``,
    1 unless ``handle`` holds a later part of the file; line ending kept), decoded one line at a
    time so that bytes that are not ``encoding`` raise ``error`` naming ``path`` and the line
    (``hint`` is appended to the message); a UTF-8 byte-order mark at the start of the file is
    dropped, or, when ``encoding`` is not UTF-8, raises ``error`` (the file is UTF-8: read as
    latin-1, the mark and every non-ASCII letter would be garbled)."""
    for line_number, raw in enumerate(handle, start=first_line):
        if line_number == 1 and raw.startswith(codecs.BOM_UTF8):
            if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
                raise error(
                    f"{path}, line 1: the file starts with a UTF-8 byte-order mark, so it is UTF-8, "
                    f"not {encoding}: read it as utf-8"
                )
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError as bad:
            raise error(
                f"{path}, line {line_number}: the bytes {raw[bad.start:bad.end]!r} are not valid {encoding}{hint}"
            ) from None
        yield line_number, line


def text_lines(
    path: str, encoding: str, error: Type[Exception], hint: str = ""
) -> Iterator[Tuple[int, str]]:
    """:func:`decoded_lines` of the file ``path`` opened with :func:`open_input` (plain or gzip):
    the one way the package reads a text input file line by line."""
    with open_input(path, error) as handle:
        yield from decoded_lines(handle, path, encoding, error, hint)
