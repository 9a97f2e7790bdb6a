"""`allennlp xlner-plot` end to end on the tiny generated data: a tiny tagger trained for one
epoch on English, the known es-en alignment, and both pictures with their numbers."""
import json
import os
import subprocess
import sys

import pytest
from allennlp.commands.train import train_model_from_file

from tests.conftest import PROJECT_ROOT

TAGGER = os.path.join(PROJECT_ROOT, "tests", "fixtures", "predictors", "tiny_tagger.jsonnet")


@pytest.fixture(scope="module")
def tiny_archive(tiny_data, tmp_path_factory) -> str:
    root = tiny_data["XLNER_DATA"]
    directory = tmp_path_factory.mktemp("plot") / "run"
    overrides = {"train_data_path": f"{root}/ner/en/conll2003/eng.testa"}
    train_model_from_file(TAGGER, str(directory), overrides=json.dumps(overrides))
    return str(directory / "model.tar.gz")


def xlner_plot(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "allennlp", "xlner-plot", *arguments, "--include-package", "xlner_allennlp"]
    return subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)


def test_both_pictures_are_written_with_their_numbers(tiny_archive, tiny_data, tmp_path):
    root = tiny_data["XLNER_DATA"]
    english, spanish = f"{root}/ner/en/conll2003/eng.testa", f"{root}/ner/es/conll2002/esp.testa"
    space = xlner_plot(
        "space", "--alignment", f"{root}/alignments/es-en",
        "--reference-vectors", f"{root}/emb/en.npy", "--mapped-vectors", f"{root}/emb/es.npy",
        "--reference-data", english, "--mapped-data", spanish, "--model", tiny_archive,
        "--output", str(tmp_path / "space.png"),
    )
    assert space.returncode == 0, space.stderr[-2000:]
    numbers = json.loads((tmp_path / "space.json").read_text())
    rates = numbers["same_type_neighbour_rate"]
    assert {"before alignment", "after alignment", "model encoder"} <= set(rates)
    # The tiny target vectors are an exact rotation of the English ones: aligned, every Spanish
    # entity word's nearest English entity word is itself.
    assert rates["after alignment"] == pytest.approx(1.0)
    assert (tmp_path / "space.png").stat().st_size > 0

    length = xlner_plot(
        "length-accuracy", "--model", tiny_archive, "--data", spanish, "--language", "es",
        "--output", str(tmp_path / "length.png"),
    )
    assert length.returncode == 0, length.stderr[-2000:]
    buckets = json.loads((tmp_path / "length.json").read_text())["buckets"]
    assert buckets and (tmp_path / "length.png").stat().st_size > 0


def test_bad_input_is_one_line_without_traceback(tmp_path):
    missing = xlner_plot(
        "length-accuracy", "--model", str(tmp_path / "absent.tar.gz"), "--data", "x", "--language", "es",
        "--output", str(tmp_path / "length.png"),
    )
    assert missing.returncode == 1
    message = [line for line in missing.stderr.splitlines() if line.startswith("error: ")]
    assert len(message) == 1 and "absent.tar.gz" in message[0]
    assert "Traceback" not in missing.stderr
