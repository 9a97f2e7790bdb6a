"""The `xlner_parser` predictor on a tiny parser trained on a generated treebank."""
import json

import pytest
from allennlp.commands.train import train_model_from_file
from allennlp.predictors import Predictor

from tests.models.test_biaffine_parser import parser_config
from tests.tiny_data import sentences, tiny_conllu
from xlner_allennlp.data.dataset_readers import read_conllu_sentences
from xlner_allennlp.predictors import ParserPredictor, TaggerInputError


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
