"""The `xlner_parser` predictor: dependency trees for raw or tokenized sentences in any language,
as JSON or as CoNLL-U."""
import json
from typing import List

from allennlp.common.checks import ConfigurationError
from allennlp.common.util import JsonDict
from allennlp.data import DatasetReader, Instance
from allennlp.models import Model
from allennlp.predictors.predictor import Predictor

from xlner_allennlp.data.dataset_readers.universal_dependencies import format_conllu
from xlner_allennlp.predictors.tagger import TaggerInputError, TaggerPredictor, _quoted

OUTPUT_FORMATS = ("json", "conllu")


@Predictor.register("xlner_parser")
class ParserPredictor(TaggerPredictor):
    """
    Parses sentences with `xlner_biaffine_parser` and a `xlner_universal_dependencies` reader.

    Each input line is a JSON object with `"sentence"` (raw text, tokenized by spaCy's blank
    pipeline of the language) or `"tokens"` (a list of words), optionally `"language"` (default:
    the reader's) and `"upos"` (one gold UPOS tag per word; required by parsers that read UPOS).
    The input checks and tokenizers are those of `xlner_tagger` (`TaggerInputError` quotes a bad
    line; lines read by `allennlp predict` are answered one by one, a bad line, e.g. an empty
    sentence, by `{"error": message, "line": N}`). The output is `{"words", "upos", "heads",
    "relations", "language"}`, `heads[i]` the 1-based position of word `i`'s head, 0 for the root.
    With `--use-dataset-reader` on a CoNLL-U file, the instances' words and gold UPOS are used.

    With `output_format="conllu"` (`--predictor-args '{"output_format": "conllu"}'`), each output is
    a CoNLL-U sentence instead; sentences read from a CoNLL-U file keep their comments,
    multiword-token and empty-node lines and other columns (see `format_conllu`). A bad line then
    writes nothing (its warning on stderr says why).

    Registered as a `Predictor` with name "xlner_parser".

    # Parameters

    model : `Model`
        The parser.
    dataset_reader : `DatasetReader`
        Makes the instances; its `language` is the default language.
    frozen : `bool`, optional (default=`True`)
        Whether to put the model in evaluation mode.
    output_format : `str`, optional (default=`"json"`)
        `"json"` or `"conllu"`: what `dump_line` writes.
    """

    def __init__(
        self, model: Model, dataset_reader: DatasetReader, frozen: bool = True, output_format: str = "json"
    ) -> None:
        super().__init__(model, dataset_reader, frozen)
        if output_format not in OUTPUT_FORMATS:
            raise ConfigurationError(f"output_format must be one of {OUTPUT_FORMATS}, got {output_format!r}")
        self._output_format = output_format

    def dump_line(self, outputs: JsonDict) -> str:
        if self._output_format == "conllu":
            if "error" in outputs:
                return ""
            return format_conllu(
                outputs["words"], outputs["heads"], outputs["relations"], outputs["upos"], outputs.get("conllu")
            )
        return json.dumps(outputs, ensure_ascii=False) + "\n"

    def predict(self, sentence: str, language: str = None) -> JsonDict:  # type: ignore[override]
        """Parse one raw sentence."""
        inputs: JsonDict = {"sentence": sentence}
        if language is not None:
            inputs["language"] = language
        return self.predict_json(inputs)

    def predict_batch_json(self, inputs: List[JsonDict]) -> List[JsonDict]:
        instances, errors = self._prepared(inputs, self._json_to_instance)
        return self._merged(errors, self.predict_batch_instance(instances) if instances else [])

    def predict_batch_instance(self, instances: List[Instance]) -> List[JsonDict]:
        outputs = Predictor.predict_batch_instance(self, instances)
        results = []
        for instance, output in zip(instances, outputs):
            metadata = instance["metadata"]
            result = {
                "words": metadata["words"],  # type: ignore
                "upos": metadata["upos"],  # type: ignore
                "heads": output["heads"],
                "relations": output["relations"],
                "language": metadata["language"],  # type: ignore
            }
            if self._output_format == "conllu":
                result["conllu"] = metadata["conllu"]  # type: ignore
            results.append(result)
        return results

    def _json_to_instance(self, json_dict: JsonDict) -> Instance:
        sentence = self._sentence(json_dict)
        if not sentence.tokens:
            raise TaggerInputError(f"input line {_quoted(json_dict)}: the sentence has no tokens")
        upos = json_dict.get("upos")
        if upos is not None and (
            not isinstance(upos, list)
            or len(upos) != len(sentence.tokens)
            or not all(isinstance(tag, str) and tag for tag in upos)
        ):
            raise TaggerInputError(
                f"input line {_quoted(json_dict)}: 'upos' must be a list of {len(sentence.tokens)} tags, "
                f"one per token {sentence.tokens}"
            )
        instance = self._dataset_reader.text_to_instance(sentence.tokens, upos=upos, language=sentence.language)
        return self._indexed(instance, json_dict)
