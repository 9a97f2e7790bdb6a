"""Index words by their row in their language's word-vector file, without an AllenNLP Vocabulary.

A model trained on one language must be able to tag a language it never saw, whose words are in
no training vocabulary, so ids come from the vector file of the instance's language instead:
``0`` is padding, ``1`` is out-of-vocabulary, ``r + 2`` is row ``r``. The
``xlner_aligned_embedding`` token embedder uses the same ids and the same per-language settings.
"""
import copy
import os
import re
from typing import Any, Dict, List, Optional, Tuple

from allennlp.common.checks import ConfigurationError
from allennlp.data.token_indexers.token_indexer import IndexedTokenList, TokenIndexer
from allennlp.data.tokenizers import Token
from allennlp.data.vocabulary import Vocabulary

from xlner_allennlp.alignment.vectors import VectorFileError, load_vocab

PADDING_ID = 0
OOV_ID = 1
FIRST_ROW_ID = 2

_DIGIT = re.compile(r"\d")

# Word -> row of each vector file, keyed by (absolute path, max_vocab). Shared by every indexer and
# embedder of the process so that a word list is read once; files are assumed not to change while
# the process runs.
_WORD_INDEX_CACHE: Dict[Tuple[str, Optional[int]], Dict[str, int]] = {}


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
    """The row of ``word`` under the lookup policy of :class:`AlignedWordIndexer`, or ``None``."""
    lowered = word.lower()
    row = index.get(lowered)
    if row is None:
        row = index.get(word)
    if row is None and _DIGIT.search(word):
        row = index.get(_DIGIT.sub("0", lowered))
    return row


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


@TokenIndexer.register("xlner_aligned_word")
class AlignedWordIndexer(TokenIndexer):
    """
    Maps each token to its row in its language's word-vector file: id `0` is padding, `1` is
    out-of-vocabulary, `r + 2` is row `r`. No `Vocabulary` is involved (`count_vocab_items`
    does nothing), so a trained model can index any language whose vectors are configured,
    including languages added after training.

    Lookup policy, first match wins: the lowercased token (the vectors are trained on lowercased
    text); the token as it is; when the token contains digits, the lowercased token with every
    digit replaced by `0`. Anything else is out-of-vocabulary.

    The indexer holds one language. The dataset reader calls `for_language(language)` for each
    instance and indexes with the returned bound copy; an unbound indexer uses
    `default_language`. Word lists are read lazily (on first indexing) and cached process-wide,
    keyed by (file, `max_vocab`), and shared with the `xlner_aligned_embedding` embedder; they
    are left out of pickles, so indexers stay cheap to send to data-loader workers.

    Registered as a `TokenIndexer` with name "xlner_aligned_word".

    # Parameters

    languages : `Dict[str, Dict[str, Any]]`
        The same per-language settings as given to `xlner_aligned_embedding`. Each entry needs
        `"vectors"` (path of the language's vector file) and may give `"max_vocab"` (keep only the
        first rows; must match the embedder, which it does when the same dict is used). Other keys
        (`"alignment"`, `"side"`) are ignored here.
    default_language : `Optional[str]`, optional (default=`None`)
        The language of an indexer that was not bound with `for_language`. When `None` and
        exactly one language is configured, that language is the default.
    token_min_padding_length : `int`, optional (default=`0`)
        See :class:`TokenIndexer`.
    """

    def __init__(
        self,
        languages: Dict[str, Dict[str, Any]],
        default_language: Optional[str] = None,
        token_min_padding_length: int = 0,
    ) -> None:
        super().__init__(token_min_padding_length)
        self._languages: Dict[str, Dict[str, Any]] = {}
        for language, spec in languages.items():
            self._languages[language] = _checked_spec(language, spec)
        if default_language is None and len(self._languages) == 1:
            default_language = next(iter(self._languages))
        if default_language is not None and default_language not in self._languages:
            raise unknown_language_error(default_language, list(self._languages), "xlner_aligned_word")
        self._default_language = default_language
        self._language: Optional[str] = None
        self._index: Optional[Dict[str, int]] = None
        self._bound: Dict[str, "AlignedWordIndexer"] = {}

    @property
    def language(self) -> Optional[str]:
        """The language this indexer indexes (the bound one, else `default_language`)."""
        return self._language if self._language is not None else self._default_language

    def for_language(self, language: str) -> "AlignedWordIndexer":
        """A copy of this indexer bound to ``language`` (cached; raises for an unknown language)."""
        if language not in self._languages:
            raise unknown_language_error(language, list(self._languages), "xlner_aligned_word")
        if language == self._language:
            return self
        if language not in self._bound:
            bound = copy.copy(self)
            bound._languages = dict(self._languages)
            bound._language = language
            bound._index = None
            bound._bound = {}
            self._bound[language] = bound
        return self._bound[language]

    def add_language(self, language: str, spec: Dict[str, Any]) -> None:
        """Configure (or replace) ``language``; ``spec`` is an entry as in ``languages``."""
        self._languages[language] = _checked_spec(language, spec)
        self._bound.pop(language, None)
        if language == self.language:
            self._index = None

    def count_vocab_items(self, token: Token, counter: Dict[str, Dict[str, int]]) -> None:
        """Nothing to count: ids come from the vector files, not from a `Vocabulary`."""

    def tokens_to_indices(self, tokens: List[Token], vocabulary: Vocabulary) -> Dict[str, List[int]]:
        index = self._word_index()
        ids = []
        for token in tokens:
            row = lookup_row(token.text, index)
            ids.append(OOV_ID if row is None else row + FIRST_ROW_ID)
        return {"tokens": ids}

    def get_empty_token_list(self) -> IndexedTokenList:
        return {"tokens": []}

    def _word_index(self) -> Dict[str, int]:
        if self._index is None:
            language = self.language
            if language is None:
                raise unknown_language_error(None, list(self._languages), "xlner_aligned_word")
            spec = self._languages[language]
            try:
                self._index = word_index(spec["vectors"], spec.get("max_vocab"))
            except VectorFileError as error:
                raise ConfigurationError(f"xlner_aligned_word, language {language!r}: {error}") from None
        return self._index

    def __getstate__(self) -> Dict[str, Any]:
        # The word map (tens of thousands of words) and the bound copies are caches: workers
        # rebuild them from the process-wide cache or the files.
        state = dict(self.__dict__)
        state["_index"] = None
        state["_bound"] = {}
        return state

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AlignedWordIndexer):
            return self.__getstate__() == other.__getstate__()
        return NotImplemented


def _checked_spec(language: str, spec: Dict[str, Any]) -> Dict[str, Any]:
    if not isinstance(spec, dict) or not isinstance(spec.get("vectors"), str):
        raise ConfigurationError(
            f"xlner_aligned_word: the entry of language {language!r} needs a \"vectors\" path, got {spec!r}"
        )
    max_vocab = spec.get("max_vocab")
    if max_vocab is not None and (not isinstance(max_vocab, int) or max_vocab <= 0):
        raise ConfigurationError(
            f"xlner_aligned_word: max_vocab of language {language!r} must be a positive integer, got {max_vocab!r}"
        )
    return dict(spec)
