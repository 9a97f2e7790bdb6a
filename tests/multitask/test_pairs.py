import gzip
import json

import pytest

from xlner_allennlp.multitask import DocumentPair, PairFileError, read_pairs, split_pair


def _write(path, lines):
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
    return str(path)


GOOD = json.dumps({"id": "a:1", "en": "one two three", "es": "uno dos tres cuatro"})


def test_reads_pairs_in_order(tmp_path):
    path = _write(tmp_path / "en-es.pairs.jsonl.gz", [GOOD, "", json.dumps({"id": "a:2", "en": "x", "es": "y"})])
    pairs = list(read_pairs(path, "es"))
    assert [(p.id, p.source, p.target, p.line) for p in pairs] == [
        ("a:1", ["one", "two", "three"], ["uno", "dos", "tres", "cuatro"], 1),
        ("a:2", ["x"], ["y"], 3),
    ]


@pytest.mark.parametrize(
    "line,message",
    [
        (json.dumps({"id": "b", "es": "uno"}), r"line 2: the pair has no 'en' document \(languages on this line: es\)"),
        (json.dumps({"id": "b", "en": "one", "es": "   "}), r"line 2: the 'es' document is empty"),
        (json.dumps({"id": "b", "en": "one", "es": 3}), r"line 2: the 'es' document must be a string"),
        ("{not json", r"line 2: not valid JSON"),
        ("[1, 2]", r"line 2: expected a JSON object"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = _write(tmp_path / "bad.jsonl.gz", [GOOD, line])
    with pytest.raises(PairFileError, match=message) as error:
        list(read_pairs(path, "es"))
    assert str(error.value).startswith(path)


def test_a_language_not_in_the_file_is_named_with_the_languages_it_has(tmp_path):
    path = _write(tmp_path / "en-es.pairs.jsonl.gz", [GOOD])
    with pytest.raises(PairFileError, match=r"en-es.pairs.jsonl.gz, line 1: the pair has no 'de' document \(languages on this line: en, es\)"):
        list(read_pairs(path, "de"))


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(PairFileError, match="cannot open the pairs file"):
        list(read_pairs(str(tmp_path / "absent.jsonl.gz"), "es"))
    with pytest.raises(PairFileError, match="holds no document pair"):
        list(read_pairs(_write(tmp_path / "empty.jsonl.gz", []), "es"))


def test_split_pair_cuts_aligned_pieces_and_keeps_every_token():
    pair = DocumentPair("d", [f"s{i}" for i in range(25)], [f"t{i}" for i in range(10)], 4)
    pieces = split_pair(pair, max_tokens=10)
    assert len(pieces) == 3 and all(len(p.source) <= 10 and len(p.target) <= 10 for p in pieces)
    assert sum((p.source for p in pieces), []) == pair.source
    assert sum((p.target for p in pieces), []) == pair.target
    assert {p.line for p in pieces} == {4}
    assert split_pair(pair, max_tokens=25) == [pair]


def test_the_real_corpora_read_with_their_target_language():
    import itertools

    from tests.conftest import real_data_or_skip

    data = real_data_or_skip("comparable/en-es.pairs.jsonl.gz")
    pairs = list(itertools.islice(read_pairs(f"{data}/comparable/en-es.pairs.jsonl.gz", "es"), 3))
    assert len(pairs) == 3 and all(p.source and p.target for p in pairs)
