import gzip

import numpy as np
import pytest

from xlner_allennlp.alignment.vectors import TextLoading, VectorFileError, load_vectors, load_vocab


def _write_text(path, lines, gz=False):
    data = "".join(line + "\n" for line in lines)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(data)
    else:
        path.write_text(data, encoding="utf-8")
    return str(path)


LINES = ["the 1 0 0", "cat 0 1 0", "dog 0 0 1.5"]


@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("gz", [True, False])
def test_text_formats_load_the_same_rows(tmp_path, header, gz):
    name = "v.vec.gz" if gz else "v.vec"
    path = _write_text(tmp_path / name, (["3 3"] if header else []) + LINES, gz)
    vectors = load_vectors(path, max_vocab=2)
    assert vectors.words == ["the", "cat"]
    assert vectors.matrix.dtype == np.float32
    np.testing.assert_array_equal(vectors.matrix, [[1, 0, 0], [0, 1, 0]])
    assert load_vocab(path) == ["the", "cat", "dog"]


def test_npy_with_vocab(tmp_path):
    np.save(tmp_path / "v.npy", np.arange(6, dtype=np.float16).reshape(3, 2))
    (tmp_path / "v.vocab").write_text("a\nb\nc\n", encoding="utf-8")
    vectors = load_vectors(str(tmp_path / "v.npy"), max_vocab=2)
    assert vectors.words == ["a", "b"] and vectors.index["b"] == 1
    np.testing.assert_array_equal(vectors.matrix, [[0, 1], [2, 3]])


@pytest.mark.parametrize(
    "lines, message",
    [
        (["a 1 2", "b 1 nan"], r"v.vec: 1 row\(s\) contain NaN or infinite values \(line\(s\) 2\)"),
        (["a 1 2", "b inf 2"], r"NaN or infinite"),
        (["a 1 2", "a 3 4"], r"v.vec:2: duplicate word 'a' \(first at line 1\)"),
        (["a 1 2", "b 1 2 3"], r"v.vec:2: expected 2 values after the word, found 3"),
        (["a 1 x"], r"v.vec:1: a value is not a number"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, lines, message):
    with pytest.raises(VectorFileError, match=message):
        load_vectors(_write_text(tmp_path / "v.vec", lines))


def test_max_vocab_larger_than_file(tmp_path):
    with pytest.raises(VectorFileError, match=r"max_vocab=5 is larger than the file \(3 rows\)"):
        load_vectors(_write_text(tmp_path / "v.vec", LINES), max_vocab=5)


def test_missing_file_and_missing_vocab(tmp_path):
    with pytest.raises(VectorFileError, match="no such vector file"):
        load_vectors(str(tmp_path / "none.vec"))
    np.save(tmp_path / "v.npy", np.zeros((2, 2), np.float32))
    with pytest.raises(VectorFileError, match=r"the word list .*v.vocab is missing"):
        load_vectors(str(tmp_path / "v.npy"))


def test_text_loading_keeps_memory_near_one_float32_copy(tmp_path):
    import tracemalloc

    rows, dim = 4000, 64
    rng = np.random.default_rng(0)
    values = rng.standard_normal((rows, dim)).astype(np.float32)
    lines = [f"{rows} {dim}"] + [f"w{i} " + " ".join(f"{v:.4f}" for v in row) for i, row in enumerate(values)]
    path = _write_text(tmp_path / "big.vec", lines)
    block_bytes = 1 << 16
    tracemalloc.start()
    vectors = load_vectors(path, loading=TextLoading(block_bytes=block_bytes, cache="off"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    matrix_bytes = rows * dim * 4
    # One float32 copy plus the word strings and one block's parsing buffers, not a copy of the text.
    assert peak < 1.1 * matrix_bytes + 200 * rows + 8 * block_bytes
    np.testing.assert_allclose(vectors.matrix, values, atol=1e-4)
