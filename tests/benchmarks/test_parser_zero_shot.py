"""The parser benchmark's run plan: which models it trains, what they hold and where they are selected."""
import argparse
import os

import pytest

from benchmarks import parser_zero_shot
from xlner_allennlp.data_layout import treebank


def _args(tmp_path, selection):
    return argparse.Namespace(selection=selection, dev_sets=["en_ewt", "es_gsd", "es_ancora", "nl_alpino"],
                              epochs=None, max_train=0, data=str(tmp_path), runs=str(tmp_path / "runs"))


def test_english_dev_selection_trains_one_model_per_config_and_seed_for_every_dev_set(tmp_path):
    args = _args(tmp_path, "source")
    assert parser_zero_shot.selections(args) == [(None, ["en_ewt", "es_gsd", "es_ancora", "nl_alpino"])]
    directory, overrides, target = parser_zero_shot.plan("parser_word_upos", 42, None, args)
    assert directory == os.path.join(args.runs, "parser_word_upos-seed42") and target == "es"
    assert overrides["random_seed"] == overrides["numpy_seed"] == overrides["pytorch_seed"] == 42
    assert overrides["model.upos_embedding_dim"] == 50 and "validation_data_path" not in overrides


def test_target_dev_selection_trains_one_model_per_target_treebank_holding_its_language(tmp_path):
    args = _args(tmp_path, "target")
    assert parser_zero_shot.selections(args) == [
        ("es_gsd", ["es_gsd"]), ("es_ancora", ["es_ancora"]), ("nl_alpino", ["nl_alpino"])]
    directory, overrides, target = parser_zero_shot.plan("parser_word", 7, "nl_alpino", args)
    assert directory == os.path.join(args.runs, "parser_word-nl_alpino-seed7") and target == "nl"
    assert overrides["validation_data_path"] == treebank("nl_alpino", "dev", str(tmp_path))
    assert overrides["validation_dataset_reader.language"] == "nl"


@pytest.mark.slow
def test_a_run_trains_once_is_reused_and_is_scored_and_broken_down_on_a_plugged_in_language(tiny_data, tmp_path):
    args = argparse.Namespace(
        selection="source", dev_sets=["en_ewt", "nl_alpino"], epochs=1, max_train=0, data=tiny_data["XLNER_DATA"],
        alignments=tiny_data["XLNER_ALIGNMENTS"], runs=str(tmp_path / "runs"),
    )
    run = parser_zero_shot.train("parser_word", 13, None, args)
    assert run["epochs"] == 1 and not run["resumed"] and os.path.isfile(run["archive"])
    assert parser_zero_shot.train("parser_word", 13, None, args)["reused"]
    scores = parser_zero_shot.evaluate(run["archive"], "parser_word", "nl_alpino", args)
    assert 0 <= scores["LAS"] <= scores["UAS"] <= 100 and scores["note"] == parser_zero_shot.DUTCH_NOTE
    numbers = parser_zero_shot.breakdown(run["archive"], "parser_word", "nl_alpino", args)
    assert numbers["by_upos"]["all"]["UAS"] == scores["UAS"] and numbers["by_upos"]["all"]["LAS"] == scores["LAS"]
    assert 0 <= numbers["oov_share"] <= 100
    args.alignments = str(tmp_path / "none")
    assert "no alignment artifact" in parser_zero_shot.evaluate(run["archive"], "parser_word", "nl_alpino", args)["skipped"]
