import json
import os

import numpy as np
import pytest

from xlner_allennlp.alignment.artifact import write_vectors
from xlner_allennlp.alignment.vector_stamp import stamp_path
from xlner_allennlp.alignment.vectors import VectorFileError, WordVectors, load_vectors


def _vectors(offset, n=5, dim=3):
    return WordVectors([f"w{i}" for i in range(n)], np.arange(n * dim, dtype=np.float32).reshape(n, dim) + offset)


def test_write_vectors_writes_a_stamp_the_loader_accepts(tmp_path):
    path = str(tmp_path / "v.npy")
    write_vectors(_vectors(0), path)
    stamp = json.loads(open(stamp_path(path)).read())
    assert stamp["rows"] == 5 and stamp["dim"] == 3
    np.testing.assert_array_equal(load_vectors(path).matrix, _vectors(0).matrix)
    assert load_vectors(path, max_vocab=2).words == ["w0", "w1"]


def test_a_write_killed_between_renames_is_refused_not_paired(tmp_path, monkeypatch):
    path = str(tmp_path / "v.npy")
    write_vectors(_vectors(0), path)
    real_replace = os.replace
    done = []

    def killed_after_two(src, dst):
        if len(done) == 2:
            raise KeyboardInterrupt  # the process dies after the stamp and the .npy are in place
        done.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        write_vectors(WordVectors([f"x{i}" for i in range(5)], _vectors(100).matrix), path)
    monkeypatch.undo()
    assert [os.path.basename(d) for d in done] == ["v.stamp.json", "v.npy"]
    # A new matrix beside the old word list of the same length: the row counts agree, the stamp does not.
    with pytest.raises(VectorFileError, match=r"v\.npy: the matrix and its word list .*v\.vocab were not written together"):
        load_vectors(path)
    assert sorted(os.listdir(tmp_path)) == ["v.npy", "v.stamp.json", "v.vocab"]  # no temporaries left
    write_vectors(_vectors(7), path)  # writing again repairs the pair
    np.testing.assert_array_equal(load_vectors(path).matrix, _vectors(7).matrix)


def test_a_replaced_word_list_is_refused_and_pairs_without_a_stamp_still_load(tmp_path):
    path = str(tmp_path / "v.npy")
    write_vectors(_vectors(0), path)
    (tmp_path / "v.vocab").write_text("".join(f"y{i}\n" for i in range(5)), encoding="utf-8")
    with pytest.raises(VectorFileError, match=r"v\.vocab differ from the stamp"):
        load_vectors(path)
    os.remove(stamp_path(path))
    assert load_vectors(path).words[0] == "y0"
    (tmp_path / "v.stamp.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(VectorFileError, match=r"v\.stamp\.json:1: not a vector-file stamp"):
        load_vectors(path)
