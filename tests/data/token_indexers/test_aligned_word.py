import pickle

import numpy as np
import pytest
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.data import Batch, Instance, Token, TokenIndexer, Vocabulary
from allennlp.data.fields import TextField

from xlner_allennlp.alignment import WordVectors, write_vectors
from xlner_allennlp.data.token_indexers import AlignedWordIndexer
from xlner_allennlp import language_vectors
from xlner_allennlp.modules.token_embedders import AlignedEmbedding

EN_WORDS = ["the", "bank", "Bank", "Apple", "paris", "0000", "00", "a0", "tail"]
ES_WORDS = ["el", "banco", "parís", "00"]


def _write(directory, name, words):
    path = str(directory / f"{name}.npy")
    matrix = np.arange(len(words) * 3, dtype=np.float32).reshape(len(words), 3) + 1
    write_vectors(WordVectors(words, matrix, path), path)
    return path


@pytest.fixture
def languages(tmp_path):
    return {
        "en": {"vectors": _write(tmp_path, "en", EN_WORDS), "alignment": None},
        "es": {"vectors": _write(tmp_path, "es", ES_WORDS)},
    }


def _ids(indexer, words):
    return indexer.tokens_to_indices([Token(w) for w in words], Vocabulary())["tokens"]


def test_ids_are_rows_plus_two_and_unknown_words_are_oov(languages):
    indexer = AlignedWordIndexer(languages, default_language="en")
    assert _ids(indexer, ["the", "tail", "zebra"]) == [2, 10, 1]


def test_lookup_policy(languages):
    indexer = AlignedWordIndexer(languages, default_language="en")
    # Lowercased first ("Bank" -> "bank", not the row of "Bank"), then as is ("Apple" is only
    # stored capitalized), then digits to 0 on the lowercased token ("1984", "A7", "17").
    assert _ids(indexer, ["Bank", "PARIS", "Apple", "1984", "A7", "17", "1x", "APPLE"]) == [
        3, 6, 5, 7, 9, 8, 1, 1,
    ]


def test_for_language_binds_a_cached_copy(languages):
    indexer = AlignedWordIndexer(languages, default_language="en")
    spanish = indexer.for_language("es")
    assert spanish is indexer.for_language("es")
    assert spanish.language == "es" and indexer.language == "en"
    assert _ids(spanish, ["el", "PARÍS", "the", "42"]) == [2, 4, 1, 5]
    assert _ids(indexer, ["el", "the"]) == [1, 2]
    assert spanish.for_language("en") is not indexer and _ids(spanish.for_language("en"), ["the"]) == [2]


def test_single_language_is_the_default(languages):
    indexer = AlignedWordIndexer({"es": languages["es"]})
    assert indexer.language == "es" and _ids(indexer, ["banco"]) == [3]


def test_unknown_languages_are_clear_errors(languages):
    indexer = AlignedWordIndexer(languages)
    with pytest.raises(ConfigurationError, match=r"unknown language 'fr'; configured languages: en, es"):
        indexer.for_language("fr")
    with pytest.raises(ConfigurationError, match="no language given and no default_language"):
        _ids(indexer, ["the"])
    with pytest.raises(ConfigurationError, match="unknown language 'de'"):
        AlignedWordIndexer(languages, default_language="de")
    with pytest.raises(ConfigurationError, match="'nl' needs a \"vectors\" path"):
        AlignedWordIndexer({"nl": {"alignment": "x"}})


def test_missing_vector_file_names_language_and_file(tmp_path):
    missing = str(tmp_path / "nl.npy")
    indexer = AlignedWordIndexer({"nl": {"vectors": missing}})
    with pytest.raises(ConfigurationError, match=f"language 'nl': {missing}: no such vector file"):
        _ids(indexer, ["de"])


def test_max_vocab_keeps_the_first_rows(languages):
    limited = {"en": dict(languages["en"], max_vocab=2)}
    indexer = AlignedWordIndexer(limited)
    assert _ids(indexer, ["the", "bank", "tail"]) == [2, 3, 1]
    too_many = AlignedWordIndexer({"en": dict(languages["en"], max_vocab=50)})
    with pytest.raises(ConfigurationError, match="max_vocab=50 is larger than the file"):
        _ids(too_many, ["the"])


def test_add_language(languages, tmp_path):
    indexer = AlignedWordIndexer({"en": languages["en"]})
    with pytest.raises(ConfigurationError):
        indexer.for_language("es")
    indexer.add_language("es", languages["es"])
    assert _ids(indexer.for_language("es"), ["banco"]) == [3]
    replaced = _write(tmp_path / "other", "es", ["banco", "el"])
    indexer.add_language("es", {"vectors": replaced})
    assert _ids(indexer.for_language("es"), ["banco"]) == [2]


def test_padding_in_a_text_field_and_no_vocabulary_counts(languages):
    indexer = AlignedWordIndexer(languages, default_language="en", token_min_padding_length=5)
    instances = [
        Instance({"tokens": TextField([Token("the"), Token("zebra")], {"tokens": indexer.for_language("en")})}),
        Instance({"tokens": TextField([Token("el")], {"tokens": indexer.for_language("es")})}),
    ]
    vocabulary = Vocabulary.from_instances(instances)
    assert vocabulary.get_vocab_size("tokens") == 2  # only padding and OOV: nothing was counted
    batch = Batch(instances)
    batch.index_instances(vocabulary)
    tensor = batch.as_tensor_dict()["tokens"]["tokens"]["tokens"]
    assert tensor.tolist() == [[2, 1, 0, 0, 0], [2, 0, 0, 0, 0]]


def test_pickling_drops_the_word_map(languages):
    indexer = AlignedWordIndexer(languages, default_language="en")
    spanish = indexer.for_language("es")
    _ids(indexer, ["the"])
    _ids(spanish, ["el"])
    data = pickle.dumps(indexer)
    assert b"tail" not in data and b"banco" not in data
    restored = pickle.loads(data)
    assert restored == indexer
    assert _ids(restored, ["the", "tail"]) == [2, 10]
    assert _ids(restored.for_language("es"), ["banco"]) == [3]
    assert _ids(pickle.loads(pickle.dumps(spanish)), ["banco", "the"]) == [3, 1]


def test_word_lists_are_shared_with_the_embedder(languages, monkeypatch):
    AlignedEmbedding(languages, default_language="en")

    def no_second_read(*args, **kwargs):
        raise AssertionError("the word list was read twice")

    monkeypatch.setattr(language_vectors, "load_vocab", no_second_read)
    indexer = AlignedWordIndexer(languages, default_language="en")
    assert _ids(indexer.for_language("es"), ["banco"]) == [3]
    assert _ids(indexer, ["tail"]) == [10]


def test_from_params(languages):
    params = Params(
        {
            "type": "xlner_aligned_word",
            # The embedder's keys are checked but not used by the indexer (no artifact is read).
            "languages": {"en": dict(languages["en"], alignment="es-en", side="reference"), "es": languages["es"]},
            "default_language": "es",
        }
    )
    indexer = TokenIndexer.from_params(params)
    assert isinstance(indexer, AlignedWordIndexer)
    assert _ids(indexer, ["el"]) == [2] and _ids(indexer.for_language("en"), ["the"]) == [2]
