"""The `xlner_parser` predictor on a tiny parser trained on a generated treebank."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from allennlp.commands.train import train_model_from_file
from allennlp.predictors import Predictor

from tests.models.test_biaffine_parser import parser_config
from tests.tiny_data import sentences, tiny_conllu
from xlner_allennlp.data.dataset_readers import read_conllu_sentences
from xlner_allennlp.predictors import ParserPredictor, TaggerInputError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny_parser")
    data = directory / "train.conllu"
    data.write_text(tiny_conllu(sentences("en", 6, 5)), encoding="utf-8")
    config = directory / "parser.json"
    config.write_text(json.dumps(parser_config(str(data))), encoding="utf-8")
    train_model_from_file(str(config), str(directory / "run"))
    return directory


def test_json_input_gives_a_tree_per_sentence(archive):
    predictor = Predictor.from_path(str(archive / "run" / "model.tar.gz"), "xlner_parser")
    assert isinstance(predictor, ParserPredictor)
    output = predictor.predict_json({"tokens": ["Mary", "said", "today", "."], "upos": ["PROPN", "VERB", "NOUN", "PUNCT"]})
    assert output["words"] == ["Mary", "said", "today", "."] and output["language"] == "en"
    assert len(output["heads"]) == 4 and output["heads"].count(0) == 1
    assert all(isinstance(relation, str) for relation in output["relations"])
    raw = predictor.predict_json({"sentence": "Mary said today.", "upos": ["PROPN", "VERB", "NOUN", "PUNCT"]})
    assert raw["words"] == ["Mary", "said", "today", "."]


def test_bad_inputs_are_clear_errors(archive):
    predictor = Predictor.from_path(str(archive / "run" / "model.tar.gz"), "xlner_parser")
    with pytest.raises(TaggerInputError, match="'upos' must be a list of 2 tags"):
        predictor.predict_json({"tokens": ["Mary", "said"], "upos": ["PROPN"]})
    with pytest.raises(TaggerInputError, match="exactly one of"):
        predictor.predict_json({"upos": ["X"]})


def test_conllu_output_keeps_the_input_lines(archive):
    predictor = Predictor.from_path(
        str(archive / "run" / "model.tar.gz"), "xlner_parser", output_format="conllu"
    )
    source = archive / "input.conllu"
    source.write_text("# sent_id = a\n1-2\tMarysaid\t_\t_\t_\t_\t_\t_\t_\t_\n"
                      "1\tMary\t_\tPROPN\t_\t_\t_\t_\t_\t_\n2\tsaid\t_\tVERB\t_\t_\t_\t_\t_\t_\n\n", encoding="utf-8")
    instances = list(predictor._dataset_reader.read(str(source)))
    text = "".join(predictor.dump_line(output) for output in predictor.predict_batch_instance(instances))
    assert text.startswith("# sent_id = a\n1-2\tMarysaid")
    written = archive / "output.conllu"
    written.write_text(text, encoding="utf-8")
    sentence, = read_conllu_sentences(str(written))
    assert sentence.words == ["Mary", "said"] and sentence.heads.count(0) == 1


def test_allennlp_predict_answers_each_bad_line_and_parses_the_rest(archive, tmp_path):
    lines = [
        json.dumps({"tokens": ["Mary", "said", "today", "."], "upos": ["PROPN", "VERB", "NOUN", "PUNCT"]}),
        json.dumps({"sentence": "   ", "upos": []}),
        json.dumps({"tokens": ["Mary", "said"], "upos": ["PROPN"]}),
        '{"tokens": ["Mary"',
        json.dumps({"tokens": ["John", "said"], "upos": ["PROPN", "VERB"]}),
    ]
    inputs = tmp_path / "input.jsonl"
    inputs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output_file = tmp_path / "output.jsonl"
    command = [
        sys.executable, "-m", "allennlp", "predict", str(archive / "run" / "model.tar.gz"), str(inputs),
        "--predictor", "xlner_parser", "--include-package", "xlner_allennlp", "--batch-size", "3",
        "--output-file", str(output_file), "--silent", "--cuda-device", "-1",
    ]
    offline = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=offline, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    outputs = [json.loads(line) for line in output_file.read_text(encoding="utf-8").splitlines()]
    assert [output.get("words") for output in outputs] == [["Mary", "said", "today", "."], None, None, None,
                                                          ["John", "said"]]
    assert [output.get("line") for output in outputs] == [None, 2, 3, 4, None]
    assert "the sentence has no tokens" in outputs[1]["error"]
    assert "'upos' must be a list of 2 tags" in outputs[2]["error"]
    assert "is not JSON" in outputs[3]["error"]
    assert "line 4 of the input cannot be predicted (3 bad lines so far)" in result.stderr
    assert "Traceback" not in result.stderr
