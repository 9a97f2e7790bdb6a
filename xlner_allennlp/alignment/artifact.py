"""The alignment artifact: a directory holding a mapping of one language's vectors into another's space.

An artifact has two sides: ``mapped`` (the language W applies to; Spanish in ``es-en``) and
``reference`` (the space it is mapped into; English in ``es-en``). Layout of ``DIR/``::

    meta.json              languages, method, hyperparameters, normalization steps, input
                           checksums, vocabulary sizes, evaluation results, format version
    mapping.npy            W, float32 (d, d): a mapped-side row x goes to normalize_mapped(x) @ W
    normalization.npz      statistics of the fitted normalization steps (mapped_mean_i, reference_mean_i)
    reference_mapping.npy  optional W_r (d, d); only methods that also transform the reference
                           space (re-weighting with reweight_target > 0) write it

``apply(X, side="reference")`` only normalizes (unless ``reference_mapping.npy`` is present), so
the reference language is served by the same artifact. Writing is atomic: files go to a
temporary sibling directory (``.DIR.tmp-<pid>-*``, with the permissions the umask gives) that is
renamed into place, so an interrupted run leaves either the old artifact or the new one, never a
half-written one, and the next write removes the temporaries a killed one left. A fit that failed
its own checks (``evaluation["status"] == "failed"``) does not replace an artifact that passed
them: it goes to ``DIR.failed/`` for inspection and :class:`FailedFitError` is raised, unless
``overwrite_failed`` is set. Artifacts of format 1 (whose sides were called ``source``/``target``)
are read too.
"""
import json
import os
import shutil
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.similarity import map_rows
from xlner_allennlp.alignment.vector_stamp import stamp_path, write_stamp
from xlner_allennlp.alignment.vectors import WordVectors, load_vectors, text_file_sha256, vocab_path
from xlner_allennlp.file_utils import atomic_files, atomic_write, file_sha256, make_temporary, remove_stale_temporaries

FORMAT_VERSION = 2
SIDES = ("mapped", "reference")
# Format 1 named the sides source (now mapped) and target (now reference).
_FORMAT_1_SIDES = {"source": "mapped", "target": "reference"}


class ArtifactError(ValueError):
    """An alignment directory is missing, incomplete or inconsistent."""


class FailedFitError(ArtifactError):
    """A failed fit would have replaced an artifact that passed its checks."""


def vector_file_checksum(path: str) -> str:
    """sha256 of a vector file, plus its ``.vocab`` word list for ``.npy`` files; a large text
    file's is remembered beside its vector cache (:func:`~vectors.text_file_sha256`)."""
    if path.endswith(".npy"):
        return file_sha256(path, vocab_path(path))
    return text_file_sha256(path)


@dataclass
class Alignment:
    """A fitted mapping from ``mapped_language`` vectors into the ``reference_language`` space.

    # Parameters

    mapping : `np.ndarray`
        W, float32 ``(d, d)``: normalized mapped-side rows map to ``x @ W``.
    mapped_normalization : `Normalization`, optional (default = no step)
        Fitted steps applied to mapped-side vectors before the mapping.
    reference_normalization : `Normalization`, optional (default = no step)
        Fitted steps applied to reference-side vectors.
    mapped_language : `str`, optional (default = `"mapped"`)
    reference_language : `str`, optional (default = `"reference"`)
    method : `str`, optional (default = `"procrustes"`)
        The method that fitted the mapping (``identity`` for a pivot's own artifact).
    hyperparameters : `Dict[str, Any]`, optional (default = `{}`)
        Method settings, normalization steps, seed and vocabulary sizes.
    inputs : `Dict[str, Any]`, optional (default = `{}`)
        Paths, sha256 checksums and kept sizes of the input vector files.
    evaluation : `Dict[str, Any]`, optional (default = `{}`)
        Unsupervised criterion and status, training-dictionary counts, BLI results.
    reference_mapping : `np.ndarray`, optional (default = `None`)
        W_r when the method also transforms the reference space; ``None`` means the identity.
    """

    mapping: np.ndarray
    mapped_normalization: Normalization = field(default_factory=Normalization)
    reference_normalization: Normalization = field(default_factory=Normalization)
    mapped_language: str = "mapped"
    reference_language: str = "reference"
    method: str = "procrustes"
    hyperparameters: Dict[str, Any] = field(default_factory=dict)
    inputs: Dict[str, Any] = field(default_factory=dict)
    evaluation: Dict[str, Any] = field(default_factory=dict)
    reference_mapping: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        self.mapping = np.asarray(self.mapping, dtype=np.float32)
        if self.mapping.ndim != 2 or self.mapping.shape[0] != self.mapping.shape[1]:
            raise ArtifactError(f"the mapping must be a square matrix, got shape {self.mapping.shape}")
        if not np.isfinite(self.mapping).all():
            raise ArtifactError("the mapping contains NaN or infinite values")
        if self.reference_mapping is not None:
            self.reference_mapping = np.asarray(self.reference_mapping, dtype=np.float32)
            if self.reference_mapping.shape != self.mapping.shape:
                raise ArtifactError(
                    f"the reference mapping has shape {self.reference_mapping.shape}, "
                    f"the mapping {self.mapping.shape}"
                )
            if not np.isfinite(self.reference_mapping).all():
                raise ArtifactError("the reference mapping contains NaN or infinite values")

    @property
    def dim(self) -> int:
        return int(self.mapping.shape[0])

    def language(self, side: str) -> str:
        """The language of ``side`` (``mapped`` or ``reference``)."""
        _check_side(side)
        return self.mapped_language if side == "mapped" else self.reference_language

    def require_passed(self, directory: str = "the artifact") -> None:
        """Raise :class:`ArtifactError` when this fit failed its own checks (``evaluation["status"]
        == "failed"``, e.g. an unsupervised run whose map matches no words across the languages): a
        model built over it would learn from vectors that are not aligned at all."""
        if self.evaluation.get("status") != "failed":
            return
        raise ArtifactError(
            f"{directory}: the {self.mapped_language}->{self.reference_language} alignment ({self.method}) failed "
            f"its own checks ({self.evaluation.get('status_reason', 'status failed')}), so the two languages are "
            "not in one space; refit it before training or tagging over it: with a bilingual dictionary "
            "(xlner-align --method multistep --dictionary FILE), or, without one, from the identical-strings "
            "seed (xlner-align --method self-learning --seed identical)"
        )

    def side_of(self, language: str, directory: str = "the artifact") -> str:
        """The side (``"mapped"`` or ``"reference"``) whose language code is ``language``; raises
        :class:`ArtifactError` when it is neither, since the caller must then say which side it means."""
        if language == self.reference_language:
            return "reference"
        if language == self.mapped_language:
            return "mapped"
        raise ArtifactError(
            f"{directory} maps {self.mapped_language!r} into {self.reference_language!r}; "
            f"set \"side\" to say which one {language!r} is"
        )

    def apply(self, matrix: np.ndarray, side: str = "mapped", in_place: bool = False) -> np.ndarray:
        """Map vectors (shape ``(n, d)``) of ``side``'s language into the reference space.

        Returns a new float32 array, or, with ``in_place``, ``matrix`` itself overwritten when it
        is a writable float32 C-contiguous array (no second copy of a large vocabulary).
        """
        _check_side(side)
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            raise ArtifactError(
                f"vectors of shape {matrix.shape} do not fit a {self.dim}-dimensional alignment"
            )
        normalization = self.mapped_normalization if side == "mapped" else self.reference_normalization
        return self.map_normalized(normalization.apply(matrix, in_place), side)

    def map_normalized(self, normalized: np.ndarray, side: str = "mapped") -> np.ndarray:
        """Multiply rows already normalized for ``side`` (a writable float32 ``(n, d)`` array) by
        the side's mapping, in place and block by block; returns ``normalized``."""
        _check_side(side)
        mapping = self.mapping if side == "mapped" else self.reference_mapping
        return normalized if mapping is None else map_rows(normalized, mapping, out=normalized)

    def reference_placement(self) -> np.ndarray:
        """A fixed random probe `(dim, dim)` as this artifact's reference side places it: two
        artifacts place their reference language alike (share its space) exactly when these are equal."""
        probe = np.random.default_rng(0).standard_normal((self.dim, self.dim)).astype(np.float32)
        return self.apply(probe, "reference")

    def apply_words(self, words: Sequence[str], vectors: WordVectors, side: str = "mapped") -> np.ndarray:
        """Mapped vectors of ``words`` (a KeyError names the first word missing from ``vectors``)."""
        missing = [w for w in words if w not in vectors.index]
        if missing:
            raise KeyError(f"{missing[0]!r} is not in {vectors.path or 'the vectors'}")
        rows = [vectors.index[w] for w in words]
        return self.apply(vectors.matrix[rows], side)

    def apply_file(
        self, path: str, output: str, side: str = "mapped", max_vocab: Optional[int] = None,
        encoding: str = "utf-8",
    ) -> int:
        """Map a vector file (text in ``encoding``) and write it atomically (:func:`write_vectors`)."""
        vectors = load_vectors(path, max_vocab, encoding)
        write_vectors(WordVectors(vectors.words, self.apply(vectors.matrix, side, in_place=True), output), output)
        return len(vectors)


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise ArtifactError(f"side must be 'mapped' or 'reference', got {side!r}")


def write_vectors(vectors: WordVectors, output: str) -> None:
    """Write vectors atomically: ``.npy`` (float32) with the words in ``.vocab`` and the stamp that
    ties the two (:mod:`~xlner_allennlp.alignment.vector_stamp`; a reader refuses a pair a killed
    write left mismatched), or word2vec text (UTF-8) otherwise."""
    if output.endswith(".npy"):
        vocab_file = vocab_path(output)
        with atomic_files(stamp_path(output), output, vocab_file) as (tmp_stamp, tmp_npy, tmp_vocab):
            with open(tmp_npy, "wb") as handle:
                np.save(handle, vectors.matrix.astype(np.float32, copy=False))
            with open(tmp_vocab, "w", encoding="utf-8") as handle:
                handle.write("".join(w + "\n" for w in vectors.words))
            write_stamp(tmp_stamp, tmp_npy, tmp_vocab, len(vectors), vectors.dim)
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


def failed_path(directory: str) -> str:
    """Where a failed fit goes when it may not replace the artifact in ``directory``: ``DIR.failed``."""
    return os.path.abspath(directory).rstrip(os.sep) + ".failed"


def _passed(directory: str) -> bool:
    """Whether ``directory`` holds a readable artifact that passed its own checks."""
    try:
        existing = load_alignment(directory)
    except (ArtifactError, OSError, KeyError, ValueError):
        return False
    return existing.evaluation.get("status", "ok") != "failed"


def refuse_failed_over_passed(targets: Dict[str, "Alignment"], overwrite_failed: bool = False) -> None:
    """Before writing the alignments ``targets`` (directory -> alignment): unless
    ``overwrite_failed``, each failed fit whose directory holds an artifact that passed its checks
    is written to :func:`failed_path` instead, and :class:`FailedFitError` names them all (nothing
    is written to the directories themselves)."""
    if overwrite_failed:
        return
    refused = [
        (directory, alignment) for directory, alignment in targets.items()
        if alignment.evaluation.get("status") == "failed" and _passed(directory)
    ]
    for directory, alignment in refused:
        _write_alignment(alignment, failed_path(directory))
    if refused:
        raise FailedFitError("; ".join(
            f"{directory}: the new {a.mapped_language}->{a.reference_language} fit failed its checks "
            f"({a.evaluation.get('status_reason', 'status failed')}), and the artifact already there passed "
            f"them, so it is kept and the failed fit is in {failed_path(directory)} for inspection"
            for directory, a in refused
        ) + "; pass --overwrite-failed (overwrite_failed=True) to replace it anyway")


def save_alignment(alignment: Alignment, directory: str, overwrite_failed: bool = False) -> None:
    """Write ``alignment`` to ``directory`` atomically, replacing any artifact already there,
    except that a failed fit does not replace an artifact that passed its checks unless
    ``overwrite_failed`` (:func:`refuse_failed_over_passed`)."""
    refuse_failed_over_passed({directory: alignment}, overwrite_failed)
    _write_alignment(alignment, directory)


def _write_alignment(alignment: Alignment, directory: str) -> None:
    directory = os.path.abspath(directory)
    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    remove_stale_temporaries(parent, f".{os.path.basename(directory)}.old-")
    tmp = make_temporary(parent, f".{os.path.basename(directory)}.tmp-", is_directory=True)
    try:
        np.save(os.path.join(tmp, "mapping.npy"), alignment.mapping)
        if alignment.reference_mapping is not None:
            np.save(os.path.join(tmp, "reference_mapping.npy"), alignment.reference_mapping)
        np.savez(
            os.path.join(tmp, "normalization.npz"),
            **_normalization_arrays("mapped", alignment.mapped_normalization),
            **_normalization_arrays("reference", alignment.reference_normalization),
        )
        meta = {
            "format_version": FORMAT_VERSION,
            "mapped_language": alignment.mapped_language,
            "reference_language": alignment.reference_language,
            "dim": alignment.dim,
            "method": alignment.method,
            "hyperparameters": alignment.hyperparameters,
            "normalization": {
                "mapped": alignment.mapped_normalization.steps,
                "reference": alignment.reference_normalization.steps,
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
            old = make_temporary(parent, f".{os.path.basename(directory)}.old-", is_directory=True)
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


def _renamed(name: str) -> str:
    """A format-1 key (``source_vectors``, ``target_sha256``, ...) under the format-2 side names."""
    for old, new in _FORMAT_1_SIDES.items():
        if name == old or name.startswith(old + "_"):
            return new + name[len(old):]
    return name


def _previous_hint(directory: str) -> str:
    """Where a write killed between its two renames left the previous artifact of ``directory``, if it did."""
    parent, name = os.path.split(os.path.abspath(directory))
    try:
        previous = sorted(n for n in os.listdir(parent) if n.startswith(f".{name}.old-"))
    except OSError:
        return ""
    if not previous:
        return ""
    return f" (a killed write left the previous artifact in {os.path.join(parent, previous[-1])}; rename it back to use it)"


def load_alignment(directory: str) -> Alignment:
    """Read an artifact written by :func:`save_alignment` (format 2, or format 1 with the old side names)."""
    required = ("meta.json", "mapping.npy", "normalization.npz")
    if not os.path.isdir(directory):
        raise ArtifactError(f"{directory}: no such alignment directory{_previous_hint(directory)}")
    for name in required:
        if not os.path.isfile(os.path.join(directory, name)):
            raise ArtifactError(f"{directory}: incomplete alignment artifact, {name} is missing")
    with open(os.path.join(directory, "meta.json"), encoding="utf-8") as handle:
        try:
            meta = json.load(handle)
        except json.JSONDecodeError as error:
            raise ArtifactError(f"{directory}/meta.json:{error.lineno}: {error.msg}") from None
    version = meta.get("format_version")
    if version not in (1, FORMAT_VERSION):
        raise ArtifactError(f"{directory}: format version {version} is not 1 or {FORMAT_VERSION}")
    names = (lambda name: name) if version == FORMAT_VERSION else _renamed
    old = {new: name for name, new in _FORMAT_1_SIDES.items()} if version == 1 else {side: side for side in SIDES}
    with np.load(os.path.join(directory, "normalization.npz")) as arrays:
        mapped = _load_normalization(meta["normalization"][old["mapped"]], arrays, old["mapped"])
        reference = _load_normalization(meta["normalization"][old["reference"]], arrays, old["reference"])
    reference_mapping_file = os.path.join(directory, f"{old['reference']}_mapping.npy")
    return Alignment(
        mapping=np.load(os.path.join(directory, "mapping.npy")),
        reference_mapping=np.load(reference_mapping_file) if os.path.isfile(reference_mapping_file) else None,
        mapped_normalization=mapped,
        reference_normalization=reference,
        mapped_language=meta[f"{old['mapped']}_language"],
        reference_language=meta[f"{old['reference']}_language"],
        method=meta["method"],
        hyperparameters={names(k): v for k, v in meta.get("hyperparameters", {}).items()},
        inputs={names(k): v for k, v in meta.get("inputs", {}).items()},
        evaluation=meta.get("evaluation", {}),
    )
