import gzip

import numpy as np
import pytest

from xlner_allennlp.alignment.vectors import VectorFileError, load_vectors, load_vocab


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
    tracemalloc.start()
    vectors = load_vectors(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    matrix_bytes = rows * dim * 4
    # One float32 copy plus the word strings and per-line parsing buffers, not a copy of the text.
    assert peak < 1.5 * matrix_bytes + 200 * rows
    np.testing.assert_allclose(vectors.matrix, values, atol=1e-4)


def test_a_gz_that_is_not_gzip_or_is_truncated_names_the_file(tmp_path):
    plain = tmp_path / "v.vec.gz"
    plain.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    with pytest.raises(VectorFileError, match=r"v\.vec\.gz: not a gzip file"):
        load_vectors(str(plain))
    data = gzip.compress("".join(f"w{i} 1 2 3\n" for i in range(20000)).encode())
    truncated = tmp_path / "t.vec.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(VectorFileError, match=r"t\.vec\.gz, line [0-9]+: the gzip stream ends early"):
        load_vectors(str(truncated))


def test_a_latin1_file_is_read_with_its_encoding_and_the_error_names_the_option(tmp_path):
    path = tmp_path / "v.vec"
    path.write_bytes("niño 1 2\naño 3 4\n".encode("latin-1"))
    with pytest.raises(VectorFileError, match=r"v\.vec, line 1: .* not valid utf-8; pass the file's encoding .*--encoding"):
        load_vectors(str(path))
    assert load_vectors(str(path), encoding="latin-1").words == ["niño", "año"]


def test_a_byte_order_mark_keeps_the_first_word(tmp_path):
    text = tmp_path / "v.vec"
    text.write_bytes(("\ufeff" + "\n".join(LINES) + "\n").encode("utf-8"))
    assert load_vectors(str(text)).words == ["the", "cat", "dog"]
    with_header = tmp_path / "h.vec"
    with_header.write_bytes(("\ufeff3 3\n" + "\n".join(LINES) + "\n").encode("utf-8"))
    assert load_vectors(str(with_header)).words == ["the", "cat", "dog"]
    np.save(tmp_path / "n.npy", np.zeros((2, 2), np.float32))
    (tmp_path / "n.vocab").write_bytes("\ufeffa\nb\n".encode("utf-8"))
    assert load_vectors(str(tmp_path / "n.npy")).words == ["a", "b"]
