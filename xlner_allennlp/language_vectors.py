"""The per-language word-vector settings and word lists shared by the `xlner_aligned_word`
indexer and the `xlner_aligned_embedding` embedder.

Both components take the same `languages` dict (language -> settings) and must agree on the ids
of every word: ``0`` is padding, ``1`` is out-of-vocabulary, ``r + 2`` is row ``r`` of the
language's vector file. This module is the one home of those ids, of the settings' checks, of the
word lookup policy and of the process-wide word lists that both read.
"""
import os
import re
from typing import Any, Dict, List, Optional, Tuple

from allennlp.common.checks import ConfigurationError

from xlner_allennlp.alignment.artifact import SIDES
from xlner_allennlp.alignment.vectors import VectorFileError, load_vocab

PADDING_ID = 0
OOV_ID = 1
FIRST_ROW_ID = 2

# The keys of a language's settings: "vectors" (required) the vector file; "alignment" an
# alignment artifact directory; "side" which side of the artifact the language is (only with
# "alignment"); "max_vocab" keep only the first rows of the vector file.
SPEC_KEYS = ("vectors", "alignment", "side", "max_vocab")

_DIGIT = re.compile(r"\d")

# Word -> row of each vector file, keyed by (absolute path, max_vocab). Shared by every indexer and
# embedder of the process so that a word list is read once; files are assumed not to change while
# the process runs.
_WORD_INDEX_CACHE: Dict[Tuple[str, Optional[int]], Dict[str, int]] = {}


def checked_language_spec(language: str, spec: Any, component: str) -> Dict[str, Any]:
    """A copy of ``language``'s settings after checking them, or a `ConfigurationError` naming
    ``component`` and the language."""
    where = f"{component}, language {language!r}"
    if not isinstance(spec, dict) or not isinstance(spec.get("vectors"), str):
        raise ConfigurationError(
            f"{component}: the entry of language {language!r} needs a \"vectors\" path, got {spec!r}"
        )
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise ConfigurationError(f"{where}: unknown key(s) {unknown}; allowed: {', '.join(SPEC_KEYS)}")
    max_vocab = spec.get("max_vocab")
    if max_vocab is not None and (not isinstance(max_vocab, int) or max_vocab <= 0):
        raise ConfigurationError(f"{where}: max_vocab must be a positive integer, got {max_vocab!r}")
    side = spec.get("side")
    if side is not None and spec.get("alignment") is None:
        raise ConfigurationError(f"{where}: \"side\" is given but no \"alignment\" artifact")
    if side is not None and side not in SIDES:
        raise ConfigurationError(f"{where}: side must be {' or '.join(map(repr, SIDES))}, got {side!r}")
    return dict(spec)


def unknown_language_error(language: Optional[str], configured: List[str], component: str) -> ConfigurationError:
    """The error for a language that has no word vectors configured."""
    listed = ", ".join(sorted(configured)) or "none"
    if language is None:
        return ConfigurationError(
            f"{component}: no language given and no default_language set (configured languages: {listed})"
        )
    return ConfigurationError(
        f"{component}: unknown language {language!r}; configured languages: {listed}. "
        f"Add it in the configuration (or with add_language) with the path of its word vectors."
    )


def _cache_key(path: str, max_vocab: Optional[int]) -> Tuple[str, Optional[int]]:
    return os.path.abspath(path), max_vocab


def word_index(path: str, max_vocab: Optional[int] = None) -> Dict[str, int]:
    """Word to row for the first ``max_vocab`` rows of the vector file ``path`` (cached)."""
    key = _cache_key(path, max_vocab)
    if key not in _WORD_INDEX_CACHE:
        words = load_vocab(path, max_vocab)
        if max_vocab is not None and len(words) < max_vocab:
            raise VectorFileError(f"{path}: max_vocab={max_vocab} is larger than the file ({len(words)} rows)")
        _WORD_INDEX_CACHE[key] = {word: row for row, word in enumerate(words)}
    return _WORD_INDEX_CACHE[key]


def remember_word_index(path: str, max_vocab: Optional[int], index: Dict[str, int]) -> None:
    """Store a word-to-row map already built from ``path`` (the embedder loads the words anyway)."""
    _WORD_INDEX_CACHE.setdefault(_cache_key(path, max_vocab), index)


def lookup_row(word: str, index: Dict[str, int]) -> Optional[int]:
    """The row of ``word``, first match wins: the lowercased word (the vectors are trained on
    lowercased text); the word as it is; when it contains digits, the lowercased word with every
    digit replaced by ``0``. ``None`` when out of vocabulary."""
    lowered = word.lower()
    row = index.get(lowered)
    if row is None:
        row = index.get(word)
    if row is None and _DIGIT.search(word):
        row = index.get(_DIGIT.sub("0", lowered))
    return row
