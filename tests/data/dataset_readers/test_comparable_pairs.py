import gzip
import json

import pytest

from xlner_allennlp.data.dataset_readers import ComparablePairsReader
from xlner_allennlp.multitask import PairFileError


def _write(path, records):
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def test_one_instance_per_pair_piece(tmp_path):
    path = _write(tmp_path / "en-de.pairs.jsonl.gz", [
        {"id": "a", "en": "a b c d e", "de": "v w x y z q"},
        {"id": "b", "en": "one", "de": "eins"},
    ])
    instances = list(ComparablePairsReader("de", max_document_tokens=3).read(path))
    pairs = [instance["pair"].metadata for instance in instances]
    assert [p.id for p in pairs] == ["a#0", "a#1", "b"]
    assert pairs[0].source == ["a", "b"] and pairs[0].target == ["v", "w", "x"]


@pytest.mark.parametrize(
    "record,message",
    [
        ({"id": "x", "en": "a b"}, r"line 2: the pair has no 'de' document"),
        ({"id": "x", "de": "a b"}, r"line 2: the pair has no 'en' document"),
        ({"id": "x", "en": "", "de": "a"}, r"line 2: the 'en' document is empty"),
    ],
)
def test_bad_input_is_a_clear_error_naming_file_and_line(tmp_path, record, message):
    path = _write(tmp_path / "bad.jsonl.gz", [{"id": "a", "en": "a", "de": "b"}, record])
    with pytest.raises(PairFileError, match=message) as error:
        list(ComparablePairsReader("de").read(path))
    assert path in str(error.value)


def test_target_language_absent_from_the_file(tmp_path):
    path = _write(tmp_path / "en-de.pairs.jsonl.gz", [{"id": "a", "en": "a", "de": "b"}])
    with pytest.raises(PairFileError, match=r"line 1: the pair has no 'fr' document \(languages on this line: de, en\)"):
        list(ComparablePairsReader("fr").read(path))
