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
    word_ids = distinct_row_ids(flat)
    representatives = torch.empty(int(word_ids.max()) + 1, dtype=torch.long, device=flat.device)
    representatives[word_ids] = torch.arange(flat.size(0), device=flat.device)
    encoded = encode(flat.index_select(0, representatives))
    return encoded.index_select(0, word_ids).view(*words_shape, encoded.size(-1))


def distinct_row_ids(rows: torch.Tensor) -> torch.Tensor:
    """An id per row of an integer matrix `(num_rows, num_columns)`, `(num_rows,)` in
    `0 .. num_distinct - 1`: equal rows get equal ids, different rows different ids.

    Column by column, the pair (ids so far, next column) is renumbered by a one-dimensional
    `torch.unique`, which keeps the keys below `num_rows * (max value + 1)` (no overflow) and is
    much faster than `torch.unique(dim=0)`'s row sort on CPU.
    """
    ids = torch.zeros(rows.size(0), dtype=torch.long, device=rows.device)
    if rows.numel() == 0:
        return ids
    base = int(rows.max()) + 1
    for column in rows.long().unbind(1):
        ids = torch.unique(ids * base + column, return_inverse=True)[1]
    return ids
