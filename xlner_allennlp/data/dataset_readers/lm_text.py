"""The `xlner_lm_text` dataset reader: plain or gzipped text, one tokenized sentence per line, for
training a bidirectional language model."""
import logging
from typing import Dict, Iterable, Iterator, List, Optional

from allennlp.common.checks import ConfigurationError
from allennlp.common.file_utils import cached_path
from allennlp.data.dataset_readers.dataset_reader import DatasetReader
from allennlp.data.fields import MetadataField, TextField
from allennlp.data.instance import Instance
from allennlp.data.token_indexers import ELMoTokenCharactersIndexer, SingleIdTokenIndexer, TokenIndexer
from allennlp.data.tokenizers import Token

from xlner_allennlp.contextual.text import TextFileError, read_sentences

logger = logging.getLogger(__name__)

BOS_TOKEN = "<S>"
EOS_TOKEN = "</S>"


@DatasetReader.register("xlner_lm_text")
class LmTextReader(DatasetReader):
    """
    Reads text with one tokenized sentence per line (tokens separated by spaces, plain or gzip)
    into instances for the `xlner_bilm` language model:

    - `tokens`: the sentence's words, indexed by ELMo's character indexer (key `elmo_tokens`);
    - `targets`: `<S>`, the words, `</S>` in the `tokens` vocabulary namespace (the words the LMs
      predict; counting them builds the frequency-sorted softmax vocabulary, boundaries included);
    - `metadata`: `{"language": ...}`.

    Blank lines are skipped. Bad input (an empty file, an undecodable line, a broken gzip stream)
    raises `xlner_allennlp.contextual.text.TextFileError` naming the file and line.

    Registered as a `DatasetReader` with name "xlner_lm_text".

    # Parameters

    language : `str`, optional (default=`"en"`)
        ISO 639-1 code of the text's language, stored in every instance's metadata.
    max_sentence_length : `int`, optional (default=`None`)
        If given, a longer sentence is cut into consecutive pieces of at most this many tokens (no
        token is dropped; each piece gets its own boundaries).
    encoding : `str`, optional (default=`"utf-8"`)
        Character encoding of the files.
    token_indexers : `Dict[str, TokenIndexer]`, optional (default=`{"elmo_tokens": ELMoTokenCharactersIndexer()}`)
        How to index the input words; the model reads the key `elmo_tokens`.
    **kwargs
        Passed to `DatasetReader` (e.g. `max_instances`). The reader shards its sentences itself
        across workers and distributed processes.
    """

    def __init__(
        self,
        language: str = "en",
        max_sentence_length: Optional[int] = None,
        encoding: str = "utf-8",
        token_indexers: Optional[Dict[str, TokenIndexer]] = None,
        **kwargs,
    ) -> None:
        super().__init__(manual_distributed_sharding=True, manual_multiprocess_sharding=True, **kwargs)
        if not language:
            raise ConfigurationError("language must be an ISO 639-1 code such as 'en'")
        if max_sentence_length is not None and max_sentence_length < 1:
            raise ConfigurationError(f"max_sentence_length must be positive, got {max_sentence_length}")
        self._language = language
        self._max_sentence_length = max_sentence_length
        self._encoding = encoding
        self._token_indexers = token_indexers or {"elmo_tokens": ELMoTokenCharactersIndexer()}
        self._target_indexers = {"tokens": SingleIdTokenIndexer(namespace="tokens")}

    @property
    def language(self) -> str:
        """The language of the instances."""
        return self._language

    def _read(self, file_path: str) -> Iterable[Instance]:
        try:
            path = cached_path(file_path)
        except FileNotFoundError:
            raise TextFileError(f"{file_path}: no such text file") from None
        sentences = (words for _, words in read_sentences(path, encoding=self._encoding))
        for words in self.shard_iterable(self._pieces(sentences)):
            yield self.text_to_instance(words)

    def _pieces(self, sentences: Iterable[List[str]]) -> Iterator[List[str]]:
        cap = self._max_sentence_length
        for words in sentences:
            if cap is None:
                yield words
            else:
                yield from (words[start: start + cap] for start in range(0, len(words), cap))

    def text_to_instance(self, words: List[str], language: Optional[str] = None) -> Instance:  # type: ignore
        """An instance from one tokenized sentence (at least one word); ``language`` defaults to
        the reader's."""
        if not words:
            raise ValueError("cannot make an instance from an empty sentence")
        return Instance({
            "tokens": TextField([Token(word) for word in words]),
            "targets": TextField([Token(word) for word in [BOS_TOKEN, *words, EOS_TOKEN]]),
            "metadata": MetadataField({"language": language or self._language}),
        })

    def apply_token_indexers(self, instance: Instance) -> None:
        instance.fields["tokens"].token_indexers = self._token_indexers  # type: ignore
        instance.fields["targets"].token_indexers = self._target_indexers  # type: ignore
