import json
import re
from pathlib import Path

import pytest
from allennlp.data import Vocabulary
from allennlp.data.data_loaders import MultiProcessDataLoader

from xlner_allennlp.data.dataset_readers import (
    ConllReader,
    PseudoLabelFileError,
    PseudoLabelledReader,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cross_augmented"
SOURCE = str(FIXTURES / "en.train.conll")
PSEUDO = str(FIXTURES / "es.pseudo_labelled.jsonl")
SOURCE_SENTENCES = 8
PSEUDO_SENTENCES = 3


def make_reader(**kwargs) -> PseudoLabelledReader:
    return PseudoLabelledReader(ConllReader(language="en", label_encoding="BIOUL"), **kwargs)


def test_reads_source_then_pseudo_labelled_sentences():
    instances = list(make_reader(pseudo_labelled_path=PSEUDO).read(SOURCE))
    languages = [instance["metadata"]["language"] for instance in instances]
    assert languages == ["en"] * SOURCE_SENTENCES + ["es"] * PSEUDO_SENTENCES
    last = instances[-1]
    assert last["metadata"]["words"] == ["Mary", "trabaja", "en", "Londres", "."]
    assert last["tags"].labels == ["U-PER", "O", "O", "U-LOC", "O"]
    # Source tags are converted to the base reader's BIOUL; pseudo tags are taken as they are.
    assert instances[0]["tags"].labels == ["B-PER", "L-PER", "O", "U-LOC", "O"]


def test_a_round_of_several_targets_gives_each_sentence_its_language():
    multi = str(FIXTURES / "multi.pseudo_labelled.jsonl")
    instances = list(make_reader(pseudo_labelled_path=multi).read(SOURCE))[SOURCE_SENTENCES:]
    assert [i["metadata"]["language"] for i in instances] == ["es", "es", "de", "de", "es"]
    assert instances[2]["metadata"]["words"] == ["Müller", "sagte", "heute", "."]


def test_switching_the_file_changes_what_the_next_read_yields():
    reader = make_reader()
    assert len(list(reader.read(SOURCE))) == SOURCE_SENTENCES
    reader.set_pseudo_labelled_path(PSEUDO)
    assert reader.pseudo_labelled_path == PSEUDO
    assert len(list(reader.read(SOURCE))) == SOURCE_SENTENCES + PSEUDO_SENTENCES
    reader.set_pseudo_labelled_path(None)
    assert len(list(reader.read(SOURCE))) == SOURCE_SENTENCES


def test_lazy_loader_sees_the_new_file_in_its_next_epoch():
    reader = make_reader()
    loader = MultiProcessDataLoader(reader, SOURCE, batch_size=4, max_instances_in_memory=100)
    vocab = Vocabulary.from_instances(make_reader(pseudo_labelled_path=PSEUDO).read(SOURCE))
    loader.index_with(vocab)

    def languages():
        return [meta["language"] for batch in loader for meta in batch["metadata"]]

    assert languages().count("es") == 0
    reader.set_pseudo_labelled_path(PSEUDO)
    assert sorted(languages()) == ["en"] * SOURCE_SENTENCES + ["es"] * PSEUDO_SENTENCES


def test_workers_read_every_sentence_once():
    reader = make_reader(pseudo_labelled_path=PSEUDO)
    loader = MultiProcessDataLoader(
        reader, SOURCE, batch_size=2, num_workers=2, max_instances_in_memory=10
    )
    in_workers = sorted(" ".join(i["metadata"]["words"]) for i in loader.iter_instances())
    in_process = sorted(" ".join(i["metadata"]["words"]) for i in reader.read(SOURCE))
    assert len(in_process) == SOURCE_SENTENCES + PSEUDO_SENTENCES
    assert in_workers == in_process


@pytest.mark.parametrize(
    "line, problem",
    [
        ("not json", "line 2: not JSON"),
        ('{"words": ["a", "b"], "tags": ["O"], "language": "es"}', "line 2: 2 words but 1 tags"),
        ('{"words": [], "tags": [], "language": "es"}', 'line 2: "words" must be a non-empty list'),
        ('{"words": ["a"], "tags": ["O"]}', 'line 2: "language" must be'),
        ("[1, 2]", "line 2: expected a JSON object"),
    ],
)
def test_bad_lines_name_the_file_and_line(tmp_path, line, problem):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"words": ["Hola"], "tags": ["O"], "language": "es"})
    path.write_text(good + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(PseudoLabelFileError, match=re.escape(f"{path}, {problem}")):
        list(make_reader(pseudo_labelled_path=str(path)).read(SOURCE))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(PseudoLabelFileError, match="pseudo-labelled file not found"):
        make_reader(pseudo_labelled_path=str(tmp_path / "missing.jsonl"))
