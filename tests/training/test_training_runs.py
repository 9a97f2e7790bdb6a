"""Training runs of the Cross-Word experiment (training_config/cross_word.jsonnet) on the tiny data:
two runs with the same seed give bit-identical weights and metrics, and a run killed mid-training
(SIGKILL) and resumed with ``allennlp train --recover`` ends exactly where the uninterrupted run
ends: same best validation F1, same metrics, same weights."""
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
import torch
from allennlp.commands.train import train_model_from_file
from allennlp.common import Params

import tests.training.killing_callback  # noqa: F401  registers xlner_test_kill

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG = PROJECT_ROOT / "training_config" / "cross_word.jsonnet"


# The config's own trainer callbacks (torch's random state in the checkpoints).
CALLBACKS = [{"type": "xlner_random_state"}]


def _overrides(marker: Path) -> str:
    """Four epochs, with a callback that kills the run at the first batch of epoch 2 unless
    ``marker`` exists (the checkpoint of epoch 1 is then on disk)."""
    return json.dumps({
        "trainer.num_epochs": 4,
        "trainer.callbacks": CALLBACKS + [{"type": "xlner_test_kill", "marker": str(marker), "epoch": 2}],
    })


def _environment(tiny_data: dict) -> Dict[str, str]:
    return {**os.environ, **tiny_data, "XLNER_TARGET": "es", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _train_in_process(directory: Path, tiny_data: dict, monkeypatch) -> Path:
    for name, value in _environment(tiny_data).items():
        monkeypatch.setenv(name, value)
    marker = directory.parent / (directory.name + ".never-killed")
    marker.touch()
    train_model_from_file(str(CONFIG), str(directory), overrides=_overrides(marker))
    return directory


def _same_weights(first: Path, second: Path) -> bool:
    a, b = torch.load(first / "best.th"), torch.load(second / "best.th")
    return a.keys() == b.keys() and all(torch.equal(a[name], b[name]) for name in a)


def _metrics(directory: Path) -> dict:
    """metrics.json without the timings and memory figures."""
    metrics = json.loads((directory / "metrics.json").read_text())
    return {key: value for key, value in metrics.items() if not key.endswith(("duration", "_MB"))}


@pytest.fixture(scope="module")
def uninterrupted(tiny_data, tmp_path_factory) -> Path:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _train_in_process(tmp_path_factory.mktemp("uninterrupted") / "run", tiny_data, monkeypatch)


def test_the_overrides_keep_the_configs_callbacks(tiny_data):
    config = Params.from_file(str(CONFIG), ext_vars={**tiny_data, "XLNER_TARGET": "es"}).as_dict()
    assert config["trainer"]["callbacks"] == CALLBACKS


def test_same_seed_gives_bit_identical_results(uninterrupted, tiny_data, tmp_path, monkeypatch):
    again = _train_in_process(tmp_path / "run", tiny_data, monkeypatch)
    assert _same_weights(uninterrupted, again)
    assert _metrics(again) == _metrics(uninterrupted)


@pytest.mark.slow  # two `allennlp train` processes
def test_recover_after_a_kill_ends_like_the_uninterrupted_run(uninterrupted, tiny_data, tmp_path):
    marker, run = tmp_path / "killed", tmp_path / "run"
    command = [sys.executable, "-m", "allennlp", "train", str(CONFIG), "-s", str(run), "-o", _overrides(marker),
               "--include-package", "xlner_allennlp", "--include-package", "tests.training.killing_callback"]
    environment = _environment(tiny_data)
    killed = subprocess.run(command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert marker.exists() and not (run / "metrics.json").exists()
    assert [name for name in os.listdir(run) if name.startswith("model_state")] == ["model_state_e2_b0.th"]

    recovered = subprocess.run(command + ["--recover"], cwd=PROJECT_ROOT, env=environment, capture_output=True,
                               text=True, timeout=600)
    assert recovered.returncode == 0, recovered.stderr[-3000:]
    best = "best_validation_f1-measure-overall"
    assert _metrics(run)[best] == _metrics(uninterrupted)[best]
    assert _metrics(run) == _metrics(uninterrupted)
    assert _same_weights(run, uninterrupted)
