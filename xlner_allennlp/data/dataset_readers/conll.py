"""The `xlner_conll` dataset reader: CoNLL-style NER files of any language, as published."""
import codecs
import itertools
import logging
import re
from dataclasses import dataclass
from typing import Dict, Iterable, Iterator, List, Optional

from allennlp.common.checks import ConfigurationError
from allennlp.common.file_utils import cached_path
from allennlp.data.dataset_readers.dataset_reader import DatasetReader
from allennlp.data.fields import Field, MetadataField, SequenceLabelField, TextField
from allennlp.data.instance import Instance
from allennlp.data.token_indexers import (
    SingleIdTokenIndexer,
    TokenCharactersIndexer,
    TokenIndexer,
)
from allennlp.data.tokenizers import Token

from xlner_allennlp.data.dataset_readers.language_indexers import LanguageBoundIndexers
from xlner_allennlp.file_utils import decoded_lines
from xlner_allennlp.tag_encoding import (
    IOB_SCHEMES,
    OUTPUT_ENCODINGS,
    convert_iob,
    detect_iob_scheme,
    iob_tag_problem,
    irregular_positions,
)

logger = logging.getLogger(__name__)

DOCSTART = "-DOCSTART-"
_SPACES_AND_TABS = re.compile(r"[ \t]+")


class ConllFormatError(ValueError):
    """A CoNLL-style file that cannot be read; the message names the file and, where there is
    one, the line."""


@dataclass
class ConllSentence:
    """One sentence of a CoNLL-style file: its tokens, its tags as written in the file (None for a
    tokens-only file) and the 1-based line number of each token."""

    tokens: List[str]
    tags: Optional[List[str]]
    line_numbers: List[int]


def _split(line: str, tab_separated: bool) -> List[str]:
    """The columns of a stripped, non-blank line."""
    if tab_separated:
        return [field.strip(" ") for field in line.split("\t")]
    return _SPACES_AND_TABS.split(line)


@dataclass
class _Layout:
    """The column layout of a file, fixed by its first line that holds a token.

    Tabs make a file tab-separated; a tab-separated file with 3 or more columns and an integer
    first column is an ``index token tag`` file (WikiANN, WikiNEuRal); otherwise the token comes
    first. The tag is the last column; a single column means tokens only.
    """

    columns: int
    token_column: int
    labeled: bool
    first_line: int

    @classmethod
    def of(cls, fields: List[str], tab_separated: bool, line_number: int) -> "_Layout":
        token_column = 1 if tab_separated and len(fields) >= 3 and fields[0].isdigit() else 0
        return cls(
            columns=len(fields),
            token_column=token_column,
            labeled=len(fields) - token_column >= 2,
            first_line=line_number,
        )


def read_conll_sentences(path: str, encoding: str = "utf-8") -> Iterator[ConllSentence]:
    """Lazily read the sentences of a CoNLL-style file.

    Formats: whitespace-separated columns with the token first and the IOB tag last (CoNLL-2002/
    2003, any number of columns); tab-separated ``index token tag`` (WikiANN, WikiNEuRal); one
    token per line (unlabeled). Blank lines (any number) end sentences; ``-DOCSTART-`` lines are
    skipped and also end a sentence. Lines are decoded one at a time, so ``encoding`` must be
    ASCII-compatible (utf-8, latin-1, cp1252, ...). Raises `ConllFormatError`, naming the file and
    line, for a missing, empty or undecodable file, a line whose column count differs from the
    file's first line, and a tag that is not an IOB tag.
    """
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise ConllFormatError(f"{path}: cannot open the file ({error.strerror})") from error
    tab_separated: Optional[bool] = None
    layout: Optional[_Layout] = None
    tokens: List[str] = []
    tags: List[str] = []
    line_numbers: List[int] = []
    sentences = 0
    with handle:
        hint = ('; set the reader\'s `encoding` parameter to the file\'s encoding (e.g. "latin-1" for the '
                "CoNLL-2003 German files)")
        for line_number, line in decoded_lines(handle, path, encoding, ConllFormatError, hint):
            line = line.strip(" \t\r\n")
            if tab_separated is None and line:
                tab_separated = "\t" in line
            fields = _split(line, tab_separated) if line else []
            if not fields or DOCSTART in fields[:2]:
                if tokens:
                    sentences += 1
                    yield ConllSentence(tokens, tags if layout.labeled else None, line_numbers)
                    tokens, tags, line_numbers = [], [], []
                continue
            if layout is None:
                layout = _Layout.of(fields, tab_separated, line_number)
            if len(fields) != layout.columns:
                raise ConllFormatError(
                    f"{path}, line {line_number}: {len(fields)} columns, but the file's first "
                    f"token line (line {layout.first_line}) has {layout.columns}"
                )
            if layout.token_column == 1 and not fields[0].isdigit():
                raise ConllFormatError(
                    f"{path}, line {line_number}: expected a token index in the first column of "
                    f"this tab-separated index-token-tag file, found {fields[0]!r}"
                )
            if layout.labeled:
                problem = iob_tag_problem(fields[-1])
                if problem is not None:
                    raise ConllFormatError(f"{path}, line {line_number}: {problem}")
                tags.append(fields[-1])
            tokens.append(fields[layout.token_column])
            line_numbers.append(line_number)
    if tokens:
        sentences += 1
        yield ConllSentence(tokens, tags if layout.labeled else None, line_numbers)
    if tab_separated is None:
        raise ConllFormatError(f"{path}: the file is empty")
    if sentences == 0:
        raise ConllFormatError(f"{path}: the file has no sentences, only {DOCSTART} lines")


@DatasetReader.register("xlner_conll")
class ConllReader(DatasetReader):
    """
    Reads CoNLL-style NER files exactly as published, in any language, into instances for a
    sequence tagger. Labeled files give `tokens`, `tags` and `metadata`; tokens-only files
    (unlabeled target-language text) give `tokens` and `metadata`.

    Accepted formats (see `read_conll_sentences`): whitespace-separated columns with the token
    first and the tag last (CoNLL-2002 Spanish and Dutch: 3 columns, CoNLL-2003 English: 4,
    German: 5), tab-separated `index token tag` files (WikiANN, WikiNEuRal) and one token per line.
    `-DOCSTART-` lines are skipped; blank lines separate sentences. Bad input raises
    `ConllFormatError` naming the file and line.

    Input tags are IOB1 (CoNLL-2003) or IOB2 (CoNLL-2002, WikiANN); they are converted to
    `label_encoding`. Both are read leniently (an `I-X` or `B-X` that does not continue an `X`
    entity starts one), and tags irregular for the file's scheme are counted in a warning.

    Token indexers that have a method `for_language(language) -> TokenIndexer` (such as
    `xlner_aligned_word`) are replaced, for the instances of each language, by the indexer that
    method returns (called once per language). As in AllenNLP's own readers, indexers are attached
    in `apply_token_indexers`, which `read`, the data loaders and predictors call.

    Registered as a `DatasetReader` with name "xlner_conll".

    # Parameters

    token_indexers : `Dict[str, TokenIndexer]`, optional (default=`{"tokens":
        SingleIdTokenIndexer(lowercase_tokens=True), "token_characters":
        TokenCharactersIndexer(min_padding_length=3)}`)
        How to index the tokens. Lowercased words match lowercase word-vector vocabularies; the
        padding of 3 suits character CNNs of width up to 3.
    encoding : `str`, optional (default=`"utf-8"`)
        Character encoding of the files (an ASCII-compatible one). The CoNLL-2003 German files
        are `"latin-1"`.
    label_encoding : `str`, optional (default=`"BIOUL"`)
        Encoding of the output tags: `"IOB2"` or `"BIOUL"`. Must match the model's.
    input_scheme : `str`, optional (default=`"auto"`)
        Scheme of the input tags: `"IOB1"`, `"IOB2"`, or `"auto"` to detect it for each labeled
        file from its tags (one extra pass over the file). It decides which tags are reported as
        irregular; conversion treats both the same way.
    language : `str`, optional (default=`"en"`)
        ISO 639-1 code of the files' language, stored in every instance's metadata and passed to
        language-bound token indexers.
    max_sentence_length : `int`, optional (default=`None`)
        If given, sentences with more tokens are skipped and their number is logged. Meant for
        training data; leave it unset for evaluation so that every sentence is scored.
    label_namespace : `str`, optional (default=`"labels"`)
        Vocabulary namespace of the tags.
    **kwargs
        Passed to `DatasetReader` (e.g. `max_instances`). The reader shards its sentences itself
        across workers and distributed processes.
    """

    def __init__(
        self,
        token_indexers: Optional[Dict[str, TokenIndexer]] = None,
        encoding: str = "utf-8",
        label_encoding: str = "BIOUL",
        input_scheme: str = "auto",
        language: str = "en",
        max_sentence_length: Optional[int] = None,
        label_namespace: str = "labels",
        **kwargs,
    ) -> None:
        super().__init__(
            manual_distributed_sharding=True, manual_multiprocess_sharding=True, **kwargs
        )
        if label_encoding not in OUTPUT_ENCODINGS:
            raise ConfigurationError(
                f"label_encoding must be one of {OUTPUT_ENCODINGS}, got {label_encoding!r}"
            )
        if input_scheme not in IOB_SCHEMES + ("auto",):
            raise ConfigurationError(
                f"input_scheme must be one of {IOB_SCHEMES + ('auto',)}, got {input_scheme!r}"
            )
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigurationError(f"unknown encoding {encoding!r}") from None
        if not language:
            raise ConfigurationError("language must be an ISO 639-1 code such as 'en'")
        if max_sentence_length is not None and max_sentence_length < 1:
            raise ConfigurationError(
                f"max_sentence_length must be positive, got {max_sentence_length}"
            )
        self._token_indexers = token_indexers or {
            "tokens": SingleIdTokenIndexer(lowercase_tokens=True),
            "token_characters": TokenCharactersIndexer(min_padding_length=3),
        }
        self._encoding = encoding
        self._label_encoding = label_encoding
        self._input_scheme = input_scheme
        self._language = language
        self._max_sentence_length = max_sentence_length
        self._label_namespace = label_namespace
        self._indexers = LanguageBoundIndexers(self._token_indexers)

    @property
    def language(self) -> str:
        """The default language of the instances (the predictor's default too)."""
        return self._language

    @property
    def label_encoding(self) -> str:
        """The encoding of the output tags, "IOB2" or "BIOUL"."""
        return self._label_encoding

    def _read(self, file_path: str) -> Iterable[Instance]:
        try:
            path = cached_path(file_path)
        except FileNotFoundError:
            raise ConllFormatError(f"{file_path}: file not found") from None
        sentences = read_conll_sentences(path, self._encoding)
        first = next(sentences)
        scheme = self._input_scheme
        if first.tags is not None and scheme == "auto":
            scheme = detect_iob_scheme(
                sentence.tags for sentence in read_conll_sentences(path, self._encoding)
            )
            logger.info("%s: detected %s tags", path, scheme)
        checked = self._checked(path, itertools.chain([first], sentences), scheme)
        for sentence in self.shard_iterable(checked):
            tags = None
            if sentence.tags is not None:
                tags = convert_iob(sentence.tags, self._label_encoding)
            yield self.text_to_instance(sentence.tokens, tags)

    def _checked(
        self, path: str, sentences: Iterable[ConllSentence], scheme: str
    ) -> Iterator[ConllSentence]:
        """Drop sentences over `max_sentence_length` and report irregular tags, logging the counts
        once the file is read."""
        total = skipped = irregular = 0
        first_irregular = ""
        for sentence in sentences:
            total += 1
            if sentence.tags is not None:
                positions = irregular_positions(sentence.tags, scheme)
                if positions and not irregular:
                    position = positions[0]
                    first_irregular = (
                        f"line {sentence.line_numbers[position]}: {sentence.tags[position]!r}"
                    )
                irregular += len(positions)
            if self._max_sentence_length and len(sentence.tokens) > self._max_sentence_length:
                skipped += 1
                continue
            yield sentence
        if irregular:
            logger.warning(
                "%s: %d tags are irregular for %s (first at %s); each was read as the start of "
                "an entity",
                path,
                irregular,
                scheme,
                first_irregular,
            )
        if skipped:
            logger.info(
                "%s: skipped %d of %d sentences longer than %d tokens",
                path,
                skipped,
                total,
                self._max_sentence_length,
            )

    def text_to_instance(  # type: ignore
        self,
        tokens: List[str],
        tags: Optional[List[str]] = None,
        language: Optional[str] = None,
    ) -> Instance:
        """
        Make an instance from one tokenized sentence.

        # Parameters

        tokens : `List[str]`
            The words of the sentence (at least one).
        tags : `List[str]`, optional (default=`None`)
            One tag per word, already in the reader's `label_encoding`; None for unlabeled text.
        language : `str`, optional (default=`None`)
            ISO code of the sentence's language; None means the reader's `language`.
        """
        if not tokens:
            raise ValueError("cannot make an instance from an empty sentence")
        language = language or self._language
        text_field = TextField([Token(token) for token in tokens])
        fields: Dict[str, Field] = {
            "tokens": text_field,
            "metadata": MetadataField({"words": list(tokens), "language": language}),
        }
        if tags is not None:
            fields["tags"] = SequenceLabelField(tags, text_field, self._label_namespace)
        return Instance(fields)

    def apply_token_indexers(self, instance: Instance) -> None:
        self._indexers.apply(instance)
