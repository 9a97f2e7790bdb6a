import gzip
import os
import stat
import subprocess
import sys
import time

import pytest

from xlner_allennlp import file_utils
from xlner_allennlp.file_utils import (
    atomic_files,
    atomic_write_text,
    make_temporary,
    open_input,
    remove_stale_temporaries,
    text_lines,
)

LINES = "".join(f"w{i} 0.5 1.5\n" for i in range(20000))


class InputError(ValueError):
    pass


def _lines(path, encoding="utf-8"):
    return list(text_lines(str(path), encoding, InputError, "; pass the encoding"))


def test_plain_gzip_by_name_and_gzip_by_content_read_the_same_lines(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(b"one\ntwo\n"))
    (tmp_path / "a.bin").write_bytes(gzip.compress(b"one\ntwo\n"))
    expected = [(1, "one\n"), (2, "two\n")]
    assert _lines(tmp_path / "a.txt") == _lines(tmp_path / "a.txt.gz") == _lines(tmp_path / "a.bin") == expected


def test_a_gz_name_on_a_file_that_is_not_gzip_names_the_file(tmp_path):
    path = tmp_path / "v.vec.gz"
    path.write_text("a 1 2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"v\.vec\.gz: not a gzip file"):
        _lines(path)


def test_a_truncated_gzip_names_the_file_and_line(tmp_path):
    data = gzip.compress(LINES.encode())
    path = tmp_path / "v.vec.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"v\.vec\.gz, line [0-9]+: the gzip stream ends early \(the file is truncated\)") as error:
        _lines(path)
    line = int(str(error.value).split("line ")[1].split(":")[0])
    assert 1000 < line < 20000  # the line being read when the stream ended, not the start of the file
    with open_input(str(path), InputError) as handle, pytest.raises(InputError, match=r"after [0-9]+ decompressed bytes"):
        while handle.read(4096):
            pass


def test_corrupt_gzip_data_names_the_file(tmp_path):
    data = bytearray(gzip.compress(LINES.encode()))
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "v.vec.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"v\.vec\.gz, line [0-9]+: the gzip data is corrupt"):
        _lines(path)


def test_undecodable_bytes_name_line_and_hint_and_a_bom_is_dropped(tmp_path):
    path = tmp_path / "d.txt"
    path.write_bytes("\ufeffniño boy\n".encode("utf-8") + "año year\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"d\.txt, line 2: the bytes b'\\xf1' are not valid utf-8; pass the encoding"):
        _lines(path)
    path.write_bytes("\ufeffniño boy\n".encode("utf-8"))
    assert _lines(path) == [(1, "niño boy\n")]


def test_a_missing_file_is_the_callers_error(tmp_path):
    with pytest.raises(InputError, match=r"absent\.txt: cannot open the file"):
        _lines(tmp_path / "absent.txt")


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_atomic_writes_respect_the_umask(tmp_path, umask_027):
    atomic_write_text(str(tmp_path / "out.json"), "{}")
    assert stat.S_IMODE(os.stat(tmp_path / "out.json").st_mode) == 0o640
    directory = make_temporary(str(tmp_path), ".x.tmp-", is_directory=True)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o750


def _dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_next_write_removes_only_stale_temporaries_of_our_naming(tmp_path):
    dead = _dead_pid()
    stale_file = tmp_path / f".tmp-{dead}-abc123"
    stale_dir = tmp_path / f".tmp-{dead}-dir456"
    fresh = tmp_path / f".tmp-{dead}-fresh1"  # a dead pid, but touched seconds ago: left alone
    live = tmp_path / f".tmp-{os.getppid()}-live12"  # a live process (our parent)
    other = [tmp_path / ".tmp-notours", tmp_path / "tmp-1-abc", tmp_path / f".tmp-{dead}-x.bak"]
    stale_file.write_text("half written")
    stale_dir.mkdir()
    (stale_dir / "inner").write_text("x")
    for path in (fresh, live, *other):
        path.write_text("keep")
    for path in (stale_file, stale_dir, live, *other):
        _age(path, 3600)
    atomic_write_text(str(tmp_path / "out.txt"), "new")
    remaining = sorted(os.listdir(tmp_path))
    assert remaining == sorted(["out.txt", fresh.name, live.name, *(p.name for p in other)])
    _age(live, 2 * file_utils.ORPHAN_AFTER_S)  # untouched for two days: its pid must have been reused
    assert remove_stale_temporaries(str(tmp_path), ".tmp-") == [str(live)]


def test_atomic_files_rename_in_order_and_leave_nothing_on_error(tmp_path):
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    with atomic_files(first, second) as (tmp_a, tmp_b):
        for tmp, text in ((tmp_a, "A"), (tmp_b, "B")):
            with open(tmp, "w") as handle:
                handle.write(text)
    assert open(first).read() == "A" and open(second).read() == "B"
    with pytest.raises(RuntimeError), atomic_files(first, second) as (tmp_a, tmp_b):
        with open(tmp_a, "w") as handle:
            handle.write("new A")
        raise RuntimeError("killed")
    assert sorted(os.listdir(tmp_path)) == ["a", "b"] and open(first).read() == "A"
