"""The alignment artifact: a directory holding a mapping of one language's vectors into another's space.

Layout of ``DIR/``::

    meta.json          languages, method, hyperparameters, normalization steps, input checksums,
                       vocabulary sizes, evaluation results, format version
    mapping.npy        W, float32 (d, d): a source row vector x maps to normalize_source(x) @ W
    normalization.npz  the statistics of the fitted normalization steps (source_mean_i, target_mean_i)
    target_mapping.npy optional W_t (d, d); only methods that also transform the target space
                       (self-learning with re-weighting) write it

The target side is the reference space: ``apply(X, side="target")`` only normalizes (W is the
identity there, unless ``target_mapping.npy`` is present), so a pivot language is served by the
same artifact. Writing is atomic: files go
to a temporary sibling directory that is renamed into place, so an interrupted run leaves either
the old artifact or the new one, never a half-written one.
"""
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.vectors import WordVectors, load_vectors
from xlner_allennlp.file_utils import atomic_write

FORMAT_VERSION = 1
SIDES = ("source", "target")


class ArtifactError(ValueError):
    """An alignment directory is missing, incomplete or inconsistent."""


def file_checksum(path: str) -> str:
    """sha256 of a vector file, plus its ``.vocab`` sibling for ``.npy`` files."""
    digest = hashlib.sha256()
    paths = [path] + ([path[: -len(".npy")] + ".vocab"] if path.endswith(".npy") else [])
    for p in paths:
        with open(p, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@dataclass
class Alignment:
    """A fitted mapping from ``source_language`` vectors into the ``target_language`` space.

    # Parameters

    mapping : `np.ndarray`
        W, float32 ``(d, d)``: normalized source rows map to ``x @ W``.
    source_normalization : `Normalization`, optional (default = no step)
        Fitted steps applied to source vectors before the mapping.
    target_normalization : `Normalization`, optional (default = no step)
        Fitted steps applied to target vectors (the reference space).
    source_language : `str`, optional (default = `"src"`)
    target_language : `str`, optional (default = `"tgt"`)
    method : `str`, optional (default = `"procrustes"`)
        The method that fitted the mapping (``identity`` for a pivot's own artifact).
    hyperparameters : `Dict[str, Any]`, optional (default = `{}`)
        Method settings, normalization steps, seed and vocabulary sizes.
    inputs : `Dict[str, Any]`, optional (default = `{}`)
        Paths, sha256 checksums and kept sizes of the input vector files.
    evaluation : `Dict[str, Any]`, optional (default = `{}`)
        Unsupervised criterion and status, training-dictionary counts, BLI results.
    target_mapping : `np.ndarray`, optional (default = `None`)
        W_t when the method also transforms the target space; ``None`` means the identity.
    """

    mapping: np.ndarray
    source_normalization: Normalization = field(default_factory=Normalization)
    target_normalization: Normalization = field(default_factory=Normalization)
    source_language: str = "src"
    target_language: str = "tgt"
    method: str = "procrustes"
    hyperparameters: Dict[str, Any] = field(default_factory=dict)
    inputs: Dict[str, Any] = field(default_factory=dict)
    evaluation: Dict[str, Any] = field(default_factory=dict)
    target_mapping: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        self.mapping = np.asarray(self.mapping, dtype=np.float32)
        if self.mapping.ndim != 2 or self.mapping.shape[0] != self.mapping.shape[1]:
            raise ArtifactError(f"the mapping must be a square matrix, got shape {self.mapping.shape}")
        if not np.isfinite(self.mapping).all():
            raise ArtifactError("the mapping contains NaN or infinite values")
        if self.target_mapping is not None:
            self.target_mapping = np.asarray(self.target_mapping, dtype=np.float32)
            if self.target_mapping.shape != self.mapping.shape:
                raise ArtifactError(
                    f"the target mapping has shape {self.target_mapping.shape}, "
                    f"the source mapping {self.mapping.shape}"
                )
            if not np.isfinite(self.target_mapping).all():
                raise ArtifactError("the target mapping contains NaN or infinite values")

    @property
    def dim(self) -> int:
        return int(self.mapping.shape[0])

    def language(self, side: str) -> str:
        return self.source_language if side == "source" else self.target_language

    def apply(self, matrix: np.ndarray, side: str = "source") -> np.ndarray:
        """Map vectors (shape ``(n, d)``) of ``side``'s language into the reference space."""
        if side not in SIDES:
            raise ArtifactError(f"side must be 'source' or 'target', got {side!r}")
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            raise ArtifactError(
                f"vectors of shape {matrix.shape} do not fit a {self.dim}-dimensional alignment"
            )
        if side == "target":
            normalized = self.target_normalization.apply(matrix)
            return normalized if self.target_mapping is None else normalized @ self.target_mapping
        return self.source_normalization.apply(matrix) @ self.mapping

    def apply_words(self, words: Sequence[str], vectors: WordVectors, side: str = "source") -> np.ndarray:
        """Mapped vectors of ``words`` (a KeyError names the first word missing from ``vectors``)."""
        missing = [w for w in words if w not in vectors.index]
        if missing:
            raise KeyError(f"{missing[0]!r} is not in {vectors.path or 'the vectors'}")
        rows = [vectors.index[w] for w in words]
        return self.apply(vectors.matrix[rows], side)

    def apply_file(
        self, path: str, output: str, side: str = "source", max_vocab: Optional[int] = None
    ) -> int:
        """Map a vector file and write it atomically (``.npy`` + ``.vocab``, or word2vec text)."""
        vectors = load_vectors(path, max_vocab)
        write_vectors(WordVectors(vectors.words, self.apply(vectors.matrix, side), output), output)
        return len(vectors)


def write_vectors(vectors: WordVectors, output: str) -> None:
    """Write vectors atomically: ``.npy`` (float32, words in ``.vocab``) or word2vec text otherwise."""
    if output.endswith(".npy"):
        atomic_write(output, lambda f: np.save(f, vectors.matrix.astype(np.float32)), binary=True)
        atomic_write(output[: -len(".npy")] + ".vocab", lambda f: f.write("".join(w + "\n" for w in vectors.words)))
    else:
        def write_text(handle: Any) -> None:
            handle.write(f"{len(vectors)} {vectors.dim}\n")
            for word, row in zip(vectors.words, vectors.matrix):
                handle.write(word + " " + " ".join(f"{v:.6g}" for v in row) + "\n")

        atomic_write(output, write_text)


def _normalization_arrays(prefix: str, normalization: Normalization) -> Dict[str, np.ndarray]:
    return {
        f"{prefix}_mean_{i}": mean for i, mean in enumerate(normalization.means) if mean is not None
    }


def save_alignment(alignment: Alignment, directory: str) -> None:
    """Write ``alignment`` to ``directory`` atomically, replacing any artifact already there."""
    directory = os.path.abspath(directory)
    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(directory)}.tmp-", dir=parent)
    try:
        np.save(os.path.join(tmp, "mapping.npy"), alignment.mapping)
        if alignment.target_mapping is not None:
            np.save(os.path.join(tmp, "target_mapping.npy"), alignment.target_mapping)
        np.savez(
            os.path.join(tmp, "normalization.npz"),
            **_normalization_arrays("source", alignment.source_normalization),
            **_normalization_arrays("target", alignment.target_normalization),
        )
        meta = {
            "format_version": FORMAT_VERSION,
            "source_language": alignment.source_language,
            "target_language": alignment.target_language,
            "dim": alignment.dim,
            "method": alignment.method,
            "hyperparameters": alignment.hyperparameters,
            "normalization": {
                "source": alignment.source_normalization.steps,
                "target": alignment.target_normalization.steps,
            },
            "inputs": alignment.inputs,
            "evaluation": alignment.evaluation,
        }
        with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as handle:
            json.dump(meta, handle, indent=2, sort_keys=True, default=_json_default)
            handle.flush()
            os.fsync(handle.fileno())
        old = None
        if os.path.exists(directory):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(directory)}.old-", dir=parent)
            os.rmdir(old)
            os.replace(directory, old)
        os.replace(tmp, directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in meta.json")


def _load_normalization(steps: List[str], arrays: Any, prefix: str) -> Normalization:
    means = []
    for i, step in enumerate(steps):
        key = f"{prefix}_mean_{i}"
        if step == "center":
            if key not in arrays:
                raise ArtifactError(f"normalization.npz lacks {key} for step {i} (center)")
            means.append(np.asarray(arrays[key], dtype=np.float32))
        else:
            means.append(None)
    return Normalization(list(steps), means)


def load_alignment(directory: str) -> Alignment:
    """Read an artifact written by :func:`save_alignment`."""
    required = ("meta.json", "mapping.npy", "normalization.npz")
    if not os.path.isdir(directory):
        raise ArtifactError(f"{directory}: no such alignment directory")
    for name in required:
        if not os.path.isfile(os.path.join(directory, name)):
            raise ArtifactError(f"{directory}: incomplete alignment artifact, {name} is missing")
    with open(os.path.join(directory, "meta.json"), encoding="utf-8") as handle:
        try:
            meta = json.load(handle)
        except json.JSONDecodeError as error:
            raise ArtifactError(f"{directory}/meta.json:{error.lineno}: {error.msg}") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{directory}: format version {meta.get('format_version')} is not {FORMAT_VERSION}"
        )
    with np.load(os.path.join(directory, "normalization.npz")) as arrays:
        source = _load_normalization(meta["normalization"]["source"], arrays, "source")
        target = _load_normalization(meta["normalization"]["target"], arrays, "target")
    target_mapping_file = os.path.join(directory, "target_mapping.npy")
    return Alignment(
        mapping=np.load(os.path.join(directory, "mapping.npy")),
        target_mapping=np.load(target_mapping_file) if os.path.isfile(target_mapping_file) else None,
        source_normalization=source,
        target_normalization=target,
        source_language=meta["source_language"],
        target_language=meta["target_language"],
        method=meta["method"],
        hyperparameters=meta.get("hyperparameters", {}),
        inputs=meta.get("inputs", {}),
        evaluation=meta.get("evaluation", {}),
    )
