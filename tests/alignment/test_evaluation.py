import numpy as np
import pytest

from xlner_allennlp.alignment.dictionary import index_dictionary
from xlner_allennlp.alignment.evaluation import evaluate_bli
from xlner_allennlp.alignment.vectors import WordVectors


def _space(words, rows, path):
    return WordVectors(words, np.asarray(rows, dtype=np.float32), path)


def test_bli_accounting_with_several_translations_and_oov():
    # Mapped source vectors (already in the target space) and target vectors, chosen by hand:
    # "cat" is nearest "gato", "house" nearest "hogar" (a second translation), "the" nearest "gato"
    # (wrong: neither "el" nor "la"), with "la" in second place.
    target = _space(["el", "la", "gato", "hogar", "casa"],
                    [[1, 0, 0], [0.6, 0.8, 0], [0, 1, 0], [0, 0, 1], [0, 0.5, 0.87]], "es.npy")
    source = _space(["the", "cat", "house"], [[0.1, 1, 0.05], [0, 1, 0], [0, 0.3, 1]], "en.npy")
    pairs = [("the", "el"), ("the", "la"), ("cat", "gato"), ("house", "casa"), ("house", "hogar"),
             ("dog", "perro"), ("mouse", "gato")]
    dictionary = index_dictionary(pairs, source, target)
    results = evaluate_bli(source.matrix, target.matrix, dictionary, ks=(1, 2), methods=("nn",))
    assert results["n_pairs"] == 5 and results["n_pairs_dropped"] == 2 and results["n_pairs_read"] == 7
    assert results["n_source_words"] == 3
    assert results["coverage"] == pytest.approx(5 / 7)
    assert results["source_word_coverage"] == pytest.approx(3 / 5)
    assert results["precision_at_1_nn"] == pytest.approx(2 / 3)
    assert results["precision_at_2_nn"] == pytest.approx(1.0)


def test_csls_uses_the_whole_source_vocabulary_for_the_hub_penalty():
    # "hub" is the nearest target of every source word; CSLS demotes it, so "a" finds "x".
    target = _space(["hub", "x"], [[1, 0], [0.6, 0.8]], "t.npy")
    # cos(a, hub) = 0.906 > cos(a, x) = 0.882, but "b" and "c" sit on the hub: r(hub) = 0.998,
    # r(x) = 0.741, so CSLS(a, x) - CSLS(a, hub) = 2 (0.882 - 0.906) + 0.998 - 0.741 > 0.
    source = _space(["a", "b", "c"], [[0.906, 0.423], [1, 0], [0.996, -0.087]], "s.npy")
    dictionary = index_dictionary([("a", "x")], source, target)
    results = evaluate_bli(source.matrix, target.matrix, dictionary, ks=(1,), csls_k=2)
    assert results["precision_at_1_nn"] == 0.0
    assert results["precision_at_1_csls"] == 1.0


def test_dimension_mismatch():
    dictionary = index_dictionary([("a", "x")], _space(["a"], [[1, 0]], "s"), _space(["x"], [[1, 0]], "t"))
    with pytest.raises(ValueError, match="dimension 2, target 3"):
        evaluate_bli(np.ones((1, 2), np.float32), np.ones((1, 3), np.float32), dictionary)
