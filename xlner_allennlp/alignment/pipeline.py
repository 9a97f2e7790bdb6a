"""Alignments from and to files: fit from vector files and write the artifact, evaluate an artifact,
map several languages into one pivot space, and translate words through an aligned space.

:func:`align_files` loads two vector files, fits (:func:`~xlner_allennlp.alignment.align.align`),
evaluates on an optional test dictionary and writes the artifact atomically;
:func:`align_to_pivot` maps several languages into one reference space and writes one artifact
per language (the pivot's own artifact has the identity mapping) once every language is fitted;
:func:`translate_words` uses an artifact as a dictionary (NN or CSLS retrieval).
"""
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from xlner_allennlp.alignment.align import DEFAULT_NORMALIZATION, check_spaces, fit_prepared, prepare
from xlner_allennlp.alignment.artifact import (
    SIDES,
    Alignment,
    load_alignment,
    refuse_failed_over_passed,
    save_alignment,
    vector_file_checksum,
)
from xlner_allennlp.alignment.dictionary import IndexedDictionary, coverage_warning, load_dictionary, read_dictionary
from xlner_allennlp.alignment.evaluation import evaluate_bli
from xlner_allennlp.alignment.methods import AlignmentError, AlignmentMethod
from xlner_allennlp.alignment.normalization import Normalization, unit_rows
from xlner_allennlp.alignment.retrieval import RETRIEVAL_METHODS, csls_knn_in_space, knn, mean_topk_similarity
from xlner_allennlp.alignment.vectors import WordVectors, load_vectors

logger = logging.getLogger(__name__)

# A language code names artifact directories (<language>-<pivot>), so it must be a plain name.
LANGUAGE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*")


def language_from_path(path: str) -> str:
    """The language code a vector file's name gives: ``es`` for ``es.npy`` or ``es.vec.gz``."""
    name = os.path.basename(path)
    for suffix in (".gz", ".npy", ".vec", ".txt"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def evaluate_alignment(
    alignment: Alignment,
    mapped: WordVectors,
    reference: WordVectors,
    dictionary: IndexedDictionary,
    in_place: bool = False,
    normalized: bool = False,
    warn: Callable[[str], None] = logger.warning,
    **kwargs: Any,
) -> Dict[str, Any]:
    """BLI of an alignment on an indexed dictionary (see :func:`evaluate_bli`).

    ``normalized``: the matrices already hold the artifact's normalized rows (as :func:`fit_prepared`
    leaves them with ``in_place``). ``in_place``: map them where they are instead of copying (the
    vectors are then in the shared space), so a large vocabulary is held once. When few of the
    dictionary's pairs are in the vocabularies (:func:`coverage_warning`) the results hold the
    warning under ``"warning"`` and ``warn`` receives it (once).
    """
    check_spaces(mapped, reference)
    shared = []
    for vectors, side in ((mapped, "mapped"), (reference, "reference")):
        matrix = vectors.matrix
        if normalized:
            shared.append(alignment.map_normalized(matrix if in_place else np.array(matrix, np.float32), side))
        else:
            shared.append(alignment.apply(matrix, side, in_place))
    results: Dict[str, Any] = evaluate_bli(shared[0], shared[1], dictionary, overwrite=True, **kwargs)
    warning = coverage_warning(dictionary)
    if warning:
        warn(warning)
        results["warning"] = warning
    return results


def artifact_vectors(
    artifact: str,
    alignment: Alignment,
    mapped_vectors: Optional[str] = None,
    reference_vectors: Optional[str] = None,
    max_vocab: Optional[int] = None,
    warn: Callable[[str], None] = logger.warning,
    encoding: str = "utf-8",
) -> Tuple[WordVectors, WordVectors]:
    """Load the (mapped, reference) vectors of the artifact in directory ``artifact``: the files
    and ``max_vocab`` recorded in it unless given; ``warn`` receives a message when a vector
    file's checksum differs from the recorded one. ``encoding``: the vector files' (text and ``.vocab``)."""
    paths = {}
    for side, given in (("mapped", mapped_vectors), ("reference", reference_vectors)):
        path = given or alignment.inputs.get(f"{side}_vectors")
        if not path:
            raise AlignmentError(f"{artifact}: no {side} vector file recorded; pass --{side}-vectors")
        recorded = alignment.inputs.get(f"{side}_sha256")
        if recorded and os.path.isfile(path) and vector_file_checksum(path) != recorded:
            warn(f"{path} differs from the {side} vectors the alignment in {artifact} was fitted on")
        paths[side] = path
    if max_vocab is None:
        max_vocab = alignment.inputs.get("max_vocab")
    return load_vectors(paths["mapped"], max_vocab, encoding), load_vectors(paths["reference"], max_vocab, encoding)


def evaluate_files(
    artifact: str,
    dictionary: str,
    mapped_vectors: Optional[str] = None,
    reference_vectors: Optional[str] = None,
    max_vocab: Optional[int] = None,
    warn: Callable[[str], None] = logger.warning,
    methods: Sequence[str] = RETRIEVAL_METHODS,
    encoding: str = "utf-8",
    dictionary_encoding: str = "utf-8",
) -> Dict[str, Any]:
    """BLI of the artifact in directory ``artifact`` on the MUSE dictionary file ``dictionary``
    with the retrieval ``methods`` (``nn``, ``csls``); vectors as :func:`artifact_vectors` finds them
    (in ``encoding``), the dictionary in ``dictionary_encoding``. A dictionary that runs the other
    way round is refused; ``warn`` also receives the low-coverage warning.
    """
    alignment = load_alignment(artifact)
    mapped, reference = artifact_vectors(
        artifact, alignment, mapped_vectors, reference_vectors, max_vocab, warn, encoding
    )
    indexed = load_dictionary(dictionary, mapped, reference, dictionary_encoding)
    return evaluate_alignment(alignment, mapped, reference, indexed, in_place=True, methods=methods, warn=warn)


@dataclass
class Translation:
    """One translation of a word: ``rank`` (1 = best), the ``word``, its cosine and CSLS score."""

    rank: int
    word: str
    cosine: float
    csls: float


def translate_words(
    alignment: Alignment,
    mapped: WordVectors,
    reference: WordVectors,
    words: Sequence[str],
    k: int = 5,
    method: str = "csls",
    side: str = "mapped",
    csls_k: int = 10,
) -> Tuple[Dict[str, List[Translation]], List[str]]:
    """The ``k`` best translations of each of ``words`` in the aligned space, ranked by ``method``
    (``nn`` or ``csls``), each with its cosine and CSLS score.

    ``side``: the side the words belong to; ``mapped`` translates them into the reference
    language, ``reference`` the other way. CSLS measures each candidate's neighbourhood among all the
    query side's vectors, as BLI does. The two vector sets are mapped in place (they are then
    in the shared space). Returns the translations by word (words in the query vocabulary)
    and the words that are not in it, in input order.
    """
    if method not in RETRIEVAL_METHODS:
        raise AlignmentError(f"unknown retrieval method {method!r}; choose from {', '.join(RETRIEVAL_METHODS)}")
    if side not in SIDES:
        raise AlignmentError(f"side must be 'mapped' or 'reference' (the side of the words), got {side!r}")
    if k < 1:
        raise AlignmentError(f"k must be a positive number of translations, got {k}")
    check_spaces(mapped, reference)
    source, target = (mapped, reference) if side == "mapped" else (reference, mapped)
    known = list(dict.fromkeys(w for w in words if w in source.index))
    unknown = list(dict.fromkeys(w for w in words if w not in source.index))
    if not known:
        return {}, unknown
    shared = {
        name: unit_rows(alignment.apply(vectors.matrix, name, in_place=True), in_place=True)
        for vectors, name in ((mapped, "mapped"), (reference, "reference"))
    }
    source_unit, target_unit = (shared["mapped"], shared["reference"]) if side == "mapped" else (
        shared["reference"], shared["mapped"])
    queries = source_unit[[source.index[w] for w in known]]
    if method == "csls":
        scores, rows = csls_knn_in_space(queries, target_unit, source_unit, k, csls_k)
        cosines = np.einsum("qd,qkd->qk", queries, target_unit[rows])
    else:
        cosines, rows = knn(queries, target_unit, max(k, csls_k), False)
        query_r = cosines[:, :csls_k].mean(axis=1)
        cosines, rows = cosines[:, :k], rows[:, :k]
        # r of the retrieved target words only, each among all source words.
        retrieved = np.unique(rows)
        key_r = np.zeros(target_unit.shape[0], np.float32)
        key_r[retrieved] = mean_topk_similarity(target_unit[retrieved], source_unit, csls_k, False)
        scores = (2 * cosines - key_r[rows]) - query_r[:, None]
    translations = {
        word: [
            Translation(rank + 1, target.words[row], float(cosine), float(score))
            for rank, (row, cosine, score) in enumerate(zip(rows[i].tolist(), cosines[i], scores[i]))
        ]
        for i, word in enumerate(known)
    }
    return translations, unknown


def _fit_files(
    mapped_vectors: str,
    reference_vectors: str,
    spec: AlignmentMethod,
    settings: Any,
    dictionary: Optional[str],
    seed: Optional[str],
    max_vocab: Optional[int],
    evaluation_dictionary: Optional[str],
    normalization: str,
    mapped_language: str,
    reference_language: str,
    random_seed: int,
    encoding: str,
    dictionary_encoding: str,
) -> Alignment:
    """:func:`align_files` after :func:`prepare`, without writing the artifact."""
    mapped = load_vectors(mapped_vectors, max_vocab, encoding)
    reference = load_vectors(reference_vectors, max_vocab, encoding)
    pairs = read_dictionary(dictionary, dictionary_encoding) if dictionary else None
    # The loaded matrices are this function's own: normalize and map them in place.
    alignment = fit_prepared(
        mapped, reference, spec, settings, pairs, seed, normalization, mapped_language, reference_language,
        dictionary or "<dictionary>", random_seed, in_place=True,
    )
    alignment.inputs = {
        **_vector_inputs(mapped_vectors, reference_vectors, len(mapped), len(reference), max_vocab),
        "dictionary": os.path.abspath(dictionary) if dictionary else None,
    }
    if evaluation_dictionary:
        test = load_dictionary(evaluation_dictionary, mapped, reference, dictionary_encoding)
        alignment.evaluation["bli"] = evaluate_alignment(
            alignment, mapped, reference, test, in_place=True, normalized=True
        )
        alignment.evaluation["bli_dictionary"] = os.path.abspath(evaluation_dictionary)
    return alignment


def _vector_inputs(
    mapped_vectors: str, reference_vectors: str, mapped_size: int, reference_size: int, max_vocab: Optional[int]
) -> Dict[str, Any]:
    """The artifact's record of its input vector files (paths, checksums, kept sizes)."""
    return {
        "mapped_vectors": os.path.abspath(mapped_vectors),
        "reference_vectors": os.path.abspath(reference_vectors),
        "mapped_sha256": vector_file_checksum(mapped_vectors),
        "reference_sha256": vector_file_checksum(reference_vectors),
        "mapped_vocab_size": mapped_size,
        "reference_vocab_size": reference_size,
        "max_vocab": max_vocab,
    }


def align_files(
    mapped_vectors: str,
    reference_vectors: str,
    method: str,
    output: str,
    dictionary: Optional[str] = None,
    seed: Optional[str] = None,
    max_vocab: Optional[int] = None,
    evaluation_dictionary: Optional[str] = None,
    normalization: str = DEFAULT_NORMALIZATION,
    mapped_language: Optional[str] = None,
    reference_language: Optional[str] = None,
    random_seed: int = 0,
    encoding: str = "utf-8",
    dictionary_encoding: str = "utf-8",
    overwrite_failed: bool = False,
    **settings: Any,
) -> Alignment:
    """Load two vector files, fit ``method`` with ``settings``, evaluate on
    ``evaluation_dictionary`` when given and write the artifact to ``output`` (atomically).
    Returns the saved :class:`Alignment`.

    Languages default to the file names (``es.npy`` gives ``es``); ``max_vocab`` keeps the first N
    rows of each file (an error when a file is shorter); ``encoding`` is the vector files'
    (text and ``.vocab``), ``dictionary_encoding`` the dictionaries'. A dictionary that runs the
    other way round is refused (:func:`~xlner_allennlp.alignment.dictionary.check_direction`). A
    fit that fails its checks does not replace an artifact in ``output`` that passed them unless
    ``overwrite_failed`` (it goes to ``output.failed``, see
    :func:`~xlner_allennlp.alignment.artifact.save_alignment`). The artifact records checksums of
    both input files, the vocabulary sizes, method, settings and evaluation results.
    """
    spec, typed = prepare(method, bool(dictionary or seed), normalization, **settings)
    alignment = _fit_files(
        mapped_vectors, reference_vectors, spec, typed, dictionary, seed, max_vocab, evaluation_dictionary,
        normalization, mapped_language or language_from_path(mapped_vectors) or "mapped",
        reference_language or language_from_path(reference_vectors) or "reference", random_seed,
        encoding, dictionary_encoding,
    )
    save_alignment(alignment, output, overwrite_failed)
    return alignment


def pivot_artifact_name(language: str, pivot_language: str) -> str:
    """The directory name of ``language``'s artifact in a pivot set: ``<language>-<pivot>``."""
    return f"{language}-{pivot_language}"


def align_to_pivot(
    pivot_vectors: str,
    mapped_vectors: Sequence[str],
    method: str,
    output: str,
    dictionaries: Optional[Sequence[Optional[str]]] = None,
    evaluation_dictionaries: Optional[Sequence[Optional[str]]] = None,
    seed: Optional[str] = None,
    max_vocab: Optional[int] = None,
    normalization: str = DEFAULT_NORMALIZATION,
    pivot_language: Optional[str] = None,
    mapped_languages: Optional[Sequence[str]] = None,
    random_seed: int = 0,
    encoding: str = "utf-8",
    dictionary_encoding: str = "utf-8",
    overwrite_failed: bool = False,
    **settings: Any,
) -> Dict[str, Alignment]:
    """Map every language of ``mapped_vectors`` into the space of ``pivot_vectors``.

    Writes ``output/<lang>-<pivot>/`` for each language (an ordinary pair artifact whose reference
    side is the pivot) and ``output/<pivot>-<pivot>/`` for the pivot itself, whose mapping is the
    identity and whose normalization is the one every pair artifact applies to the pivot, so
    ``apply(X, side="mapped")`` of any of these artifacts lands in one shared space.
    ``dictionaries[i]`` / ``evaluation_dictionaries[i]`` belong to ``mapped_vectors[i]``.
    Languages, settings and every fit are checked before the first artifact is written, so a bad
    language, or a failed fit that would replace an artifact that passed its checks (unless
    ``overwrite_failed``), leaves ``output`` as it was. ``encoding`` / ``dictionary_encoding`` are
    as in :func:`align_files`. Returns the alignments by language.
    """
    n = len(mapped_vectors)
    if n == 0:
        raise AlignmentError("pivot alignment needs at least one vector file to map")
    dictionaries = list(dictionaries) if dictionaries else [None] * n
    evaluation_dictionaries = list(evaluation_dictionaries) if evaluation_dictionaries else [None] * n
    languages = list(mapped_languages) if mapped_languages else [language_from_path(p) for p in mapped_vectors]
    for name, values in (("dictionaries", dictionaries), ("evaluation dictionaries", evaluation_dictionaries),
                         ("languages", languages)):
        if len(values) != n:
            raise AlignmentError(f"{len(values)} {name} given for {n} vector files to map")
    pivot_language = pivot_language or language_from_path(pivot_vectors)
    for language, path in zip(languages + [pivot_language], list(mapped_vectors) + [pivot_vectors]):
        if not LANGUAGE_CODE.fullmatch(language or ""):
            raise AlignmentError(
                f"{path}: language {language!r} is not a plain code (letters, digits, _); it names the artifact directory"
            )
    if pivot_language in languages or len(set(languages)) != n:
        raise AlignmentError(f"languages must be distinct and differ from the pivot: {languages} -> {pivot_language}")
    spec, typed = prepare(method, bool(seed or any(dictionaries)), normalization, **settings)
    if getattr(typed, "transforms_reference", False):
        raise AlignmentError(
            f"method {method} with these settings transforms the pivot space too, so the languages "
            f"would not share one space; use settings that keep the reference fixed (reweight_target=0)"
        )
    for path, dictionary in zip(mapped_vectors, dictionaries):
        if spec.dictionary == "required" and not (dictionary or seed):
            raise AlignmentError(f"{path}: method {method} needs a dictionary or a seed for every language")
    results: Dict[str, Alignment] = {}
    for path, language, dictionary, test in zip(mapped_vectors, languages, dictionaries, evaluation_dictionaries):
        logger.info("aligning %s (%s) onto pivot %s", language, path, pivot_language)
        results[language] = _fit_files(
            path, pivot_vectors, spec, typed, dictionary, seed, max_vocab, test, normalization, language,
            pivot_language, random_seed, encoding, dictionary_encoding,
        )
    pivot = load_vectors(pivot_vectors, max_vocab, encoding)
    pivot_normalization = Normalization.fit(pivot.matrix, normalization)
    results[pivot_language] = Alignment(
        mapping=np.eye(pivot.dim, dtype=np.float32),
        mapped_normalization=pivot_normalization,
        reference_normalization=pivot_normalization,
        mapped_language=pivot_language,
        reference_language=pivot_language,
        method="identity",
        hyperparameters={"normalization": normalization, "pivot_of": sorted(languages)},
        inputs=_vector_inputs(pivot_vectors, pivot_vectors, len(pivot), len(pivot), max_vocab),
    )
    targets = {
        os.path.join(output, pivot_artifact_name(language, pivot_language)): alignment
        for language, alignment in results.items()
    }
    refuse_failed_over_passed(targets, overwrite_failed)
    for directory, alignment in targets.items():
        save_alignment(alignment, directory, overwrite_failed=True)
    return results
