"""Attachment scores by the dependent's gold UPOS, and a parser's predicted trees."""
import json

import pytest
from allennlp.commands.train import train_model_from_file
from allennlp.models.archival import load_archive

from tests.models.test_biaffine_parser import parser_config
from tests.tiny_data import sentences, tiny_conllu
from xlner_allennlp.analysis import attachment_by_upos, predicted_trees


def test_scores_are_split_by_the_dependents_tag_and_leave_punctuation_out():
    # NOUN: head right and relation right, head right and relation wrong; VERB: head wrong;
    # PUNCT: wrong, and not scored.
    sentence = (["NOUN", "VERB", "NOUN", "PUNCT"], [2, 0, 2, 2], ["nsubj", "root", "obj", "punct"],
                [2, 3, 2, 1], ["nsubj", "root", "nmod", "punct"])
    scores = attachment_by_upos([sentence])
    assert set(scores) == {"NOUN", "VERB", "all"}
    assert scores["NOUN"] == {"words": 2, "share": 2 / 3, "UAS": 1.0, "LAS": 0.5, "label_given_head": 0.5}
    assert scores["VERB"] == {"words": 1, "share": 1 / 3, "UAS": 0.0, "LAS": 0.0, "label_given_head": 0.0}
    assert scores["all"]["words"] == 3 and scores["all"]["UAS"] == pytest.approx(2 / 3)
    assert scores["all"]["LAS"] == pytest.approx(1 / 3) and scores["all"]["label_given_head"] == 0.5
    assert attachment_by_upos([sentence], punctuation=())["PUNCT"]["UAS"] == 0.0


def test_sentences_of_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="a sentence of 2 words has 2 gold heads, 2 gold relations, 1 heads"):
        attachment_by_upos([(["NOUN", "VERB"], [2, 0], ["nsubj", "root"], [2], ["nsubj", "root"])])


def test_predicted_trees_are_the_models_and_score_as_its_metric(tmp_path):
    data = tmp_path / "train.conllu"
    data.write_text(tiny_conllu(sentences("en", 6, 5)), encoding="utf-8")
    config = tmp_path / "parser.json"
    config.write_text(json.dumps(parser_config(str(data))), encoding="utf-8")
    train_model_from_file(str(config), str(tmp_path / "run"))
    archive = load_archive(str(tmp_path / "run" / "model.tar.gz"))
    instances = list(archive.validation_dataset_reader.read(str(data)))
    trees = predicted_trees(archive.model, instances, batch_size=4)
    assert len(trees) == len(instances)
    for (heads, relations), instance in zip(trees, instances):
        assert len(heads) == len(relations) == len(instance["metadata"]["words"]) and heads.count(0) == 1
    archive.model.get_metrics(reset=True)
    archive.model.forward_on_instances(instances)
    metrics = archive.model.get_metrics(reset=True)
    gold = [(i["metadata"]["upos"], i["heads"].labels, i["relations"].labels) for i in instances]
    scores = attachment_by_upos([(u, h, r, heads, relations) for (u, h, r), (heads, relations) in zip(gold, trees)])
    assert scores["all"]["UAS"] == pytest.approx(metrics["UAS"]) and scores["all"]["LAS"] == pytest.approx(metrics["LAS"])
