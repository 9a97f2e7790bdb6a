"""The data layout: one file read by Python, the configs and the Makefile."""
import json
import os

import _jsonnet
import pytest

from tests.conftest import PROJECT_ROOT, real_data_or_skip
from xlner_allennlp import data_layout
from xlner_allennlp.data_layout import (
    DataLayoutError, data_root, dictionary, encoding, path, treebank, treebank_language, treebanks,
)


def test_root_is_the_argument_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.delenv("XLNER_DATA", raising=False)
    assert data_root() == "../shared/data"
    monkeypatch.setenv("XLNER_DATA", "/env/data")
    assert data_root() == "/env/data"
    assert data_root("/given") == "/given"
    assert path("fr", "dev") == "/env/data/ner/fr/wikineural/dev.tsv"
    assert path("fr", "dev", data="/given") == "/given/ner/fr/wikineural/dev.tsv"


def test_french_self_trains_on_text_disjoint_from_its_dev_set():
    assert path("fr", "unlabelled", "/d") == "/d/ner/fr/wikineural/unlabelled.tokens"
    assert path("fr", "dev", "/d") == "/d/ner/fr/wikineural/dev.tsv"


def test_encodings_and_dictionaries():
    assert encoding("de") == "latin-1"
    assert encoding("de", "unlabelled") == "utf-8"
    assert encoding("de", "lm_train") == "utf-8"  # the language-model text is UTF-8 in every language
    assert encoding("en", "train") == "utf-8"
    assert dictionary("es", "en", "test", "/d") == "/d/dict/muse/es-en.5000-6500.txt"
    assert dictionary("en", "nl", data="/d") == "/d/dict/muse/en-nl.0-5000.txt"


def test_unknown_language_file_or_dictionary_is_a_clear_error():
    with pytest.raises(DataLayoutError, match=r"unknown language 'xx' in the data layout .*known: en, es"):
        path("xx", "dev")
    with pytest.raises(DataLayoutError, match=r"no 'train' file for 'es' \(it has: dev, unlabelled, vectors, lm_train, lm_heldout\)"):
        path("es", "train")
    with pytest.raises(DataLayoutError, match="unknown data file 'devv'"):
        path("es", "devv")
    with pytest.raises(DataLayoutError, match="no 'test' dictionary from 'de' to 'en'"):
        dictionary("de", "en", "test")


def test_treebanks_name_their_language_and_files_and_unknown_ones_are_a_clear_error():
    assert treebanks() == ["en_ewt", "es_gsd", "es_ancora", "fr_gsd", "de_gsd", "nl_alpino", "nl_lassysmall"]
    assert treebank("en_ewt", "train", "/d") == "/d/ud/en/en_ewt-ud-train.conllu"
    assert treebank("nl_lassysmall", data="/d") == "/d/ud/nl/nl_lassysmall-ud-dev.conllu"
    assert [treebank_language(name) for name in ("es_ancora", "de_gsd")] == ["es", "de"]
    with pytest.raises(DataLayoutError, match=r"unknown treebank 'nl_gsd' in the data layout .*known: en_ewt, es_gsd"):
        treebank("nl_gsd")
    with pytest.raises(DataLayoutError, match=r"unknown treebank 'xx_yy'"):
        treebank_language("xx_yy")
    with pytest.raises(DataLayoutError, match=r"no 'train' file for the treebank 'fr_gsd' \(it has: dev\)"):
        treebank("fr_gsd", "train")
    with pytest.raises(DataLayoutError, match="unknown treebank split 'test'"):
        treebank("en_ewt", "test")


def test_command_line_prints_one_path_or_a_one_line_error(capsys):
    assert data_layout.main(["--data", "/d", "dev", "fr"]) == 0
    assert capsys.readouterr().out == "/d/ner/fr/wikineural/dev.tsv\n"
    assert data_layout.main(["encoding", "de"]) == 0
    assert capsys.readouterr().out == "latin-1\n"
    assert data_layout.main(["--data", "/d", "dictionary", "nl", "en"]) == 0
    assert capsys.readouterr().out == "/d/dict/muse/nl-en.0-5000.txt\n"
    assert data_layout.main(["--data", "/d", "treebank", "en_ewt", "train"]) == 0
    assert capsys.readouterr().out == "/d/ud/en/en_ewt-ud-train.conllu\n"
    assert data_layout.main(["dev", "xx"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: unknown language 'xx'")


def test_configs_read_the_same_layout():
    common = os.path.join(PROJECT_ROOT, "training_config", "common.libsonnet")
    corpora = json.loads(_jsonnet.evaluate_snippet(
        "layout_test", f"(import '{common}').corpora", ext_vars={"XLNER_DATA": "/d"}))
    for language in data_layout.languages():
        for name in data_layout.FILES:
            try:
                expected = path(language, name, "/d")
            except DataLayoutError:
                assert name not in corpora[language]
            else:
                assert corpora[language][name] == expected
        assert corpora[language]["encoding"] == encoding(language)


def test_parser_configs_read_the_same_treebanks():
    parser = os.path.join(PROJECT_ROOT, "training_config", "parser.libsonnet")
    ud = json.loads(_jsonnet.evaluate_snippet(
        "layout_test", f"(import '{parser}').ud", ext_vars={"XLNER_DATA": "/d", "XLNER_ALIGNMENTS": "/a"}))
    assert sorted(ud) == sorted(treebanks())
    for name in treebanks():
        assert ud[name]["language"] == treebank_language(name)
        for split in data_layout.TREEBANK_SPLITS:
            try:
                expected = treebank(name, split, "/d")
            except DataLayoutError:
                assert split not in ud[name]
            else:
                assert ud[name][split] == expected


def test_every_file_of_the_layout_is_in_the_real_data():
    root = real_data_or_skip()
    missing = []
    for language in data_layout.languages():
        for name in data_layout.FILES:
            try:
                file = path(language, name, root)
            except DataLayoutError:
                continue
            missing += [] if os.path.isfile(file) else [file]
        for other in data_layout.languages():
            for split in data_layout.DICTIONARY_SPLITS:
                try:
                    file = dictionary(language, other, split, root)
                except DataLayoutError:
                    continue
                missing += [] if os.path.isfile(file) else [file]
    for name in treebanks():
        for split in data_layout.TREEBANK_SPLITS:
            try:
                file = treebank(name, split, root)
            except DataLayoutError:
                continue
            missing += [] if os.path.isfile(file) else [file]
    assert missing == []
