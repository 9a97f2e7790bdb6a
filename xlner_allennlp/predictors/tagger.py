"""The `xlner_tagger` predictor: tags raw or tokenized sentences in any language and returns the
entities with token and character offsets."""
import json
import logging
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple, TypeVar

import spacy
from allennlp.common.checks import ConfigurationError
from allennlp.common.util import JsonDict
from allennlp.data import DatasetReader, Instance
from allennlp.models import Model
from allennlp.predictors.predictor import Predictor
from spacy.language import Language

from xlner_allennlp.tag_encoding import canonical_encoding, tags_to_spans

logger = logging.getLogger(__name__)

_SHOWN_INPUT_CHARACTERS = 200
_Prepared = TypeVar("_Prepared")


class TaggerInputError(ValueError):
    """A prediction input that cannot be tagged; the message quotes the input line."""


class InputLine(dict):
    """One line of `allennlp predict`'s input as `load_line` read it: the JSON object (empty for a
    line that is not one), the line's 1-based `number` among the input's non-blank lines (allennlp
    skips blank lines) and, for a line that is not a JSON object, the `error` saying so."""

    def __init__(self, inputs: JsonDict, number: int, error: Optional[TaggerInputError] = None) -> None:
        super().__init__(inputs)
        self.number = number
        self.error = error


class _Sentence(NamedTuple):
    """A sentence to tag: its text, its tokens, each token's character offset in the text and its
    language."""

    text: str
    tokens: List[str]
    starts: List[int]
    language: str


def _quoted(inputs: JsonDict) -> str:
    """The input line as JSON, shortened for error messages."""
    line = json.dumps(inputs, ensure_ascii=False)
    if len(line) > _SHOWN_INPUT_CHARACTERS:
        line = line[:_SHOWN_INPUT_CHARACTERS] + "..."
    return line


@Predictor.register("xlner_tagger")
class TaggerPredictor(Predictor):
    """
    Tags sentences with an NER model whose output dict has a `tags` key (one list of tag strings
    per sentence, as `xlner_crf_tagger` gives) and whose dataset reader is `xlner_conll` (or any
    reader with the same `text_to_instance(tokens, tags, language)`).

    Each input line is a JSON object with either `"sentence"` (raw text, tokenized with
    `spacy.blank(language)`, one cached tokenizer per language) or `"tokens"` (a list of
    strings), and optionally `"language"` (an ISO 639-1 code; default: the dataset reader's
    `language`). The output is `{"tokens", "tags", "entities"}`, each entity being `{"type",
    "text", "start_token", "end_token", "start_char", "end_char"}` with exclusive ends; character
    offsets point into the sentence, or, for `tokens` input, into the tokens joined by single
    spaces. Instances from `--use-dataset-reader` are treated like `tokens` input.

    Inputs that cannot be tagged (no `sentence` or `tokens`, an unknown language code, tokens that
    are not non-blank strings) raise `TaggerInputError` quoting the input line. Lines read by
    `load_line` (those of `allennlp predict`) are answered one by one instead: a bad line (those
    errors, or a line that is not a JSON object) gets the output `{"error": message, "line": N}`
    and a warning on stderr, and every other line is tagged.

    Registered as a `Predictor` with name "xlner_tagger".

    # Parameters

    model : `Model`
        The tagger. Its tags are decoded into spans in its `label_encoding` attribute ("IOB1",
        "IOB2" (or "BIO") or "BIOUL"), or, if it has none, the dataset reader's, or else BIOUL
        (which reads IOB tags the same way).
    dataset_reader : `DatasetReader`
        Makes the instances; its `language` is the default language.
    frozen : `bool`, optional (default=`True`)
        Whether to put the model in evaluation mode.
    """

    def __init__(self, model: Model, dataset_reader: DatasetReader, frozen: bool = True) -> None:
        super().__init__(model, dataset_reader, frozen)
        self._tokenizers: Dict[str, Language] = {}
        encoding = (
            getattr(model, "label_encoding", None)
            or getattr(dataset_reader, "label_encoding", None)
            or "BIOUL"
        )
        try:
            self._label_encoding = canonical_encoding(encoding)
        except ValueError as error:
            raise ConfigurationError(f"the model's {error}") from None
        self._lines_read = 0
        self._bad_lines = 0

    def load_line(self, line: str) -> InputLine:
        """The JSON object of one input line, numbered; a line that is not one carries its error
        (answered by an error output, see the class docstring) instead of raising."""
        self._lines_read += 1
        try:
            inputs = json.loads(line)
        except json.JSONDecodeError as error:
            return InputLine({}, self._lines_read, TaggerInputError(
                f"input line {line.strip()[:_SHOWN_INPUT_CHARACTERS]!r} is not JSON ({error.msg})"
            ))
        if not isinstance(inputs, dict):
            return InputLine({}, self._lines_read, TaggerInputError(
                f"input line {_quoted(inputs)}: expected a JSON object with a 'sentence' or a "
                "'tokens' key"
            ))
        return InputLine(inputs, self._lines_read)

    def dump_line(self, outputs: JsonDict) -> str:
        return json.dumps(outputs, ensure_ascii=False) + "\n"

    def predict(self, sentence: str, language: Optional[str] = None) -> JsonDict:
        """Tag one raw sentence."""
        inputs: JsonDict = {"sentence": sentence}
        if language is not None:
            inputs["language"] = language
        return self.predict_json(inputs)

    def predict_json(self, inputs: JsonDict) -> JsonDict:
        return self.predict_batch_json([inputs])[0]

    def predict_batch_json(self, inputs: List[JsonDict]) -> List[JsonDict]:
        prepared, errors = self._prepared(inputs, self._sentence_and_instance)
        return self._merged(errors, self._tag(prepared))

    def _prepared(
        self, inputs: List[JsonDict], prepare: Callable[[JsonDict], _Prepared]
    ) -> Tuple[List[_Prepared], Dict[int, JsonDict]]:
        """``prepare(inputs[i])`` for each input that can be tagged, and the error output of each
        `InputLine` that cannot, by position (logged as a warning); other inputs raise their
        `TaggerInputError`."""
        prepared: List[_Prepared] = []
        errors: Dict[int, JsonDict] = {}
        for position, json_dict in enumerate(inputs):
            try:
                if isinstance(json_dict, InputLine) and json_dict.error is not None:
                    raise json_dict.error
                prepared.append(prepare(json_dict))
            except TaggerInputError as error:
                if not isinstance(json_dict, InputLine):
                    raise
                self._bad_lines += 1
                logger.warning(
                    "line %d of the input cannot be predicted (%d bad lines so far): %s",
                    json_dict.number, self._bad_lines, error,
                )
                errors[position] = {"error": str(error), "line": json_dict.number}
        return prepared, errors

    @staticmethod
    def _merged(errors: Dict[int, JsonDict], outputs: List[JsonDict]) -> List[JsonDict]:
        """The outputs of a batch in input order: the error outputs at their positions (see
        `_prepared`), the other inputs' ``outputs`` in order between them."""
        remaining = iter(outputs)
        return [errors[position] if position in errors else next(remaining)
                for position in range(len(errors) + len(outputs))]

    def predict_instance(self, instance: Instance) -> JsonDict:
        return self.predict_batch_instance([instance])[0]

    def predict_batch_instance(self, instances: List[Instance]) -> List[JsonDict]:
        sentences = []
        for instance in instances:
            metadata = instance["metadata"]
            sentences.append(self._joined(metadata["words"], metadata["language"]))  # type: ignore
        outputs = super().predict_batch_instance(instances)
        return [
            self._result(sentence, output["tags"]) for sentence, output in zip(sentences, outputs)
        ]

    def _json_to_instance(self, json_dict: JsonDict) -> Instance:
        sentence, instance = self._sentence_and_instance(json_dict)
        if instance is None:
            raise TaggerInputError(f"input line {_quoted(json_dict)}: the sentence has no tokens")
        return instance

    def _sentence_and_instance(self, inputs: JsonDict) -> Tuple[_Sentence, Optional[Instance]]:
        """One input checked and tokenized, and its instance (None for a sentence without tokens)."""
        sentence = self._sentence(inputs)
        if not sentence.tokens:
            return sentence, None
        instance = self._dataset_reader.text_to_instance(sentence.tokens, language=sentence.language)
        return sentence, self._indexed(instance, inputs)

    def _indexed(self, instance: Instance, inputs: JsonDict) -> Instance:
        """``instance`` with the reader's token indexers of its language attached; a language the
        model has no vectors for (`ConfigurationError` of the indexers) is a `TaggerInputError`."""
        try:
            self._dataset_reader.apply_token_indexers(instance)
        except ConfigurationError as error:
            raise TaggerInputError(f"input line {_quoted(inputs)}: {error}") from None
        return instance

    def _tag(self, prepared: List[Tuple[_Sentence, Optional[Instance]]]) -> List[JsonDict]:
        """Tag the sentences with an instance in one batch; sentences without tokens get empty results."""
        instances = [instance for _, instance in prepared if instance is not None]
        outputs = iter(super().predict_batch_instance(instances) if instances else [])
        return [
            self._result(sentence, next(outputs)["tags"] if instance is not None else [])
            for sentence, instance in prepared
        ]

    def _sentence(self, inputs: JsonDict) -> _Sentence:
        """Check one input and tokenize it."""
        language = inputs.get("language", getattr(self._dataset_reader, "language", None))
        if not isinstance(language, str):
            raise TaggerInputError(
                f"input line {_quoted(inputs)}: 'language' must be a language code such as "
                f"\"es\", got {language!r}"
            )
        if ("sentence" in inputs) == ("tokens" in inputs):
            raise TaggerInputError(
                f"input line {_quoted(inputs)}: expected exactly one of the keys 'sentence' (raw "
                "text) and 'tokens' (a list of strings)"
            )
        if "tokens" in inputs:
            tokens = inputs["tokens"]
            if not isinstance(tokens, list) or not all(
                isinstance(token, str) and token.strip() for token in tokens
            ):
                raise TaggerInputError(
                    f"input line {_quoted(inputs)}: 'tokens' must be a list of non-blank strings"
                )
            return self._joined(tokens, language)
        text = inputs["sentence"]
        if not isinstance(text, str):
            raise TaggerInputError(f"input line {_quoted(inputs)}: 'sentence' must be a string")
        doc = self._tokenizer(language, inputs)(text)
        words = [token for token in doc if not token.is_space]
        return _Sentence(
            text, [token.text for token in words], [token.idx for token in words], language
        )

    def _tokenizer(self, language: str, inputs: JsonDict) -> Language:
        """The cached blank spaCy pipeline (tokenizer only) of `language`."""
        if language not in self._tokenizers:
            try:
                self._tokenizers[language] = spacy.blank(language)
            except ImportError:
                raise TaggerInputError(
                    f"input line {_quoted(inputs)}: spaCy has no tokenizer for the language code "
                    f"{language!r}; use an ISO 639-1 code such as \"es\", or give 'tokens'"
                ) from None
        return self._tokenizers[language]

    @staticmethod
    def _joined(tokens: List[str], language: str) -> _Sentence:
        """A tokenized sentence, its text being the tokens joined by single spaces."""
        starts = []
        offset = 0
        for token in tokens:
            starts.append(offset)
            offset += len(token) + 1
        return _Sentence(" ".join(tokens), list(tokens), starts, language)

    def _result(self, sentence: _Sentence, tags: List[str]) -> JsonDict:
        """The output for one sentence: its tokens, tags and entities."""
        if len(tags) != len(sentence.tokens):
            raise ValueError(
                f"the model returned {len(tags)} tags for {len(sentence.tokens)} tokens "
                f"({sentence.text[:_SHOWN_INPUT_CHARACTERS]!r})"
            )
        entities = []
        for span in tags_to_spans(tags, self._label_encoding):
            start_char = sentence.starts[span.start]
            end_char = sentence.starts[span.end - 1] + len(sentence.tokens[span.end - 1])
            entities.append(
                {
                    "type": span.type,
                    "text": sentence.text[start_char:end_char],
                    "start_token": span.start,
                    "end_token": span.end,
                    "start_char": start_char,
                    "end_char": end_char,
                }
            )
        return {"tokens": sentence.tokens, "tags": list(tags), "entities": entities}
