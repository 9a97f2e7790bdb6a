"""Anchors aligned per layer with the unchanged alignment library recover a known rotation.

The "foreign" language runs the same tiny ELMo with every layer's outputs rotated by a known
orthogonal R_l, so its anchors are the English anchors times R_l and the correct map is R_l^T.
"""

import numpy as np
import pytest
import torch

from xlner_allennlp.alignment import align_files, load_alignment, load_vectors
from xlner_allennlp.commands.anchors import extract_anchors
from xlner_allennlp.contextual import layer_file, write_anchors
from xlner_allennlp.modules.elmo import contextual_layers, load_elmo_bilm

from tests.tiny_elmo import make_tiny_elmo, tiny_corpus

DIM = 16


@pytest.fixture(scope="module")
def anchors(tmp_path_factory):
    root = tmp_path_factory.mktemp("anchor_alignment")
    bilm = load_elmo_bilm(make_tiny_elmo(str(root / "elmo"), seed=3))
    text = root / "text.txt"
    text.write_text("".join(" ".join(s) + "\n" for s in tiny_corpus(150, seed=7)), encoding="utf-8")
    rotations = [np.linalg.qr(np.random.default_rng(10 + l).standard_normal((DIM, DIM)))[0].astype(np.float32)
                 for l in range(3)]

    def rotated(ids):
        layers, mask = contextual_layers(bilm, ids)
        return [layer @ torch.from_numpy(r) for layer, r in zip(layers, rotations)], mask

    for language, layers_of in (("en", lambda ids: contextual_layers(bilm, ids)), ("xx", rotated)):
        result, geometry, _ = extract_anchors(layers_of, 3, DIM, str(text), min_count=2, batch_size=16)
        write_anchors(result, geometry, str(root / language), {})
    words = load_vectors(layer_file(str(root / "en"), 1)).words
    (root / "xx-en.txt").write_text("".join(f"{w} {w}\n" for w in words), encoding="utf-8")
    return root, rotations


@pytest.mark.parametrize("method", ["procrustes", "self-learning"])
def test_each_layer_map_recovers_the_rotation(anchors, method, tmp_path):
    root, rotations = anchors
    for layer, rotation in enumerate(rotations):
        source, target = layer_file(str(root / "xx"), layer), layer_file(str(root / "en"), layer)
        output = str(tmp_path / f"layer{layer}")
        align_files(source, target, method, output, normalization="none", mapped_language="xx",
                    reference_language="en", dictionary=str(root / "xx-en.txt") if method == "procrustes" else None)
        alignment = load_alignment(output)
        foreign, english = load_vectors(source), load_vectors(target)
        assert foreign.words == english.words and len(foreign) > DIM
        np.testing.assert_allclose(foreign.matrix, english.matrix @ rotation, atol=1e-4)  # the fixture is right
        np.testing.assert_allclose(alignment.apply(foreign.matrix, "mapped"), english.matrix, atol=1e-3)
        if layer > 0:  # layer 0 is [cnn; cnn]: rank DIM / 2, so the map is only fixed on that subspace
            np.testing.assert_allclose(alignment.mapping, rotation.T, atol=1e-3)
