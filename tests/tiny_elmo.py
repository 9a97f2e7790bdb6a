"""A tiny random ELMo directory and a tiny corpus, generated for tests (see ``make_tiny_elmo``)."""
import random
import subprocess
import sys
from typing import List

WORDS = ["The", "the", "cat", "Cat", "sat", "on", "a", "mat", "dog", "runs", "big", "small", "red", "Paris"] + [
    f"w{i}" for i in range(40)
]


def make_tiny_elmo(directory: str, seed: int = 0) -> str:
    """Write a randomly initialised ELMo (2 LSTM layers, 16-d layers) to ``directory``."""
    # TODO(elmo): replaced by the bilm exporter at cherry-pick time.
    subprocess.run([sys.executable, "/tmp/elmo_dev/make_elmo.py", directory, str(seed)], check=True)
    return directory


def tiny_corpus(count: int = 80, seed: int = 0) -> List[List[str]]:
    """``count`` random sentences of 1-9 tokens over :data:`WORDS` (cased variants included)."""
    rng = random.Random(seed)
    return [[rng.choice(WORDS) for _ in range(rng.randint(1, 9))] for _ in range(count)]
