"""The registry of alignment methods: each name has one typed settings dataclass, the only home of
its defaults, and a fit function on normalized matrices.

A method is registered with :func:`register_method`::

    @register_method("my-method", MySettings, dictionary="required", summary="...")
    def fit_my_method(x, z, pairs, settings, random_seed) -> MethodFit: ...

``x`` ``(n, d)`` and ``z`` ``(m, d)`` are the normalized mapped and reference rows, ``pairs`` the
indexed training dictionary (``None`` when none was given), ``settings`` an instance of the
method's dataclass. :func:`settings_for` builds that instance from keyword settings (names
checked, values typed, command-line strings parsed); :func:`describe_methods` lists every
method's settings with their defaults.
"""
import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import numpy as np

from xlner_allennlp.alignment.adversarial import Adversarial, adversarial
from xlner_allennlp.alignment.dictionary import IndexedDictionary
from xlner_allennlp.alignment.evaluation import evaluate_bli
from xlner_allennlp.alignment.multistep import MultiStep, multistep_mapping
from xlner_allennlp.alignment.refinement import Refinement, RefinementResult, refine
from xlner_allennlp.alignment.self_learning import SelfLearning, self_learning
from xlner_allennlp.alignment.similarity import map_rows
from xlner_allennlp.alignment.supervised import FinalMapping, finish_mapping, least_squares, procrustes

DICTIONARY_USES = ("required", "optional", "none")
# The supervised method `make main`, the NER benchmark and the README use (its defaults: its settings
# dataclass); docs/RESULTS.md compares it with VecMap's supervised recipe on every pair.
DEFAULT_SUPERVISED_METHOD = "multistep"


class AlignmentError(ValueError):
    """Inputs that cannot be aligned (dimension mismatch, unknown method or setting, missing dictionary)."""


@dataclass
class MethodFit:
    """What a method's fit returns: the mapping ``W`` (``d × d``) of the mapped side, the
    reference-side mapping when the method transforms the reference space too, and the method's
    log for the artifact's ``evaluation``."""

    mapping: np.ndarray
    reference_mapping: Optional[np.ndarray] = None
    evaluation: Dict[str, Any] = field(default_factory=dict)


FitFunction = Callable[[np.ndarray, np.ndarray, Optional[IndexedDictionary], Any, int], MethodFit]


@dataclass(frozen=True)
class AlignmentMethod:
    """A registered method: its ``settings`` dataclass, ``fit`` function, whether it needs a
    training dictionary (``dictionary``: ``required``, ``optional`` or ``none``) and a one-line summary."""

    name: str
    settings: type
    fit: FitFunction
    dictionary: str
    summary: str


METHODS: Dict[str, AlignmentMethod] = {}


def register_method(
    name: str, settings: type, dictionary: str, summary: str
) -> Callable[[FitFunction], FitFunction]:
    """Register the decorated fit function as method ``name`` with the ``settings`` dataclass."""
    if not dataclasses.is_dataclass(settings):
        raise TypeError(f"the settings of method {name} must be a dataclass, got {settings!r}")
    if dictionary not in DICTIONARY_USES:
        raise ValueError(f"dictionary must be one of {', '.join(DICTIONARY_USES)}, got {dictionary!r}")

    def decorator(fit: FitFunction) -> FitFunction:
        METHODS[name] = AlignmentMethod(name, settings, fit, dictionary, summary)
        return fit

    return decorator


def get_method(name: str) -> AlignmentMethod:
    """The registered method ``name`` (an :class:`AlignmentError` lists the known ones)."""
    if name not in METHODS:
        raise AlignmentError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
    return METHODS[name]


def _field_type(hint: Any) -> Tuple[Any, bool]:
    """The type of a settings field (``Optional[X]`` gives ``X``) and whether it may be ``None``
    (a setting whose value comes from the method's preset)."""
    arguments = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union and type(None) in arguments:
        return next(a for a in arguments if a is not type(None)), True
    return hint, False


def _typed(method: str, name: str, hint: Any, value: Any) -> Any:
    """``value`` as the field type ``hint`` (``bool``, ``int``, ``float`` or ``str``, or one of them
    made optional); strings from the command line are parsed, other values must already have the type."""
    where = f"setting {name} of method {method}"
    kind, optional = _field_type(hint)
    if value is None and optional:
        return None
    if isinstance(value, str) and kind is not str:
        text = value.strip()
        if kind is bool:
            if text.lower() in ("true", "yes", "1"):
                return True
            if text.lower() in ("false", "no", "0"):
                return False
            raise AlignmentError(f"{where} must be true or false, got {value!r}")
        try:
            return kind(text)
        except ValueError:
            raise AlignmentError(f"{where} must be {kind.__name__}, got {value!r}") from None
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise AlignmentError(f"{where} must be {kind.__name__}, got {value!r}")
    return value


def settings_for(method: str, settings: Mapping[str, Any]) -> Any:
    """The settings dataclass of ``method`` with ``settings`` overriding its defaults."""
    spec = get_method(method)
    types = typing.get_type_hints(spec.settings)
    known = [f.name for f in dataclasses.fields(spec.settings)]
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise AlignmentError(
            f"unknown setting(s) {', '.join(unknown)} for method {method}; known: {', '.join(known) or 'none'}"
        )
    values = {name: _typed(method, name, types[name], value) for name, value in settings.items()}
    try:
        return spec.settings(**values)
    except ValueError as error:
        raise AlignmentError(f"method {method}: {error}") from None


def describe_methods() -> str:
    """Every registered method with its summary and its settings (type and default)."""
    lines = []
    for spec in METHODS.values():
        lines.append(f"{spec.name}: {spec.summary} (training dictionary: {spec.dictionary})")
        types = typing.get_type_hints(spec.settings)
        fields = dataclasses.fields(spec.settings)
        if not fields:
            lines.append("    (no settings)")
        for f in fields:
            setting = f"{f.name}={_default_text(spec.settings, f)}"
            lines.append(f"    {setting:<40} {_field_type(types[f.name])[0].__name__}")
    return "\n".join(lines)


def _default_text(settings: type, f: dataclasses.Field) -> str:
    """A field's default as ``--list-methods`` shows it: a setting a preset fills (a class with
    ``PRESETS`` and a ``preset`` field) shows the default preset's value, and the other presets'
    values where they differ (e.g. ``batch_size=128 (muse: 32)``)."""
    presets = getattr(settings, "PRESETS", None)
    if f.default is not None or not presets:
        return repr(f.default)
    default_preset = next(p.default for p in dataclasses.fields(settings) if p.name == "preset")
    value = presets[default_preset][f.name]
    others = [f"{name}: {values[f.name]!r}" for name, values in presets.items() if values[f.name] != value]
    return repr(value) + (f" ({', '.join(others)})" if others else "")


def _refinement_log(result: RefinementResult) -> Dict[str, Any]:
    return {
        "best_iteration": result.best_iteration,
        "history": result.history,
        "final_dictionary_size": int(result.source_rows.size),
    }


@dataclass(frozen=True)
class LeastSquaresSettings:
    """``least-squares`` has no settings."""


@dataclass(frozen=True)
class ProcrustesSettings:
    """``procrustes`` has no settings."""


@dataclass(frozen=True)
class ProcrustesRefineSettings(Refinement, FinalMapping):
    """Procrustes on the training dictionary, then :class:`Refinement`, then :class:`FinalMapping`.

    # Parameters

    keep_training_dictionary : `bool`, optional (default = `True`)
        Add the training pairs to the induced ones in every refinement iteration (MUSE uses the
        training dictionary for the first mapping only).
    """

    keep_training_dictionary: bool = True


@dataclass(frozen=True)
class MultiStepSettings(MultiStep, Refinement):
    """:class:`MultiStep` solved on the training dictionary, then refined as VecMap's
    ``--semi_supervised`` / ``--identical`` modes do: each :class:`Refinement` iteration induces a
    dictionary by CSLS under the current multi-step mapping (both sides mapped) and solves the
    multi-step mapping again, on the induced pairs plus the training pairs. Whether refinement
    helps depends on the language pair, so by default the number of iterations is chosen on
    held-out training pairs. ``refinement_iterations=0`` is VecMap's ``--supervised`` recipe.

    # Parameters

    refinement_iterations : `int`, optional (default = `2`)
        The most refinement iterations (0: the dictionary's mapping only).
    refinement_vocab : `int`, optional (default = `15000`)
        The induction's rank limit (VecMap: 20,000).
    refinement_keep : `str`, optional (default = `"last"`)
        Which iteration is kept when ``heldout_fraction`` is 0.
    keep_training_dictionary : `bool`, optional (default = `True`)
        Add the training pairs to the induced ones in every refinement iteration (VecMap does not).
    heldout_fraction : `float`, optional (default = `0.2`)
        Above 0 (and with refinement): the last ``heldout_fraction`` of the dictionary's distinct
        source words (its least frequent, in file order, the closest to a test split of rarer
        words) are held out of a first fit, refined for ``refinement_iterations``; the fit
        without and with the refinement are scored on them as a test split is scored: BLI P@1
        with CSLS over the whole vocabularies (:func:`~xlner_allennlp.alignment.evaluation.evaluate_bli`),
        not only among the ``refinement_vocab`` words the induction sees. The mapping is then
        fitted on the whole dictionary, refined only when the refinement scored higher.
    """

    reweight_source: float = 0.25
    reweight_target: float = 0.25
    refinement_iterations: int = 2
    refinement_vocab: int = 15000
    refinement_keep: str = "last"
    keep_training_dictionary: bool = True
    heldout_fraction: float = 0.2

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.heldout_fraction < 1.0:
            raise ValueError(f"heldout_fraction must be in [0, 1), got {self.heldout_fraction}")


@dataclass(frozen=True)
class AdversarialSettings(Adversarial, Refinement):
    """:class:`Adversarial` training, then :class:`Refinement` (orthogonal mapping kept, as MUSE).
    The refinement settings left at ``None`` take the ``preset``'s values too (``muse``: 5
    iterations of MUSE's induction, source to target, among the 15,000 most frequent words)."""

    refinement_iterations: Optional[int] = None
    refinement_vocab: Optional[int] = None
    refinement_direction: Optional[str] = None
    refinement_induction: Optional[str] = None
    refinement_keep: Optional[str] = None


@dataclass(frozen=True)
class SelfLearningSettings(SelfLearning, Refinement, FinalMapping):
    """:class:`SelfLearning`, then :class:`Refinement` keeping its last iteration (the mean-cosine
    criterion does not rank refined self-learning mappings by accuracy), then :class:`FinalMapping`."""

    refinement_keep: str = "last"


@register_method("least-squares", LeastSquaresSettings, "required", "unconstrained linear map (Mikolov et al. 2013)")
def fit_least_squares(
    x: np.ndarray, z: np.ndarray, pairs: Optional[IndexedDictionary], settings: LeastSquaresSettings, random_seed: int
) -> MethodFit:
    assert pairs is not None
    return MethodFit(least_squares(x[pairs.source], z[pairs.target]))


@register_method("procrustes", ProcrustesSettings, "required", "orthogonal Procrustes on the training dictionary")
def fit_procrustes(
    x: np.ndarray, z: np.ndarray, pairs: Optional[IndexedDictionary], settings: ProcrustesSettings, random_seed: int
) -> MethodFit:
    assert pairs is not None
    return MethodFit(procrustes(x[pairs.source], z[pairs.target]))


@register_method(
    "procrustes-refine", ProcrustesRefineSettings, "required",
    "Procrustes, CSLS refinement, final (re-weighted) mapping",
)
def fit_procrustes_refine(
    x: np.ndarray, z: np.ndarray, pairs: Optional[IndexedDictionary], settings: ProcrustesRefineSettings,
    random_seed: int,
) -> MethodFit:
    assert pairs is not None
    rows = (pairs.source, pairs.target)
    result = refine(
        x, z, procrustes(x[pairs.source], z[pairs.target]), settings,
        anchor=rows if settings.keep_training_dictionary else None, initial_rows=rows,
    )
    mapping, reference_mapping = finish_mapping(result.mapping, x[result.source_rows], z[result.target_rows], settings)
    return MethodFit(mapping, reference_mapping, {"refinement": _refinement_log(result)})


def _heldout_split(
    pairs: IndexedDictionary, fraction: float
) -> Tuple[Tuple[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]]:
    """(kept rows, held-out rows), each (source rows, target rows): the pairs of the last
    ``fraction`` of the distinct source words (in dictionary order) are held out."""
    words = list(dict.fromkeys(pairs.source.tolist()))
    held = np.isin(pairs.source, words[len(words) - int(len(words) * fraction):] if fraction > 0 else [])
    return (pairs.source[~held], pairs.target[~held]), (pairs.source[held], pairs.target[held])


@register_method(
    "multistep", MultiStepSettings, "required",
    "multi-step framework (Artetxe et al. 2018: whitening, orthogonal map, re-weighting, de-whitening), "
    "refinement chosen on held-out pairs",
)
def fit_multistep(
    x: np.ndarray, z: np.ndarray, pairs: Optional[IndexedDictionary], settings: MultiStepSettings, random_seed: int
) -> MethodFit:
    assert pairs is not None

    def solve(source: np.ndarray, target: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        return multistep_mapping(source, target, settings)

    def refined(
        rows: Tuple[np.ndarray, np.ndarray], chosen: MultiStepSettings,
        start: Optional[Tuple[np.ndarray, Optional[np.ndarray]]] = None,
    ) -> RefinementResult:
        mapping, reference_mapping = start or solve(x[rows[0]], z[rows[1]])
        return refine(
            x, z, mapping, chosen, anchor=rows if settings.keep_training_dictionary else None, initial_rows=rows,
            solve=solve, reference_mapping=reference_mapping,
        )

    evaluation: Dict[str, Any] = {}
    chosen = settings
    if settings.refinement_iterations and settings.heldout_fraction > 0:
        kept, held = _heldout_split(pairs, settings.heldout_fraction)
        if held[0].size == 0 or kept[0].size == 0:
            raise AlignmentError(
                f"heldout_fraction={settings.heldout_fraction} of {len(set(pairs.source.tolist()))} source words "
                "leaves no held-out or no training pair; set heldout_fraction=0 to refine without selection"
            )

        heldout = IndexedDictionary(held[0], held[1], n_read=int(held[0].size))

        def accuracy(mapping: np.ndarray, reference_mapping: Optional[np.ndarray]) -> float:
            shared = z if reference_mapping is None else map_rows(z, reference_mapping)
            bli = evaluate_bli(
                map_rows(x, mapping), shared, heldout, ks=(1,), methods=("csls",), csls_k=settings.csls_k
            )
            return bli["precision_at_1_csls"]

        start = solve(x[kept[0]], z[kept[1]])
        trial = refined(kept, dataclasses.replace(settings, refinement_keep="last"), start)
        scores = [accuracy(*start), accuracy(trial.mapping, trial.reference_mapping)]
        iterations = trial.best_iteration if scores[1] > scores[0] else 0
        chosen = dataclasses.replace(settings, refinement_iterations=iterations, refinement_keep="last")
        evaluation["heldout_selection"] = {
            "iterations": iterations, "n_heldout_pairs": int(held[0].size),
            "history": [
                {"iteration": i, "heldout_p1_csls": score} for i, score in zip((0, trial.best_iteration), scores)
            ],
        }
    if chosen.refinement_iterations == 0:
        mapping, reference_mapping = solve(x[pairs.source], z[pairs.target])
        return MethodFit(mapping, reference_mapping, evaluation)
    result = refined((pairs.source, pairs.target), chosen)
    evaluation["refinement"] = _refinement_log(result)
    return MethodFit(result.mapping, result.reference_mapping, evaluation)


@register_method(
    "adversarial", AdversarialSettings, "none", "unsupervised adversarial mapping then CSLS refinement (MUSE)"
)
def fit_adversarial(
    x: np.ndarray, z: np.ndarray, pairs: Optional[IndexedDictionary], settings: AdversarialSettings, random_seed: int
) -> MethodFit:
    found = adversarial(x, z, settings, random_seed)
    result = refine(x, z, found.mapping, settings)
    return MethodFit(result.mapping, None, {
        "adversarial": {
            "best_epoch": found.best_epoch, "criterion": found.criterion, "history": found.history,
            "device": found.device,
        },
        "refinement": _refinement_log(result),
    })


@register_method(
    "self-learning", SelfLearningSettings, "optional",
    "robust self-learning (VecMap; a dictionary or seed replaces its unsupervised start), refinement, final mapping",
)
def fit_self_learning(
    x: np.ndarray, z: np.ndarray, pairs: Optional[IndexedDictionary], settings: SelfLearningSettings, random_seed: int
) -> MethodFit:
    learned = self_learning(
        x, z, settings, seed_rows=(pairs.source, pairs.target) if pairs is not None else None, random_seed=random_seed
    )
    result = refine(x, z, learned.mapping, settings, initial_rows=(learned.source_rows, learned.target_rows))
    mapping, reference_mapping = finish_mapping(result.mapping, x[result.source_rows], z[result.target_rows], settings)
    return MethodFit(mapping, reference_mapping, {
        "self_learning": {
            "iterations": len(learned.history), "objective": learned.objective, "history": learned.history,
            "final_dictionary_size": int(learned.source_rows.size),
        },
        "refinement": _refinement_log(result),
    })
