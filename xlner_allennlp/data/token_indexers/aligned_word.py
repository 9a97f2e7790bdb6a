"""Index words by their row in their language's word-vector file, without an AllenNLP Vocabulary.

A model trained on one language must be able to tag a language it never saw, whose words are in
no training vocabulary, so ids come from the vector file of the instance's language instead:
``0`` is padding, ``1`` is out-of-vocabulary, ``r + 2`` is row ``r``. The
``xlner_aligned_embedding`` token embedder uses the same ids and the same per-language settings
(both from ``xlner_allennlp.language_vectors``).
"""
import copy
from typing import Any, Dict, List, Optional

from allennlp.common.checks import ConfigurationError
from allennlp.data.token_indexers.token_indexer import IndexedTokenList, TokenIndexer
from allennlp.data.tokenizers import Token
from allennlp.data.vocabulary import Vocabulary

from xlner_allennlp.alignment.vectors import VectorFileError
from xlner_allennlp.language_vectors import (
    FIRST_ROW_ID,
    OOV_ID,
    checked_language_spec,
    lookup_row,
    unknown_language_error,
    word_index,
)

_NAME = "xlner_aligned_word"

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
        first rows; must match the embedder, which it does when the same dict is used); the other
        keys (`"alignment"`, `"side"`, see `language_vectors.SPEC_KEYS`) are checked here too and
        used by the embedder only.
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
            self._languages[language] = checked_language_spec(language, spec, _NAME)
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
        self._languages[language] = checked_language_spec(language, spec, _NAME)
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
