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
from xlner_allennlp.file_utils import text_lines

WordPair = Tuple[str, str]
SEEDS = ("identical", "numerals")
_NUMERAL = re.compile(r"^[0-9]+([.,][0-9]+)*$")


# Appended to a decoding error: how to say which encoding the dictionary has.
ENCODING_HINT = (
    "; pass the dictionary's encoding (encoding= in Python, --dictionary-encoding on the command line, e.g. latin-1)"
)
# A dictionary is taken to run the wrong way round when more than REVERSED_RATIO times as many of
# its pairs (not counting identical strings, which fit both ways) fit the swapped order as fit the
# given one, and at least REVERSED_MIN_PAIRS do.
REVERSED_RATIO = 2.0
REVERSED_MIN_PAIRS = 10
# BLI results on a dictionary whose coverage is below LOW_COVERAGE carry a warning.
LOW_COVERAGE = 0.2


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
    for line_number, line in text_lines(path, encoding, DictionaryError, ENCODING_HINT):
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


def check_direction(
    pairs: Sequence[WordPair], source: WordVectors, target: WordVectors, path: str = "<dictionary>"
) -> None:
    """Raise :class:`DictionaryError` when ``pairs`` run the other way round: many more of them
    have their first word in ``target``'s vocabulary and their second in ``source``'s than the
    reverse (see :data:`REVERSED_RATIO`; pairs of identical strings fit both ways and are not
    counted). A reversed dictionary otherwise leaves a handful of pairs (names, loanwords) that
    train a failed mapping or give a BLI precision on a tiny, unrepresentative sample."""
    source_index, target_index = source.index, target.index
    forward = reverse = 0
    for s, t in pairs:
        if s != t:
            forward += s in source_index and t in target_index
            reverse += t in source_index and s in target_index
    if reverse >= REVERSED_MIN_PAIRS and reverse > REVERSED_RATIO * forward:
        mapped, reference = source.path or "the mapped vectors", target.path or "the reference vectors"
        raise DictionaryError(
            f"{path}: the dictionary runs the other way round: {reverse} of its {len(pairs)} pairs have their "
            f"first word in {reference} and their second in {mapped}, only {forward} the right way. Each line "
            f"must hold a word of the mapped language ({mapped}) first and its translation in the reference "
            f"language ({reference}) second: pass the dictionary of that direction (MUSE names it "
            f"<mapped>-<reference>, e.g. es-en.0-5000.txt to map es onto en) or swap its two columns"
        )


def coverage_warning(dictionary: IndexedDictionary) -> Optional[str]:
    """A warning when fewer than :data:`LOW_COVERAGE` of the dictionary's pairs have both words in
    the kept vocabularies, else ``None``: a precision over so few pairs says little about the
    dictionary."""
    if dictionary.coverage >= LOW_COVERAGE:
        return None
    return (
        f"{dictionary.path or 'the dictionary'}: only {len(dictionary)} of its {dictionary.n_read} pairs "
        f"({dictionary.coverage:.2%}) have both words in the kept vocabularies ({dictionary.n_source_oov} "
        f"source and {dictionary.n_target_oov} target words missing), so the precision covers "
        f"{dictionary.n_source_words} queries only; check the dictionary's direction, the vector files and --max-vocab"
    )


def index_dictionary(
    pairs: Sequence[WordPair], source: WordVectors, target: WordVectors, path: str = "<dictionary>"
) -> IndexedDictionary:
    """Map word pairs to rows of ``source`` and ``target``, dropping and counting out-of-vocabulary pairs.

    Raises :class:`DictionaryError` when ``pairs`` is empty or no pair has both words in the
    vocabularies (``path`` names the dictionary in the message).
    """
    if not pairs:
        raise DictionaryError(f"{path}: the dictionary is empty")
    check_direction(pairs, source, target, path)
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
