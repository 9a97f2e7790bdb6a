import os

import numpy as np
import pytest
import torch
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.data import Token, Vocabulary
from allennlp.modules.text_field_embedders import BasicTextFieldEmbedder
from allennlp.modules.token_embedders import TokenEmbedder

from tests.conftest import real_data_or_skip
from xlner_allennlp.alignment import (
    Alignment, Normalization, WordVectors, load_alignment, save_alignment, write_vectors,
)
from xlner_allennlp.data.token_indexers import AlignedWordIndexer
from xlner_allennlp.modules.token_embedders import AlignedEmbedding

DIM = 4
EN_WORDS = ["the", "dog", "house", "red", "water"]
ES_WORDS = ["perro", "el", "agua", "casa", "rojo", "y"]


def _write(path, words, matrix):
    write_vectors(WordVectors(words, np.asarray(matrix, dtype=np.float32), str(path)), str(path))
    return str(path)


def _unit(matrix):
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.fixture
def setup(tmp_path):
    """en (pivot) and es vectors, an es->en artifact (es: unit,center then W; en: unit), de unaligned."""
    rng = np.random.default_rng(0)
    en = rng.normal(size=(len(EN_WORDS), DIM)).astype(np.float32)
    es = rng.normal(size=(len(ES_WORDS), DIM)).astype(np.float32)
    # Small multiples of 1/4 survive the text format exactly.
    de = (rng.integers(1, 9, size=(3, DIM)) * rng.choice([-1, 1], size=(3, DIM)) / 4).astype(np.float32)
    mapping = rng.normal(size=(DIM, DIM)).astype(np.float32)
    alignment = Alignment(
        mapping=mapping,
        mapped_normalization=Normalization.fit(es, "unit,center"),
        reference_normalization=Normalization.fit(en, "unit"),
        mapped_language="es",
        reference_language="en",
    )
    artifact = str(tmp_path / "es-en")
    save_alignment(alignment, artifact)
    languages = {
        "en": {"vectors": _write(tmp_path / "en.npy", EN_WORDS, en), "alignment": artifact},
        "es": {"vectors": _write(tmp_path / "es.npy", ES_WORDS, es), "alignment": artifact},
        "de": {"vectors": _write(tmp_path / "de.vec", ["der", "hund", "haus"], de)},
    }
    expected = {
        "en": _unit(en),
        "es": (_unit(es) - _unit(es).mean(axis=0)) @ mapping,
        "de": _unit(de),
    }
    return languages, expected, {"en": en, "es": es, "de": de, "mapping": mapping}, tmp_path


def _all_ids(language, expected):
    n = expected[language].shape[0]
    return torch.arange(2, n + 2).unsqueeze(0)


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_each_language_is_normalized_then_mapped_once(setup, language):
    languages, expected, _, _ = setup
    embedder = AlignedEmbedding(languages)
    out = embedder(_all_ids(language, expected), language=[language])
    assert out.shape == (1, expected[language].shape[0], DIM)
    np.testing.assert_allclose(out[0].numpy(), expected[language], rtol=1e-5, atol=1e-6)


def test_unaligned_normalization_option(setup):
    languages, _, raw, _ = setup
    embedder = AlignedEmbedding({"de": languages["de"]}, normalization="none")
    out = embedder(torch.tensor([[2, 3, 4]]))
    np.testing.assert_allclose(out[0].numpy(), raw["de"], rtol=1e-6)
    with pytest.raises(ConfigurationError, match="unknown normalization step 'l2'"):
        AlignedEmbedding({"de": languages["de"]}, normalization="l2")


def test_per_instance_languages_padding_and_oov(setup):
    languages, expected, _, _ = setup
    embedder = AlignedEmbedding(languages)
    tokens = torch.tensor([[3, 1, 0], [3, 2, 0]])
    out = embedder(tokens, language=["en", "es"])
    np.testing.assert_allclose(out[0, 0].numpy(), expected["en"][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1, 0].numpy(), expected["es"][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1, 1].numpy(), expected["es"][0], rtol=1e-5, atol=1e-6)
    assert not out[0, 1:].any() and not out[1, 2].any()
    assert embedder.get_output_dim() == DIM


def test_side_defaults_and_explicit_side(setup):
    languages, expected, raw, _ = setup
    # The same artifact read as the reference side only normalizes, whatever the language is called.
    embedder = AlignedEmbedding({"spanish": dict(languages["es"], side="reference")})
    np.testing.assert_allclose(embedder(_all_ids("es", expected))[0].numpy(), _unit(raw["es"]), rtol=1e-5)
    with pytest.raises(ConfigurationError, match="maps 'es' into 'en'; set \"side\""):
        AlignedEmbedding({"spanish": languages["es"]})
    with pytest.raises(ConfigurationError, match="side must be 'mapped' or 'reference'"):
        AlignedEmbedding({"es": dict(languages["es"], side="pivot")})
    with pytest.raises(ConfigurationError, match="\"side\" is given but no \"alignment\""):
        AlignedEmbedding({"de": dict(languages["de"], side="mapped")})


def test_table_is_frozen_and_not_in_the_state_dict(setup):
    languages, _, _, _ = setup
    embedder = AlignedEmbedding(languages, default_language="en")
    assert list(embedder.parameters()) == []
    assert "table" not in embedder.state_dict() and not embedder.table.requires_grad
    text_field_embedder = BasicTextFieldEmbedder({"tokens": embedder})
    projection = torch.nn.Linear(DIM, 2)
    model = torch.nn.ModuleDict({"embedder": text_field_embedder, "projection": projection})
    before = embedder.table.clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    tokens = {"tokens": {"tokens": torch.tensor([[2, 3, 4], [2, 3, 0]])}}
    loss = projection(text_field_embedder(tokens, language=["es", "en"])).sum()
    loss.backward()
    optimizer.step()
    assert projection.weight.grad is not None and projection.weight.grad.abs().sum() > 0
    assert embedder.table.grad is None
    assert torch.equal(embedder.table, before)
    assert [name for name, _ in model.named_parameters()] == ["projection.weight", "projection.bias"]


def test_language_reaches_the_embedder_through_a_text_field_embedder(setup):
    languages, expected, _, _ = setup
    embedder = AlignedEmbedding(languages, default_language="de")
    text_field_embedder = BasicTextFieldEmbedder({"tokens": embedder})
    tokens = {"tokens": {"tokens": torch.tensor([[2], [2]])}}
    with_language = text_field_embedder(tokens, language=["es", "en"])
    np.testing.assert_allclose(with_language[0, 0].numpy(), expected["es"][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(with_language[1, 0].numpy(), expected["en"][0], rtol=1e-5, atol=1e-6)
    without = text_field_embedder(tokens)
    np.testing.assert_allclose(without[:, 0].numpy(), expected["de"][[0, 0]], rtol=1e-5)


def test_wrapping_dimensions(setup):
    languages, expected, _, _ = setup
    embedder = AlignedEmbedding(languages)
    tokens = torch.tensor([[[2, 3], [4, 0]], [[2, 3], [4, 0]]])
    direct = embedder(tokens, language=["en", "es"])
    assert direct.shape == (2, 2, 2, DIM)
    np.testing.assert_allclose(direct[1, 1, 0].numpy(), expected["es"][2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(direct[0, 1, 0].numpy(), expected["en"][2], rtol=1e-5, atol=1e-6)
    # TimeDistributed (num_wrapping_dims=1) flattens (batch, 2) into 4 rows, 2 per instance.
    wrapped = BasicTextFieldEmbedder({"tokens": embedder})(
        {"tokens": {"tokens": tokens}}, num_wrapping_dims=1, language=["en", "es"]
    )
    assert torch.equal(wrapped, direct)
    with pytest.raises(ConfigurationError, match="3 languages given for a batch of 2"):
        embedder(tokens, language=["en", "es", "de"])


def test_add_language_plugs_in_a_new_aligned_language(setup):
    languages, expected, _, tmp_path = setup
    embedder = AlignedEmbedding({"en": languages["en"]})
    assert embedder.languages == ["en"]
    with pytest.raises(ConfigurationError, match="unknown language 'es'; configured languages: en"):
        embedder(torch.tensor([[2]]), language=["es"])
    embedder.add_language("es", languages["es"])
    embedder.add_language("de", languages["de"])
    assert embedder.languages == ["en", "es", "de"]
    for language in ("en", "es", "de"):
        out = embedder(_all_ids(language, expected), language=language)
        np.testing.assert_allclose(out[0].numpy(), expected[language], rtol=1e-5, atol=1e-6)
    # Replacing a language rebuilds its block and leaves the others as they were.
    other = _write(tmp_path / "es2.vec", ["perro"], [[3.0, 0.0, 4.0, 0.0]])
    embedder.add_language("es", {"vectors": other})
    assert embedder.languages == ["en", "de", "es"]
    np.testing.assert_allclose(embedder(torch.tensor([[2]]), language="es")[0, 0].numpy(), [0.6, 0, 0.8, 0])
    with pytest.raises(ConfigurationError, match="beyond the 1 words of language 'es'"):
        embedder(torch.tensor([[2, 3]]), language="es")
    np.testing.assert_allclose(embedder(_all_ids("de", expected), language="de")[0].numpy(), expected["de"], rtol=1e-5)


def test_configuration_errors_name_the_file_and_language(setup):
    languages, _, _, tmp_path = setup
    missing = str(tmp_path / "fr.npy")
    with pytest.raises(ConfigurationError, match=f"language 'fr': {missing}: no such vector file"):
        AlignedEmbedding({"fr": {"vectors": missing}})
    wide = _write(tmp_path / "nl.vec", ["de", "het"], np.ones((2, DIM + 1)))
    with pytest.raises(ConfigurationError, match=f"language 'nl': {wide} has 5-dimensional vectors but .*en.npy has 4"):
        AlignedEmbedding({"en": languages["en"], "nl": {"vectors": wide}})
    with pytest.raises(ConfigurationError, match=f"the artifact .*es-en is 4-dimensional but {wide} has 5"):
        AlignedEmbedding({"es": {"vectors": wide, "alignment": languages["es"]["alignment"]}})
    with pytest.raises(ConfigurationError, match=f"language 'es': {tmp_path}/nowhere: no such alignment directory"):
        AlignedEmbedding({"es": dict(languages["es"], alignment=str(tmp_path / "nowhere"))})
    with pytest.raises(ConfigurationError, match=r"unknown key\(s\) \['alignement'\]"):
        AlignedEmbedding({"es": dict(languages["es"], alignement="x")})
    with pytest.raises(ConfigurationError, match="unknown language 'it'"):
        AlignedEmbedding(languages, default_language="it")
    embedder = AlignedEmbedding(languages)
    with pytest.raises(ConfigurationError, match="no language given and no default_language"):
        embedder(torch.tensor([[2]]))


def test_an_alignment_that_failed_its_checks_is_refused_before_any_training(setup):
    languages, _, _, tmp_path = setup
    failed = load_alignment(languages["es"]["alignment"])
    failed.evaluation = {"status": "failed", "status_reason": "mean cosine 0.01 at chance level 0.01"}
    save_alignment(failed, str(tmp_path / "failed-es-en"))
    with pytest.raises(
        ConfigurationError,
        match=r"language 'es': .*failed-es-en: the es->en alignment \(procrustes\) failed its own checks "
              r"\(mean cosine 0.01 at chance level 0.01\).*--dictionary.*--seed identical",
    ):
        AlignedEmbedding({"es": dict(languages["es"], alignment=str(tmp_path / "failed-es-en"))})


def test_max_vocab_matches_the_indexer(setup):
    languages, expected, _, _ = setup
    limited = {"es": dict(languages["es"], max_vocab=3)}
    embedder = AlignedEmbedding(limited)
    indexer = AlignedWordIndexer(limited)
    ids = indexer.tokens_to_indices([Token(w) for w in ["agua", "casa"]], Vocabulary())["tokens"]
    assert ids == [4, 1]
    assert embedder.table.shape == (3 + 2, DIM)
    # The artifact's centering statistics are frozen, so the kept rows map exactly as before.
    out = embedder(torch.tensor([ids]))
    np.testing.assert_allclose(out[0, 0].numpy(), expected["es"][2], rtol=1e-5, atol=1e-6)
    assert not out[0, 1].any()


def test_from_params_like_a_jsonnet_config(setup):
    languages, expected, _, _ = setup
    params = Params(
        {
            "type": "xlner_aligned_embedding",
            "languages": {
                "en": {"vectors": languages["en"]["vectors"], "alignment": languages["en"]["alignment"], "side": None},
                "es": {"vectors": languages["es"]["vectors"], "alignment": languages["es"]["alignment"], "max_vocab": 6},
            },
            "normalization": "unit",
            "default_language": "en",
        }
    )
    embedder = TokenEmbedder.from_params(params)
    assert isinstance(embedder, AlignedEmbedding) and embedder.languages == ["en", "es"]
    np.testing.assert_allclose(embedder(_all_ids("en", expected))[0].numpy(), expected["en"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        embedder(_all_ids("es", expected), language=["es"])[0].numpy(), expected["es"], rtol=1e-5, atol=1e-6
    )


def test_translations_under_an_exact_rotation_get_identical_embeddings(tmp_path):
    """es vectors are a rotation R of the en vectors (rows shuffled); the artifact holds R^-1."""
    rng = np.random.default_rng(1)
    english = ["one", "two", "three", "four", "five", "six"]
    spanish = {"one": "uno", "two": "dos", "three": "tres", "four": "cuatro", "five": "cinco", "six": "seis"}
    en = rng.normal(size=(len(english), 8)).astype(np.float64)
    rotation, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    order = rng.permutation(len(english))
    es_words = [spanish[english[i]] for i in order]
    es = (en @ rotation)[order]
    alignment = Alignment(
        mapping=rotation.T,
        mapped_normalization=Normalization(["unit"], [None]),
        reference_normalization=Normalization(["unit"], [None]),
        mapped_language="es",
        reference_language="en",
    )
    artifact = str(tmp_path / "es-en")
    save_alignment(alignment, artifact)
    languages = {
        "en": {"vectors": _write(tmp_path / "en.npy", english, en), "alignment": artifact},
        "es": {"vectors": _write(tmp_path / "es.npy", es_words, es), "alignment": artifact},
    }
    embedder = AlignedEmbedding(languages)
    indexer = AlignedWordIndexer(languages)
    en_ids = indexer.for_language("en").tokens_to_indices([Token(w) for w in english], Vocabulary())["tokens"]
    es_ids = indexer.for_language("es").tokens_to_indices(
        [Token(spanish[w].capitalize()) for w in english], Vocabulary()
    )["tokens"]
    assert en_ids != es_ids  # the rows are shuffled, so only the mapping can match them
    out = embedder(torch.tensor([en_ids, es_ids]), language=["en", "es"])
    np.testing.assert_allclose(out[1].numpy(), out[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(out[0].numpy(), _unit(en), atol=1e-5)


def test_real_vectors_en_es():
    emb = os.path.join(real_data_or_skip("emb/en.npy", "emb/es.npy"), "emb")
    languages = {
        language: {"vectors": os.path.join(emb, f"{language}.npy"), "max_vocab": 2000} for language in ("en", "es")
    }
    embedder = AlignedEmbedding(languages)
    indexer = AlignedWordIndexer(languages)
    words = {"en": ["The", "house", "qwxzv"], "es": ["La", "casa", "qwxzv"]}
    ids = [
        indexer.for_language(language).tokens_to_indices([Token(w) for w in words[language]], Vocabulary())["tokens"]
        for language in ("en", "es")
    ]
    assert all(i[0] > 1 and i[1] > 1 and i[2] == 1 for i in ids)
    out = embedder(torch.tensor(ids), language=["en", "es"])
    assert out.shape == (2, 3, 300)
    np.testing.assert_allclose(out[:, :2].norm(dim=-1).numpy(), 1.0, rtol=1e-5)
    assert not out[:, 2].any()


def test_an_artifact_that_maps_both_sides_maps_the_reference_language_too(setup):
    """A multi-step artifact with a reference-side mapping W_r: English rows are unit(en) @ W_r,
    Spanish rows (unit(es) - mean) @ W, each through its own side of the one artifact."""
    languages, expected, raw, tmp_path = setup
    reference_mapping = np.random.default_rng(5).normal(size=(DIM, DIM)).astype(np.float32)
    alignment = Alignment(
        mapping=raw["mapping"], reference_mapping=reference_mapping,
        mapped_normalization=Normalization.fit(raw["es"], "unit,center"),
        reference_normalization=Normalization.fit(raw["en"], "unit"),
        mapped_language="es", reference_language="en", method="multistep",
    )
    artifact = str(tmp_path / "es-en-both")
    save_alignment(alignment, artifact)
    embedder = AlignedEmbedding({language: dict(languages[language], alignment=artifact) for language in ("en", "es")})
    english = embedder(_all_ids("en", expected), language=["en"])[0].numpy()
    spanish = embedder(_all_ids("es", expected), language=["es"])[0].numpy()
    np.testing.assert_allclose(english, _unit(raw["en"]) @ reference_mapping, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(spanish, expected["es"], rtol=1e-5, atol=1e-6)
    assert not np.allclose(english, expected["en"], atol=1e-3)


def test_targets_of_different_artifacts_must_share_the_reference_placement(setup):
    """Two targets in one model: a second es->en-like artifact (another mapping) that places English
    as the first does is accepted; one that also maps English (multistep-like) is refused, at
    construction and when plugged in, and a refused language leaves the embedder as it was."""
    languages, expected, raw, tmp_path = setup

    def artifact(name, reference_mapping=None):
        alignment = Alignment(
            mapping=np.random.default_rng(7).normal(size=(DIM, DIM)).astype(np.float32),
            reference_mapping=reference_mapping,
            mapped_normalization=Normalization.fit(raw["es"], "unit"),
            reference_normalization=Normalization.fit(raw["en"], "unit"),
            mapped_language="pt", reference_language="en",
        )
        save_alignment(alignment, str(tmp_path / name))
        return {"vectors": languages["es"]["vectors"], "alignment": str(tmp_path / name)}

    alike = artifact("pt-en")
    elsewhere = artifact("pt-en-multistep", np.eye(DIM, dtype=np.float32)[::-1].copy())
    pair = {"en": languages["en"], "es": languages["es"]}
    embedder = AlignedEmbedding({**pair, "pt": alike})
    assert embedder.languages == ["en", "es", "pt"]
    with pytest.raises(ConfigurationError, match="pt-en-multistep of language 'pt' places 'en' differently"):
        AlignedEmbedding({**pair, "pt": elsewhere})
    embedder = AlignedEmbedding(pair)
    with pytest.raises(ConfigurationError, match="places 'en' differently"):
        embedder.add_language("pt", elsewhere)
    assert embedder.languages == ["en", "es"]
    embedder.add_language("pt", alike)
    # English alone, placed by the multistep-like artifact, is consistent with itself.
    assert AlignedEmbedding({"en": dict(languages["en"], alignment=elsewhere["alignment"]), "pt": elsewhere}).languages == ["en", "pt"]
