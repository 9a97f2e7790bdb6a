"""The `xlner_universal_dependencies` dataset reader: CoNLL-U treebanks of any language."""
import codecs
import logging
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional

from allennlp.common.checks import ConfigurationError
from allennlp.common.file_utils import cached_path
from allennlp.data.dataset_readers.dataset_reader import DatasetReader
from allennlp.data.fields import Field, MetadataField, SequenceLabelField, TextField
from allennlp.data.instance import Instance
from allennlp.data.token_indexers import SingleIdTokenIndexer, TokenIndexer
from allennlp.data.tokenizers import Token

from xlner_allennlp.data.dataset_readers.language_indexers import LanguageBoundIndexers
from xlner_allennlp.file_utils import decoded_lines

logger = logging.getLogger(__name__)

COLUMNS = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC")
UNANNOTATED = "_"


class ConlluFormatError(ValueError):
    """A CoNLL-U file that cannot be read; the message names the file and the line."""


@dataclass
class ConlluSentence:
    """
    One sentence of a CoNLL-U file.

    `words`, `upos`, `heads` (0 = root), `relations` (DEPREL as written) and `rows` (the ten
    columns) have one entry per syntactic word; `heads` and `relations` are None for a sentence
    whose HEAD and DEPREL columns are all `_` (unannotated, e.g. text to parse). `line_numbers`
    are 1-based. `comments` are the `#` lines before the sentence and `extra_lines[i]` the
    multiword-token and empty-node lines (raw, without newline) that precede word `i` (index
    `len(words)` for those after the last word), so that a writer can restore them.
    """

    words: List[str]
    upos: List[str]
    heads: Optional[List[int]]
    relations: Optional[List[str]]
    rows: List[List[str]]
    line_numbers: List[int]
    comments: List[str] = field(default_factory=list)
    extra_lines: Dict[int, List[str]] = field(default_factory=dict)


def universal_relation(relation: str) -> str:
    """The universal part of a UD relation: `"nmod:poss"` -> `"nmod"`."""
    return relation.split(":", 1)[0]


class _SentenceBuilder:
    """Collects the lines of one sentence and checks them when it ends."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.rows: List[List[str]] = []
        self.line_numbers: List[int] = []
        self.comments: List[str] = []
        self.extra_lines: Dict[int, List[str]] = {}
        self.first_line = 0

    def __bool__(self) -> bool:
        return bool(self.rows or self.comments or self.extra_lines)

    def error(self, line_number: int, message: str) -> ConlluFormatError:
        return ConlluFormatError(f"{self.path}, line {line_number}: {message}")

    def add(self, line: str, line_number: int) -> None:
        if not self:
            self.first_line = line_number
        if line.startswith("#"):
            if self.rows or self.extra_lines:
                raise self.error(line_number, "a comment line inside a sentence (comments come before its first word)")
            self.comments.append(line)
            return
        columns = line.split("\t")
        if len(columns) != len(COLUMNS):
            raise self.error(
                line_number,
                f"{len(columns)} tab-separated columns, CoNLL-U has {len(COLUMNS)} "
                f"({' '.join(COLUMNS)})",
            )
        token_id = columns[0]
        if "-" in token_id or "." in token_id:
            # A multiword token ("3-4") or an empty node ("5.1"): not a word of the tree.
            separator = "-" if "-" in token_id else "."
            parts = token_id.split(separator)
            if len(parts) != 2 or not all(part.isdigit() for part in parts):
                raise self.error(line_number, f"malformed ID {token_id!r}")
            self.extra_lines.setdefault(len(self.rows), []).append(line)
            return
        if not token_id.isdigit() or int(token_id) != len(self.rows) + 1:
            raise self.error(
                line_number, f"word ID {token_id!r}, expected {len(self.rows) + 1} (IDs count 1, 2, ... in each sentence)"
            )
        if not columns[1]:
            raise self.error(line_number, "empty FORM")
        self.rows.append(columns)
        self.line_numbers.append(line_number)

    def build(self, end_line: int) -> ConlluSentence:
        if not self.rows:
            raise self.error(self.first_line, "a sentence without words (only comments or multiword/empty-node lines)")
        annotated = [row[6] != UNANNOTATED or row[7] != UNANNOTATED for row in self.rows]
        heads: Optional[List[int]] = None
        relations: Optional[List[str]] = None
        if any(annotated):
            heads, relations = [], []
            for row, line_number in zip(self.rows, self.line_numbers):
                head = row[6]
                if not head.isdigit():
                    raise self.error(line_number, f"HEAD {head!r} is not a non-negative integer")
                if int(head) > len(self.rows):
                    raise self.error(
                        line_number, f"HEAD {head} is out of range: the sentence has {len(self.rows)} words"
                    )
                if int(head) == int(row[0]):
                    raise self.error(line_number, f"word {row[0]} is its own head")
                if row[7] == UNANNOTATED or not row[7]:
                    raise self.error(line_number, f"missing DEPREL for a word with HEAD {head}")
                heads.append(int(head))
                relations.append(row[7])
            if 0 not in heads:
                raise self.error(self.first_line, f"the sentence (lines {self.first_line}-{end_line}) has no root (no HEAD 0)")
            cycle_at = _first_cycle(heads)
            if cycle_at is not None:
                raise self.error(
                    self.line_numbers[cycle_at - 1], f"word {cycle_at} is on a cycle of heads: the sentence is not a tree"
                )
        return ConlluSentence(
            words=[row[1] for row in self.rows],
            upos=[row[3] for row in self.rows],
            heads=heads,
            relations=relations,
            rows=self.rows,
            line_numbers=self.line_numbers,
            comments=self.comments,
            extra_lines=self.extra_lines,
        )


def _first_cycle(heads: List[int]) -> Optional[int]:
    """A word (1-based) on a cycle of ``heads`` (``heads[i]`` the head of word ``i + 1``), or None."""
    done = [False] * (len(heads) + 1)
    done[0] = True
    for start in range(1, len(heads) + 1):
        path = []
        node = start
        while not done[node] and node not in path:
            path.append(node)
            node = heads[node - 1]
        if not done[node]:
            return node
        for visited in path:
            done[visited] = True
    return None


def read_conllu_sentences(path: str, encoding: str = "utf-8") -> Iterator[ConlluSentence]:
    """
    Lazily read the sentences of a CoNLL-U file (https://universaldependencies.org/format.html).

    Comment lines (`#`) before a sentence are kept; multiword-token ranges (`3-4`) and empty nodes
    (`5.1`) are kept as raw lines but are not words; a blank line ends a sentence (the last one
    may lack it); a leading byte-order mark is ignored. Raises `ConlluFormatError` naming the file
    and line for: a file that cannot be opened, is empty or undecodable in `encoding`; a line
    without exactly 10 tab-separated columns; word IDs that do not count 1, 2, ...; a HEAD that is
    not an integer or is beyond the sentence; a word heading itself; an annotated sentence
    without a root (HEAD 0) or whose heads form a cycle. A sentence whose HEAD and DEPREL are all
    `_` is read as unannotated.
    """
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise ConlluFormatError(f"{path}: cannot open the file ({error.strerror})") from error
    builder = _SentenceBuilder(path)
    sentences = 0
    line_number = 0
    with handle:
        for line_number, line in decoded_lines(handle, path, encoding, ConlluFormatError, " (UD treebanks are UTF-8)"):
            line = line.rstrip("\r\n")
            if not line.strip():
                if builder:
                    sentences += 1
                    yield builder.build(line_number - 1)
                    builder = _SentenceBuilder(path)
                continue
            builder.add(line, line_number)
    if builder:
        sentences += 1
        yield builder.build(line_number)
    if sentences == 0:
        raise ConlluFormatError(f"{path}: the file has no sentences")


def format_conllu(
    words: List[str],
    heads: List[int],
    relations: List[str],
    upos: Optional[List[str]] = None,
    original: Optional[ConlluSentence] = None,
) -> str:
    """
    One sentence as CoNLL-U text (ending with the blank line), with the given HEAD and DEPREL.

    With `original` (the sentence as read), its comments, multiword-token and empty-node lines
    and other columns are kept, and DEPS (whose arcs would contradict the new tree) becomes `_`.
    Without it, the columns other than ID, FORM, UPOS (`_` when unknown), HEAD and DEPREL are `_`.
    """
    if not len(words) == len(heads) == len(relations):
        raise ValueError(f"{len(words)} words, {len(heads)} heads and {len(relations)} relations")
    lines = list(original.comments) if original is not None else []
    extra = original.extra_lines if original is not None else {}
    for index, word in enumerate(words):
        lines.extend(extra.get(index, []))
        if original is not None:
            row = list(original.rows[index])
        else:
            tag = upos[index] if upos is not None else UNANNOTATED
            row = [str(index + 1), word, UNANNOTATED, tag] + [UNANNOTATED] * 6
        row[6], row[7], row[8] = str(heads[index]), relations[index], UNANNOTATED
        lines.append("\t".join(row))
    lines.extend(extra.get(len(words), []))
    return "\n".join(lines) + "\n\n"


@DatasetReader.register("xlner_universal_dependencies")
class UniversalDependenciesReader(DatasetReader):
    """
    Reads CoNLL-U treebanks (Universal Dependencies) of any language into instances for a
    dependency parser: `tokens` (FORM), `upos`, `heads` (0 = root), `relations` (DEPREL) and
    `metadata` (`words`, `upos`, `language`, and `conllu`: what a CoNLL-U writer needs to restore
    the sentence, see `ConlluSentence`). Unannotated sentences give no `heads` / `relations`.

    Multiword tokens and empty nodes are not words (the tree is over syntactic words, as UD
    scores it). Bad input raises `ConlluFormatError` naming the file and line
    (`read_conllu_sentences`).

    The tag namespaces (`upos_namespace`, `relation_namespace`) are padded ones (their default
    names match neither `*tags` nor `*labels`), so they have an out-of-vocabulary entry: a POS tag
    or relation never seen in training (another language's treebank) is indexed as OOV instead
    of raising, and a parser can never predict it, so it counts as an error.

    Token indexers bound to a language (`for_language`, e.g. `xlner_aligned_word`) are bound to
    each instance's language, as in `xlner_conll`.

    Registered as a `DatasetReader` with name "xlner_universal_dependencies".

    # Parameters

    token_indexers : `Dict[str, TokenIndexer]`, optional (default=`{"tokens":
        SingleIdTokenIndexer(lowercase_tokens=True)}`)
        How to index the words.
    language : `str`, optional (default=`"en"`)
        ISO 639-1 code of the files' language, stored in every instance's metadata and passed to
        language-bound token indexers.
    encoding : `str`, optional (default=`"utf-8"`)
        Character encoding of the files (UD uses UTF-8).
    strip_subtypes : `bool`, optional (default=`False`)
        Read DEPREL without its language-specific subtype (`nmod:poss` -> `nmod`); cross-lingual
        parsers predict the universal relations.
    max_sentence_length : `int`, optional (default=`None`)
        If given, longer sentences are skipped (meant for training data).
    upos_namespace : `str`, optional (default=`"upos"`)
    relation_namespace : `str`, optional (default=`"dependency_relations"`)
        Vocabulary namespaces of the tags; keep them padded (OOV-capable).
    **kwargs
        Passed to `DatasetReader` (e.g. `max_instances`).
    """

    def __init__(
        self,
        token_indexers: Optional[Dict[str, TokenIndexer]] = None,
        language: str = "en",
        encoding: str = "utf-8",
        strip_subtypes: bool = False,
        max_sentence_length: Optional[int] = None,
        upos_namespace: str = "upos",
        relation_namespace: str = "dependency_relations",
        **kwargs,
    ) -> None:
        super().__init__(manual_distributed_sharding=True, manual_multiprocess_sharding=True, **kwargs)
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigurationError(f"unknown encoding {encoding!r}") from None
        if not language:
            raise ConfigurationError("language must be an ISO 639-1 code such as 'en'")
        if max_sentence_length is not None and max_sentence_length < 1:
            raise ConfigurationError(f"max_sentence_length must be positive, got {max_sentence_length}")
        for namespace in (upos_namespace, relation_namespace):
            if namespace.endswith("tags") or namespace.endswith("labels"):
                raise ConfigurationError(
                    f"namespace {namespace!r} would be non-padded (no OOV entry) in an AllenNLP "
                    "vocabulary, so an unseen tag would crash evaluation; choose another name"
                )
        self._indexers = LanguageBoundIndexers(
            token_indexers or {"tokens": SingleIdTokenIndexer(lowercase_tokens=True)}
        )
        self._language = language
        self._encoding = encoding
        self._strip_subtypes = strip_subtypes
        self._max_sentence_length = max_sentence_length
        self._upos_namespace = upos_namespace
        self._relation_namespace = relation_namespace

    @property
    def language(self) -> str:
        """The default language of the instances (the predictor's default too)."""
        return self._language

    def _read(self, file_path: str) -> Iterable[Instance]:
        try:
            path = cached_path(file_path)
        except FileNotFoundError:
            raise ConlluFormatError(f"{file_path}: file not found") from None
        skipped = 0
        for sentence in self.shard_iterable(read_conllu_sentences(path, self._encoding)):
            if self._max_sentence_length and len(sentence.words) > self._max_sentence_length:
                skipped += 1
                continue
            yield self.text_to_instance(
                sentence.words, sentence.upos, sentence.heads, sentence.relations, conllu=sentence
            )
        if skipped:
            logger.info("%s: skipped %d sentences longer than %d words", path, skipped, self._max_sentence_length)

    def text_to_instance(  # type: ignore
        self,
        words: List[str],
        upos: Optional[List[str]] = None,
        heads: Optional[List[int]] = None,
        relations: Optional[List[str]] = None,
        language: Optional[str] = None,
        conllu: Optional[ConlluSentence] = None,
    ) -> Instance:
        """
        Make an instance from one tokenized sentence.

        # Parameters

        words : `List[str]`
            The syntactic words (at least one).
        upos : `List[str]`, optional (default=`None`)
            Universal POS tags, one per word (gold, or None when unknown).
        heads : `List[int]`, optional (default=`None`)
            Head of each word, 0 for the root; with `relations` for training and evaluation.
        relations : `List[str]`, optional (default=`None`)
            DEPREL of each word (subtypes stripped here when the reader strips them).
        language : `str`, optional (default=`None`)
            ISO code of the sentence's language; None means the reader's `language`.
        conllu : `ConlluSentence`, optional (default=`None`)
            The sentence as read, kept in the metadata for writing CoNLL-U.
        """
        if not words:
            raise ValueError("cannot make an instance from an empty sentence")
        for name, values in (("upos", upos), ("heads", heads), ("relations", relations)):
            if values is not None and len(values) != len(words):
                raise ValueError(f"{len(values)} {name} for {len(words)} words")
        if (heads is None) != (relations is None):
            raise ValueError("heads and relations go together: give both or neither")
        language = language or self._language
        text_field = TextField([Token(word) for word in words])
        fields: Dict[str, Field] = {"tokens": text_field}
        if upos is not None:
            fields["upos"] = SequenceLabelField(upos, text_field, self._upos_namespace)
        if heads is not None and relations is not None:
            if self._strip_subtypes:
                relations = [universal_relation(relation) for relation in relations]
            fields["heads"] = SequenceLabelField(heads, text_field, "head_index_tags")
            fields["relations"] = SequenceLabelField(relations, text_field, self._relation_namespace)
        fields["metadata"] = MetadataField(
            {"words": list(words), "upos": upos, "language": language, "conllu": conllu}
        )
        return Instance(fields)

    def apply_token_indexers(self, instance: Instance) -> None:
        self._indexers.apply(instance)
