import gzip
import hashlib
import os
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from xlner_allennlp.alignment import vectors as vectors_module
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


def test_a_gz_that_is_not_gzip_or_is_truncated_names_the_file(tmp_path):
    plain = tmp_path / "v.vec.gz"
    plain.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    with pytest.raises(VectorFileError, match=r"v\.vec\.gz: not a gzip file"):
        load_vectors(str(plain))
    data = gzip.compress("".join(f"w{i} 1 2 3\n" for i in range(20000)).encode())
    truncated = tmp_path / "t.vec.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(VectorFileError, match=r"t\.vec\.gz, (line [0-9]+|after [0-9]+ decompressed bytes): the gzip stream ends early"):
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


def _vec_lines(rows, dim, seed=0, trailing=" "):
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal((rows, dim)) * 0.1).astype(np.float32)
    return [f"w{i} " + " ".join(f"{v:.4f}" for v in row) + trailing for i, row in enumerate(values)]


def _bits(matrix):
    return np.ascontiguousarray(matrix, dtype=np.float32).view(np.uint32)


BLOCKS = TextLoading(parser="blocks", cache="off")
PER_LINE = TextLoading(parser="lines", cache="off")
BLOCK_PARSERS = ["blocks", "numpy"]
# One clear failure (the test below) when the extension is not built, not one per compiled test.
needs_compiled = pytest.mark.skipif(vectors_module._textparse is None, reason="the compiled parser is not built")


def test_the_compiled_parser_is_built_and_used_by_default():
    assert vectors_module._textparse is not None, (
        "xlner_allennlp/alignment/_textparse.c was not built: setup.py builds it when a C compiler is "
        "present; install one and reinstall the package")
    assert TextLoading().compiled and not TextLoading(parser="numpy").compiled


@pytest.mark.parametrize("parser", BLOCK_PARSERS)
@pytest.mark.parametrize("block_bytes", [1, 37, 500, 1 << 20])
@pytest.mark.parametrize("header", [True, False])
def test_block_boundaries_give_the_rows_of_the_per_line_parser(tmp_path, block_bytes, header, parser):
    lines = _vec_lines(53, 7)
    path = _write_text(tmp_path / "v.vec", (["53 7"] if header else []) + lines)
    blocks = load_vectors(path, loading=TextLoading(parser=parser, block_bytes=block_bytes, cache="off"))
    reference = load_vectors(path, loading=PER_LINE)
    assert blocks.words == reference.words == [f"w{i}" for i in range(53)]
    np.testing.assert_array_equal(_bits(blocks.matrix), _bits(reference.matrix))
    assert blocks.matrix.flags.c_contiguous and blocks.matrix.shape == (53, 7)


@pytest.mark.parametrize("parser", BLOCK_PARSERS)
def test_number_formats_parse_bit_identically_on_both_paths(tmp_path, parser):
    rng = np.random.default_rng(1)
    values = rng.standard_normal((200, 5)) * 10.0 ** rng.integers(-8, 8, (200, 5))
    formats = ["{:.4f}", "{:.17g}", "{:e}", "{:.9E}", "{!r}"]
    lines = [f"w{i} " + " ".join(formats[(i + j) % 5].format(v) for j, v in enumerate(row))
             for i, row in enumerate(values)]
    lines[3] = "w3 -0.0 0 1.0000000596046447753906250000000001 +2 .5"
    lines[4] += " "  # one trailing space, as fastText writes
    data = "\r\n".join(lines[:100]) + "\r\n" + "\n".join(lines[100:]) + "\n"
    path = tmp_path / "v.vec"
    path.write_bytes(data.encode())
    for block_bytes in (64, 4096, 1 << 20):
        blocks = load_vectors(str(path), loading=TextLoading(parser=parser, block_bytes=block_bytes, cache="off"))
        reference = load_vectors(str(path), loading=PER_LINE)
        assert blocks.words == reference.words
        np.testing.assert_array_equal(_bits(blocks.matrix), _bits(reference.matrix))
    np.testing.assert_array_equal(blocks.matrix[3], np.float32([-0.0, 0, 1, 2, 0.5]))
    assert np.signbit(blocks.matrix[3, 0])


def _compiled_parse(text, dim):
    """The compiled parser's words and values of ``text``, or None where it refuses the block."""
    block = text.encode()
    values = np.full((block.count(b"\n") + 1, dim), np.nan, np.float32)
    words = vectors_module._textparse.parse_block(block, dim, values)
    return None if words is None else ([word.decode() for word in words], values[: len(words)])


# Texts where the fast path (at most 19 significant digits, an integer at most 2**53 and a power of
# ten at most 10**22) ends and Python's own parser takes over, and the spellings it must accept.
HARD_NUMBERS = [
    "9007199254740992", "9007199254740993", "1234567890123456789", "12345678901234567890",
    "0.000000000000000000000000000001", "1e22", "1e23", "1e-22", "1e-23", "123456789e-30",
    "1e39", "1e400", "-1e-400", "1.4e-45", "7e-46", "3.4028235e38", "3.4028236e38",
    "1.00000005960464477539062499", "1.0000000596046447753906250001", "0.1", "-0.3", "+2", ".5",
    "5.", "-.5e-3", "1E+5", "000123.4500", "0e0", "-0", "1e0000000000000000005", "inf", "-inf",
    "nan", "Infinity", "-NaN", "0.0000000000000000000000000000000000000000000001234567",
]


@needs_compiled
def test_the_compiled_parser_rounds_every_number_as_numpy_does():
    rng = np.random.default_rng(3)
    fuzz = [f"{v:.{p}g}" for v, p in zip(rng.standard_normal(6000) * 10.0 ** rng.integers(-40, 40, 6000),
                                         rng.integers(1, 20, 6000))]
    numbers = HARD_NUMBERS + fuzz
    numbers += [""] * (-len(numbers) % 6)
    numbers = [n or "1" for n in numbers]
    lines = [f"w{i} " + " ".join(numbers[i * 6 : i * 6 + 6]) for i in range(len(numbers) // 6)]
    words, values = _compiled_parse("\n".join(lines) + "\n", 6)
    expected = np.loadtxt(lines, dtype=np.float32, delimiter=" ", comments=None, usecols=range(1, 7))
    assert words == [f"w{i}" for i in range(len(lines))]
    np.testing.assert_array_equal(_bits(values), _bits(expected))


@needs_compiled
@pytest.mark.parametrize(
    "text",
    ["a 1 2 3\n\nb 1 2 3\n", "a 1  2 3\n", "a 1 2\n", "a 1 2 3 4\n", "a 1 x 3\n", "a 1 2 1e\n",
     " 1 2 3\n", "a\n", "a 1 2 3  \n", "a 1 2 3\r\rb 1 2 3\n", "a 1 2 - \n", "a 1 2 1.5.5\n",
     "a 1 2 0x10\n", "a 1 2 " + "1" * 200 + "\n"],
)
def test_the_compiled_parser_refuses_every_other_shape(text):
    assert _compiled_parse(text, 3) is None


@needs_compiled
def test_the_compiled_parser_takes_crlf_a_trailing_space_and_a_missing_last_newline():
    words, values = _compiled_parse("a 1 2 3 \r\nb 4 5 6\r\nc 7 8 9", 3)
    assert words == ["a", "b", "c"]
    np.testing.assert_array_equal(values, np.float32([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))


def test_a_block_the_c_parser_refuses_is_read_line_by_line(tmp_path):
    # An underscore in a number and two trailing spaces: Python's float accepts both, the C parsers do not.
    lines = _vec_lines(40, 3)
    lines[20] = "odd 1_0 2 3  "
    path = _write_text(tmp_path / "v.vec", lines)
    vectors = load_vectors(path, loading=TextLoading(block_bytes=200, cache="off"))
    np.testing.assert_array_equal(vectors.matrix[20], [10, 2, 3])
    np.testing.assert_array_equal(_bits(vectors.matrix), _bits(load_vectors(path, loading=PER_LINE).matrix))


@pytest.mark.parametrize("loading", [BLOCKS, TextLoading(block_bytes=300, cache="off"),
                                     TextLoading(parser="numpy", block_bytes=300, cache="off"), PER_LINE])
@pytest.mark.parametrize(
    "bad, message",
    [
        ("w22 0.1 x 0.3", r"v.vec:23: a value is not a number"),
        ("w22 0.1 0.2", r"v.vec:23: expected 3 values after the word, found 2"),
        ("w22 0.1 0.2 0.3 0.4", r"v.vec:23: expected 3 values after the word, found 4"),
        ("w22 0.1  0.3", r"v.vec:23: a value is not a number"),
        ("", r"v.vec:23: empty line"),
        ("w2 0.1 0.2 0.3", r"v.vec:23: duplicate word 'w2' \(first at line 3\)"),
        ("w22 0.1 nan 0.3", r"v.vec: 1 row\(s\) contain NaN or infinite values \(line\(s\) 23\)"),
    ],
)
def test_a_bad_line_in_the_middle_of_a_block_is_named(tmp_path, loading, bad, message):
    lines = _vec_lines(45, 3)
    lines[22] = bad
    with pytest.raises(VectorFileError, match=message):
        load_vectors(_write_text(tmp_path / "v.vec", lines), loading=loading)


def test_undecodable_bytes_in_the_middle_name_the_line(tmp_path):
    lines = [line.encode() for line in _vec_lines(45, 3)]
    lines[30] = b"caf\xe9 0.1 0.2 0.3"
    path = tmp_path / "v.vec"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(VectorFileError, match=r"v.vec, line 31: the bytes b'\\xe9' are not valid utf-8"):
        load_vectors(str(path), loading=TextLoading(block_bytes=256, cache="off"))
    assert load_vectors(str(path), encoding="latin-1").words[30] == "café"


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    "header, max_vocab, message",
    [
        ("4 3", None, r"the header says 4 rows, the file has 3 \(truncated\?\)"),
        ("2 3", None, r"the header says 2 rows, the file has 3 \(extra rows after the count\)"),
        ("2 3", 3, r"the header says 2 rows, the file has 3 \(extra rows after the count\)"),
        ("1 3", 2, r"the header says 1 rows, the file has more \(max_vocab=2 rows were read\)"),
    ],
)
def test_a_header_the_rows_contradict_is_an_error(tmp_path, gz, header, max_vocab, message):
    path = _write_text(tmp_path / ("v.vec.gz" if gz else "v.vec"), [header] + LINES, gz)
    with pytest.raises(VectorFileError, match=r"v\.vec(\.gz)?: " + message):
        load_vectors(path, max_vocab, loading=BLOCKS)


def test_with_max_vocab_only_the_kept_rows_must_exist(tmp_path):
    # The header promises 4 rows; 2 are kept and the 3 there are enough (the missing one goes unnoticed).
    path = _write_text(tmp_path / "v.vec", ["4 3"] + LINES)
    assert load_vectors(path, max_vocab=2, loading=BLOCKS).words == ["the", "cat"]


def test_an_absurd_header_is_reported_without_allocating_it(tmp_path):
    path = _write_text(tmp_path / "v.vec", ["900000000 300"] + _vec_lines(3, 300))
    with pytest.raises(VectorFileError, match=r"v.vec: the header says 900000000 rows of 300 values, but the "
                                              r"file has \d+ bytes after it, room for at most \d+ such rows"):
        load_vectors(path)
    gz = _write_text(tmp_path / "v.vec.gz", ["900000000 3"] + LINES, gz=True)
    with pytest.raises(VectorFileError, match=r"the header says 900000000 rows, the file has 3 \(truncated\?\)"):
        load_vectors(gz)


def test_a_file_longer_than_its_first_block_suggests_grows_the_matrix(tmp_path):
    # No header: the allocation is estimated from the first line's length; the long tail of short
    # lines outnumbers it, so the matrix grows in place.
    lines = ["first " + " ".join(["0.123456789012345"] * 4)] + [f"w{i} 1 2 3 4" for i in range(500)]
    path = _write_text(tmp_path / "v.vec", lines)
    vectors = load_vectors(path, loading=TextLoading(block_bytes=64, cache="off"))
    assert len(vectors) == 501 and vectors.words[-1] == "w499"
    np.testing.assert_array_equal(vectors.matrix[-1], [1, 2, 3, 4])


def test_nan_in_npy_names_the_npy_row_and_word(tmp_path):
    matrix = np.ones((4, 2), np.float32)
    matrix[2, 1] = np.nan
    matrix[3, 0] = np.inf
    np.save(tmp_path / "v.npy", matrix)
    (tmp_path / "v.vocab").write_text("a\nb\nc\nd\n", encoding="utf-8")
    with pytest.raises(VectorFileError, match=r"v\.npy: 2 row\(s\) contain NaN or infinite values "
                                              r"\(row\(s\), counted from 0, .*v\.vocab: 2 \('c'\), 3 \('d'\)\)"):
        load_vectors(str(tmp_path / "v.npy"))


def _cached(cache, **settings):
    return TextLoading(cache=str(cache), cache_min_bytes=0, **settings)


def _units(folder):
    return sorted(name for name in os.listdir(folder) if not name.startswith("."))


def test_cache_is_reused_and_invalidated_when_the_file_changes(tmp_path, monkeypatch):
    path = _write_text(tmp_path / "v.vec", ["3 3"] + LINES)
    loading = _cached(tmp_path / "cache")
    first = load_vectors(path, loading=loading)
    [folder] = [os.path.join(tmp_path / "cache", name) for name in os.listdir(tmp_path / "cache")]
    [unit] = _units(folder)
    assert sorted(os.listdir(os.path.join(folder, unit))) == ["meta.json", "vectors.npy", "vectors.vocab"]

    def no_parsing(*args, **kwargs):
        raise AssertionError("the text was parsed although a cache matches it")

    with monkeypatch.context() as patch:
        patch.setattr(vectors_module, "_load_text", no_parsing)
        hit = load_vectors(path, loading=loading)
        kept = load_vectors(path, max_vocab=2, loading=loading)
    assert hit.words == first.words and isinstance(hit.matrix.base, np.memmap)
    np.testing.assert_array_equal(hit.matrix, first.matrix)
    assert kept.words == ["the", "cat"] and kept.matrix.shape == (2, 3)
    hit.matrix[0, 0] = 7.0  # copy-on-write: the cache keeps its numbers
    np.testing.assert_array_equal(load_vectors(path, loading=loading).matrix, first.matrix)

    # Same size, new numbers and a new modification time: parsed again, the stale unit removed.
    _write_text(tmp_path / "v.vec", ["3 3", "the 2 0 0", "cat 0 2 0", "dog 0 0 2.5"])
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    changed = load_vectors(path, loading=loading)
    np.testing.assert_array_equal(changed.matrix, [[2, 0, 0], [0, 2, 0], [0, 0, 2.5]])
    [new_unit] = _units(folder)
    assert new_unit != unit


def test_a_text_files_checksum_is_remembered_beside_its_cache_until_the_file_changes(tmp_path, monkeypatch):
    path = _write_text(tmp_path / "v.vec", ["3 3"] + LINES)
    loading = _cached(tmp_path / "cache")
    load_vectors(path, loading=loading)
    first = vectors_module.text_file_sha256(path, loading)
    assert first == hashlib.sha256(open(path, "rb").read()).hexdigest()
    [folder] = [os.path.join(tmp_path / "cache", name) for name in os.listdir(tmp_path / "cache")]
    assert vectors_module.CHECKSUM_FILE in os.listdir(folder)

    def no_reading(*paths):
        raise AssertionError("the file was hashed again although its checksum is remembered")

    with monkeypatch.context() as patch:
        patch.setattr(vectors_module, "file_sha256", no_reading)
        assert vectors_module.text_file_sha256(path, loading) == first

    # A new cache unit (the file changed) keeps the checksum file, and the changed file is hashed again.
    _write_text(tmp_path / "v.vec", ["3 3", "the 2 0 0", "cat 0 2 0", "dog 0 0 2.5"])
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    load_vectors(path, loading=loading)
    assert vectors_module.CHECKSUM_FILE in os.listdir(folder)
    changed = vectors_module.text_file_sha256(path, loading)
    assert changed == hashlib.sha256(open(path, "rb").read()).hexdigest() != first


def test_checksums_are_not_remembered_with_the_cache_off_or_for_small_files(tmp_path):
    path = _write_text(tmp_path / "v.vec", LINES)
    expected = hashlib.sha256(open(path, "rb").read()).hexdigest()
    assert vectors_module.text_file_sha256(path, TextLoading(cache="off", cache_min_bytes=0)) == expected
    assert vectors_module.text_file_sha256(path, TextLoading(cache=str(tmp_path / "cache"))) == expected
    assert sorted(os.listdir(tmp_path)) == ["v.vec"]


def test_partial_loads_do_not_write_a_cache_and_small_files_are_not_cached(tmp_path):
    path = _write_text(tmp_path / "v.vec", LINES)
    load_vectors(path, max_vocab=2, loading=_cached(tmp_path / "cache"))
    load_vectors(path, loading=TextLoading(cache=str(tmp_path / "cache")))  # smaller than cache_min_bytes
    assert not (tmp_path / "cache").exists()


def test_auto_cache_goes_next_to_the_file_or_to_the_user_cache_when_read_only(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    writable = tmp_path / "writable"
    writable.mkdir()
    path = _write_text(writable / "v.vec", LINES)
    load_vectors(path, loading=_cached("auto"))
    assert os.path.isdir(path + ".xlner-cache") and not (tmp_path / "xdg").exists()

    shared = tmp_path / "shared"
    shared.mkdir()
    path = _write_text(shared / "v.vec", LINES)
    os.chmod(shared, 0o555)  # read-only, for root too: no write bit at all
    try:
        first = load_vectors(path, loading=_cached("auto"))
        again = load_vectors(path, loading=_cached("auto"))
    finally:
        os.chmod(shared, 0o755)
    assert os.listdir(shared) == ["v.vec"]
    assert len(os.listdir(tmp_path / "xdg" / "xlner_allennlp" / "vectors")) == 1
    assert isinstance(again.matrix.base, np.memmap) and again.words == first.words


def test_no_writable_cache_place_still_loads(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    path = _write_text(tmp_path / "v.vec", LINES)
    with caplog.at_level("WARNING"):
        vectors = load_vectors(path, loading=_cached(blocker / "cache"))
    assert vectors.words == ["the", "cat", "dog"]
    assert "cannot write a vector cache" in caplog.text or "no writable place" in caplog.text


PARALLEL = TextLoading(cache="off", workers=3, parallel_min_bytes=0, block_bytes=500)


def test_parallel_parsing_gives_the_rows_of_the_in_process_parse(tmp_path, monkeypatch):
    lines = _vec_lines(101, 7)
    lines[50] = lines[50].rstrip()  # with and without the trailing space
    path = tmp_path / "v.vec"
    path.write_bytes(("101 7\n" + "\n".join(lines)).encode())  # the last line without its newline
    ranges = []
    monkeypatch.setattr(vectors_module, "_ranges", _recording(vectors_module._ranges, ranges))
    parallel = load_vectors(str(path), loading=PARALLEL)
    reference = load_vectors(str(path), loading=PER_LINE)
    assert len(ranges[0]) == 3 and ranges[0][-1][1] == path.stat().st_size  # three ranges to the end, one per worker
    assert parallel.words == reference.words == [f"w{i}" for i in range(101)]
    np.testing.assert_array_equal(_bits(parallel.matrix), _bits(reference.matrix))
    assert parallel.matrix.flags.writeable and parallel.matrix.shape == (101, 7)


def _recording(function, results):
    def wrapper(*args):
        results.append(function(*args))
        return results[-1]
    return wrapper


@pytest.mark.parametrize(
    "bad, message",
    [
        ("w90 0.1 x 0.3", r"v.vec:92: a value is not a number"),
        ("", r"v.vec:92: empty line"),
        ("w2 0.1 0.2 0.3", r"v.vec:92: duplicate word 'w2' \(first at line 4\)"),
        ("w90 0.1 inf 0.3", r"v.vec: 1 row\(s\) contain NaN or infinite values \(line\(s\) 92\)"),
    ],
)
def test_a_bad_line_in_a_later_workers_range_is_named(tmp_path, bad, message):
    lines = _vec_lines(100, 3)
    lines[90] = bad
    with pytest.raises(VectorFileError, match=message):
        load_vectors(_write_text(tmp_path / "v.vec", ["100 3"] + lines), loading=PARALLEL)


def test_parallel_parsing_checks_the_header_before_allocating(tmp_path, monkeypatch):
    path = _write_text(tmp_path / "v.vec", ["120 3"] + _vec_lines(100, 3))
    monkeypatch.setattr(vectors_module.mmap, "mmap", None)  # allocating would fail with a TypeError
    with pytest.raises(VectorFileError, match=r"the header says 120 rows, the file has 100 \(truncated\?\)"):
        load_vectors(path, loading=PARALLEL)


def test_small_files_gz_and_max_vocab_loads_are_parsed_in_process(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors_module, "_load_text_parallel", None)  # calling it would fail
    lines = ["100 3"] + _vec_lines(100, 3)
    plain, gz = _write_text(tmp_path / "v.vec", lines), _write_text(tmp_path / "v.vec.gz", lines, gz=True)
    assert len(load_vectors(plain, loading=TextLoading(cache="off", workers=2))) == 100  # under 256 MiB
    assert len(load_vectors(gz, loading=PARALLEL)) == 100
    assert len(load_vectors(plain, 10, loading=PARALLEL)) == 10
    assert len(load_vectors(plain, loading=TextLoading(cache="off", workers=1, parallel_min_bytes=0))) == 100


def test_loading_settings_come_from_the_environment():
    assert TextLoading.from_environment({"XLNER_VECTOR_PARSER": "lines", "XLNER_VECTOR_CACHE": "/x"}) == \
        TextLoading(parser="lines", cache="/x")
    assert TextLoading.from_environment({}) == TextLoading()
    with pytest.raises(VectorFileError, match=r"XLNER_VECTOR_PARSER.*parser must be one of blocks, numpy, lines"):
        TextLoading.from_environment({"XLNER_VECTOR_PARSER": "fast"})
    assert TextLoading.from_environment({"XLNER_VECTOR_WORKERS": "3"}).processes == 3
    assert TextLoading().processes == len(os.sched_getaffinity(0))
    with pytest.raises(VectorFileError, match=r"XLNER_VECTOR_WORKERS.*workers must be 0"):
        TextLoading.from_environment({"XLNER_VECTOR_WORKERS": "-1"})


def test_empty_file_holds_no_vectors(tmp_path):
    (tmp_path / "v.vec").write_text("")
    with pytest.raises(VectorFileError, match="the file holds no vectors"):
        load_vectors(str(tmp_path / "v.vec"))


def test_a_byte_order_mark_in_a_file_read_as_latin1_is_an_error_not_a_garbled_word(tmp_path):
    path = tmp_path / "v.vec"
    path.write_bytes(("\ufeff" + "\n".join(LINES) + "\n").encode("utf-8"))
    with pytest.raises(VectorFileError, match=r"v\.vec, line 1: the file starts with a UTF-8 byte-order mark"):
        load_vectors(str(path), encoding="latin-1", loading=BLOCKS)


def test_a_cache_write_removes_what_a_killed_one_left_and_respects_the_umask(tmp_path):
    path = _write_text(tmp_path / "v.vec", LINES)
    loading = _cached(tmp_path / "cache")
    load_vectors(path, loading=loading)
    [folder] = [os.path.join(tmp_path / "cache", name) for name in os.listdir(tmp_path / "cache")]
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    leftover = os.path.join(folder, f".tmp-{process.pid}-k1ll3d")
    os.mkdir(leftover)
    then = time.time() - 3600
    os.utime(leftover, (then, then))
    _write_text(tmp_path / "v.vec", ["the 2 0 0", "cat 0 2 0", "dog 0 0 2"])  # a new version: a new unit
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    old = os.umask(0o027)
    try:
        load_vectors(path, loading=loading)
    finally:
        os.umask(old)
    [unit] = os.listdir(folder)  # the leftover and the stale unit are gone
    assert stat.S_IMODE(os.stat(os.path.join(folder, unit)).st_mode) == 0o750
