"""`allennlp xlner-align` on the bad input a new user brings (issue 13): broken gzip, latin-1,
reversed dictionaries, a failed fit over a good artifact, a killed run; and that two runs agree bit
for bit."""
import gzip
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from xlner_allennlp.alignment.artifact import load_alignment, write_vectors
from xlner_allennlp.alignment.vectors import WordVectors, load_vectors

from tests.commands.test_align import files, run  # noqa: F401  (fixture)
from tests.conftest import PROJECT_ROOT


def fails(monkeypatch, capsys, *argv):
    """Run the command, expect exit status 1 and return its one-line error."""
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, *argv)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.rsplit("\r", 1)[-1]  # after any progress bar
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def align(files, *extra):  # noqa: F811
    return ("xlner-align", "--mapped-vectors", files["es"], "--reference-vectors", files["en"],
            "--output", files["out"], *extra)


def _text_vectors(files, tmp_path, encoding="utf-8", rename=None):  # noqa: F811
    """The es vectors as word2vec text in ``encoding``, with words renamed by ``rename``."""
    vectors = load_vectors(files["es"])
    words = [rename.get(w, w) for w in vectors.words] if rename else vectors.words
    lines = [f"{len(words)} {vectors.dim}"] + [
        w + " " + " ".join(f"{v:.6g}" for v in row) for w, row in zip(words, vectors.matrix)
    ]
    path = tmp_path / "es.vec"
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_a_gz_that_is_not_gzip_or_is_truncated_is_one_line_naming_the_file(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    text = _text_vectors(files, tmp_path)
    fake = tmp_path / "es.vec.gz"
    fake.write_bytes(text.read_bytes())
    files = {**files, "es": str(fake)}
    err = fails(monkeypatch, capsys, *align(files, "--method", "procrustes", "--seed", "identical"))
    assert f"{fake}: not a gzip file" in err
    data = gzip.compress(text.read_bytes())
    fake.write_bytes(data[: len(data) // 2])
    err = fails(monkeypatch, capsys, *align(files, "--method", "procrustes", "--seed", "identical"))
    assert f"{fake}, " in err and "the gzip stream ends early" in err


def test_latin1_vectors_and_dictionaries_have_their_options(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    latin = _text_vectors(files, tmp_path, "latin-1", rename={"s0": "niño"})
    dictionary = tmp_path / "es-en.latin1.txt"
    pairs = [("niño", "t0")] + [(f"s{i}", f"t{i}") for i in range(1, 200)]
    dictionary.write_bytes("".join(f"{s} {t}\n" for s, t in pairs).encode("latin-1"))
    base = align({**files, "es": str(latin)}, "--method", "procrustes", "--dictionary", str(dictionary))
    err = fails(monkeypatch, capsys, *base)
    assert "es.vec, line " in err and "not valid utf-8" in err and "--encoding" in err
    err = fails(monkeypatch, capsys, *base, "--encoding", "latin-1")
    assert "es-en.latin1.txt, line 1" in err and "--dictionary-encoding" in err
    run(monkeypatch, *base, "--encoding", "latin-1", "--dictionary-encoding", "latin-1")
    alignment = load_alignment(files["out"])
    assert alignment.evaluation["training_dictionary"]["n_pairs"] == 200
    assert alignment.evaluation["status"] == "ok"


def test_a_reversed_dictionary_is_refused_and_the_artifact_kept(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    run(monkeypatch, *align(files, "--method", "procrustes", "--dictionary", files["train"]))
    before = (tmp_path / "es-en" / "mapping.npy").read_bytes()
    reversed_ = tmp_path / "en-es.txt"
    reversed_.write_text("".join(f"t{i} s{i}\n" for i in range(200)) + "s0 t0\n", encoding="utf-8")
    err = fails(monkeypatch, capsys, *align(files, "--method", "procrustes", "--dictionary", str(reversed_)))
    assert f"{reversed_}: the dictionary runs the other way round: 200 of its 201 pairs" in err
    assert "pass the dictionary of that direction" in err
    err = fails(monkeypatch, capsys, *align(files, "--method", "procrustes", "--dictionary", files["train"],
                                          "--evaluation-dictionary", str(reversed_)))
    assert "runs the other way round" in err
    assert (tmp_path / "es-en" / "mapping.npy").read_bytes() == before


def test_a_failed_fit_does_not_replace_a_good_artifact_unless_asked(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    run(monkeypatch, *align(files, "--method", "procrustes", "--dictionary", files["train"]))
    before = (tmp_path / "es-en" / "mapping.npy").read_bytes()
    permutation = np.random.default_rng(1).permutation(200)
    shuffled = tmp_path / "es-en.shuffled.txt"
    shuffled.write_text("".join(f"s{i} t{j}\n" for i, j in enumerate(permutation)), encoding="utf-8")
    failing = align(files, "--method", "procrustes", "--dictionary", str(shuffled))
    err = fails(monkeypatch, capsys, *failing)
    assert "fit failed its checks" in err and "es-en.failed for inspection" in err and "--overwrite-failed" in err
    assert (tmp_path / "es-en" / "mapping.npy").read_bytes() == before
    assert load_alignment(str(tmp_path / "es-en.failed")).evaluation["status"] == "failed"
    run(monkeypatch, *failing, "--overwrite-failed")
    assert "warning: es->en:" in capsys.readouterr().out
    assert load_alignment(files["out"]).evaluation["status"] == "failed"


def test_low_evaluation_coverage_is_warned_on_stderr(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    sparse = tmp_path / "es-en.sparse.txt"
    sparse.write_text("s300 t300\n" + "".join(f"x{i} y{i}\n" for i in range(20)), encoding="utf-8")
    run(monkeypatch, *align(files, "--method", "procrustes", "--dictionary", files["train"],
                            "--evaluation-dictionary", str(sparse)))
    err = capsys.readouterr().err
    assert "warning: es->en:" in err and "only 1 of its 21 pairs (4.76%)" in err
    assert "only 1 of its 21 pairs" in load_alignment(files["out"]).evaluation["bli"]["warning"]


def test_two_runs_give_bit_identical_artifacts(monkeypatch, tmp_path, files):  # noqa: F811
    outputs = []
    for name in ("first", "second"):
        output = str(tmp_path / name)
        run(monkeypatch, *align({**files, "out": output}, "--method", "procrustes-refine", "--dictionary",
                                files["train"], "--evaluation-dictionary", files["test"],
                                "--set", "refinement_iterations=2", "--set", "refinement_vocab=400"))
        outputs.append(load_alignment(output))
    first, second = outputs
    assert first.mapping.tobytes() == second.mapping.tobytes()
    for side in ("mapped_normalization", "reference_normalization"):
        for a, b in zip(getattr(first, side).means, getattr(second, side).means):
            assert (a is None and b is None) or a.tobytes() == b.tobytes()
    drop = lambda evaluation: {k: v for k, v in evaluation.items() if k != "fit_seconds"}  # noqa: E731
    assert drop(first.evaluation) == drop(second.evaluation)


# A child process that runs xlner-align and kills itself with SIGKILL right after the WHEN-th call
# of the patched function: np.save (inside the temporary directory) or os.replace (between renames).
KILLED_ALIGN = """
import os, signal, sys
import numpy as np
from xlner_allennlp.alignment import artifact
target, when = sys.argv[1], int(sys.argv[2])
module = artifact.np if target == "save" else artifact.os
real = getattr(module, target)
calls = []
def killing(*args, **kwargs):
    result = real(*args, **kwargs)
    calls.append(1)
    if len(calls) == when:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(module, target, killing)
from allennlp.commands import main
sys.argv = ["allennlp"] + sys.argv[3:]
main()
"""


def _killed_align(files, target, when):  # noqa: F811
    argv = [sys.executable, "-c", KILLED_ALIGN, target, str(when), *align(files, "--method", "least-squares",
                                                                        "--dictionary", files["train"])]
    result = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": PROJECT_ROOT})
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]


@pytest.mark.slow  # two child processes start allennlp (about 25 s each)
def test_a_killed_align_leaves_the_old_artifact_or_a_clear_error(monkeypatch, capsys, tmp_path, files):  # noqa: F811
    run(monkeypatch, *align(files, "--method", "procrustes", "--dictionary", files["train"]))
    before = load_alignment(files["out"]).mapping
    _killed_align(files, "save", 1)  # mid-write: mapping.npy written, normalization.npz not
    np.testing.assert_array_equal(load_alignment(files["out"]).mapping, before)  # not the least-squares fit
    leftovers = [name for name in os.listdir(tmp_path) if name.startswith(".es-en.tmp-")]
    assert len(leftovers) == 1
    _killed_align(files, "replace", 1)  # between moving the old artifact aside and the new one in
    capsys.readouterr()
    err = fails(monkeypatch, capsys, "xlner-bli", files["out"], "--dictionary", files["test"])
    assert f"{files['out']}: no such alignment directory (a killed write left the previous artifact in " in err
    for name in os.listdir(tmp_path):  # the next write cleans up once the dead writers' files are stale
        then = time.time() - 3600
        os.utime(tmp_path / name, (then, then))
    run(monkeypatch, *align(files, "--method", "procrustes", "--dictionary", files["train"]))
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".es-en.")]
    np.testing.assert_array_equal(load_alignment(files["out"]).mapping, before)
