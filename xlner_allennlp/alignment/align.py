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
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from xlner_allennlp.alignment.artifact import Alignment, file_checksum, load_alignment, save_alignment
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
from xlner_allennlp.alignment.adversarial import adversarial
from xlner_allennlp.alignment.refinement import (
    chance_criterion,
    identical_strings_agreement,
    REFINEMENT_KEEP,
    mean_cosine_criterion,
    refine,
)
from xlner_allennlp.alignment.self_learning import self_learning
from xlner_allennlp.alignment.supervised import FINAL_MAPPINGS, final_mapping, least_squares, procrustes
from xlner_allennlp.alignment.vectors import WordVectors, load_vectors

logger = logging.getLogger(__name__)

SUPERVISED_METHODS = ("least-squares", "procrustes", "procrustes-refine")
UNSUPERVISED_METHODS = ("adversarial", "self-learning")
METHODS = SUPERVISED_METHODS + UNSUPERVISED_METHODS
DEFAULT_NORMALIZATION = "unit,center,unit"
# Failure checks of :func:`assess_alignment`: the criterion must exceed its chance level by
# FAILURE_MARGIN, and when at least MIN_IDENTICAL strings are shared, at least MIN_AGREEMENT of
# them must translate to themselves.
FAILURE_MARGIN = 0.05
MIN_IDENTICAL = 100
MIN_AGREEMENT = 0.05

# Defaults of each method's hyperparameters; ``align(**hyperparameters)`` overrides them.
# ``final_mapping``: after refinement / self-learning, "reweight" solves the final dictionary with
# the re-weighted multi-step mapping (source side re-weighted, target space left as it is so that
# every language aligned to one target shares that space), "orthogonal" keeps the plain Procrustes
# solution (MUSE). Self-learning is followed by ``refinement_iterations`` of MUSE's refinement,
# keeping the last iteration (``refinement_keep``; see :func:`refine` for why not the best by MUSE's
# criterion).
DEFAULT_HYPERPARAMETERS: Dict[str, Dict[str, Any]] = {
    "least-squares": {},
    "procrustes": {},
    "procrustes-refine": {
        "refinement_iterations": 5,
        "refinement_vocab": 15000,
        "refinement_direction": "mutual",
        "keep_training_dictionary": True,
        "csls_k": 10,
        "final_mapping": "reweight",
        "reweight_source": 0.5,
        "reweight_target": 0.0,
    },
    "adversarial": {
        "epochs": 5,
        "epoch_size": 100000,
        "batch_size": 128,
        "most_frequent": 20000,
        "discriminator_hidden": 512,
        "discriminator_steps": 5,
        "mapping_lr": 0.1,
        "discriminator_lr": 0.1,
        "orthogonalization_beta": 0.001,
        "refinement_iterations": 5,
        "refinement_vocab": 15000,
        "csls_k": 10,
    },
    "self-learning": {
        "init_vocab": 4000,
        "search_cutoff": 4000,
        "vocabulary_cutoff": 10000,
        "csls_k": 10,
        "candidates": 50,
        "keep_prob_initial": 0.1,
        "keep_prob_multiplier": 2.0,
        "patience": 10,
        "threshold": 1e-4,
        "stage_iterations": 30,
        "max_iterations": 200,
        "final_mapping": "reweight",
        "reweight_source": 0.5,
        "reweight_target": 0.0,
        "refinement_iterations": 5,
        "refinement_vocab": 15000,
        "refinement_keep": "last",
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
    if settings.get("final_mapping", "orthogonal") not in FINAL_MAPPINGS:
        raise AlignmentError(
            f"unknown final_mapping {settings['final_mapping']!r}; choose from {', '.join(FINAL_MAPPINGS)}"
        )
    if settings.get("refinement_keep", "best") not in REFINEMENT_KEEP:
        raise AlignmentError(
            f"unknown refinement_keep {settings['refinement_keep']!r}; choose from {', '.join(REFINEMENT_KEEP)}"
        )
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
            initial_rows=(seed_pairs.source, seed_pairs.target),
        )
        mapping, target_mapping = _final_mapping(x, z, result.mapping, (result.source_rows, result.target_rows), settings)
        evaluation["refinement"] = {
            "best_iteration": result.best_iteration, "history": result.history,
            "final_dictionary_size": int(result.source_rows.size),
        }
    elif method == "adversarial":
        adversarial_settings = {k: v for k, v in settings.items() if not k.startswith("refinement_")}
        found = adversarial(x, z, random_seed=random_seed, **adversarial_settings)
        result = refine(
            x, z, found.mapping,
            iterations=settings["refinement_iterations"],
            max_rank=settings["refinement_vocab"],
            csls_k=settings["csls_k"],
        )
        mapping = result.mapping
        evaluation["adversarial"] = {"best_epoch": found.best_epoch, "criterion": found.criterion, "history": found.history}
        evaluation["refinement"] = {"best_iteration": result.best_iteration, "history": result.history}
    elif method == "self-learning":
        learning_settings = {k: v for k, v in settings.items() if not k.startswith("refinement_")}
        learned = self_learning(
            x, z,
            seed_rows=(seed_pairs.source, seed_pairs.target) if seed_pairs is not None else None,
            random_seed=random_seed,
            **{**learning_settings, "final_mapping": "orthogonal"},
        )
        evaluation["self_learning"] = {
            "iterations": len(learned.history), "objective": learned.objective, "history": learned.history,
            "final_dictionary_size": int(learned.source_rows.size),
        }
        rows = (learned.source_rows, learned.target_rows)
        mapping = learned.mapping
        if settings["refinement_iterations"] > 0:
            result = refine(
                x, z, mapping,
                iterations=settings["refinement_iterations"],
                max_rank=settings["refinement_vocab"],
                csls_k=settings["csls_k"],
                initial_rows=rows,
                keep=settings["refinement_keep"],
            )
            mapping, rows = result.mapping, (result.source_rows, result.target_rows)
            evaluation["refinement"] = {"best_iteration": result.best_iteration, "history": result.history}
        mapping, target_mapping = _final_mapping(x, z, mapping, rows, settings)
    mapped_target = z if target_mapping is None else z @ target_mapping
    evaluation.update(assess_alignment(x @ mapping, mapped_target, source, target, x, z, random_seed))
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


def _final_mapping(
    x: np.ndarray, z: np.ndarray, mapping: np.ndarray, rows: Tuple[np.ndarray, np.ndarray], settings: Dict[str, Any]
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """:func:`~xlner_allennlp.alignment.supervised.final_mapping` with a method's ``settings``, on
    the final dictionary ``rows``."""
    return final_mapping(
        mapping, x[rows[0]], z[rows[1]], settings["final_mapping"], settings["reweight_source"], settings["reweight_target"]
    )


def assess_alignment(
    mapped_source: np.ndarray,
    mapped_target: np.ndarray,
    source: WordVectors,
    target: WordVectors,
    normalized_source: np.ndarray,
    normalized_target: np.ndarray,
    random_seed: int = 0,
) -> Dict[str, Any]:
    """Unsupervised checks of a fitted mapping (no bilingual dictionary involved).

    * ``criterion`` (MUSE's mean CSLS cosine) against ``criterion_chance``, its mean under random
      rotations of the normalized spaces: failed when less than :data:`FAILURE_MARGIN` above it.
    * ``identical_agreement``: the fraction of strings shared by both vocabularies that the
      mapping translates to themselves (:func:`identical_strings_agreement`), when there are at
      least :data:`MIN_IDENTICAL` of them: failed below :data:`MIN_AGREEMENT`. On weak vectors a
      wrong mapping can reach a criterion as high as the right one; this check catches that.

    Returns those values, ``status`` (``ok`` / ``failed``) and, on failure, ``status_reason``.
    """
    criterion = mean_cosine_criterion(mapped_source, mapped_target)
    chance = chance_criterion(normalized_source, normalized_target, random_seed=random_seed)
    agreement, n_identical = identical_strings_agreement(source.words, target.words, mapped_source, mapped_target)
    assessment: Dict[str, Any] = {
        "criterion": criterion, "criterion_chance": chance,
        "identical_agreement": agreement, "n_identical": n_identical, "status": "ok",
    }
    reasons = []
    if criterion < chance + FAILURE_MARGIN:
        reasons.append(
            f"the unsupervised criterion ({criterion:.4f}) is within {FAILURE_MARGIN} of its value for random "
            f"rotations ({chance:.4f})"
        )
    if n_identical >= MIN_IDENTICAL and agreement < MIN_AGREEMENT:
        reasons.append(
            f"only {agreement:.1%} of the {n_identical} strings shared by both vocabularies translate to "
            f"themselves (a working mapping gives well over {MIN_AGREEMENT:.0%})"
        )
    if reasons:
        assessment["status"] = "failed"
        assessment["status_reason"] = (
            "; ".join(reasons) + ": the mapping did not find the correspondence between the spaces"
        )
        logger.warning("alignment failed: %s", assessment["status_reason"])
    return assessment


def evaluate_alignment(
    alignment: Alignment, source: WordVectors, target: WordVectors, dictionary: IndexedDictionary, **kwargs: Any
) -> Dict[str, float]:
    """BLI of an alignment on an indexed dictionary (see :func:`evaluate_bli`)."""
    check_spaces(source, target)
    return evaluate_bli(
        alignment.apply(source.matrix, "source"), alignment.apply(target.matrix, "target"), dictionary, **kwargs
    )


def evaluate_files(
    artifact: str,
    dictionary: str,
    source_vectors: Optional[str] = None,
    target_vectors: Optional[str] = None,
    max_vocab: Optional[int] = None,
    warn: Callable[[str], None] = logger.warning,
) -> Dict[str, float]:
    """BLI of the artifact in directory ``artifact`` on the MUSE dictionary file ``dictionary``.

    Vector files and ``max_vocab`` default to those recorded in the artifact; ``warn`` receives a
    message when a vector file's checksum differs from the recorded one.
    """
    alignment = load_alignment(artifact)
    paths = {}
    for side, given in (("source", source_vectors), ("target", target_vectors)):
        path = given or alignment.inputs.get(f"{side}_vectors")
        if not path:
            raise AlignmentError(f"{artifact}: no {side} vector file recorded; pass --{side}-vectors")
        recorded = alignment.inputs.get(f"{side}_sha256")
        if recorded and os.path.isfile(path) and file_checksum(path) != recorded:
            warn(f"{path} differs from the {side} vectors the alignment in {artifact} was fitted on")
        paths[side] = path
    if max_vocab is None:
        max_vocab = alignment.inputs.get("max_vocab")
    source = load_vectors(paths["source"], max_vocab)
    target = load_vectors(paths["target"], max_vocab)
    return evaluate_alignment(alignment, source, target, load_dictionary(dictionary, source, target))


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


def pivot_artifact_name(language: str, pivot_language: str) -> str:
    """The directory name of ``language``'s artifact in a pivot set: ``<language>-<pivot>``."""
    return f"{language}-{pivot_language}"


def align_to_pivot(
    pivot_vectors: str,
    source_vectors: Sequence[str],
    method: str,
    output: str,
    dictionaries: Optional[Sequence[Optional[str]]] = None,
    evaluation_dictionaries: Optional[Sequence[Optional[str]]] = None,
    seed: Optional[str] = None,
    max_vocab: Optional[int] = None,
    normalization: str = DEFAULT_NORMALIZATION,
    pivot_language: Optional[str] = None,
    source_languages: Optional[Sequence[str]] = None,
    random_seed: int = 0,
    **hyperparameters: Any,
) -> Dict[str, Alignment]:
    """Map every language of ``source_vectors`` into the space of ``pivot_vectors``.

    Writes ``output/<lang>-<pivot>/`` for each source language (an ordinary pair artifact whose
    target side is the pivot) and ``output/<pivot>-<pivot>/`` for the pivot itself, whose mapping
    is the identity and whose normalization is the one every pair artifact applies to the pivot,
    so ``apply(X, side="source")`` of any of these artifacts lands in one shared space.
    ``dictionaries[i]`` / ``evaluation_dictionaries[i]`` belong to ``source_vectors[i]``.
    Returns the alignments by language.
    """
    n = len(source_vectors)
    if n == 0:
        raise AlignmentError("pivot alignment needs at least one source vector file")
    dictionaries = list(dictionaries) if dictionaries else [None] * n
    evaluation_dictionaries = list(evaluation_dictionaries) if evaluation_dictionaries else [None] * n
    languages = list(source_languages) if source_languages else [_language(p) for p in source_vectors]
    for name, values in (("dictionaries", dictionaries), ("evaluation dictionaries", evaluation_dictionaries),
                         ("source languages", languages)):
        if len(values) != n:
            raise AlignmentError(f"{len(values)} {name} given for {n} source vector files")
    pivot_language = pivot_language or _language(pivot_vectors)
    if pivot_language in languages or len(set(languages)) != n:
        raise AlignmentError(f"languages must be distinct and differ from the pivot: {languages} -> {pivot_language}")
    results: Dict[str, Alignment] = {}
    for path, language, dictionary, test in zip(source_vectors, languages, dictionaries, evaluation_dictionaries):
        logger.info("aligning %s (%s) onto pivot %s", language, path, pivot_language)
        results[language] = align_files(
            path, pivot_vectors, method, os.path.join(output, pivot_artifact_name(language, pivot_language)),
            dictionary=dictionary, seed=seed, max_vocab=max_vocab, evaluation_dictionary=test,
            normalization=normalization, source_language=language, target_language=pivot_language,
            random_seed=random_seed, **hyperparameters,
        )
        if results[language].target_mapping is not None:
            raise AlignmentError(
                f"method {method} with these settings transforms the pivot space too, so the languages "
                f"would not share one space; use settings that keep the target fixed"
            )
    pivot = load_vectors(pivot_vectors, max_vocab)
    pivot_normalization = Normalization.fit(pivot.matrix, normalization)
    results[pivot_language] = Alignment(
        mapping=np.eye(pivot.dim, dtype=np.float32),
        source_normalization=pivot_normalization,
        target_normalization=pivot_normalization,
        source_language=pivot_language,
        target_language=pivot_language,
        method="identity",
        hyperparameters={"normalization": normalization, "pivot_of": sorted(languages)},
        inputs={
            "source_vectors": os.path.abspath(pivot_vectors),
            "target_vectors": os.path.abspath(pivot_vectors),
            "source_sha256": file_checksum(pivot_vectors),
            "target_sha256": file_checksum(pivot_vectors),
            "source_vocab_size": len(pivot),
            "target_vocab_size": len(pivot),
            "max_vocab": max_vocab,
        },
    )
    save_alignment(results[pivot_language], os.path.join(output, pivot_artifact_name(pivot_language, pivot_language)))
    return results
