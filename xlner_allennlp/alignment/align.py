"""Fitting one alignment in memory: the mapped space onto the reference space with a registered method.

:func:`align` normalizes both spaces, builds the training dictionary the method takes, runs the
method's fit (:mod:`~xlner_allennlp.alignment.methods`), assesses the result
(:mod:`~xlner_allennlp.alignment.assessment`) and returns the :class:`Alignment`. As in MUSE, a
pair ``es-en`` maps Spanish (the *mapped* side) into English space (the *reference* side):
``apply(X, side="mapped")`` gives Spanish vectors in English space.
"""
import dataclasses
import logging
import time
from typing import Any, List, Optional, Sequence, Tuple

from xlner_allennlp.alignment.artifact import Alignment
from xlner_allennlp.alignment.assessment import assess_alignment
from xlner_allennlp.alignment.dictionary import (
    DictionaryError,
    IndexedDictionary,
    WordPair,
    index_dictionary,
    seed_dictionary,
)
from xlner_allennlp.alignment.methods import AlignmentError, AlignmentMethod, get_method, settings_for
from xlner_allennlp.alignment.normalization import Normalization, parse_steps
from xlner_allennlp.alignment.vectors import WordVectors

logger = logging.getLogger(__name__)

DEFAULT_NORMALIZATION = "unit,center,unit"


def check_spaces(mapped: WordVectors, reference: WordVectors) -> None:
    """Raise :class:`AlignmentError` unless the two spaces have the same dimension."""
    if mapped.dim != reference.dim:
        raise AlignmentError(
            f"dimension mismatch: {mapped.path or 'mapped'} has {mapped.dim}-dimensional vectors, "
            f"{reference.path or 'reference'} {reference.dim}-dimensional"
        )


def training_dictionary(
    mapped: WordVectors,
    reference: WordVectors,
    pairs: Optional[Sequence[WordPair]] = None,
    seed: Optional[str] = None,
    path: str = "<dictionary>",
) -> IndexedDictionary:
    """Index the given pairs plus the ``identical``/``numerals`` seed (their union when both are given)."""
    combined: List[WordPair] = list(pairs or [])
    names = [path] if pairs else []
    if seed is not None:
        seen = set(combined)
        combined += [p for p in seed_dictionary(seed, mapped.words, reference.words) if p not in seen]
        names.append(f"{seed} seed")
    if not combined:
        raise DictionaryError(f"{' + '.join(names) or path}: the dictionary is empty")
    return index_dictionary(combined, mapped, reference, " + ".join(names))


def prepare(
    method: str, has_dictionary: bool, normalization: str = DEFAULT_NORMALIZATION, **settings: Any
) -> Tuple[AlignmentMethod, Any]:
    """Check a method call before any data is loaded: the method, its ``settings`` (returned as
    its settings dataclass), whether it takes the dictionary it is given, and the normalization."""
    spec = get_method(method)
    typed = settings_for(method, settings)
    if spec.dictionary == "none" and has_dictionary:
        raise AlignmentError(f"the {method} method is unsupervised: it takes no dictionary or seed")
    if spec.dictionary == "required" and not has_dictionary:
        raise AlignmentError(f"method {method} needs a dictionary or a seed (identical, numerals)")
    try:
        parse_steps(normalization)
    except ValueError as error:
        raise AlignmentError(str(error)) from None
    return spec, typed


def align(
    mapped: WordVectors,
    reference: WordVectors,
    method: str,
    dictionary: Optional[Sequence[WordPair]] = None,
    seed: Optional[str] = None,
    normalization: str = DEFAULT_NORMALIZATION,
    mapped_language: str = "mapped",
    reference_language: str = "reference",
    dictionary_path: str = "<dictionary>",
    random_seed: int = 0,
    **settings: Any,
) -> Alignment:
    """Fit a mapping of ``mapped`` onto ``reference`` with ``method`` (a name of :data:`METHODS`).

    Methods that take a training dictionary use ``dictionary`` (word pairs) and/or ``seed``
    (``identical`` or ``numerals``); ``self-learning`` uses them, when given, instead of its
    unsupervised initialization; ``adversarial`` takes none. Both spaces are normalized by
    ``normalization`` (steps recorded in the result). ``settings`` override the defaults of the
    method's settings dataclass (``xlner-align --list-methods`` lists them). The result's
    ``evaluation`` holds the method's log, the unsupervised assessment, the training-dictionary
    counts and the fit's wall time.
    """
    spec, typed = prepare(method, bool(dictionary or seed), normalization, **settings)
    return fit_prepared(
        mapped, reference, spec, typed, dictionary, seed, normalization, mapped_language, reference_language,
        dictionary_path, random_seed,
    )


def fit_prepared(
    mapped: WordVectors,
    reference: WordVectors,
    spec: AlignmentMethod,
    settings: Any,
    dictionary: Optional[Sequence[WordPair]],
    seed: Optional[str],
    normalization: str,
    mapped_language: str,
    reference_language: str,
    dictionary_path: str,
    random_seed: int,
    in_place: bool = False,
) -> Alignment:
    """:func:`align` after :func:`prepare` checked the method and built its ``settings``.

    With ``in_place``, ``mapped.matrix`` and ``reference.matrix`` are replaced by the normalized
    rows, normalized where they are when the arrays allow it, so a large vocabulary is held once.
    """
    check_spaces(mapped, reference)
    start = time.perf_counter()
    mapped_norm = Normalization.fit(mapped.matrix, normalization)
    reference_norm = Normalization.fit(reference.matrix, normalization)
    x = mapped_norm.apply(mapped.matrix, in_place)
    z = reference_norm.apply(reference.matrix, in_place)
    if in_place:
        mapped.matrix, reference.matrix = x, z
    pairs: Optional[IndexedDictionary] = None
    evaluation = {}
    if dictionary or seed:
        pairs = training_dictionary(mapped, reference, dictionary, seed, dictionary_path)
        evaluation["training_dictionary"] = pairs.summary()
        logger.info(
            "training dictionary: %d pairs kept, %d dropped (word not in the kept vocabulary)",
            len(pairs), pairs.n_dropped,
        )
    result = spec.fit(x, z, pairs, settings, random_seed)
    evaluation.update(result.evaluation)
    evaluation.update(
        assess_alignment(x, z, result.mapping, result.reference_mapping, mapped.words, reference.words, random_seed)
    )
    evaluation["fit_seconds"] = time.perf_counter() - start
    return Alignment(
        mapping=result.mapping,
        reference_mapping=result.reference_mapping,
        mapped_normalization=mapped_norm,
        reference_normalization=reference_norm,
        mapped_language=mapped_language,
        reference_language=reference_language,
        method=spec.name,
        hyperparameters={
            **dataclasses.asdict(settings),
            "normalization": normalization,
            "seed": seed,
            "random_seed": random_seed,
            "mapped_vocab_size": len(mapped),
            "reference_vocab_size": len(reference),
        },
        evaluation=evaluation,
    )
