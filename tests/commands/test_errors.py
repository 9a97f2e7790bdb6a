import argparse
import gzip
import zlib

import pytest

from xlner_allennlp.commands.errors import exit_on_error


@pytest.mark.parametrize("error, message", [
    (EOFError("Compressed file ended before the end-of-stream marker was reached"), "Compressed file ended"),
    (gzip.BadGzipFile("Not a gzipped file (b'ab')"), "Not a gzipped file"),
    (zlib.error("invalid stored block lengths"), "invalid stored block lengths"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "can't decode byte 0xff"),
    (KeyError("'casa' is not in es.npy"), "'casa' is not in es.npy"),
])
def test_read_errors_become_one_line_and_exit_status_1(capsys, error, message):
    def command(args):
        raise error

    with pytest.raises(SystemExit) as exit_info:
        exit_on_error(command)(argparse.Namespace())
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_other_errors_still_raise():
    def command(args):
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        exit_on_error(command)(argparse.Namespace())
