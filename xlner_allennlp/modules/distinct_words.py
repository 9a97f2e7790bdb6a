"""Encode each distinct word of a batch once.

A batch of sentences repeats many words (punctuation, articles, padding), and a character encoder
gives a word the same vector wherever it occurs, so encoding the distinct character rows and
copying the results to their positions gives the per-token result for a fraction of the work (up
to floating-point rounding: matrix kernels depend on the number of rows). The copy
(`index_select`) sums the gradients of a word's occurrences, so the gradients are the per-token
ones too (up to the order of the additions). Plain torch.
"""
from typing import Callable

import torch


def encode_distinct_words(
    characters: torch.Tensor, encode: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """`encode` applied to every word of `characters`, computed once per distinct word.

    `characters` holds character ids `(*words_shape, num_characters)` (0 = padding; an all-zero
    row is a padding token, encoded like any other row); `encode` maps character ids
    `(num_words, num_characters)` to encodings `(num_words, dim)` row by row. Returns
    `(*words_shape, dim)`, equal to `encode(characters.view(-1, num_characters))` reshaped.
    """
    words_shape = characters.shape[:-1]
    flat = characters.reshape(-1, characters.size(-1))
    distinct, positions = torch.unique(flat, dim=0, return_inverse=True)
    encoded = encode(distinct)
    return encoded.index_select(0, positions).view(*words_shape, encoded.size(-1))
