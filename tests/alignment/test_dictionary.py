import pytest

from xlner_allennlp.alignment.dictionary import (
    DictionaryError,
    identical_seed,
    index_dictionary,
    load_dictionary,
    numerals_seed,
    read_dictionary,
)
from xlner_allennlp.alignment.vectors import WordVectors
import numpy as np


def _vectors(words, path):
    return WordVectors(list(words), np.eye(len(words), 4, dtype=np.float32), path)


SOURCE = _vectors(["the", "cat", "house", "1848"], "en.npy")
TARGET = _vectors(["el", "la", "gato", "casa", "1848"], "es.npy")


def test_muse_format_several_translations_and_oov_accounting(tmp_path):
    path = tmp_path / "en-es.txt"
    path.write_text("the el\nthe\tla\ncat gato\ncat gato\n\ndog perro\nhouse hogar\n", encoding="utf-8")
    pairs = read_dictionary(str(path))
    assert pairs == [("the", "el"), ("the", "la"), ("cat", "gato"), ("dog", "perro"), ("house", "hogar")]
    indexed = load_dictionary(str(path), SOURCE, TARGET)
    assert indexed.pairs == [("the", "el"), ("the", "la"), ("cat", "gato")]
    assert (indexed.n_read, indexed.n_dropped, indexed.n_source_oov, indexed.n_target_oov) == (5, 2, 1, 2)
    assert indexed.n_source_words == 2 and indexed.n_source_words_read == 4
    assert indexed.coverage == pytest.approx(3 / 5)
    assert indexed.summary()["source_word_coverage"] == pytest.approx(2 / 4)


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("the el\nthe el la\n", encoding="utf-8")
    with pytest.raises(DictionaryError, match=r"d.txt:2: expected 'source target' \(2 words\), found 3"):
        read_dictionary(str(path))


def test_empty_dictionary_and_no_pair_in_vocabulary(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DictionaryError, match="empty.txt: the dictionary is empty"):
        read_dictionary(str(empty))
    oov = tmp_path / "oov.txt"
    oov.write_text("dog perro\n", encoding="utf-8")
    with pytest.raises(DictionaryError, match="oov.txt: none of the 1 pairs has both words in the vocabularies"):
        load_dictionary(str(oov), SOURCE, TARGET)
    with pytest.raises(DictionaryError, match="no such dictionary file"):
        read_dictionary(str(tmp_path / "missing.txt"))


def test_seeds():
    source = ["the", "1848", "madrid", "3,5", "x"]
    target = ["el", "madrid", "1848", "3,5"]
    assert identical_seed(source, target) == [("1848", "1848"), ("madrid", "madrid"), ("3,5", "3,5")]
    assert numerals_seed(source, target) == [("1848", "1848"), ("3,5", "3,5")]
    assert identical_seed(source, target, max_rank=2) == []
    indexed = index_dictionary(numerals_seed(SOURCE.words, TARGET.words), SOURCE, TARGET)
    assert indexed.pairs == [("1848", "1848")]
