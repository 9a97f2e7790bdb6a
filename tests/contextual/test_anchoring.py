"""The anchoring pairs and penalty: raw-scale layer-0 halves, lowercase matching against the most
frequent forms, dropped pairs counted, and bad input named by file."""
import json
import os

import numpy as np
import pytest
import torch

from tests.tiny_anchors import NO_ANCHOR, NO_TARGET, TRANSLATIONS, write_tiny_anchors, write_tiny_dictionary
from xlner_allennlp.contextual.anchoring import (
    AnchoringError,
    AnchoringOptions,
    anchor_pairs,
    anchor_penalty,
    layer0_anchors,
)

# The LM's vocabulary, most frequent first: "Größe" only cased, "Cat" more frequent than "cat".
VOCABULARY = ["@@PADDING@@", "@@UNKNOWN@@", "the", "Cat", "cat", "dog", "bird", "tree", "park", "Größe", "mat"]


@pytest.fixture
def files(tmp_path):
    anchors, raw = write_tiny_anchors(str(tmp_path / "anchors"), projection_dim=8)
    return anchors, write_tiny_dictionary(str(tmp_path / "es-en.txt")), raw


def test_layer0_anchors_are_one_half_back_on_the_raw_scale(files):
    anchors, _, raw = files
    vectors = layer0_anchors(anchors, projection_dim=8)
    assert set(vectors) == set(raw)
    for word, vector in raw.items():
        np.testing.assert_allclose(vectors[word], vector, rtol=1e-5)


def test_pairs_match_lowercase_forms_and_count_the_dropped(files):
    anchors, dictionary, raw = files
    pairs = anchor_pairs(AnchoringOptions(anchors, dictionary), VOCABULARY, projection_dim=8)
    assert (pairs.n_read, pairs.n_no_anchor, pairs.n_no_target) == (len(TRANSLATIONS) + 2, 1, 1)
    # "cat" stands for its most frequent casing "Cat"; "größe" for "Größe".
    assert pairs.target_words == ["Cat", "dog", "bird", "tree", "park", "Größe"]
    np.testing.assert_allclose(pairs.anchors[0], raw["cat_en"], rtol=1e-5)
    assert NO_ANCHOR[0] not in pairs.target_words and NO_TARGET[0] not in pairs.target_words
    exact = anchor_pairs(AnchoringOptions(anchors, dictionary, lowercase=False), VOCABULARY, projection_dim=8)
    assert exact.target_words == ["cat", "dog", "bird", "tree", "park"]


def test_penalty_is_the_mean_squared_distance_per_coordinate():
    vectors, anchors = torch.zeros(2, 4), torch.tensor([[1.0, 0, 0, 0], [2.0, 0, 0, 0]])
    assert anchor_penalty(vectors, anchors).item() == pytest.approx((1 + 4) / 2 / 4)


def test_bad_input_names_the_file(files, tmp_path):
    anchors, dictionary, _ = files
    with pytest.raises(AnchoringError, match="layer0.npy: anchors are 16-dimensional.*2 \\* projection_dim = 32"):
        anchor_pairs(AnchoringOptions(anchors, dictionary), VOCABULARY, projection_dim=16)
    with pytest.raises(AnchoringError, match="nowhere: no such anchors directory"):
        anchor_pairs(AnchoringOptions(str(tmp_path / "nowhere"), dictionary), VOCABULARY, projection_dim=8)
    with pytest.raises(AnchoringError, match="missing.txt: no such dictionary file"):
        anchor_pairs(AnchoringOptions(anchors, str(tmp_path / "missing.txt")), VOCABULARY, projection_dim=8)
    os.remove(os.path.join(anchors, "anchors.json"))
    with pytest.raises(AnchoringError, match="anchors.json: no anchors metadata"):
        layer0_anchors(anchors, projection_dim=8)


def test_layer1_anchors_are_not_layer0(files, tmp_path):
    anchors, _, _ = files
    for name in ("npy", "vocab", "stamp.json"):
        os.replace(os.path.join(anchors, f"layer1.{name}"), os.path.join(anchors, f"layer0.{name}"))
    with pytest.raises(AnchoringError, match="layer0.npy: the two halves of the vectors differ"):
        layer0_anchors(anchors, projection_dim=8)


def test_no_usable_pair_names_both_files(files, tmp_path):
    anchors, _, _ = files
    dictionary = write_tiny_dictionary(str(tmp_path / "en-es.txt"), [("cat_en", "cat")])  # the wrong way round
    with pytest.raises(AnchoringError, match="no usable anchoring pair.*en-es.txt.*layer0.npy") as error:
        anchor_pairs(AnchoringOptions(anchors, dictionary), VOCABULARY, projection_dim=8)
    assert "1 have no English anchor" in str(error.value)


def test_options_check_their_names_and_values():
    with pytest.raises(AnchoringError, match="unknown anchoring option\\(s\\) \\['lambda'\\]"):
        AnchoringOptions.from_dict({"anchors": "a", "dictionary": "d", "lambda": 1.0})
    with pytest.raises(AnchoringError, match="needs \\['dictionary'\\]"):
        AnchoringOptions.from_dict({"anchors": "a"})
    with pytest.raises(AnchoringError, match="weight must be >= 0"):
        AnchoringOptions("a", "d", weight=-1.0)
    assert AnchoringOptions.from_dict({"anchors": "a", "dictionary": "d"}) == AnchoringOptions("a", "d")
    assert json.dumps(AnchoringOptions("a", "d").__dict__)  # plain values, recordable
