"""The `xlner_universal_dependencies` reader and the CoNLL-U writer on hand-made files."""
import pytest
from allennlp.data import Vocabulary
from allennlp.data.fields import SequenceLabelField

from xlner_allennlp.data.dataset_readers import (
    ConlluFormatError,
    UniversalDependenciesReader,
    format_conllu,
    read_conllu_sentences,
)

ROWS = [
    "1\tVámonos\t_\tVERB\t_\t_\t0\troot\t_\t_",
    "2\tal\t_\tADP\t_\t_\t4\tcase\t_\t_",
    "3\tel\t_\tDET\t_\t_\t4\tdet\t_\t_",
    "4\tmar\t_\tNOUN\t_\t_\t1\tobl:arg\t_\t_",
    "5\t.\t_\tPUNCT\t_\t_\t1\tpunct\t_\t_",
]
# Every construct: a BOM, comments, a multiword token (2-3), an empty node (4.1), CRLF line ends,
# several blank lines between sentences and no blank line at the end.
TEXT = (
    "\ufeff# sent_id = 1\n# text = Vámonos al mar.\n"
    + ROWS[0] + "\n" + "2-3\tal\t_\t_\t_\t_\t_\t_\t_\t_\n" + "\n".join(ROWS[1:4]) + "\n"
    + "4.1\tva\t_\tVERB\t_\t_\t_\t_\t1:conj\t_\n" + ROWS[4] + "\r\n\n\n"
    + "# sent_id = 2\n1\tSí\t_\tINTJ\t_\t_\t0\troot\t_\t_"
)


def write(tmp_path, text, name="tiny.conllu", binary=False):
    path = tmp_path / name
    if binary:
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def test_reads_every_construct(tmp_path):
    first, second = read_conllu_sentences(write(tmp_path, TEXT))
    assert first.words == ["Vámonos", "al", "el", "mar", "."]
    assert first.upos == ["VERB", "ADP", "DET", "NOUN", "PUNCT"]
    assert first.heads == [0, 4, 4, 1, 1]
    assert first.relations == ["root", "case", "det", "obl:arg", "punct"]
    assert first.comments == ["# sent_id = 1", "# text = Vámonos al mar."]
    assert first.extra_lines == {1: ["2-3\tal\t_\t_\t_\t_\t_\t_\t_\t_"], 4: ["4.1\tva\t_\tVERB\t_\t_\t_\t_\t1:conj\t_"]}
    assert first.line_numbers == [3, 5, 6, 7, 9]
    assert second.words == ["Sí"] and second.heads == [0]


def test_instances_strip_subtypes_and_carry_the_language(tmp_path):
    reader = UniversalDependenciesReader(language="es", strip_subtypes=True)
    instances = list(reader.read(write(tmp_path, TEXT)))
    assert len(instances) == 2
    first = instances[0]
    assert first["relations"].labels == ["root", "case", "det", "obl", "punct"]
    assert first["heads"].labels == [0, 4, 4, 1, 1]
    assert first["upos"].labels[-1] == "PUNCT"
    assert first["metadata"]["language"] == "es"
    kept = UniversalDependenciesReader(strip_subtypes=False).read(write(tmp_path, TEXT))
    assert next(iter(kept))["relations"].labels[3] == "obl:arg"


def test_unseen_relation_and_upos_index_as_oov(tmp_path):
    reader = UniversalDependenciesReader()
    train = list(reader.read(write(tmp_path, TEXT)))
    vocab = Vocabulary.from_instances(train)
    other = "1\tJa\t_\tX\t_\t_\t0\troot\t_\t_\n2\t!\t_\tPUNCT\t_\t_\t1\tdiscourse:emo\t_\t_\n"
    instance = next(iter(reader.read(write(tmp_path, other, "other.conllu"))))
    instance.index_fields(vocab)
    relations: SequenceLabelField = instance["relations"]  # type: ignore
    upos: SequenceLabelField = instance["upos"]  # type: ignore
    oov_relation = vocab.get_token_index(vocab._oov_token, "dependency_relations")
    assert relations._indexed_labels == [vocab.get_token_index("root", "dependency_relations"), oov_relation]
    assert upos._indexed_labels[0] == vocab.get_token_index(vocab._oov_token, "upos")


def test_unannotated_sentences_have_no_tree(tmp_path):
    text = "1\tHola\t_\tINTJ\t_\t_\t_\t_\t_\t_\n2\tya\t_\tADV\t_\t_\t_\t_\t_\t_\n"
    instance = next(iter(UniversalDependenciesReader().read(write(tmp_path, text))))
    assert "heads" not in instance.fields and "relations" not in instance.fields


@pytest.mark.parametrize(
    "text,line,message",
    [
        ("1\tA\t_\tX\t_\t_\t0\troot\t_\n", 1, "9 tab-separated columns"),
        ("1\tA\t_\tX\t_\t_\t0\troot\t_\t_\n2\tB\t_\tX\t_\t_\tone\tdep\t_\t_\n", 2, "HEAD 'one' is not"),
        ("1\tA\t_\tX\t_\t_\t0\troot\t_\t_\n2\tB\t_\tX\t_\t_\t-1\tdep\t_\t_\n", 2, "HEAD '-1' is not"),
        ("1\tA\t_\tX\t_\t_\t0\troot\t_\t_\n2\tB\t_\tX\t_\t_\t3\tdep\t_\t_\n", 2, "out of range"),
        ("# c\n1\tA\t_\tX\t_\t_\t2\tdep\t_\t_\n2\tB\t_\tX\t_\t_\t1\tdep\t_\t_\n", 1, "no root"),
        ("1\tA\t_\tX\t_\t_\t0\troot\t_\t_\n2\tB\t_\tX\t_\t_\t3\tdep\t_\t_\n3\tC\t_\tX\t_\t_\t2\tdep\t_\t_\n", 2, "cycle"),
        ("1\tA\t_\tX\t_\t_\t1\troot\t_\t_\n", 1, "its own head"),
        ("1\tA\t_\tX\t_\t_\t0\troot\t_\t_\n3\tB\t_\tX\t_\t_\t1\tdep\t_\t_\n", 2, "word ID '3', expected 2"),
        ("1\tA\t_\tX\t_\t_\t0\troot\t_\t_\n2\tB\t_\tX\t_\t_\t1\t_\t_\t_\n", 2, "missing DEPREL"),
        ("1-x\tA\t_\t_\t_\t_\t_\t_\t_\t_\n", 1, "malformed ID"),
        ("\n\n", None, "no sentences"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(ConlluFormatError, match=message) as error:
        list(read_conllu_sentences(path))
    assert path in str(error.value)
    if line is not None:
        assert f"line {line}:" in str(error.value)


def test_undecodable_bytes_name_the_line(tmp_path):
    text = ("1\tA\t_\tX\t_\t_\t0\troot\t_\t_\n\n1\tB\xe9\t_\tX\t_\t_\t0\troot\t_\t_\n").encode("latin-1")
    path = write(tmp_path, text, binary=True)
    with pytest.raises(ConlluFormatError, match=r"line 3: the bytes b'\\xe9' are not valid utf-8"):
        list(UniversalDependenciesReader().read(path))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConlluFormatError, match="file not found"):
        list(UniversalDependenciesReader().read(str(tmp_path / "absent.conllu")))


def test_tag_namespaces_must_stay_padded():
    from allennlp.common.checks import ConfigurationError

    with pytest.raises(ConfigurationError, match="non-padded"):
        UniversalDependenciesReader(relation_namespace="head_tags")


def test_writer_restores_the_sentence_with_new_heads(tmp_path):
    first, _ = read_conllu_sentences(write(tmp_path, TEXT))
    text = format_conllu(first.words, [0, 1, 4, 1, 4], ["root", "dep", "det", "obj", "punct"], original=first)
    lines = text.rstrip("\n").split("\n")
    assert lines[:2] == first.comments
    assert lines[3].startswith("2-3\t") and lines[7].startswith("4.1\t")
    assert lines[4].split("\t")[6:9] == ["1", "dep", "_"]
    assert text.endswith("\n\n")
    rewritten, = read_conllu_sentences(write(tmp_path, text, "out.conllu"))
    assert rewritten.heads == [0, 1, 4, 1, 4] and rewritten.words == first.words
    plain = format_conllu(["Sí"], [0], ["root"], upos=["INTJ"])
    assert plain == "1\tSí\t_\tINTJ\t_\t_\t0\troot\t_\t_\n\n"


def test_real_treebanks_read_without_error():
    from tests.conftest import real_data_or_skip

    root = real_data_or_skip("ud/en/en_ewt-ud-dev.conllu")
    sentences = list(read_conllu_sentences(f"{root}/ud/en/en_ewt-ud-dev.conllu"))
    assert len(sentences) == 2001 and all(sentence.heads.count(0) >= 1 for sentence in sentences)


def test_a_byte_order_mark_before_the_first_token_row_keeps_that_token(tmp_path):
    path = write(tmp_path, "\ufeff1\tA\t_\tX\t_\t_\t0\troot\t_\t_\n2\tB\t_\tX\t_\t_\t1\tdep\t_\t_\n")
    (sentence,) = read_conllu_sentences(path)
    assert sentence.words == ["A", "B"] and sentence.heads == [0, 1] and sentence.line_numbers == [1, 2]
