"""A language-tagged vocabulary: the same string in two languages is two entries with two rows."""
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np

OOV = "@@UNKNOWN@@"
_DIGIT = re.compile(r"\d")


def normalize_word(word: str) -> str:
    """Lower-case and write every digit as ``0``: the form the ``xlner_aligned_word`` indexer
    falls back to, so exported vectors are found by its lookup."""
    return _DIGIT.sub("0", word.lower())


@dataclass
class TaggedVocabulary:
    """Entries ``(language, word)`` with one row each; row ``i`` is ``entries[i]``.

    Every language has its own out-of-vocabulary entry ``(language, OOV)``. ``counts[i]`` is the
    number of corpus occurrences of entry ``i`` (used for subsampling and negative sampling;
    0 for the OOV entries and for words added from the NER training data only).
    """

    entries: List[Tuple[str, str]]
    counts: np.ndarray
    _index: Dict[Tuple[str, str], int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts, dtype=np.int64)
        if len(self.entries) != len(self.counts):
            raise ValueError(f"{len(self.entries)} entries but {len(self.counts)} counts")
        self._index = {entry: i for i, entry in enumerate(self.entries)}
        if len(self._index) != len(self.entries):
            raise ValueError("duplicate vocabulary entries")

    @classmethod
    def build(
        cls,
        documents: Iterable[Tuple[str, Sequence[str]]],
        languages: Sequence[str],
        min_count: int = 5,
        extra_words: Iterable[Tuple[str, str]] = (),
    ) -> "TaggedVocabulary":
        """Count ``(language, tokens)`` documents; keep the words seen ``min_count`` times.

        Words are normalized (:func:`normalize_word`). ``extra_words`` ``(language, word)`` are
        added with count 0 when missing (the English NER training words, so that the NER
        objective has a row for each of them). Per language: the OOV entry, then words by
        decreasing count (ties alphabetically), so each language's block is frequency-sorted.
        """
        counters: Dict[str, Counter] = {language: Counter() for language in languages}
        for language, tokens in documents:
            if language not in counters:
                raise ValueError(f"document of language {language!r}, expected one of {list(languages)}")
            counters[language].update(normalize_word(token) for token in tokens)
        extras: Dict[str, set] = {language: set() for language in languages}
        for language, word in extra_words:
            extras[language].add(normalize_word(word))
        entries: List[Tuple[str, str]] = []
        counts: List[int] = []
        for language in languages:
            kept = [(word, n) for word, n in counters[language].items() if n >= min_count and word != OOV]
            kept.sort(key=lambda item: (-item[1], item[0]))
            entries.append((language, OOV))
            counts.append(0)
            for word, n in kept:
                entries.append((language, word))
                counts.append(n)
            known = {word for word, _ in kept}
            for word in sorted(extras[language] - known - {OOV}):
                entries.append((language, word))
                counts.append(counters[language][word])
        return cls(entries, np.asarray(counts, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.entries)

    def oov(self, language: str) -> int:
        """The row of ``language``'s out-of-vocabulary entry."""
        return self._index[(language, OOV)]

    def encode(self, tokens: Sequence[str], language: str) -> np.ndarray:
        """Rows of ``tokens`` (int64, shape ``(len(tokens),)``), unknown words to the OOV row."""
        oov = self.oov(language)
        return np.fromiter(
            (self._index.get((language, normalize_word(token)), oov) for token in tokens),
            dtype=np.int64,
            count=len(tokens),
        )

    def row(self, language: str, word: str) -> int:
        """The row of ``word`` (normalized) in ``language``, the OOV row when it has none."""
        return self._index.get((language, normalize_word(word)), self.oov(language))

    def language_mask(self, language: str) -> np.ndarray:
        """Boolean ``(len(self),)``: which rows belong to ``language``."""
        return np.fromiter((entry[0] == language for entry in self.entries), dtype=bool, count=len(self))

    def words(self, language: str) -> Tuple[List[str], np.ndarray]:
        """``language``'s words without the OOV entry, and their rows, in vocabulary order."""
        rows = [i for i, (lang, word) in enumerate(self.entries) if lang == language and word != OOV]
        return [self.entries[i][1] for i in rows], np.asarray(rows, dtype=np.int64)


def singleton_rows(vocabulary: TaggedVocabulary, sentences: Iterable[Sequence[str]], language: str) -> List[int]:
    """Rows of the words (normalized) that occur exactly once in ``sentences`` and have a row."""
    counts = Counter(normalize_word(token) for tokens in sentences for token in tokens)
    oov = vocabulary.oov(language)
    rows = (vocabulary.row(language, word) for word, n in counts.items() if n == 1)
    return sorted(row for row in rows if row != oov)
