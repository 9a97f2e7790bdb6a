"""Zero-shot transfer on the tiny generated data: target vectors are exact rotations of the English
ones and the alignment artifacts hold those rotations, so Cross-Word must tag the target languages
as well as English, including a language the model never saw (plugged in at evaluation time)."""
import json
import os
import subprocess
import sys

import pytest
from allennlp.commands.train import train_model_from_file
from allennlp.common.checks import ConfigurationError

from tests.conftest import PROJECT_ROOT
from xlner_allennlp.commands.evaluate_language import EvaluationDataError, evaluate_language, language_overrides
from xlner_allennlp.data_layout import path, treebank

CONFIG = os.path.join(PROJECT_ROOT, "training_config", "cross_word.jsonnet")


@pytest.fixture(scope="module")
def cross_word_archive(tiny_data, tmp_path_factory):
    env = {**tiny_data, "XLNER_TARGET": "es"}
    old = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        directory = tmp_path_factory.mktemp("cross_word")
        train_model_from_file(CONFIG, str(directory / "run"), overrides=json.dumps({"trainer.num_epochs": 30}))
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return str(directory / "run" / "model.tar.gz")


def _f1(archive, data, language, **kwargs):
    return evaluate_language(archive, language, data, **kwargs)["f1-measure-overall"]


def test_aligned_target_gets_the_source_accuracy(cross_word_archive, tiny_data):
    root = tiny_data["XLNER_DATA"]
    english = _f1(cross_word_archive, f"{root}/ner/en/conll2003/eng.testa", "en")
    spanish = _f1(cross_word_archive, f"{root}/ner/es/conll2002/esp.testa", "es")
    assert english > 0.9
    assert spanish >= english - 0.1


def test_a_language_never_trained_on_is_plugged_in(cross_word_archive, tiny_data):
    root = tiny_data["XLNER_DATA"]
    english = _f1(cross_word_archive, f"{root}/ner/en/conll2003/eng.testa", "en")
    dutch = _f1(
        cross_word_archive, f"{root}/ner/nl/conll2002/ned.testa", "nl",
        vectors=f"{root}/emb/nl.npy", alignment=f"{root}/alignments/nl-en",
    )
    assert dutch >= english - 0.1
    # Without its vectors the model has no table for Dutch: a clear error, not a crash in torch.
    with pytest.raises(ConfigurationError, match="unknown language 'nl'; configured languages: en, es"):
        _f1(cross_word_archive, f"{root}/ner/nl/conll2002/ned.testa", "nl")


def test_overrides_name_both_the_indexer_and_the_embedder():
    overrides = language_overrides("nl", "nl.npy", "al/nl-en", "utf-8")
    spec = {"vectors": "nl.npy", "alignment": "al/nl-en", "side": "mapped"}
    assert overrides["model.text_field_embedder.token_embedders.tokens.languages.nl"] == spec
    assert overrides["validation_dataset_reader.token_indexers.tokens.languages.nl"] == spec
    assert language_overrides("es", None, None, "latin-1") == {
        "validation_dataset_reader.language": "es", "validation_dataset_reader.encoding": "latin-1"}


def test_command_line(cross_word_archive, tiny_data, tmp_path):
    root = tiny_data["XLNER_DATA"]
    output = tmp_path / "metrics.json"
    result = subprocess.run(
        [sys.executable, "-m", "allennlp", "xlner-evaluate", cross_word_archive, "--language", "de",
         "--data", f"{root}/ner/de/conll2003/deu.testa", "--encoding", "latin-1",
         "--vectors", f"{root}/emb/de.npy", "--alignment", f"{root}/alignments/de-en",
         "--output-file", str(output), "--include-package", "xlner_allennlp"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={**os.environ, **tiny_data},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(output.read_text())["f1-measure-overall"] > 0.8
    missing = subprocess.run(
        [sys.executable, "-m", "allennlp", "xlner-evaluate", cross_word_archive, "--language", "de",
         "--data", str(tmp_path / "absent.conll"), "--include-package", "xlner_allennlp"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={**os.environ, **tiny_data},
    )
    assert missing.returncode == 1
    assert "absent.conll" in missing.stderr and "Traceback" not in missing.stderr


def _spanish_dev(tiny_data) -> str:
    return f"{tiny_data['XLNER_DATA']}/ner/es/conll2002/esp.testa"


def _with_tags(source: str, target, replacements: dict) -> str:
    """A copy of the CoNLL file ``source`` at ``target`` with the tags of some lines (1-based) replaced."""
    lines = open(source, encoding="utf-8").read().splitlines()
    for number, tag in replacements.items():
        lines[number - 1] = lines[number - 1].rsplit(" ", 1)[0] + " " + tag
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(target)


def test_an_entity_type_the_model_never_saw_is_named_with_file_and_line(cross_word_archive, tiny_data, tmp_path):
    # Line 3 of the Spanish dev file is "dijo X O", line 13 "dijo" of the second sentence.
    source = _spanish_dev(tiny_data)
    assert [open(source).read().splitlines()[n - 1].split()[0] for n in (3, 13)] == ["dijo", "dijo"]
    data = _with_tags(source, tmp_path / "foo.conll", {3: "B-FOO", 13: "B-BAR"})
    result = subprocess.run(
        [sys.executable, "-m", "allennlp", "xlner-evaluate", cross_word_archive, "--language", "es",
         "--data", data, "--include-package", "xlner_allennlp"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={**os.environ, **tiny_data},
    )
    assert result.returncode == 1
    assert f"error: {data}, line 3: the tag 'B-FOO' has the entity type 'FOO', which the model does not know; " \
           "the model knows the entity types LOC, ORG, PER; the file also has the unknown types 'BAR' (first " \
           "at line 13). Pass --unseen-types miss" in result.stderr
    assert "Traceback" not in result.stderr and "U-FOO" not in result.stderr


def test_unseen_types_can_be_counted_as_missed(cross_word_archive, tiny_data, tmp_path):
    source = _spanish_dev(tiny_data)
    entities = sum(line.split()[-1].startswith("B-") for line in open(source).read().splitlines() if line)
    assert entities == 24  # 8 sentences with a person, a place and an organisation
    clean = evaluate_language(cross_word_archive, "es", source)
    # On a file the model can be scored on, the command's own span scores are the model's metric.
    assert evaluate_language(cross_word_archive, "es", source, unseen_types="miss") == clean
    counted = evaluate_language(
        cross_word_archive, "es", _with_tags(source, tmp_path / "foo.conll", {3: "B-FOO"}), unseen_types="miss"
    )
    own = {key: value for key, value in counted.items() if "FOO" not in key}
    assert counted["recall-FOO"] == counted["f1-measure-FOO"] == 0.0
    assert counted["precision-overall"] == pytest.approx(clean["precision-overall"])
    assert counted["recall-overall"] == pytest.approx(clean["recall-overall"] * entities / (entities + 1))
    assert {key: own[key] for key in clean if key.endswith(("-PER", "-LOC", "-ORG"))} == pytest.approx(
        {key: clean[key] for key in clean if key.endswith(("-PER", "-LOC", "-ORG"))})
    assert "accuracy" not in counted and "loss" not in counted


def test_a_tag_of_a_known_type_the_model_cannot_predict(cross_word_archive, tiny_data, tmp_path):
    # The tiny training data has no entity of three words, hence no I-PER in the model's BIOUL tags:
    # "John Smith dijo" as one person makes "Smith" (line 2) an I-PER.
    data = _with_tags(_spanish_dev(tiny_data), tmp_path / "long.conll", {3: "I-PER"})
    with pytest.raises(EvaluationDataError, match=r"long.conll, line 2: the tag 'I-PER' \(I-PER in the model's "
                       r"BIOUL tags\) is not among the tags the model can predict"):
        evaluate_language(cross_word_archive, "es", data)
    assert evaluate_language(cross_word_archive, "es", data, unseen_types="miss")["recall-PER"] < 1.0


def test_a_tokens_only_file_is_refused(cross_word_archive, tiny_data):
    tokens = path("es", "unlabelled", tiny_data["XLNER_DATA"])
    result = subprocess.run(
        [sys.executable, "-m", "allennlp", "xlner-evaluate", cross_word_archive, "--language", "es",
         "--data", tokens, "--include-package", "xlner_allennlp"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={**os.environ, **tiny_data},
    )
    assert result.returncode == 1
    assert f"error: {tokens}: the file has tokens only, no gold tags to evaluate against" in result.stderr
    assert "allennlp predict" in result.stderr and "Traceback" not in result.stderr


def test_a_byte_order_mark_keeps_the_first_line(cross_word_archive, tiny_data, tmp_path):
    # The French file is tab-separated "index token tag": read with the mark, its first index would
    # not be a number and the whole layout would be wrong.
    root = tiny_data["XLNER_DATA"]
    source = path("fr", "dev", root)
    marked = tmp_path / "bom.tsv"
    marked.write_bytes(b"\xef\xbb\xbf" + open(source, "rb").read())
    plug_in = {"vectors": f"{root}/emb/fr.npy", "alignment": f"{root}/alignments/fr-en"}
    assert evaluate_language(cross_word_archive, "fr", str(marked), **plug_in) == evaluate_language(
        cross_word_archive, "fr", source, **plug_in)


@pytest.mark.parametrize("config", ["parser_word", "parser_word_unaligned"])
def test_a_parser_is_evaluated_on_a_treebank_of_a_language_plugged_in(config, tiny_data, tmp_path, monkeypatch):
    for name, value in {**tiny_data, "XLNER_TARGET": "es"}.items():
        monkeypatch.setenv(name, value)
    root = tiny_data["XLNER_DATA"]
    directory = tmp_path / "run"
    train_model_from_file(
        os.path.join(PROJECT_ROOT, "training_config", f"{config}.jsonnet"), str(directory),
        overrides=json.dumps({"trainer.num_epochs": 1, "data_loader.batch_sampler.batch_size": 32}),
    )
    alignment = f"{root}/alignments/nl-en" if config == "parser_word" else None
    metrics = evaluate_language(
        str(directory / "model.tar.gz"), "nl", treebank("nl_alpino", "dev", root), f"{root}/emb/nl.npy", alignment,
    )
    assert {"UAS", "LAS", "conll18_UAS", "conll18_LAS"} <= set(metrics)
    assert 0 <= metrics["LAS"] <= metrics["UAS"] <= 1 and metrics["UAS"] > 0
