"""Token indexers bound to the language of each instance, shared by the readers of this package."""
from typing import Dict

from allennlp.data.instance import Instance
from allennlp.data.token_indexers import TokenIndexer


class LanguageBoundIndexers:
    """
    A reader's token indexers, with those that have a method `for_language(language) ->
    TokenIndexer` (such as `xlner_aligned_word`) replaced, for each language, by the indexer that
    method returns (called once per language and cached).

    # Parameters

    token_indexers : `Dict[str, TokenIndexer]`
        The reader's indexers, as configured.
    """

    def __init__(self, token_indexers: Dict[str, TokenIndexer]) -> None:
        self.token_indexers = token_indexers
        self._by_language: Dict[str, Dict[str, TokenIndexer]] = {}

    def for_language(self, language: str) -> Dict[str, TokenIndexer]:
        """The token indexers for `language`."""
        if language not in self._by_language:
            self._by_language[language] = {
                name: (
                    indexer.for_language(language) if hasattr(indexer, "for_language") else indexer
                )
                for name, indexer in self.token_indexers.items()
            }
        return self._by_language[language]

    def apply(self, instance: Instance, field: str = "tokens") -> None:
        """Attach the indexers of `instance["metadata"]["language"]` to its text field `field`."""
        language = instance.fields["metadata"]["language"]  # type: ignore
        instance.fields[field].token_indexers = self.for_language(language)  # type: ignore
