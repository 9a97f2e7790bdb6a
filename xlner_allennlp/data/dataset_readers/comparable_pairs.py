"""The `xlner_comparable_pairs` dataset reader: document pairs of a comparable corpus."""
from typing import Iterable

from allennlp.data.dataset_readers.dataset_reader import DatasetReader
from allennlp.data.fields import MetadataField
from allennlp.data.instance import Instance

from xlner_allennlp.multitask.pairs import MAX_DOCUMENT_TOKENS, DocumentPair, read_pairs, split_pair


@DatasetReader.register("xlner_comparable_pairs")
class ComparablePairsReader(DatasetReader):
    """
    Reads a pairs file (`.jsonl` or `.jsonl.gz`, one `{"id", "<source>", "<target>"}` object a
    line, tokens separated by spaces) into one instance per document pair, with a single
    `MetadataField` `pair` holding the `DocumentPair`. The words are indexed by the model's own
    language-tagged vocabulary, so no token indexer is involved.

    A missing language key, an empty document or a target language absent from the file raises
    `PairFileError` naming the file and line.

    Registered as a `DatasetReader` with name "xlner_comparable_pairs".

    # Parameters

    target_language : `str`
        The key of the target-language documents (e.g. `"es"`).
    source_language : `str`, optional (default=`"en"`)
        The key of the source-language (labelled language) documents.
    max_document_tokens : `int`, optional (default=`MAX_DOCUMENT_TOKENS`, 1000)
        Longer pairs are cut into aligned pieces of at most this many tokens a side
        (`split_pair`), one instance each.
    """

    def __init__(
        self,
        target_language: str,
        source_language: str = "en",
        max_document_tokens: int = MAX_DOCUMENT_TOKENS,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self._target_language = target_language
        self._source_language = source_language
        self._max_document_tokens = max_document_tokens

    def _read(self, file_path: str) -> Iterable[Instance]:
        pairs = read_pairs(file_path, self._target_language, self._source_language)
        for pair in pairs:
            for piece in split_pair(pair, self._max_document_tokens):
                yield self.text_to_instance(piece)

    def text_to_instance(self, pair: DocumentPair) -> Instance:  # type: ignore
        return Instance({"pair": MetadataField(pair)})
