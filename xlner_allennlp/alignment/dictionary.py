"""Bilingual dictionaries: MUSE files, identical-strings and numerals seeds, and vocabulary lookup.

A MUSE dictionary has one ``source target`` pair per line (space or tab separated); a source word
with several translations appears on several lines. :func:`index_dictionary` turns word pairs into
row indices of two vector spaces and counts the pairs dropped because a word is not in the kept
vocabulary, so that every caller can report coverage.
"""
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from xlner_allennlp.alignment.vectors import WordVectors

WordPair = Tuple[str, str]
SEEDS = ("identical", "numerals")
_NUMERAL = re.compile(r"^[0-9]+([.,][0-9]+)*$")


class DictionaryError(ValueError):
    """A dictionary file is malformed or has no usable pair; the message names the file and line."""


@dataclass
class IndexedDictionary:
    """Dictionary pairs as row indices into a source and a target vector space.

    ``source[i]``, ``target[i]`` are the rows of the ``i``-th kept pair. ``n_read`` counts the
    distinct pairs read, ``n_dropped`` those with a word outside the kept vocabulary
    (``n_source_oov`` / ``n_target_oov``: pairs whose source / target word is missing).
    """

    source: np.ndarray
    target: np.ndarray
    n_read: int
    n_dropped: int = 0
    n_source_oov: int = 0
    n_target_oov: int = 0
    n_source_words_read: int = 0
    path: str = ""
    pairs: List[WordPair] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return int(self.source.shape[0])

    @property
    def n_source_words(self) -> int:
        """Distinct in-vocabulary source words (the BLI queries)."""
        return int(np.unique(self.source).shape[0])

    @property
    def coverage(self) -> float:
        """Fraction of the pairs read whose two words are both in the vocabularies."""
        return len(self) / self.n_read if self.n_read else 0.0

    def summary(self) -> Dict[str, float]:
        return {
            "n_pairs": len(self),
            "n_pairs_read": self.n_read,
            "n_pairs_dropped": self.n_dropped,
            "n_source_oov": self.n_source_oov,
            "n_target_oov": self.n_target_oov,
            "n_source_words": self.n_source_words,
            "n_source_words_read": self.n_source_words_read,
            "coverage": self.coverage,
            "source_word_coverage": (
                self.n_source_words / self.n_source_words_read if self.n_source_words_read else 0.0
            ),
        }


def read_dictionary(path: str, encoding: str = "utf-8") -> List[WordPair]:
    """Read a MUSE dictionary file into distinct ``(source, target)`` pairs, in file order.

    Blank lines are skipped; any other line must hold exactly two words. Raises
    :class:`DictionaryError` on a missing file, a malformed line or a file with no pair.
    """
    if not os.path.isfile(path):
        raise DictionaryError(f"{path}: no such dictionary file")
    pairs: List[WordPair] = []
    seen = set()
    with open(path, encoding=encoding, errors="strict") as handle:
        line_number = 0
        while True:
            try:
                line = handle.readline()
            except UnicodeDecodeError as error:
                raise DictionaryError(
                    f"{path}:{line_number + 1}: cannot decode as {encoding} ({error.reason})"
                ) from None
            if not line:
                break
            line_number += 1
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise DictionaryError(
                    f"{path}:{line_number}: expected 'source target' (2 words), found {len(fields)}: "
                    f"{line.rstrip()!r}"
                )
            pair = (fields[0], fields[1])
            if pair not in seen:
                seen.add(pair)
                pairs.append(pair)
    if not pairs:
        raise DictionaryError(f"{path}: the dictionary is empty")
    return pairs


def identical_seed(
    source_words: Sequence[str], target_words: Sequence[str], max_rank: Optional[int] = None
) -> List[WordPair]:
    """Pairs ``(w, w)`` for every string in both vocabularies (among the first ``max_rank`` of each)."""
    sources = source_words[:max_rank] if max_rank else source_words
    targets = set(target_words[:max_rank] if max_rank else target_words)
    return [(w, w) for w in sources if w in targets]


def numerals_seed(
    source_words: Sequence[str], target_words: Sequence[str], max_rank: Optional[int] = None
) -> List[WordPair]:
    """Pairs ``(n, n)`` for the numerals (digit strings such as ``1848``, ``3,5``) in both vocabularies."""
    return [(w, t) for w, t in identical_seed(source_words, target_words, max_rank) if _NUMERAL.match(w)]


def seed_dictionary(
    seed: str, source_words: Sequence[str], target_words: Sequence[str], max_rank: Optional[int] = None
) -> List[WordPair]:
    """The ``identical`` or ``numerals`` seed dictionary (a :class:`DictionaryError` for other names)."""
    if seed == "identical":
        return identical_seed(source_words, target_words, max_rank)
    if seed == "numerals":
        return numerals_seed(source_words, target_words, max_rank)
    raise DictionaryError(f"unknown seed {seed!r}; choose from {', '.join(SEEDS)}")


def index_dictionary(
    pairs: Sequence[WordPair], source: WordVectors, target: WordVectors, path: str = "<dictionary>"
) -> IndexedDictionary:
    """Map word pairs to rows of ``source`` and ``target``, dropping and counting out-of-vocabulary pairs.

    Raises :class:`DictionaryError` when ``pairs`` is empty or no pair has both words in the
    vocabularies (``path`` names the dictionary in the message).
    """
    if not pairs:
        raise DictionaryError(f"{path}: the dictionary is empty")
    source_index, target_index = source.index, target.index
    rows_source: List[int] = []
    rows_target: List[int] = []
    kept: List[WordPair] = []
    n_source_oov = n_target_oov = n_dropped = 0
    for s, t in pairs:
        i, j = source_index.get(s), target_index.get(t)
        n_source_oov += i is None
        n_target_oov += j is None
        if i is None or j is None:
            n_dropped += 1
            continue
        rows_source.append(i)
        rows_target.append(j)
        kept.append((s, t))
    if not kept:
        raise DictionaryError(
            f"{path}: none of the {len(pairs)} pairs has both words in the vocabularies "
            f"({n_source_oov} source and {n_target_oov} target words missing from "
            f"{source.path or 'the source vectors'} / {target.path or 'the target vectors'}); "
            f"check the language direction and --max-vocab"
        )
    return IndexedDictionary(
        source=np.asarray(rows_source, dtype=np.int64),
        target=np.asarray(rows_target, dtype=np.int64),
        n_read=len(pairs),
        n_dropped=n_dropped,
        n_source_oov=n_source_oov,
        n_target_oov=n_target_oov,
        n_source_words_read=len({s for s, _ in pairs}),
        path=path,
        pairs=kept,
    )


def load_dictionary(
    path: str, source: WordVectors, target: WordVectors, encoding: str = "utf-8"
) -> IndexedDictionary:
    """Read a MUSE dictionary file and index it against ``source`` and ``target``."""
    return index_dictionary(read_dictionary(path, encoding), source, target, path)
