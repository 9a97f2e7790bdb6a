"""The numerical core of anchors against brute force, on random vectors (no ELMo)."""
import gzip
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from xlner_allennlp.contextual import (
    AnchorAccumulator,
    TextFileError,
    anchor_geometry,
    count_types,
    kept_types,
    merge_anchors,
    read_sentences,
)

WORDS = ["The", "the", "cat", "Cat", "sat", "on", "mat", "rare"]


def _stream(seed=0, batches=7, layers=3, dim=5):
    """Random batches of (tokens, vectors (layers, n, dim))."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(batches):
        n = int(rng.integers(1, 12))
        tokens = [WORDS[int(i)] for i in rng.integers(0, len(WORDS) - 1, n)]
        out.append((tokens, torch.tensor(rng.standard_normal((layers, n, dim)), dtype=torch.float32)))
    out.append((["rare"], torch.ones(layers, 1, dim)))
    return out


def _accumulate(stream, words, sample_size=10000, seed=0):
    accumulator = AnchorAccumulator(words, 3, 5, sample_size=sample_size, seed=seed)
    for tokens, vectors in stream:
        accumulator.add(accumulator.rows(tokens), vectors)
    return accumulator


def _brute_force(stream, key=lambda w: w):
    tokens = [key(t) for ts, _ in stream for t in ts]
    vectors = torch.cat([v for _, v in stream], dim=1).numpy().astype(np.float64)
    return tokens, vectors, {w: vectors[:, [i for i, t in enumerate(tokens) if t == w]].mean(axis=1) for w in set(tokens)}


def test_anchors_equal_the_mean_of_every_occurrence():
    stream = _stream()
    counts = count_types(ts for ts, _ in stream)
    anchors = _accumulate(stream, kept_types(counts)).anchors()
    tokens, vectors, means = _brute_force(stream)
    assert anchors.words[0] == counts.most_common(1)[0][0] and anchors.words[-1] == "rare"
    for row, word in enumerate(anchors.words):
        np.testing.assert_allclose(anchors.vectors[:, row], means[word], atol=1e-6)
        assert anchors.counts[row] == tokens.count(word)
    np.testing.assert_allclose(anchors.mean_token_norms, np.linalg.norm(vectors, axis=2).mean(axis=1))
    assert anchors.tokens == len(tokens)


def test_types_left_out_count_only_in_the_norms():
    stream = _stream()
    accumulator = _accumulate(stream, ["cat", "the"])
    anchors = accumulator.anchors()
    _, vectors, means = _brute_force(stream)
    np.testing.assert_allclose(anchors.vectors[:, 1], means["the"], atol=1e-6)
    np.testing.assert_allclose(anchors.mean_token_norms, np.linalg.norm(vectors, axis=2).mean(axis=1))


def test_count_weighted_merging_equals_the_mean_of_the_lowercased_corpus():
    stream = _stream(seed=3)
    anchors = _accumulate(stream, kept_types(count_types(ts for ts, _ in stream))).anchors()
    merged, mapping = merge_anchors(anchors, str.lower, min_count=2)
    tokens, _, means = _brute_force(stream, key=str.lower)
    assert "rare" not in merged.words and set(merged.words) == {w for w in set(tokens) if tokens.count(w) >= 2}
    assert list(merged.counts) == sorted(merged.counts, reverse=True)
    for row, word in enumerate(merged.words):
        np.testing.assert_allclose(merged.vectors[:, row], means[word], atol=1e-6)
        assert merged.counts[row] == tokens.count(word)
    assert mapping[anchors.words.index("rare")] == -1
    assert merged.words[mapping[anchors.words.index("The")]] == "the"


def test_min_count_applies_to_the_merged_key():
    counts = {"The": 1, "the": 1, "Cat": 1, "dog": 3}
    assert kept_types(counts, min_count=2, key=str.lower) == ["dog", "The", "the"]
    assert kept_types(counts, min_count=2) == ["dog"]
    with pytest.raises(ValueError, match="min_count"):
        kept_types(counts, min_count=0)


def test_a_type_never_added_is_an_error():
    accumulator = AnchorAccumulator(["a", "b"], 1, 2)
    accumulator.add(accumulator.rows(["a"]), torch.ones(1, 1, 2))
    with pytest.raises(ValueError, match="'b' was never added"):
        accumulator.anchors()


def test_geometry_on_the_full_sample_equals_brute_force():
    stream = _stream(seed=5)
    words = kept_types(count_types(ts for ts, _ in stream))
    accumulator = _accumulate(stream, words, sample_size=1000)
    anchors = accumulator.anchors()
    rows, sample = accumulator.sample
    tokens, vectors, means = _brute_force(stream)
    assert rows.tolist() == [words.index(t) for t in tokens]
    np.testing.assert_allclose(sample, vectors, atol=1e-6)
    geometry = anchor_geometry(rows, sample, anchors.vectors, seed=1)
    partner = np.random.default_rng(1).permutation(len(tokens))
    pairs = [(i, j) for i, j in enumerate(partner) if tokens[i] != tokens[j]]
    for layer, row in enumerate(geometry):
        own = np.mean([np.linalg.norm(vectors[layer, i] - means[t][layer]) for i, t in enumerate(tokens)])
        between = np.mean([np.linalg.norm(means[tokens[i]][layer] - means[tokens[j]][layer]) for i, j in pairs])
        assert row["token_to_own_anchor"] == pytest.approx(own, rel=1e-5)
        assert row["between_anchors"] == pytest.approx(between, rel=1e-5)
        assert row["anchor_pairs"] == len(pairs)


def test_reservoir_sample_is_deterministic_and_uniform_in_size():
    stream = _stream(seed=2, batches=40)
    words = kept_types(count_types(ts for ts, _ in stream))
    first, second = _accumulate(stream, words, 10, seed=4).sample, _accumulate(stream, words, 10, seed=4).sample
    other = _accumulate(stream, words, 10, seed=5).sample
    assert first[0].shape == (10,) and first[1].shape == (3, 10, 5)
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[1], other[1])


def test_read_sentences_reports_bad_files(tmp_path):
    good = tmp_path / "good.txt.gz"
    with gzip.open(good, "wt", encoding="utf-8") as handle:
        handle.write("a b  c\n\n d e f g\n")
    assert list(read_sentences(str(good), max_length=3)) == [(1, ["a", "b", "c"]), (3, ["d", "e", "f"])]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(TextFileError, match="empty.txt: the file holds no tokens"):
        list(read_sentences(str(empty)))
    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"fine line\nbad \xff byte\n")
    with pytest.raises(TextFileError, match=r"broken.txt, line 2: the bytes .* are not valid utf-8"):
        list(read_sentences(str(broken)))
    with pytest.raises(TextFileError, match="no such text file"):
        list(read_sentences(str(tmp_path / "missing.txt")))


def test_the_core_imports_without_allennlp():
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'allennlp': raise ImportError('allennlp blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import xlner_allennlp.contextual\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, "-c", blocker], cwd=root, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": root})
    assert result.returncode == 0, result.stderr
