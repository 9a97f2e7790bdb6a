"""The aligned space seen through entity words (the analogue of Bari et al. 2020, Figure 3).

Entity words of both languages are taken from labelled CoNLL files (labels only colour the
points; nothing is trained), embedded before alignment, after alignment, and, given a trained
model, by its common word encoder (mean contextual vector over the word's occurrences). Each view
is projected to 2-D by a joint PCA (deterministic, no extra dependency), and scored by the
same-type neighbour rate: the share of target entity words whose nearest English entity word
(cosine) has the same type.
"""
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from xlner_allennlp.alignment import load_vectors
from xlner_allennlp.alignment.retrieval import knn
from xlner_allennlp.data.dataset_readers.conll import read_conll_sentences
from xlner_allennlp.multitask.initial_space import principal_axes
from xlner_allennlp.tag_encoding import tags_to_spans


@dataclass
class EntityWords:
    """Words of one language with their majority entity type, most frequent first."""

    language: str
    words: List[str]
    types: List[str]


def _type_counts(path: str, encoding: str, outside: bool) -> Dict[str, Counter]:
    """Lowercased word (with a letter) -> counts of the entity types of its occurrences in the
    labelled file ``path``, plus ``"O"`` for its occurrences outside entities when ``outside``."""
    counts: Dict[str, Counter] = defaultdict(Counter)
    for sentence in read_conll_sentences(path, encoding):
        if sentence.tags is None:
            raise ValueError(f"{path}: the file has no tags; entity words need a labelled file")
        types = ["O"] * len(sentence.tokens)
        for span in tags_to_spans(sentence.tags, "IOB1"):
            types[span.start:span.end] = [span.type] * (span.end - span.start)
        for token, entity_type in zip(sentence.tokens, types):
            if any(c.isalpha() for c in token) and (outside or entity_type != "O"):
                counts[token.lower()][entity_type] += 1
    return counts


def entity_words(path: str, language: str, per_type: int = 40, encoding: str = "utf-8") -> EntityWords:
    """The ``per_type`` most frequent lowercased single words of each entity type in a labelled file
    (a word's type: the most frequent type of its entity occurrences)."""
    by_type: Dict[str, List[Tuple[int, str]]] = defaultdict(list)
    for word, types in _type_counts(path, encoding, outside=False).items():
        entity_type, count = types.most_common(1)[0]
        by_type[entity_type].append((count, word))
    words, types = [], []
    for entity_type in sorted(by_type):
        for _, word in sorted(by_type[entity_type], key=lambda cw: (-cw[0], cw[1]))[:per_type]:
            words.append(word)
            types.append(entity_type)
    return EntityWords(language, words, types)


def majority_types(path: str, encoding: str = "utf-8") -> Dict[str, str]:
    """Lowercased word -> its most frequent label over all its occurrences in a labelled file: an
    entity type, or ``"O"`` for a word mostly outside entities (ties: the first type seen)."""
    return {word: types.most_common(1)[0][0] for word, types in _type_counts(path, encoding, outside=True).items()}


def pca_2d(points: np.ndarray) -> np.ndarray:
    """Project ``points`` (shape ``(n, d)``) on their two main principal axes, shape ``(n, 2)``."""
    mean, axes = principal_axes(points, 2)
    return (points - mean) @ axes.T


def neighbour_type_shares(
    target: np.ndarray, target_types: Sequence[str], source: np.ndarray, source_types: Sequence[str], k: int = 1
) -> Dict[str, float]:
    """For each type of ``target_types``, and ``"all"``: the mean over those target rows of the
    share of their ``k`` cosine-nearest source rows that have the same type.

    ``target`` (n_target, d) and ``source`` (n_source, d) vectors; ``source_types`` may hold types
    no target row has (e.g. ``"O"`` for source words that are no entity).
    """
    _, nearest = knn(target, source, k)  # (n_target, k)
    source_types = np.asarray(source_types)
    target_types = np.asarray(target_types)
    shares = (source_types[nearest] == target_types[:, None]).mean(axis=1)
    result = {entity_type: float(shares[target_types == entity_type].mean()) for entity_type in sorted(set(target_types))}
    result["all"] = float(shares.mean())
    return result


def same_type_neighbour_rate(
    target: np.ndarray, target_types: Sequence[str], source: np.ndarray, source_types: Sequence[str]
) -> float:
    """Share of target rows whose cosine-nearest source row has the same entity type."""
    return neighbour_type_shares(target, target_types, source, source_types, k=1)["all"]


def plot_views(
    views: Dict[str, Tuple[np.ndarray, np.ndarray]],
    source: EntityWords,
    target: EntityWords,
    output: str,
) -> Dict[str, float]:
    """Draw one panel per view (``name -> (source vectors, target vectors)``) into a PNG at ``output``.

    Returns the same-type neighbour rate of each view.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    palette = {"PER": "tab:red", "LOC": "tab:blue", "ORG": "tab:green", "MISC": "tab:orange"}
    figure, axes = plt.subplots(1, len(views), figsize=(6 * len(views), 5.5), squeeze=False)
    rates = {}
    for axis, (name, (source_vectors, target_vectors)) in zip(axes[0], views.items()):
        rates[name] = same_type_neighbour_rate(target_vectors, target.types, source_vectors, source.types)
        projected = pca_2d(np.concatenate([source_vectors, target_vectors]))
        n = len(source_vectors)
        for entity_type in sorted(set(source.types) | set(target.types)):
            colour = palette.get(entity_type, "tab:gray")
            for words, offset, marker, language in (
                (source, 0, "o", source.language), (target, n, "^", target.language)
            ):
                rows = [offset + i for i, t in enumerate(words.types) if t == entity_type]
                axis.scatter(projected[rows, 0], projected[rows, 1], c=colour, marker=marker, s=18,
                             alpha=0.7, label=f"{language} {entity_type}")
        axis.set_title(f"{name}\nsame-type neighbour rate {rates[name]:.2f}")
        axis.set_xticks([])
        axis.set_yticks([])
    axes[0][0].legend(fontsize=7, ncol=2, loc="best")
    figure.suptitle(f"Entity words, {source.language} (o) and {target.language} (^), PCA")
    figure.tight_layout()
    figure.savefig(output, dpi=110)
    plt.close(figure)
    return rates


def entity_word_vectors(words: EntityWords, path: str, encoding: str = "utf-8") -> Tuple[EntityWords, np.ndarray]:
    """The entity words that have a vector in the vector file ``path`` (text in ``encoding``), and
    those vectors `(num_kept, dim)` in the same order."""
    vectors = load_vectors(path, encoding=encoding)
    keep = [i for i, w in enumerate(words.words) if w in vectors.index]
    kept = EntityWords(words.language, [words.words[i] for i in keep], [words.types[i] for i in keep])
    if not kept.words:
        raise ValueError(f"{path}: none of the entity words has a vector")
    return kept, vectors.matrix[[vectors.index[w] for w in kept.words]]
