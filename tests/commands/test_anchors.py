"""``allennlp xlner-anchors`` on a tiny random ELMo: anchors equal a brute-force mean, batch independence, bad input."""
import json
import os
import sys
from collections import defaultdict

import numpy as np
import pytest
import torch
from allennlp.commands import main
from allennlp.modules.elmo import batch_to_ids

from xlner_allennlp.alignment import load_vectors
from xlner_allennlp.contextual import ElmoFormatError
from xlner_allennlp.modules.elmo import contextual_layers, load_elmo_bilm

from tests.tiny_elmo import make_tiny_elmo, tiny_corpus


def run(monkeypatch, *argv):
    monkeypatch.setattr(sys, "argv", ["allennlp", *argv])
    main()


@pytest.fixture(scope="module")
def elmo(tmp_path_factory):
    return make_tiny_elmo(str(tmp_path_factory.mktemp("elmo")), seed=0)


@pytest.fixture
def corpus(tmp_path):
    sentences = tiny_corpus(60, seed=1)
    path = tmp_path / "text.txt"
    path.write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
    return str(path), sentences


def test_anchors_equal_the_brute_force_mean_of_each_sentence_alone(monkeypatch, capsys, elmo, corpus, tmp_path):
    text, sentences = corpus
    output = str(tmp_path / "anchors")
    run(monkeypatch, "xlner-anchors", "--elmo", elmo, "--text", text, "--output", output,
        "--min-count", "3", "--batch-size", "7")
    assert "anchors of" in capsys.readouterr().out
    bilm = load_elmo_bilm(elmo)
    occurrences, norms = defaultdict(list), []
    with torch.no_grad():
        for sentence in sentences:  # one sentence per batch, from zero states
            layers, _ = contextual_layers(bilm, batch_to_ids([sentence]))
            stacked = torch.stack([layer[0] for layer in layers]).numpy().astype(np.float64)  # (3, n, 16)
            for i, word in enumerate(sentence):
                occurrences[word.lower()].append(stacked[:, i])
            norms.append(np.linalg.norm(stacked, axis=2))
    norms = np.concatenate(norms, axis=1).mean(axis=1)
    meta = json.loads(open(os.path.join(output, "anchors.json")).read())
    np.testing.assert_allclose(meta["mean_token_norms"], norms, rtol=1e-5)
    expected_words = sorted((w for w in occurrences if len(occurrences[w]) >= 3),
                            key=lambda w: (-len(occurrences[w]), w))
    counts = [line.split() for line in open(os.path.join(output, "counts.txt"))]
    assert [w for w, _ in counts] == expected_words and "the" in expected_words and "The" not in expected_words
    assert [int(c) for _, c in counts] == [len(occurrences[w]) for w in expected_words]
    for layer in range(3):
        vectors = load_vectors(os.path.join(output, f"layer{layer}.npy"))
        assert vectors.words == expected_words
        brute = np.stack([np.mean(occurrences[w], axis=0)[layer] for w in expected_words])
        np.testing.assert_allclose(vectors.matrix * norms[layer], brute, atol=1e-5)
    geometry = json.loads(open(os.path.join(output, "geometry.json")).read())
    assert [row["layer"] for row in geometry] == [0, 1, 2]
    assert all(0 < row["token_to_own_anchor"] and 0 < row["between_anchors"] for row in geometry)


def test_a_sentence_does_not_depend_on_its_batch_or_the_batches_before(elmo):
    bilm = load_elmo_bilm(elmo)
    sentence, others = ["the", "big", "cat", "sat"], tiny_corpus(5, seed=2)
    with torch.no_grad():
        alone, _ = contextual_layers(bilm, batch_to_ids([sentence]))
        contextual_layers(bilm, batch_to_ids(others))  # would leave LSTM states behind
        batched, mask = contextual_layers(bilm, batch_to_ids(others[:2] + [sentence] + others[2:]))
    for a, b in zip(alone, batched):
        torch.testing.assert_close(b[2, : len(sentence)], a[0], atol=1e-5, rtol=0)
        assert a.abs().sum() > 0


def test_bad_inputs_are_clear_errors_naming_the_file(monkeypatch, capsys, elmo, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(SystemExit):
        run(monkeypatch, "xlner-anchors", "--elmo", elmo, "--text", str(empty), "--output", str(tmp_path / "o"))
    assert f"error: {empty}: the file holds no tokens" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(monkeypatch, "xlner-anchors", "--elmo", str(tmp_path / "none"), "--text", str(empty), "--output", str(tmp_path / "o"))
    assert "no such ELMo directory" in capsys.readouterr().err
    other = make_tiny_elmo(str(tmp_path / "other"), seed=1)
    options = json.loads(open(os.path.join(other, "options.json")).read())
    options["lstm"]["dim"] *= 2
    open(os.path.join(other, "options.json"), "w").write(json.dumps(options))
    with pytest.raises(ElmoFormatError, match=r"weights.hdf5: .*RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/W_0 has shape"):
        load_elmo_bilm(other)
