"""The anchored language model (Schuster et al., 2019, point 6 of the method): while a target
language's BiLM trains, a penalty pulls its layer-0 vectors (the character-CNN token vectors,
``BiLm.embed_tokens``) of dictionary words toward the English layer-0 anchors of their translations,
so that a low-resource target LM starts out in the English space at layer 0.

Plain numpy/torch (the ``anchoring`` option of the ``xlner_bilm`` model is the AllenNLP layer):
:class:`AnchoringOptions` holds the settings and their defaults, :func:`anchor_pairs` pairs the
target words with their English anchors, :func:`anchor_penalty` is the penalty.

Scale: an anchors directory stores ``layer0`` divided by English's layer-0 mean token norm
(:mod:`~xlner_allennlp.contextual.anchor_files`); the pairs multiply it back, so the target's raw
token vectors are pulled toward the raw English anchors (both LMs' ``embed_tokens`` are on the raw
scale, and ``xlner-anchors`` later divides each language by its own mean norm as usual). Layer 0 of
ELMo is ``[cnn; cnn]`` (2P): the pairs keep one half (P), checked to equal the other.
"""
import os
from dataclasses import dataclass, fields
from typing import Dict, List, Sequence

import numpy as np
import torch

from xlner_allennlp.alignment import load_vectors, read_dictionary
from xlner_allennlp.contextual.anchor_files import layer_file, read_mean_token_norms


class AnchoringError(ValueError):
    """Bad anchoring input (a missing or inconsistent file, no usable pair); the message names the file."""


@dataclass(frozen=True)
class AnchoringOptions:
    """Settings of the anchoring penalty; the one place of their defaults.

    # Parameters

    anchors : `str`, required
        English anchors directory written by ``allennlp xlner-anchors`` (``layer0.npy/.vocab``,
        ``anchors.json``).
    dictionary : `str`, required
        MUSE dictionary ``target-en``: one ``target_word english_word`` pair per line.
    weight : `float`, (default = `1.0`)
        λ: the penalty added to the LM loss is λ times :func:`anchor_penalty`. 0 computes and
        reports ``anchor_distance`` without pulling (a plain LM, monitored the same way).
    pairs_per_batch : `int`, (default = `256`)
        Pairs drawn (without replacement, all of them when fewer) at every training step.
    lowercase : `bool`, (default = `True`)
        Match dictionary words case-insensitively: a dictionary word stands for the most frequent
        casing of it among the anchors' words (rows are most frequent first) and, on the target
        side, among the LM's vocabulary (AllenNLP sorts it by frequency), which is the form fed to
        the character CNN. MUSE dictionaries are lowercase; ``False`` matches exact strings.
    seed : `int`, (default = `13`)
        Seed of the pair sampler, a generator of its own: the LM's random streams (batches,
        dropout, softmax samples) are the same with and without anchoring. Checkpoints do not keep
        its state: a run resumed with ``--recover`` draws its pairs afresh from the seed.
    dictionary_encoding : `str`, (default = `"utf-8"`)
        Encoding of the dictionary file.
    """

    anchors: str
    dictionary: str
    weight: float = 1.0
    pairs_per_batch: int = 256
    lowercase: bool = True
    seed: int = 13
    dictionary_encoding: str = "utf-8"

    def __post_init__(self) -> None:
        problems = []
        if self.weight < 0:
            problems.append(f"weight must be >= 0; got {self.weight}")
        if self.pairs_per_batch < 1:
            problems.append(f"pairs_per_batch must be positive; got {self.pairs_per_batch}")
        if problems:
            raise AnchoringError("invalid anchoring options: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, settings: Dict[str, object]) -> "AnchoringOptions":
        """Options from a config's mapping; an unknown or missing name is an :class:`AnchoringError`."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(settings) - set(names))
        if unknown:
            raise AnchoringError(f"unknown anchoring option(s) {unknown}; the options are {names}")
        missing = [name for name in ("anchors", "dictionary") if name not in settings]
        if missing:
            raise AnchoringError(f"anchoring needs {missing} (the English anchors directory and the target-en dictionary)")
        return cls(**settings)  # type: ignore[arg-type]


@dataclass
class AnchorPairs:
    """Dictionary pairs usable for anchoring.

    ``target_words[i]`` (the form the target's character CNN reads) is pulled toward
    ``anchors[i]`` (n, P), the raw-scale English layer-0 anchor of its translation. A target word
    with several translations appears once per translation. ``n_read`` counts the dictionary's
    distinct pairs, ``n_no_anchor`` those whose English word has no anchor, ``n_no_target`` those
    whose target word is not in the LM's vocabulary (a pair missing both counts in both).
    """

    target_words: List[str]
    anchors: np.ndarray
    n_read: int
    n_no_anchor: int
    n_no_target: int

    def __len__(self) -> int:
        return len(self.target_words)


def _first_forms(words: Sequence[str], lowercase: bool) -> Dict[str, str]:
    """Lookup key -> the first (most frequent) word of ``words`` with that key."""
    forms: Dict[str, str] = {}
    for word in words:
        forms.setdefault(word.lower() if lowercase else word, word)
    return forms


def layer0_anchors(directory: str, projection_dim: int) -> Dict[str, np.ndarray]:
    """The English layer-0 anchors of an anchors directory on the raw scale: word -> (P,) float32.

    Layer 0 is stored as ``[cnn; cnn]`` (2P) divided by the layer's mean token norm; this
    multiplies the norm back and keeps the first half. Raises :class:`AnchoringError` naming the
    file when the directory, its metadata or ``layer0.npy`` is missing, or ``layer0.npy`` is not
    ``2 * projection_dim`` wide or its halves differ (not a layer-0 anchor file).
    """
    if not os.path.isdir(directory):
        raise AnchoringError(f"{directory}: no such anchors directory (write it with allennlp xlner-anchors)")
    path = layer_file(directory, 0)
    try:
        norm = read_mean_token_norms(directory)[0]
        vectors = load_vectors(path)
    except (FileNotFoundError, ValueError) as error:
        raise AnchoringError(str(error)) from None
    if vectors.dim != 2 * projection_dim:
        raise AnchoringError(
            f"{path}: anchors are {vectors.dim}-dimensional, but the LM's layer 0 is 2 * projection_dim = "
            f"{2 * projection_dim}: the anchors come from an ELMo of another size"
        )
    first, second = vectors.matrix[:, :projection_dim], vectors.matrix[:, projection_dim:]
    if not np.allclose(first, second, atol=1e-5):
        raise AnchoringError(f"{path}: the two halves of the vectors differ; not ELMo layer-0 ([cnn; cnn]) anchors")
    raw = (first * norm).astype(np.float32)
    return {word: raw[row] for row, word in enumerate(vectors.words)}


def anchor_pairs(options: AnchoringOptions, target_vocabulary: Sequence[str], projection_dim: int) -> AnchorPairs:
    """Pair every dictionary pair whose two words are known: the target word in
    ``target_vocabulary`` (the LM's words, most frequent first), the English word among the
    anchors (see :class:`AnchoringOptions` for ``lowercase``). Raises :class:`AnchoringError` on
    bad files (see :func:`layer0_anchors`; a malformed dictionary names its line) and when no pair
    is usable, naming both files."""
    anchors = layer0_anchors(options.anchors, projection_dim)
    try:
        pairs = read_dictionary(options.dictionary, encoding=options.dictionary_encoding)
    except ValueError as error:
        raise AnchoringError(str(error)) from None
    english_forms = _first_forms(list(anchors), options.lowercase)
    target_forms = _first_forms(target_vocabulary, options.lowercase)
    key = str.lower if options.lowercase else str
    kept_words: List[str] = []
    kept_anchors: List[np.ndarray] = []
    seen = set()
    no_anchor = no_target = 0
    for target, english in pairs:
        target_form, english_form = target_forms.get(key(target)), english_forms.get(key(english))
        no_anchor += english_form is None
        no_target += target_form is None
        if target_form is None or english_form is None or (target_form, english_form) in seen:
            continue
        seen.add((target_form, english_form))
        kept_words.append(target_form)
        kept_anchors.append(anchors[english_form])
    if not kept_words:
        raise AnchoringError(
            f"no usable anchoring pair: of the {len(pairs)} pairs of {options.dictionary}, {no_anchor} have no "
            f"English anchor in {layer_file(options.anchors, 0)} and {no_target} a target word outside the LM's "
            f"vocabulary (is the dictionary target-en, in the LM's language?)"
        )
    return AnchorPairs(kept_words, np.stack(kept_anchors), len(pairs), no_anchor, no_target)


def anchor_penalty(token_vectors: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """Mean over pairs of the squared distance per coordinate, ``mean_i ||e_i - a_i||^2 / P``,
    between target token vectors ``token_vectors`` (n, P) and their anchors ``anchors`` (n, P):
    a scalar. Per coordinate so that λ does not depend on P; squared, as Procrustes later fits."""
    return (token_vectors - anchors).pow(2).mean()


def describe_pairs(pairs: AnchorPairs, options: AnchoringOptions) -> str:
    """One line on the pairs kept, for the training log."""
    return (
        f"anchoring: {len(pairs)} pairs of {pairs.n_read} in {options.dictionary} ({pairs.n_no_anchor} without an "
        f"English anchor in {layer_file(options.anchors, 0)}, {pairs.n_no_target} with the "
        f"target word outside the LM's vocabulary); weight {options.weight}, {options.pairs_per_batch} pairs a step"
    )

