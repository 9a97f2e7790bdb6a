import gzip

import pytest

from xlner_allennlp.alignment.dictionary import (
    REVERSED_MIN_PAIRS,
    DictionaryError,
    check_direction,
    coverage_warning,
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


def _space(prefix, n, path):
    return _vectors([f"{prefix}{i}" for i in range(n)], path)


ES, EN = _space("es", 100, "es.npy"), _space("en", 100, "en.npy")


def test_a_reversed_dictionary_is_refused_saying_so(tmp_path):
    forward = [(f"es{i}", f"en{i}") for i in range(60)]
    reversed_ = [(t, s) for s, t in forward] + forward[:3]  # a few pairs (names, loanwords) fit both ways
    with pytest.raises(DictionaryError, match=r"en-es\.txt: the dictionary runs the other way round: 60 of its 63 "
                                              r"pairs have their first word in en\.npy and their second in es\.npy, "
                                              r"only 3 the right way\..*mapped language \(es\.npy\) first"):
        index_dictionary(reversed_, ES, EN, "en-es.txt")
    assert len(index_dictionary(forward + [(t, s) for s, t in forward[:20]], ES, EN)) == 60
    small = [(t, s) for s, t in forward[: REVERSED_MIN_PAIRS - 1]] + forward[:1]
    check_direction(small, ES, EN)  # too few pairs to tell


def test_identical_strings_do_not_count_for_either_direction():
    shared = _vectors(["paris", "1848", "es1"], "es.npy"), _vectors(["paris", "1848", "en1"], "en.npy")
    pairs = [("paris", "paris"), ("1848", "1848")] * 20 + [("es1", "en1")]
    check_direction(pairs, *shared)


def test_a_dictionary_with_a_byte_order_mark_keeps_its_first_pair(tmp_path):
    path = tmp_path / "en-es.txt"
    path.write_bytes("\ufeffthe el\ncat gato\n".encode("utf-8"))
    assert read_dictionary(str(path)) == [("the", "el"), ("cat", "gato")]
    assert load_dictionary(str(path), SOURCE, TARGET).pairs == [("the", "el"), ("cat", "gato")]


def test_latin1_and_gzipped_dictionaries(tmp_path):
    path = tmp_path / "es-en.txt"
    path.write_bytes("niño boy\n".encode("latin-1"))
    with pytest.raises(DictionaryError, match=r"es-en\.txt, line 1: .*not valid utf-8; .*--dictionary-encoding"):
        read_dictionary(str(path))
    assert read_dictionary(str(path), encoding="latin-1") == [("niño", "boy")]
    packed = tmp_path / "es-en.txt.gz"
    packed.write_bytes(gzip.compress(b"uno one\n"))
    assert read_dictionary(str(packed)) == [("uno", "one")]
    packed.write_bytes(b"uno one\n")
    with pytest.raises(DictionaryError, match=r"es-en\.txt\.gz: not a gzip file"):
        read_dictionary(str(packed))


def test_low_coverage_gives_a_warning():
    pairs = [(f"es{i}", f"en{i}") for i in range(10)] + [(f"xx{i}", f"yy{i}") for i in range(90)]
    warning = coverage_warning(index_dictionary(pairs, ES, EN, "d.txt"))
    assert warning.startswith("d.txt: only 10 of its 100 pairs (10.00%) have both words in the kept vocabularies")
    assert coverage_warning(index_dictionary(pairs[:30], ES, EN)) is None


@pytest.mark.parametrize("language", ["es", "de", "fr", "nl"])
def test_real_muse_dictionaries_pass_one_way_and_are_refused_the_other(language):
    import os

    from tests.conftest import real_data_or_skip
    from xlner_allennlp.alignment.vectors import load_vocab

    root = real_data_or_skip(f"emb/{language}.npy", "emb/en.npy", f"dict/muse/{language}-en.0-5000.txt",
                             f"dict/muse/en-{language}.0-5000.txt")
    mapped, reference = (
        _words_only(load_vocab(os.path.join(root, "emb", f"{lang}.npy")), f"{lang}.npy") for lang in (language, "en")
    )
    check_direction(read_dictionary(os.path.join(root, "dict", "muse", f"{language}-en.0-5000.txt")), mapped, reference)
    with pytest.raises(DictionaryError, match="runs the other way round"):
        check_direction(read_dictionary(os.path.join(root, "dict", "muse", f"en-{language}.0-5000.txt")), mapped, reference)


def _words_only(words, path):
    return WordVectors(list(words), np.zeros((len(words), 1), dtype=np.float32), path)
