import json
import os
import subprocess

import pytest

from benchmarks import records
from benchmarks.records import RecordError, Recorder, append_records, command_line, git_state, read_records


def test_append_keeps_earlier_lines_and_reads_them_back_in_order(tmp_path):
    path = str(tmp_path / "results" / "bench.jsonl")
    first = Recorder("bench", {"pairs": "en-es"}, path).record({"pair": "en-es"}, {"p1": 30.2})
    Recorder("bench", {"pairs": "en-fr"}, path).record({"pair": "en-fr"}, {"p1": 29.2})
    read = read_records(path)
    assert [r["key"]["pair"] for r in read] == ["en-es", "en-fr"]
    assert read[0] == first
    for field in records.REQUIRED_FIELDS + ("dirty",):
        assert field in read[1]
    assert set(read[1]["machine"]) >= {"cores", "load", "cpu_model", "python", "torch"}
    assert read[1]["settings"] == {"pairs": "en-fr"}
    with open(path, encoding="utf-8") as handle:
        assert len(handle.read().splitlines()) == 2


def test_read_records_names_file_and_line_of_a_bad_line(tmp_path):
    path = tmp_path / "bench.jsonl"
    good = {field: {} for field in records.REQUIRED_FIELDS}
    path.write_text(json.dumps(good) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"bench\.jsonl:3: not valid JSON"):
        read_records(str(path))
    path.write_text(json.dumps({"benchmark": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"bench\.jsonl:1: record lacks key, numbers"):
        read_records(str(path))
    assert read_records(str(tmp_path / "absent.jsonl")) == []


def test_append_of_nothing_creates_no_file(tmp_path):
    append_records(str(tmp_path / "x.jsonl"), [])
    assert not os.path.exists(tmp_path / "x.jsonl")


def test_command_line_prefixes_recorded_environment_and_quotes_arguments():
    command = command_line(["benchmarks/x.py", "--name", "a b"], {"OMP_NUM_THREADS": "1", "HOME": "/h", "XLNER_DATA": "d"})
    assert command.startswith("OMP_NUM_THREADS=1 XLNER_DATA=d ")
    assert command.endswith("benchmarks/x.py --name 'a b'")
    assert "HOME" not in command


def test_git_state_ignores_appended_results_but_not_other_changes(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("add", "code.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    state = git_state(str(tmp_path))
    assert len(state["commit"]) == 40 and state["dirty"] is False
    append_records(str(tmp_path / "benchmarks" / "results" / "b.jsonl"), [{"a": 1}])
    assert git_state(str(tmp_path))["dirty"] is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_state(str(tmp_path))["dirty"] is True
    assert git_state(str(tmp_path / "nowhere")) == {"commit": None, "dirty": None}
