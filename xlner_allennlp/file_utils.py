"""File helpers shared by the package, plain Python so the alignment library can use them too:
atomic writing (readers never see a half-written file, and an interrupted write leaves the
previous file as it was), file checksums and line-by-line decoding that names the bad line."""
import codecs
import hashlib
import os
import tempfile
from typing import IO, Any, BinaryIO, Callable, Iterator, Tuple, Type


def atomic_write(path: str, writer: Callable[[IO[Any]], Any], binary: bool = False) -> None:
    """Call ``writer(handle)`` on a temporary file in ``path``'s directory (created if needed),
    flush it to disk, then ``os.replace`` it onto ``path``; the temporary file is removed on error."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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


def decoded_lines(
    handle: BinaryIO, path: str, encoding: str, error: Type[Exception], hint: str = ""
) -> Iterator[Tuple[int, str]]:
    """``(line_number, text)`` of every line of the binary ``handle`` (1-based, line ending kept),
    decoded one line at a time so that bytes that are not ``encoding`` raise ``error`` naming
    ``path`` and the line (``hint`` is appended to the message); a UTF-8 byte-order mark at the
    start of the file is dropped, or, when ``encoding`` is not UTF-8, raises ``error`` (the file is
    UTF-8: read as latin-1, the mark and every non-ASCII letter would be garbled)."""
    for line_number, raw in enumerate(handle, start=1):
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
