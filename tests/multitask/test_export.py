import numpy as np
import pytest
import torch

from xlner_allennlp.alignment import load_alignment, load_vectors
from xlner_allennlp.data.token_indexers.aligned_word import FIRST_ROW_ID, lookup_row, word_index
from xlner_allennlp.multitask import MultitaskBwe, MultitaskBweSettings, TaggedVocabulary, export_space


@pytest.fixture()
def model():
    documents = [("en", "Paris is big . London 2017".split() * 5), ("es", "París es grande . Londres".split() * 5)]
    vocabulary = TaggedVocabulary.build(documents, ["en", "es"], min_count=1)
    return MultitaskBwe(vocabulary, num_tags=3, settings=MultitaskBweSettings(dim=6))


def test_exported_vectors_and_identity_artifact(model, tmp_path):
    paths = export_space(model, str(tmp_path / "bwe"), "es")
    for language in ("en", "es"):
        vectors = load_vectors(paths[language])
        words, matrix = model.vectors(language)
        assert vectors.words == words and "@@UNKNOWN@@" not in words
        np.testing.assert_array_equal(vectors.matrix, matrix)
    alignment = load_alignment(paths["alignment"])
    assert (alignment.mapped_language, alignment.reference_language, alignment.method) == ("es", "en", "identity")
    assert alignment.hyperparameters["dim"] == 6
    es = load_vectors(paths["es"]).matrix
    np.testing.assert_allclose(alignment.apply(es, "mapped"), es)


def test_exported_space_loads_in_the_aligned_embedding(model, tmp_path):
    from xlner_allennlp.modules.token_embedders import AlignedEmbedding

    paths = export_space(model, str(tmp_path / "bwe"), "es")
    embedder = AlignedEmbedding(
        {"en": {"vectors": paths["en"], "alignment": paths["alignment"]},
         "es": {"vectors": paths["es"], "alignment": paths["alignment"]}},
        default_language="en",
    )
    for language, word in (("en", "Paris"), ("es", "París"), ("en", "2017")):
        row = lookup_row(word, word_index(paths[language]))  # the indexer's lookup of the raw token
        assert row is not None
        looked_up = embedder(torch.tensor([[row + FIRST_ROW_ID]]), language)[0, 0]
        expected = model.embeddings.detach()[model.vocabulary.row(language, word)]
        torch.testing.assert_close(looked_up, expected)
