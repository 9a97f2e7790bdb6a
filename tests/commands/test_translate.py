import os
import subprocess
import sys

import numpy as np
import pytest

from xlner_allennlp.alignment import align_files, load_alignment, translate_words
from xlner_allennlp.alignment.retrieval import csls_knn
from xlner_allennlp.alignment.vectors import load_vectors

from tests.commands.test_align import files, run  # noqa: F401  (fixture)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def artifact(files):  # noqa: F811
    align_files(files["es"], files["en"], "procrustes", files["out"], dictionary=files["train"])
    return files


def _rows(printed):
    lines = printed.strip().split("\n")
    return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]


def test_translate_prints_the_top_k_with_scores(monkeypatch, capsys, tmp_path, artifact):
    words = tmp_path / "words.txt"
    words.write_text("s210\n\ns211\n", encoding="utf-8")
    capsys.readouterr()
    run(monkeypatch, "xlner-translate", artifact["out"], "--words", str(words), "--k", "3")
    header, rows = _rows(capsys.readouterr().out)
    assert header == ["es", "rank", "en", "cosine", "csls"]
    assert [row[:2] for row in rows] == [["s210", "1"], ["s210", "2"], ["s210", "3"],
                                         ["s211", "1"], ["s211", "2"], ["s211", "3"]]
    # The fixture's gold translation of s<i> is t<i>; rank 1 is it, scores fall with the rank.
    assert rows[0][2] == "t210" and rows[3][2] == "t211"
    csls = [float(row[4]) for row in rows[:3]]
    assert csls == sorted(csls, reverse=True) and all(-1 <= float(row[3]) <= 1 for row in rows)


def test_translate_scores_equal_the_library_retrieval(artifact):
    alignment = load_alignment(artifact["out"])
    mapped, reference = load_vectors(artifact["es"]), load_vectors(artifact["en"])
    shared_es = alignment.apply(mapped.matrix, "mapped")
    shared_en = alignment.apply(reference.matrix, "reference")
    shared_es /= np.linalg.norm(shared_es, axis=1, keepdims=True)
    shared_en /= np.linalg.norm(shared_en, axis=1, keepdims=True)
    queries = [mapped.index["s5"], mapped.index["s7"]]
    scores, rows = csls_knn(shared_es, shared_en, 4, normalize=False)
    for method in ("csls", "nn"):
        translations, unknown = translate_words(
            alignment, load_vectors(artifact["es"]), load_vectors(artifact["en"]), ["s5", "s7"], 4, method
        )
        assert unknown == []
        for word, query in zip(["s5", "s7"], queries):
            cosines = shared_es[query] @ shared_en.T
            found = [reference.index[t.word] for t in translations[word]]
            np.testing.assert_allclose([t.cosine for t in translations[word]], cosines[found], atol=1e-5)
            if method == "csls":  # the same ranking and scores as CSLS over the whole space
                assert found == rows[query].tolist()
                np.testing.assert_allclose([t.csls for t in translations[word]], scores[query], atol=1e-5)
            else:
                assert found == np.argsort(-cosines, kind="stable")[:4].tolist()


def test_translate_reference_side_and_nn(monkeypatch, capsys, tmp_path, artifact):
    words = tmp_path / "words.txt"
    words.write_text("t300\n", encoding="utf-8")
    capsys.readouterr()
    run(monkeypatch, "xlner-translate", artifact["out"], "--words", str(words), "--k", "1", "--side", "reference",
        "--retrieval", "nn")
    header, rows = _rows(capsys.readouterr().out)
    assert header[0] == "en" and header[2] == "es" and rows[0][:3] == ["t300", "1", "s300"]


def test_unknown_words_through_the_real_command_line(artifact):
    """The installed ``allennlp`` entry point: words on stdin, one unknown, exit status 2."""
    environment = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "allennlp", "xlner-translate", artifact["out"], "--words", "-", "--k", "2",
               "--include-package", "xlner_allennlp"]
    done = subprocess.run(command, input="s12\nnot-a-word\n", capture_output=True, text=True, env=environment,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 2, done.stderr
    header, rows = _rows(done.stdout)
    assert [row[0] for row in rows] == ["s12", "s12"] and rows[0][2] == "t12"
    assert "unknown word: 'not-a-word' is not in the es vectors" in done.stderr
    assert "1 of 2 words unknown" in done.stderr
    assert "Traceback" not in done.stderr


def test_translate_errors(monkeypatch, capsys, tmp_path, artifact):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, "xlner-translate", artifact["out"], "--words", str(empty))
    assert exit_info.value.code == 1 and "no words to translate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(monkeypatch, "xlner-translate", str(tmp_path / "none"), "--words", str(empty))
    words = tmp_path / "words.txt"
    words.write_bytes(b"s1\n\xff\n")
    with pytest.raises(SystemExit):
        run(monkeypatch, "xlner-translate", artifact["out"], "--words", str(words))
    assert "line 2" in capsys.readouterr().err
    words.write_text("s1\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        run(monkeypatch, "xlner-translate", artifact["out"], "--words", str(words), "--k", "0")
    assert "k must be a positive number" in capsys.readouterr().err


def test_bli_measures_only_the_retrieval_asked(monkeypatch, capsys, artifact):
    import json

    from allennlp.commands.subcommand import Subcommand

    assert "xlner-translate" in Subcommand.list_available()
    capsys.readouterr()
    run(monkeypatch, "xlner-bli", artifact["out"], "--dictionary", artifact["test"], "--retrieval", "nn")
    results = json.loads(capsys.readouterr().out)
    assert "precision_at_1_nn" in results and "precision_at_1_csls" not in results
