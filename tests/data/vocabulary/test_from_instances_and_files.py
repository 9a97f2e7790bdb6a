from allennlp.common import Params
from allennlp.data import Instance, Token, Vocabulary
from allennlp.data.fields import SequenceLabelField, TextField
from allennlp.data.token_indexers import TokenCharactersIndexer

from xlner_allennlp.data.vocabulary import FromInstancesAndFiles  # noqa: F401  registers it


def _instance(words, tags):
    text = TextField([Token(w) for w in words], {"token_characters": TokenCharactersIndexer(min_padding_length=3)})
    return Instance({"tokens": text, "tags": SequenceLabelField(tags, text)})


def test_extra_files_add_only_the_named_namespaces(tmp_path):
    unlabelled = tmp_path / "de.tokens"
    unlabelled.write_text("Größe\nüber\n\nJa\n", encoding="utf-8")
    english = [_instance(["Go", "home"], ["B-PER", "O"])]
    params = Params({
        "type": "xlner_from_instances_and_files",
        "reader": {"type": "xlner_conll", "language": "de",
                   "token_indexers": {"token_characters": {"type": "characters", "min_padding_length": 3}}},
        "data_paths": [str(unlabelled)],
        "namespaces": ["token_characters"],
    })
    vocab = Vocabulary.from_params(params, instances=english)
    plain = Vocabulary.from_instances(english)
    for character in "ßüJ":
        assert plain.get_token_index(character, "token_characters") == 1  # out of vocabulary in English
        assert vocab.get_token_index(character, "token_characters") > 1
    ids = [vocab.get_token_index(c, "token_characters") for c in "Größeüb"]
    assert len(set(ids)) == len(ids)  # each its own id
    assert set(plain.get_token_to_index_vocabulary("token_characters")) < set(
        vocab.get_token_to_index_vocabulary("token_characters"))
    assert vocab.get_token_to_index_vocabulary("labels") == plain.get_token_to_index_vocabulary("labels")


def test_min_count_applies_to_the_combined_counts(tmp_path):
    unlabelled = tmp_path / "es.tokens"
    unlabelled.write_text("ñ\nñx\n", encoding="utf-8")
    params = Params({
        "type": "xlner_from_instances_and_files",
        "reader": {"type": "xlner_conll", "language": "es",
                   "token_indexers": {"token_characters": {"type": "characters", "min_padding_length": 3}}},
        "data_paths": [str(unlabelled)],
        "namespaces": ["token_characters"],
        "min_count": {"token_characters": 2},
    })
    vocab = Vocabulary.from_params(params, instances=[_instance(["x"], ["O"])])
    assert vocab.get_token_index("ñ", "token_characters") > 1
    assert vocab.get_token_index("x", "token_characters") > 1
    assert vocab.get_token_index("Z", "token_characters") == 1
