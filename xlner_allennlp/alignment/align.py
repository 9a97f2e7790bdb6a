"""The alignment entry points: fit a mapping of a source space onto a target space, or of many
languages onto one pivot, and write artifacts.

:func:`align` works on loaded :class:`WordVectors`; :func:`align_files` loads vector files, fits,
evaluates on an optional test dictionary and writes the artifact atomically; :func:`align_to_pivot`
maps several languages into one reference space and writes one artifact per language (the pivot's
own artifact has the identity mapping). As in MUSE, a pair ``src-tgt`` maps source onto target:
``apply(X, side="source")`` gives source vectors in the target space.
"""
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from xlner_allennlp.alignment.artifact import Alignment, file_checksum, save_alignment
from xlner_allennlp.alignment.dictionary import (
    DictionaryError,
    IndexedDictionary,
    WordPair,
    index_dictionary,
    load_dictionary,
    read_dictionary,
    seed_dictionary,
)
from xlner_allennlp.alignment.evaluation import evaluate_bli
from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.refinement import mean_cosine_criterion, refine
from xlner_allennlp.alignment.supervised import least_squares, procrustes
from xlner_allennlp.alignment.vectors import WordVectors, load_vectors

logger = logging.getLogger(__name__)

SUPERVISED_METHODS = ("least-squares", "procrustes", "procrustes-refine")
UNSUPERVISED_METHODS = ("adversarial", "self-learning")
METHODS = SUPERVISED_METHODS + UNSUPERVISED_METHODS
DEFAULT_NORMALIZATION = "unit,center,unit"

# Defaults of each method's hyperparameters; ``align(**hyperparameters)`` overrides them.
DEFAULT_HYPERPARAMETERS: Dict[str, Dict[str, Any]] = {
    "least-squares": {},
    "procrustes": {},
    "procrustes-refine": {
        "refinement_iterations": 5,
        "refinement_vocab": 15000,
        "refinement_direction": "mutual",
        "keep_training_dictionary": True,
        "csls_k": 10,
    },
}


class AlignmentError(ValueError):
    """Inputs that cannot be aligned (dimension mismatch, unknown method, missing dictionary)."""


@dataclass
class AlignmentRun:
    """The fitted :class:`Alignment` with the wall time of the fit, in seconds."""

    alignment: Alignment
    seconds: float


def _language(path: str) -> str:
    name = os.path.basename(path)
    for suffix in (".gz", ".npy", ".vec", ".txt"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name or "src"


def check_spaces(source: WordVectors, target: WordVectors) -> None:
    """Raise :class:`AlignmentError` unless the two spaces have the same dimension."""
    if source.dim != target.dim:
        raise AlignmentError(
            f"dimension mismatch: {source.path or 'source'} has {source.dim}-dimensional vectors, "
            f"{target.path or 'target'} {target.dim}-dimensional"
        )


def training_dictionary(
    source: WordVectors,
    target: WordVectors,
    pairs: Optional[Sequence[WordPair]] = None,
    seed: Optional[str] = None,
    path: str = "<dictionary>",
) -> IndexedDictionary:
    """Index the given pairs plus the ``identical``/``numerals`` seed (their union when both are given)."""
    combined: List[WordPair] = list(pairs or [])
    names = [path] if pairs else []
    if seed is not None:
        seen = set(combined)
        combined += [p for p in seed_dictionary(seed, source.words, target.words) if p not in seen]
        names.append(f"{seed} seed")
    if not combined:
        raise DictionaryError(f"{' + '.join(names) or path}: the dictionary is empty")
    return index_dictionary(combined, source, target, " + ".join(names))


def align(
    source: WordVectors,
    target: WordVectors,
    method: str,
    dictionary: Optional[Sequence[WordPair]] = None,
    seed: Optional[str] = None,
    normalization: str = DEFAULT_NORMALIZATION,
    source_language: str = "src",
    target_language: str = "tgt",
    dictionary_path: str = "<dictionary>",
    random_seed: int = 0,
    **hyperparameters: Any,
) -> AlignmentRun:
    """Fit a mapping of ``source`` onto ``target`` with ``method`` (one of :data:`METHODS`).

    Supervised methods need ``dictionary`` (word pairs) and/or ``seed`` (``identical`` or
    ``numerals``); ``self-learning`` uses them, when given, instead of its unsupervised
    initialization; ``adversarial`` takes none. Both spaces are normalized by ``normalization``
    (steps recorded in the result). ``hyperparameters`` override :data:`DEFAULT_HYPERPARAMETERS`.
    The result's ``evaluation`` holds the unsupervised criterion and the training-dictionary counts.
    """
    if method not in METHODS:
        raise AlignmentError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    check_spaces(source, target)
    defaults = dict(DEFAULT_HYPERPARAMETERS.get(method, {}))
    unknown = set(hyperparameters) - set(defaults)
    if unknown:
        raise AlignmentError(
            f"unknown hyperparameter(s) {', '.join(sorted(unknown))} for method {method}; "
            f"known: {', '.join(sorted(defaults)) or 'none'}"
        )
    settings = {**defaults, **hyperparameters}
    start = time.perf_counter()
    source_norm = Normalization.fit(source.matrix, normalization)
    target_norm = Normalization.fit(target.matrix, normalization)
    x = source_norm.apply(source.matrix)
    z = target_norm.apply(target.matrix)
    evaluation: Dict[str, Any] = {}
    seed_pairs: Optional[IndexedDictionary] = None
    if method == "adversarial" and (dictionary or seed):
        raise AlignmentError("the adversarial method is unsupervised: it takes no dictionary or seed")
    if dictionary or seed:
        seed_pairs = training_dictionary(source, target, dictionary, seed, dictionary_path)
        evaluation["training_dictionary"] = seed_pairs.summary()
        logger.info(
            "training dictionary: %d pairs kept, %d dropped (word not in the kept vocabulary)",
            len(seed_pairs), seed_pairs.n_dropped,
        )
    elif method in SUPERVISED_METHODS:
        raise AlignmentError(f"method {method} needs a dictionary or a seed (identical, numerals)")
    target_mapping = None
    if method == "least-squares":
        mapping = least_squares(x[seed_pairs.source], z[seed_pairs.target])
    elif method == "procrustes":
        mapping = procrustes(x[seed_pairs.source], z[seed_pairs.target])
    elif method == "procrustes-refine":
        initial = procrustes(x[seed_pairs.source], z[seed_pairs.target])
        result = refine(
            x, z, initial,
            iterations=settings["refinement_iterations"],
            max_rank=settings["refinement_vocab"],
            direction=settings["refinement_direction"],
            csls_k=settings["csls_k"],
            anchor=(seed_pairs.source, seed_pairs.target) if settings["keep_training_dictionary"] else None,
        )
        mapping = result.mapping
        evaluation["refinement"] = {"best_iteration": result.best_iteration, "history": result.history}
    mapped_target = z if target_mapping is None else z @ target_mapping
    evaluation.setdefault("criterion", mean_cosine_criterion(x @ mapping, mapped_target))
    seconds = time.perf_counter() - start
    evaluation["fit_seconds"] = seconds
    alignment = Alignment(
        mapping=mapping,
        target_mapping=target_mapping,
        source_normalization=source_norm,
        target_normalization=target_norm,
        source_language=source_language,
        target_language=target_language,
        method=method,
        hyperparameters={
            **settings,
            "normalization": normalization,
            "seed": seed,
            "random_seed": random_seed,
            "source_vocab_size": len(source),
            "target_vocab_size": len(target),
        },
        evaluation=evaluation,
    )
    return AlignmentRun(alignment, seconds)


def evaluate_alignment(
    alignment: Alignment, source: WordVectors, target: WordVectors, dictionary: IndexedDictionary, **kwargs: Any
) -> Dict[str, float]:
    """BLI of an alignment on an indexed dictionary (see :func:`evaluate_bli`)."""
    check_spaces(source, target)
    return evaluate_bli(
        alignment.apply(source.matrix, "source"), alignment.apply(target.matrix, "target"), dictionary, **kwargs
    )


def align_files(
    source_vectors: str,
    target_vectors: str,
    method: str,
    output: str,
    dictionary: Optional[str] = None,
    seed: Optional[str] = None,
    max_vocab: Optional[int] = None,
    evaluation_dictionary: Optional[str] = None,
    normalization: str = DEFAULT_NORMALIZATION,
    source_language: Optional[str] = None,
    target_language: Optional[str] = None,
    random_seed: int = 0,
    **hyperparameters: Any,
) -> Alignment:
    """Load two vector files, fit ``method``, evaluate on ``evaluation_dictionary`` when given and
    write the artifact to ``output`` (atomically). Returns the saved :class:`Alignment`.

    Languages default to the file names (``es.npy`` gives ``es``); ``max_vocab`` keeps the first N
    rows of each file (an error when a file is shorter). The artifact records checksums of both
    input files, the vocabulary sizes, method, hyperparameters and evaluation results.
    """
    if method not in METHODS:
        raise AlignmentError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    source = load_vectors(source_vectors, max_vocab)
    target = load_vectors(target_vectors, max_vocab)
    check_spaces(source, target)
    pairs = read_dictionary(dictionary) if dictionary else None
    run = align(
        source,
        target,
        method,
        dictionary=pairs,
        seed=seed,
        normalization=normalization,
        source_language=source_language or _language(source_vectors),
        target_language=target_language or _language(target_vectors),
        dictionary_path=dictionary or "<dictionary>",
        random_seed=random_seed,
        **hyperparameters,
    )
    alignment = run.alignment
    alignment.inputs = {
        "source_vectors": os.path.abspath(source_vectors),
        "target_vectors": os.path.abspath(target_vectors),
        "source_sha256": file_checksum(source_vectors),
        "target_sha256": file_checksum(target_vectors),
        "source_vocab_size": len(source),
        "target_vocab_size": len(target),
        "max_vocab": max_vocab,
        "dictionary": os.path.abspath(dictionary) if dictionary else None,
    }
    if evaluation_dictionary:
        test = load_dictionary(evaluation_dictionary, source, target)
        alignment.evaluation["bli"] = evaluate_alignment(alignment, source, target, test)
        alignment.evaluation["bli_dictionary"] = os.path.abspath(evaluation_dictionary)
    save_alignment(alignment, output)
    return alignment
