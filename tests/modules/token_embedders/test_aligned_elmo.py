"""`xlner_aligned_elmo`: each layer's map applied exactly, per instance language, never trained."""
import json
import os
import shutil

import numpy as np
import pytest
import torch
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.modules.elmo import batch_to_ids
from allennlp.modules.token_embedders import TokenEmbedder

from xlner_allennlp.alignment import Alignment, Normalization, load_alignment, save_alignment
from xlner_allennlp.contextual import Anchors, write_anchors
from xlner_allennlp.modules.elmo import contextual_layers, load_elmo_bilm

from tests.tiny_elmo import make_tiny_elmo, tiny_corpus

DIM = 16
NORMS = {"en": [2.0, 4.0, 8.0], "es": [3.0, 0.5, 5.0]}


def _orthogonal(seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((DIM, DIM)))
    return q.astype(np.float32)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """en (pivot, reference side) and es (mapped side, with a centring step) ELMos, anchors and artifacts."""
    root = tmp_path_factory.mktemp("aligned_elmo")
    rng = np.random.default_rng(0)
    languages = {}
    for seed, language in enumerate(("en", "es")):
        elmo = make_tiny_elmo(str(root / "elmo" / language), seed=seed)
        anchors = Anchors(["a"], np.ones((3, 1, DIM), np.float32), np.array([1]), np.array(NORMS[language]), 1)
        write_anchors(anchors, [], str(root / "anchors" / language), {})
        languages[language] = {"elmo": elmo, "anchors": str(root / "anchors" / language),
                               "alignment": str(root / "alignments" / "es-en")}
    for layer in range(3):
        source = Normalization(["center"], [rng.standard_normal(DIM).astype(np.float32)])
        target = Normalization(["unit"], [None]) if layer == 2 else Normalization()
        save_alignment(Alignment(_orthogonal(layer), source, target, "es", "en", "procrustes"),
                       str(root / "alignments" / "es-en" / f"layer{layer}"))
    return root, languages


def _embedder(languages, **settings):
    return TokenEmbedder.from_params(Params({"type": "xlner_aligned_elmo", "languages": languages, "dropout": 0.0, **settings}))


def _expected(setup, language, sentences, layer):
    """The artifact's own numpy transformation of the language's ELMo layer."""
    root, languages = setup
    bilm = load_elmo_bilm(languages[language]["elmo"])
    with torch.no_grad():
        layers, mask = contextual_layers(bilm, batch_to_ids(sentences))
    alignment = load_alignment(str(root / "alignments" / "es-en" / f"layer{layer}"))
    side = "mapped" if language == "es" else "reference"
    flat = layers[layer].reshape(-1, DIM).numpy() / NORMS[language][layer]
    mapped = alignment.apply(flat, side).reshape(layers[layer].shape)
    return mapped * mask.unsqueeze(-1).numpy()


def test_each_layer_map_is_applied_exactly_with_each_instances_language(setup):
    _, languages = setup
    sentences = tiny_corpus(5, seed=3)
    names = ["es", "en", "es", "en", "en"]
    for layer in range(3):
        embedder = _embedder(languages, layers=[layer])
        output = embedder(batch_to_ids(sentences), language=names).detach().numpy()
        assert embedder.get_output_dim() == DIM and output.shape[:2] == batch_to_ids(sentences).shape[:2]
        for language in ("es", "en"):
            rows = [i for i, n in enumerate(names) if n == language]
            expected = _expected(setup, language, [sentences[i] for i in rows], layer)
            np.testing.assert_allclose(output[rows, : expected.shape[1]], expected, atol=1e-5)


def test_the_cache_returns_what_the_elmos_compute_and_stops_at_its_size(setup):
    _, languages = setup
    sentences = tiny_corpus(6, seed=5)
    names = ["es", "en", "es", "en", "en", "es"]
    plain = _embedder(languages, layers=[0, 2])
    cached = _embedder(languages, layers=[0, 2], cache_tokens=sum(map(len, sentences[:4])))
    expected = plain(batch_to_ids(sentences), language=names).detach()
    first = cached(batch_to_ids(sentences[:4]), language=names[:4]).detach()
    assert cached._cached_tokens == sum(map(len, sentences[:4])) and len(cached._cache) == 4
    # The same sentences again, in another order and with others (computed, not cached: it is full).
    order = [5, 2, 0, 4, 1, 3]
    again = cached(batch_to_ids([sentences[i] for i in order]), language=[names[i] for i in order]).detach()
    assert len(cached._cache) == 4
    np.testing.assert_allclose(first.numpy(), expected[:4, : first.size(1)].numpy(), atol=1e-5)
    np.testing.assert_allclose(again.numpy(), expected[order].numpy(), atol=1e-5)
    # Replacing a language's ELMo forgets its sentences.
    cached.add_language("es", languages["es"])
    assert {key[0] for key in cached._cache} == {"en"}
    with pytest.raises(ConfigurationError, match="cache_tokens"):
        _embedder(languages, cache_tokens=-1)


def test_scalar_mix_mixes_the_mapped_layers(setup):
    _, languages = setup
    sentences = tiny_corpus(3, seed=4)
    embedder = _embedder(languages, layers=[0, 1, 2])
    with torch.no_grad():
        embedder._scalar_mix.scalar_parameters[1].fill_(1.5)
        embedder._scalar_mix.gamma.fill_(0.7)
    output = embedder(batch_to_ids(sentences), language="es").detach().numpy()
    weights = torch.softmax(torch.tensor([0.0, 1.5, 0.0]), 0).numpy()
    expected = 0.7 * sum(w * _expected(setup, "es", sentences, layer) for layer, w in enumerate(weights))
    np.testing.assert_allclose(output, expected, atol=1e-5)


def test_nothing_but_the_scalar_mix_is_trained_and_no_gradient_reaches_elmo_or_maps(setup):
    _, languages = setup
    embedder = _embedder(languages, layers=[0, 1, 2])
    embedder.train()
    output = embedder(batch_to_ids(tiny_corpus(4, seed=5)), language=["en", "es", "es", "en"])
    output.sum().backward()
    trainable = [name for name, p in embedder.named_parameters() if p.requires_grad]
    assert trainable and all(name.startswith("_scalar_mix.") for name in trainable)
    frozen = [p for name, p in embedder.named_parameters() if name.startswith("_elmos.")]
    assert frozen and all(p.grad is None for p in frozen)
    assert all(not b.requires_grad for b in embedder._maps.buffers())
    assert embedder._scalar_mix.gamma.grad is not None


def test_elmo_and_maps_stay_out_of_the_state_dict_and_a_new_language_loads_from_configuration(setup):
    root, languages = setup
    trained = _embedder({"en": languages["en"]})
    state = trained.state_dict()
    assert not any("_elmos" in key or "_maps" in key for key in state)
    with_es = _embedder(languages, default_language="en")
    with_es.load_state_dict(state)  # the es ELMo is not in the saved state: rebuilt from its files
    sentences = tiny_corpus(2, seed=6)
    np.testing.assert_allclose(with_es(batch_to_ids(sentences), language="es").detach().numpy(),
                               _expected(setup, "es", sentences, 1), atol=1e-5)


def test_configuration_errors_name_the_missing_file(setup, tmp_path):
    root, languages = setup
    partial = tmp_path / "partial"
    shutil.copytree(languages["es"]["alignment"], partial)
    shutil.rmtree(partial / "layer1")
    with pytest.raises(ConfigurationError, match=r"layer 1 has no alignment artifact: .*partial/layer1 is missing"):
        _embedder({"es": {**languages["es"], "alignment": str(partial)}}, layers=[0, 1])
    failed = load_alignment(str(partial / "layer0"))
    failed.evaluation = {"status": "failed", "status_reason": "no identical strings match"}
    save_alignment(failed, str(partial / "layer1"))
    with pytest.raises(ConfigurationError, match=r"partial/layer1: the es->en alignment .*failed its own checks"):
        _embedder({"es": {**languages["es"], "alignment": str(partial)}}, layers=[0, 1])
    with pytest.raises(ConfigurationError, match="needs an \"elmo\" directory"):
        _embedder({"en": languages["en"], "fr": {"anchors": languages["en"]["anchors"]}})
    with pytest.raises(ConfigurationError, match=r"nowhere: no such ELMo directory"):
        _embedder({"fr": {"elmo": str(tmp_path / "nowhere")}})
    embedder = _embedder(languages)
    with pytest.raises(ConfigurationError, match="'fr'"):
        embedder(batch_to_ids([["a"]]), language=["fr"])
    mismatched = make_tiny_elmo(str(tmp_path / "mismatch"), seed=1)
    options = json.loads(open(os.path.join(mismatched, "options.json")).read())
    options["lstm"]["dim"] *= 2
    open(os.path.join(mismatched, "options.json"), "w").write(json.dumps(options))
    with pytest.raises(ConfigurationError, match=r"mismatch/weights.hdf5: .*has shape"):
        _embedder({"fr": {"elmo": mismatched}})
    with pytest.raises(ConfigurationError, match="needs \"anchors\""):
        _embedder({"es": {"elmo": languages["es"]["elmo"], "alignment": languages["es"]["alignment"]}})
