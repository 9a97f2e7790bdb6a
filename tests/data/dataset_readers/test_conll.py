import logging
import os
from pathlib import Path
from typing import List

import pytest
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.data import Vocabulary
from allennlp.data.data_loaders import MultiProcessDataLoader
from allennlp.data.dataset_readers import DatasetReader
from allennlp.data.token_indexers import (
    SingleIdTokenIndexer,
    TokenCharactersIndexer,
    TokenIndexer,
)

from tests.conftest import real_data_or_skip
from xlner_allennlp.data.dataset_readers import ConllFormatError, ConllReader

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "conll"


def read(reader: ConllReader, name: str) -> list:
    return list(reader.read(str(FIXTURES / name)))


def words(instances) -> List[List[str]]:
    return [instance["metadata"]["words"] for instance in instances]


def tags(instances) -> List[List[str]]:
    return [instance["tags"].labels for instance in instances]


def test_english_iob1_with_docstart_to_bioul_and_iob2():
    instances = read(ConllReader(), "eng_iob1.txt")
    assert words(instances) == [
        ["EU", "rejects", "German", "call", "."],
        ["Peter", "Blackburn"],
        ["BRUSSELS", "1996-08-22"],
        ["In", "Italy", "Germany", "and", "New", "York", "."],
    ]
    assert tags(instances) == [
        ["U-ORG", "O", "U-MISC", "O", "O"],
        ["B-PER", "L-PER"],
        ["U-LOC", "O"],
        ["O", "U-LOC", "U-LOC", "O", "B-LOC", "L-LOC", "O"],
    ]
    assert tags(read(ConllReader(label_encoding="IOB2"), "eng_iob1.txt"))[3] == [
        "O",
        "B-LOC",
        "B-LOC",
        "O",
        "B-LOC",
        "I-LOC",
        "O",
    ]
    instance = instances[0]
    assert set(instance.fields) == {"tokens", "tags", "metadata"}
    assert instance["metadata"]["language"] == "en"
    assert instance["tags"]._label_namespace == "labels"
    assert set(instance["tokens"].token_indexers) == {"tokens", "token_characters"}


def test_spanish_iob2_three_columns_utf8():
    instances = read(ConllReader(language="es"), "esp_iob2.txt")
    assert words(instances) == [
        ["Sao", "Paulo", "(", "Brasil", ")"],
        ["La", "Agencia", "EFE", "informó"],
    ]
    assert tags(instances) == [["B-LOC", "L-LOC", "O", "U-LOC", "O"], ["O", "B-ORG", "L-ORG", "O"]]
    assert {instance["metadata"]["language"] for instance in instances} == {"es"}


def test_german_five_columns_latin1():
    instances = read(ConllReader(encoding="latin-1", language="de"), "deu_latin1.txt")
    assert words(instances) == [["Großer", "Preis", "von", "München"]]
    assert tags(instances) == [["O", "U-MISC", "O", "U-LOC"]]


def test_index_token_tag_tsv():
    instances = read(ConllReader(language="fr", label_encoding="IOB2"), "fra_index.tsv")
    assert words(instances) == [["La", "Tour", "Eiffel", "à", "Paris"], ["Jean", "Dupont"]]
    assert tags(instances) == [["O", "B-LOC", "I-LOC", "O", "B-LOC"], ["B-PER", "I-PER"]]


def test_tokens_only_file_is_unlabeled():
    instances = read(ConllReader(language="es"), "spa_tokens.txt")
    assert words(instances) == [
        ["Melbourne", "(", "Australia", ")"],
        ["El", "presidente", "habló"],
    ]
    assert all("tags" not in instance.fields for instance in instances)
    assert instances[0]["metadata"]["language"] == "es"


def test_crlf_line_endings_and_byte_order_mark(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes("\ufeffEU NNP I-ORG\r\nrejects VBZ O\r\n\r\n".encode("utf-8"))
    instances = list(ConllReader().read(str(path)))
    assert words(instances) == [["EU", "rejects"]]
    assert tags(instances) == [["U-ORG", "O"]]


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    "name, reader",
    [
        ("eng_iob1.txt", ConllReader()),  # CoNLL-2003: starts with -DOCSTART-
        ("esp_iob2.txt", ConllReader(language="es")),  # CoNLL-2002: starts with a token
        ("fra_index.tsv", ConllReader(language="fr")),  # WikiNEuRal: starts with a token index
        ("spa_tokens.txt", ConllReader(language="es")),  # tokens only
    ],
)
def test_a_byte_order_mark_changes_nothing(tmp_path, name, reader):
    marked = tmp_path / name
    marked.write_bytes(BOM + (FIXTURES / name).read_bytes())
    instances, expected = list(reader.read(str(marked))), read(reader, name)
    assert words(instances) == words(expected)
    assert [instance.fields.get("tags") and instance["tags"].labels for instance in instances] == [
        instance.fields.get("tags") and instance["tags"].labels for instance in expected
    ]


def test_a_byte_order_mark_in_a_file_read_as_latin1_is_an_error(tmp_path):
    marked = tmp_path / "deu.txt"
    marked.write_bytes(BOM + (FIXTURES / "deu_latin1.txt").read_bytes())
    with pytest.raises(ConllFormatError, match=r"deu.txt, line 1: the file starts with a UTF-8 byte-order "
                       r"mark, so it is UTF-8, not latin-1: read it as utf-8"):
        list(ConllReader(encoding="latin-1").read(str(marked)))


def test_scheme_detection_and_irregular_tags(caplog):
    with caplog.at_level(logging.INFO, logger="xlner_allennlp"):
        read(ConllReader(), "eng_iob1.txt")
        read(ConllReader(), "esp_iob2.txt")
    assert "eng_iob1.txt: detected IOB1 tags" in caplog.text
    assert "esp_iob2.txt: detected IOB2 tags" in caplog.text
    assert "irregular" not in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="xlner_allennlp"):
        instances = read(ConllReader(), "iob2_irregular.txt")
    # "Rio" is an entity-initial I-LOC: irregular in IOB2, read as an entity start.
    assert tags(instances) == [["B-LOC", "L-LOC", "O", "U-LOC"], ["U-ORG"]]
    assert "1 tags are irregular for IOB2 (first at line 4: 'I-LOC')" in caplog.text

    # A configured scheme is not detected; conversion is the same, the warnings follow it.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="xlner_allennlp"):
        configured = read(ConllReader(input_scheme="IOB2"), "eng_iob1.txt")
    assert "detected" not in caplog.text
    assert "6 tags are irregular for IOB2 (first at line 3: 'I-ORG')" in caplog.text
    assert tags(configured) == tags(read(ConllReader(), "eng_iob1.txt"))


def test_max_sentence_length_skips_and_logs(caplog):
    with caplog.at_level(logging.INFO, logger="xlner_allennlp"):
        instances = read(ConllReader(max_sentence_length=2), "eng_iob1.txt")
    assert words(instances) == [["Peter", "Blackburn"], ["BRUSSELS", "1996-08-22"]]
    assert "skipped 2 of 4 sentences longer than 2 tokens" in caplog.text


def test_text_to_instance():
    reader = ConllReader(language="es")
    instance = reader.text_to_instance(["Sao", "Paulo"], ["B-LOC", "L-LOC"])
    assert instance["metadata"].metadata == {"words": ["Sao", "Paulo"], "language": "es"}
    assert instance["tags"].labels == ["B-LOC", "L-LOC"]
    unlabeled = reader.text_to_instance(["Paris"], language="fr")
    assert "tags" not in unlabeled.fields
    assert unlabeled["metadata"]["language"] == "fr"
    with pytest.raises(ValueError, match="empty sentence"):
        reader.text_to_instance([])


class _LanguageBoundIndexer(SingleIdTokenIndexer):
    """Binds to a language by indexing into a namespace of its own."""

    def __init__(self) -> None:
        super().__init__(namespace="unbound")
        self.bound: List[str] = []

    def for_language(self, language: str) -> TokenIndexer:
        self.bound.append(language)
        return SingleIdTokenIndexer(namespace=f"words_{language}", lowercase_tokens=True)


def test_language_bound_indexers_are_bound_once_per_language():
    bound = _LanguageBoundIndexer()
    characters = TokenCharactersIndexer(min_padding_length=3)
    english = ConllReader(token_indexers={"words": bound, "token_characters": characters})
    instances = read(english, "eng_iob1.txt")
    spanish = english.text_to_instance(["Sao", "Paulo"], language="es")
    english.apply_token_indexers(spanish)
    instances.append(spanish)
    assert bound.bound == ["en", "es"]
    assert instances[0]["tokens"].token_indexers["words"].namespace == "words_en"
    assert instances[1]["tokens"].token_indexers["words"] is instances[0]["tokens"].token_indexers[
        "words"
    ]
    assert spanish["tokens"].token_indexers["words"].namespace == "words_es"
    assert spanish["tokens"].token_indexers["token_characters"] is characters
    vocab = Vocabulary.from_instances(instances)
    assert vocab.get_token_index("eu", "words_en") > 1
    assert vocab.get_token_index("paulo", "words_es") > 1
    assert vocab.get_vocab_size("unbound") == 2  # padding and OOV only


def test_from_params_and_multiprocess_loader():
    reader = DatasetReader.from_params(
        Params(
            {
                "type": "xlner_conll",
                "language": "de",
                "encoding": "latin-1",
                "label_encoding": "IOB2",
            }
        )
    )
    assert isinstance(reader, ConllReader)
    assert tags(read(reader, "deu_latin1.txt")) == [["O", "B-MISC", "O", "B-LOC"]]

    loader = MultiProcessDataLoader(
        ConllReader(), str(FIXTURES / "eng_iob1.txt"), batch_size=10, num_workers=2
    )
    loader.index_with(Vocabulary.from_instances(read(ConllReader(), "eng_iob1.txt")))
    lengths = [len(meta["words"]) for batch in loader for meta in batch["metadata"]]
    assert sorted(lengths) == [2, 2, 5, 7]


def test_reader_rejects_bad_configuration():
    with pytest.raises(ConfigurationError, match="label_encoding"):
        ConllReader(label_encoding="BIOES")
    with pytest.raises(ConfigurationError, match="input_scheme"):
        ConllReader(input_scheme="BIOUL")
    with pytest.raises(ConfigurationError, match="unknown encoding"):
        ConllReader(encoding="no-such-codec")
    with pytest.raises(ConfigurationError, match="max_sentence_length"):
        ConllReader(max_sentence_length=0)


@pytest.mark.parametrize(
    "name, reader_args, message",
    [
        ("bad_columns.txt", {}, r"bad_columns.txt, line 4: 3 columns, but the file's first token "
                                r"line \(line 1\) has 4"),
        ("bad_tag.txt", {}, r"bad_tag.txt, line 2: unknown tag 'PERSON'"),
        ("bad_bioul_tag.txt", {}, r"bad_bioul_tag.txt, line 2: tag 'E-PER' has the BIOES/BIOUL"),
        ("bad_index.tsv", {}, r"bad_index.tsv, line 3: expected a token index .* found 'x'"),
        ("deu_latin1.txt", {}, r"deu_latin1.txt, line 3: the bytes b'\\xdf' are not valid utf-8; "
                               r"set the reader's `encoding` parameter"),
        ("empty.txt", {}, r"empty.txt: the file is empty"),
        ("docstart_only.txt", {}, r"docstart_only.txt: the file has no sentences"),
        ("missing.txt", {}, r"missing.txt: file not found"),
    ],
)
def test_bad_input_names_file_and_line(name, reader_args, message):
    with pytest.raises(ConllFormatError, match=message):
        read(ConllReader(**reader_args), name)


def test_errors_are_raised_before_any_instance_when_detecting(tmp_path):
    """Auto detection reads the whole file first, so a bad line late in a file fails early."""
    path = tmp_path / "late_error.txt"
    path.write_text("EU I-ORG\n\nrejects O\n\nGerman X-MISC\n", encoding="utf-8")
    instances = ConllReader().read(str(path))
    with pytest.raises(ConllFormatError, match="late_error.txt, line 5: unknown tag 'X-MISC'"):
        next(instances)


REAL_FILES = [
    ("en/conll2003/eng.train", "utf-8", 14041, True),
    ("en/conll2003/eng.testa", "utf-8", 3250, True),
    ("es/conll2002/esp.testa", "utf-8", 1915, True),
    ("nl/conll2002/ned.testa", "utf-8", 2895, True),
    ("de/conll2003/deu.testa", "latin-1", 2867, True),
    ("es/conll2002/esp.train.tokens", "utf-8", 8323, False),
    ("fr/wikineural/val.tsv", "utf-8", 12600, True),
]


@pytest.mark.parametrize("relative_path, encoding, sentences, labeled", REAL_FILES)
def test_real_data_sentence_counts(relative_path, encoding, sentences, labeled):
    path = os.path.join(real_data_or_skip(os.path.join("ner", relative_path)), "ner", relative_path)
    reader = ConllReader(encoding=encoding)
    count = 0
    for instance in reader.read(path):
        count += 1
        assert ("tags" in instance.fields) == labeled
    assert count == sentences


def test_a_byte_order_mark_before_a_docstart_or_a_tab_separated_row_drops_nothing(tmp_path):
    docstart = tmp_path / "docstart.txt"
    docstart.write_bytes("\ufeff-DOCSTART- -X- O O\n\nEU NNP I-ORG\n".encode("utf-8"))
    assert words(list(ConllReader().read(str(docstart)))) == [["EU"]]
