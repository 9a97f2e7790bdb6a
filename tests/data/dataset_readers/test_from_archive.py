from allennlp.common import Params

from xlner_allennlp.data.dataset_readers import ConllReader, evaluation_reader

CONLL = {"type": "xlner_conll", "language": "en", "label_encoding": "IOB2"}


def test_the_validation_reader_is_used_in_the_given_language():
    config = Params({"dataset_reader": {"type": "xlner_conll"}, "validation_dataset_reader": dict(CONLL)})
    reader = evaluation_reader(config, "nl", "latin-1")
    assert isinstance(reader, ConllReader)
    assert (reader.language, reader._encoding, reader.label_encoding) == ("nl", "latin-1", "IOB2")
    assert config["validation_dataset_reader"]["language"] == "en"  # the config is left as it was


def test_a_pseudo_labelled_training_reader_is_unwrapped():
    config = Params({"dataset_reader": {"type": "xlner_pseudo_labelled", "base_reader": dict(CONLL)}})
    reader = evaluation_reader(config, "es", "utf-8")
    assert type(reader) is ConllReader
    assert (reader.language, reader.label_encoding) == ("es", "IOB2")
