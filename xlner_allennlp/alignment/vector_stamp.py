"""The stamp that ties a ``.npy`` vector file to its ``.vocab`` word list.

:func:`~xlner_allennlp.alignment.artifact.write_vectors` writes ``es.npy``, ``es.vocab`` and
``es.stamp.json`` (this stamp: the row count, the dimension, a fingerprint of the ``.npy`` and the
sha256 of the ``.vocab``) to temporary files and renames the stamp into place first, then the
``.npy``, then the ``.vocab``. A write killed between two renames therefore leaves a stamp that does
not match the pair on disk, and :func:`check_stamp` makes the loader refuse the pair instead of
pairing a new matrix with an old word list. Files without a stamp (written by other tools) are
checked by their row count only.

The ``.npy`` fingerprint is the sha256 of its size and of its first and last MiB, not of the
whole file, so that checking a multi-gigabyte matrix costs milliseconds; a remapped or rewritten
matrix differs in its first MiB (header and first rows).
"""
import hashlib
import json
import os
from typing import Any, Dict, Type

from xlner_allennlp.file_utils import file_sha256

_BLOCK = 1 << 20


def stamp_path(npy_path: str) -> str:
    """The stamp of a ``.npy`` vector file: ``es.npy`` -> ``es.stamp.json``."""
    return npy_path[: -len(".npy")] + ".stamp.json"


def _fingerprint(path: str) -> str:
    size = os.path.getsize(path)
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(_BLOCK))
        if size > _BLOCK:
            handle.seek(max(_BLOCK, size - _BLOCK))
            digest.update(handle.read(_BLOCK))
    return digest.hexdigest()


def make_stamp(npy_file: str, vocab_file: str, rows: int, dim: int) -> Dict[str, Any]:
    """The stamp of the pair ``npy_file`` (``rows`` x ``dim``) and ``vocab_file`` as written."""
    return {"rows": rows, "dim": dim, "npy_fingerprint": _fingerprint(npy_file), "vocab_sha256": file_sha256(vocab_file)}


def write_stamp(path: str, npy_file: str, vocab_file: str, rows: int, dim: int) -> None:
    """Write the stamp of ``npy_file`` and ``vocab_file`` to ``path`` (JSON)."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(make_stamp(npy_file, vocab_file, rows, dim), handle, sort_keys=True)


def check_stamp(npy_path: str, vocab_file: str, error: Type[Exception]) -> None:
    """Raise ``error`` when ``npy_path`` has a stamp that does not match it and ``vocab_file``
    (the two were not written together); do nothing when there is no stamp."""
    path = stamp_path(npy_path)
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as handle:
        try:
            stamp = json.load(handle)
        except json.JSONDecodeError as bad:
            raise error(f"{path}:{bad.lineno}: not a vector-file stamp ({bad.msg}); delete it or write the vectors again") from None
    if not isinstance(stamp, dict) or {"npy_fingerprint", "vocab_sha256"} - set(stamp):
        raise error(f"{path}: not a vector-file stamp; delete it or write the vectors again")
    mismatched = [
        name for name, recorded, actual in (
            (npy_path, stamp["npy_fingerprint"], _fingerprint(npy_path)),
            (vocab_file, stamp["vocab_sha256"], file_sha256(vocab_file)),
        ) if recorded != actual
    ]
    if mismatched:
        raise error(
            f"{npy_path}: the matrix and its word list {vocab_file} were not written together ({' and '.join(mismatched)} "
            f"differ from the stamp {path}): a write was interrupted or one file was replaced. Write the vectors "
            f"again (e.g. rerun xlner-map), or delete the stamp if you replaced both files yourself"
        )
