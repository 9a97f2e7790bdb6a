"""A tiny random ELMo directory and a tiny corpus, generated for tests."""
import random
from typing import List

import torch

from xlner_allennlp.contextual import BiLm, BiLmOptions, write_elmo

WORDS = ["The", "the", "cat", "Cat", "sat", "on", "a", "mat", "dog", "runs", "big", "small", "red", "Paris"] + [
    f"w{i}" for i in range(40)
]
# 2 LSTM layers per direction, projection 8: every layer is 16-dimensional.
TINY_OPTIONS = BiLmOptions(char_embedding_dim=4, filters=((1, 4), (2, 4), (3, 8)), projection_dim=8, cell_size=16)


def make_tiny_elmo(directory: str, seed: int = 0) -> str:
    """Export a randomly initialised (``seed``) tiny BiLM to ``directory`` in the ELMo format."""
    torch.manual_seed(seed)
    write_elmo(BiLm(TINY_OPTIONS), directory)
    return directory


def tiny_corpus(count: int = 80, seed: int = 0) -> List[List[str]]:
    """``count`` random sentences of 1-9 tokens over :data:`WORDS` (cased variants included)."""
    rng = random.Random(seed)
    return [[rng.choice(WORDS) for _ in range(rng.randint(1, 9))] for _ in range(count)]
