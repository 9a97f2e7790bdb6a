import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
import spacy
from allennlp.commands.train import train_model_from_file
from allennlp.common.checks import ConfigurationError
from allennlp.predictors import Predictor

from xlner_allennlp.data.dataset_readers import ConllReader
from xlner_allennlp.predictors import TaggerInputError, TaggerPredictor

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
SENTENCE = "Peter  Blackburn vive en New York."


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """A tiny tagger trained for one epoch on the English fixture."""
    serialization_dir = tmp_path_factory.mktemp("tiny_tagger")
    overrides = {"train_data_path": str(FIXTURES / "conll" / "eng_iob1.txt")}
    train_model_from_file(
        FIXTURES / "predictors" / "tiny_tagger.jsonnet",
        serialization_dir,
        overrides=json.dumps(overrides),
        force=True,
    )
    return serialization_dir / "model.tar.gz"


@pytest.fixture()
def predictor(archive) -> TaggerPredictor:
    predictor = Predictor.from_path(archive, "xlner_tagger")
    assert isinstance(predictor, TaggerPredictor)
    return predictor


def capitalized_runs_as_bioul(words: List[str]) -> List[str]:
    """Deterministic stand-in model output: each run of capitalized words is a PER entity."""
    tags = []
    for index, word in enumerate(words):
        if not word[:1].isupper():
            tags.append("O")
            continue
        starts = index == 0 or not words[index - 1][:1].isupper()
        ends = index + 1 == len(words) or not words[index + 1][:1].isupper()
        prefixes = {(True, True): "U", (True, False): "B", (False, True): "L"}
        tags.append(prefixes.get((starts, ends), "I") + "-PER")
    return tags


@pytest.fixture()
def rule_predictor(predictor, monkeypatch) -> TaggerPredictor:
    """The predictor with its model's tags replaced by `capitalized_runs_as_bioul`."""
    monkeypatch.setattr(
        predictor._model,
        "forward_on_instances",
        lambda instances: [
            {"tags": capitalized_runs_as_bioul(instance["metadata"]["words"])}
            for instance in instances
        ],
    )
    return predictor


def test_trained_model_tags_both_input_kinds(predictor):
    labels = set(predictor._model.vocab.get_token_to_index_vocabulary("labels"))
    by_sentence = predictor.predict_json({"sentence": SENTENCE, "language": "es"})
    by_tokens = predictor.predict_json(
        {"tokens": ["Peter", "Blackburn", "vive", "en", "New", "York", "."], "language": "es"}
    )
    assert by_sentence["tokens"] == ["Peter", "Blackburn", "vive", "en", "New", "York", "."]
    assert by_tokens["tokens"] == by_sentence["tokens"]
    for output in (by_sentence, by_tokens):
        assert len(output["tags"]) == 7
        assert set(output["tags"]) <= labels
        assert set(output) == {"tokens", "tags", "entities"}


def test_entities_with_character_offsets_into_the_sentence(rule_predictor):
    output = rule_predictor.predict_json({"sentence": SENTENCE, "language": "es"})
    assert output["tags"] == ["B-PER", "L-PER", "O", "O", "B-PER", "L-PER", "O"]
    assert output["entities"] == [
        {
            "type": "PER",
            "text": "Peter  Blackburn",
            "start_token": 0,
            "end_token": 2,
            "start_char": 0,
            "end_char": 16,
        },
        {
            "type": "PER",
            "text": "New York",
            "start_token": 4,
            "end_token": 6,
            "start_char": 25,
            "end_char": 33,
        },
    ]


def test_entities_with_character_offsets_into_joined_tokens(rule_predictor):
    output = rule_predictor.predict_json(
        {"tokens": ["en", "São", "Paulo", "y", "Río"], "language": "pt"}
    )
    assert [(e["text"], e["start_char"], e["end_char"]) for e in output["entities"]] == [
        ("São Paulo", 3, 12),
        ("Río", 15, 18),
    ]
    assert [(e["start_token"], e["end_token"]) for e in output["entities"]] == [(1, 3), (4, 5)]


def test_iob2_models_and_dataset_reader_instances(rule_predictor, monkeypatch):
    """Spans decode from IOB2 tags too; instances from the reader are tagged like tokens input."""
    monkeypatch.setattr(rule_predictor, "_label_encoding", "IOB2")
    monkeypatch.setattr(
        rule_predictor._model,
        "forward_on_instances",
        lambda instances: [{"tags": ["O", "B-LOC", "I-LOC", "B-LOC"]} for _ in instances],
    )
    instance = ConllReader(language="es").text_to_instance(["en", "New", "York", "Paris"])
    output = rule_predictor.predict_instance(instance)
    assert [(e["type"], e["text"], e["start_char"]) for e in output["entities"]] == [
        ("LOC", "New York", 3),
        ("LOC", "Paris", 12),
    ]


def test_batches_empty_sentences_and_tokenizer_cache(rule_predictor, monkeypatch):
    loaded = []

    def counting_blank(language: str):
        loaded.append(language)
        return original_blank(language)

    original_blank = spacy.blank
    monkeypatch.setattr(spacy, "blank", counting_blank)
    outputs = rule_predictor.predict_batch_json(
        [
            {"sentence": "Hola Ana.", "language": "es"},
            {"sentence": "   ", "language": "es"},
            {"tokens": [], "language": "es"},
            {"sentence": "Adiós Juan", "language": "es"},
            {"sentence": "Hello Bob"},
        ]
    )
    assert [output["tokens"] for output in outputs] == [
        ["Hola", "Ana", "."],
        [],
        [],
        ["Adiós", "Juan"],
        ["Hello", "Bob"],
    ]
    assert outputs[1] == {"tokens": [], "tags": [], "entities": []}
    assert outputs[3]["entities"][0]["text"] == "Adiós Juan"
    # One tokenizer per language; a missing "language" means the reader's ("en").
    assert loaded == ["es", "en"]


@pytest.mark.parametrize(
    "inputs, message",
    [
        (
            {"sentence": "Hola", "language": "zz"},
            r"input line \{\"sentence\": \"Hola\", \"language\": \"zz\"\}: spaCy has no "
            r"tokenizer for the language code 'zz'",
        ),
        ({"language": "es"}, r"input line \{\"language\": \"es\"\}: expected exactly one of"),
        ({"sentence": "a", "tokens": ["a"]}, r"expected exactly one of the keys"),
        ({"tokens": "Hola Ana"}, r"'tokens' must be a list of non-blank strings"),
        ({"tokens": ["Hola", " "]}, r"'tokens' must be a list of non-blank strings"),
        ({"sentence": ["Hola"]}, r"'sentence' must be a string"),
        ({"sentence": "Hola", "language": None}, r"'language' must be a language code"),
    ],
)
def test_bad_inputs_name_the_problem_and_the_line(predictor, inputs, message):
    with pytest.raises(TaggerInputError, match=message):
        predictor.predict_json(inputs)


def test_load_line_numbers_lines_and_keeps_their_errors(predictor):
    line = predictor.load_line('{"sentence": "Hola"}\n')
    assert line == {"sentence": "Hola"} and (line.number, line.error) == (1, None)
    not_json = predictor.load_line("{sentence: Hola}\n")
    assert not_json.number == 2
    assert str(not_json.error) == "input line '{sentence: Hola}' is not JSON (Expecting property name enclosed in double quotes)"
    assert "expected a JSON object" in str(predictor.load_line('["Hola"]\n').error)
    # Lines read by load_line are answered one by one; the same inputs given directly still raise.
    outputs = predictor.predict_batch_json([not_json, line, predictor.load_line('{"tokens": []}\n')])
    assert outputs[0] == {"error": str(not_json.error), "line": 2}
    assert outputs[1]["tokens"] == ["Hola"] and outputs[2] == {"tokens": [], "tags": [], "entities": []}
    with pytest.raises(TaggerInputError, match="exactly one of"):
        predictor.predict_batch_json([{"sentence": "Hola"}, {"language": "es"}])


def test_a_language_without_vectors_is_an_error_of_its_line(predictor, monkeypatch):
    """Aligned indexers raise a ConfigurationError for a language they have no vectors for."""
    reader = predictor._dataset_reader
    apply = reader.apply_token_indexers

    def aligned_only_for_en(instance):
        if instance["metadata"]["language"] != "en":
            raise ConfigurationError("unknown language 'nl'; configured languages: en")
        apply(instance)

    monkeypatch.setattr(reader, "apply_token_indexers", aligned_only_for_en)
    lines = [predictor.load_line('{"tokens": ["John"]}'), predictor.load_line('{"tokens": ["Jan", "zei"], "language": "nl"}')]
    good, bad = predictor.predict_batch_json(lines)
    assert good["tokens"] == ["John"]
    assert bad == {"error": 'input line {"tokens": ["Jan", "zei"], "language": "nl"}: unknown language '
                   "'nl'; configured languages: en", "line": 2}
    with pytest.raises(TaggerInputError, match="unknown language 'nl'"):
        predictor.predict_json({"tokens": ["Jan"], "language": "nl"})


def test_allennlp_predict_command(archive, tmp_path):
    """The documented command line, offline, on both input kinds."""
    inputs = tmp_path / "input.jsonl"
    inputs.write_text(
        json.dumps({"sentence": "Peter Blackburn vive en Madrid.", "language": "es"}) + "\n"
        + json.dumps({"tokens": ["EU", "rejects", "German", "call"], "language": "en"}) + "\n",
        encoding="utf-8",
    )
    output_file = tmp_path / "output.jsonl"
    command = [
        sys.executable, "-m", "allennlp", "predict", str(archive), str(inputs),
        "--predictor", "xlner_tagger", "--include-package", "xlner_allennlp",
        "--output-file", str(output_file), "--silent", "--cuda-device", "-1",
    ]
    offline = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, env=offline, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outputs = [json.loads(line) for line in output_file.read_text(encoding="utf-8").splitlines()]
    assert [output["tokens"] for output in outputs] == [
        ["Peter", "Blackburn", "vive", "en", "Madrid", "."],
        ["EU", "rejects", "German", "call"],
    ]
    for output in outputs:
        assert len(output["tags"]) == len(output["tokens"])
        assert set(output) == {"tokens", "tags", "entities"}


def test_allennlp_predict_answers_each_bad_line_and_tags_the_rest(archive, tmp_path):
    lines = [
        json.dumps({"sentence": "Peter Blackburn vive en Madrid.", "language": "es"}),
        "{sentence: Hola}",
        json.dumps({"language": "es"}),
        json.dumps({"sentence": "Hola Ana", "language": "zz"}),
        json.dumps(["EU", "rejects"]),
        json.dumps({"tokens": ["EU", "rejects", "German", "call"], "language": "en"}),
    ]
    inputs = tmp_path / "input.jsonl"
    inputs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output_file = tmp_path / "output.jsonl"
    command = [
        sys.executable, "-m", "allennlp", "predict", str(archive), str(inputs),
        "--predictor", "xlner_tagger", "--include-package", "xlner_allennlp", "--batch-size", "4",
        "--output-file", str(output_file), "--silent", "--cuda-device", "-1",
    ]
    offline = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, env=offline, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outputs = [json.loads(line) for line in output_file.read_text(encoding="utf-8").splitlines()]
    assert len(outputs) == 6
    assert outputs[0]["tokens"] == ["Peter", "Blackburn", "vive", "en", "Madrid", "."]
    assert outputs[5]["tokens"] == ["EU", "rejects", "German", "call"]
    assert [output["line"] for output in outputs[1:5]] == [2, 3, 4, 5]
    assert "is not JSON" in outputs[1]["error"]
    assert "expected exactly one of the keys" in outputs[2]["error"]
    assert "no tokenizer for the language code 'zz'" in outputs[3]["error"]
    assert "expected a JSON object" in outputs[4]["error"]
    assert "line 2 of the input cannot be predicted (1 bad lines so far): input line '{sentence: Hola}'" in result.stderr
    assert "line 5 of the input cannot be predicted (4 bad lines so far)" in result.stderr
    assert "Traceback" not in result.stderr


def test_label_encoding_comes_from_the_model(predictor, monkeypatch):
    model, reader = predictor._model, predictor._dataset_reader
    assert predictor._label_encoding == "BIOUL"
    monkeypatch.setattr(model, "label_encoding", "BIO")
    assert TaggerPredictor(model, reader)._label_encoding == "IOB2"
    monkeypatch.setattr(model, "label_encoding", "BIOES")
    with pytest.raises(ConfigurationError, match="label encoding 'BIOES'"):
        TaggerPredictor(model, reader)
