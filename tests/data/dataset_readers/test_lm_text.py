"""The `xlner_lm_text` reader: plain or gzipped sentences, boundaries on the targets, clear errors."""
import gzip

import pytest
from allennlp.common.checks import ConfigurationError
from allennlp.data import Vocabulary

from xlner_allennlp.contextual.text import TextFileError
from xlner_allennlp.data.dataset_readers import LmTextReader


def _words(instance, field="tokens"):
    return [token.text for token in instance[field].tokens]


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "plain"])
def test_reads_one_sentence_per_line_with_boundaries_on_the_targets(compressed, tmp_path):
    path = tmp_path / ("text.txt.gz" if compressed else "text.txt")
    text = "The cat  sat .\n\n  \nnaïve words\n"
    with (gzip.open if compressed else open)(path, "wt", encoding="utf-8") as handle:
        handle.write(text)
    instances = list(LmTextReader(language="fr").read(str(path)))
    assert [_words(i) for i in instances] == [["The", "cat", "sat", "."], ["naïve", "words"]]
    assert _words(instances[1], "targets") == ["<S>", "naïve", "words", "</S>"]
    assert instances[0]["metadata"]["language"] == "fr"
    assert set(instances[0]["tokens"].token_indexers) == {"elmo_tokens"}


def test_length_cap_cuts_long_sentences_into_pieces(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("1 2 3 4 5 6 7\n8 9\n", encoding="utf-8")
    instances = list(LmTextReader(max_sentence_length=3).read(str(path)))
    assert [_words(i) for i in instances] == [["1", "2", "3"], ["4", "5", "6"], ["7"], ["8", "9"]]
    with pytest.raises(ConfigurationError, match="max_sentence_length must be positive"):
        LmTextReader(max_sentence_length=0)


def test_vocabulary_counts_the_sentence_boundaries_and_sorts_by_frequency(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("b a a\na c\na\n", encoding="utf-8")
    vocab = Vocabulary.from_instances(LmTextReader().read(str(path)))
    order = [vocab.get_token_from_index(i, "tokens") for i in range(vocab.get_vocab_size("tokens"))]
    assert order[:3] == ["@@PADDING@@", "@@UNKNOWN@@", "a"]  # "a" 4 times, <S> and </S> 3 times each
    assert set(order[3:5]) == {"<S>", "</S>"} and order[5:] in (["b", "c"], ["c", "b"])


@pytest.mark.parametrize("content, message", [
    (b"", r"text\.txt: the file holds no tokens"),
    (b"\n  \n", r"text\.txt: the file holds no tokens"),
    (b"fine line\nok\nbad \xff byte\n", r"text\.txt, line 3: the bytes b'\\xff' are not valid utf-8"),
])
def test_bad_files_are_clear_errors_naming_file_and_line(content, message, tmp_path):
    path = tmp_path / "text.txt"
    path.write_bytes(content)
    with pytest.raises(TextFileError, match=message):
        list(LmTextReader().read(str(path)))


def test_truncated_gzip_and_missing_file_are_clear_errors(tmp_path):
    path = tmp_path / "text.txt.gz"
    data = gzip.compress(("a b c\n" * 1000).encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TextFileError, match=r"text\.txt\.gz, line \d+: the gzip stream ends early"):
        list(LmTextReader().read(str(path)))
    with pytest.raises(TextFileError, match="absent.txt: no such text file"):
        list(LmTextReader().read(str(tmp_path / "absent.txt")))
