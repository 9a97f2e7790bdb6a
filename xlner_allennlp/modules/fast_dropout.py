"""Dropout with masks made from random bits: the distribution of `torch.nn.Dropout`, drawn faster.

On CPU torch draws a dropout mask one element at a time from a floating-point uniform number
(about a quarter of the tagger's training step before this module, 1 thread). A keep
probability that is a multiple of 2**-w (0.5 needs w = 1) is decided exactly by comparing a
uniform w-bit field with `keep * 2**w`, so one 32-bit draw of torch's generator decides up to 31
elements: same distribution (independent Bernoulli(keep) per element, here without the float
rounding), same generator and seeding (`torch.manual_seed`, the `xlner_random_state` callback),
different draws. Other probabilities use torch's own dropout. Plain torch.
"""
import math
from typing import Optional, Tuple

import torch

FIELD_WIDTHS = (1, 2, 4, 8)


def field_width(keep: float) -> Optional[int]:
    """The fewest bits `w` of `FIELD_WIDTHS` with `keep * 2**w` a whole number, for `0 < keep < 1`;
    `None` if there is none (or `keep` is 0 or 1)."""
    if not 0 < keep < 1:
        return None
    return next((width for width in FIELD_WIDTHS if (keep * 2**width).is_integer()), None)


def keep_mask(shape: Tuple[int, ...], keep: float, width: int, device: torch.device) -> torch.BoolTensor:
    """Independent Bernoulli(`keep`) draws of `shape`, `keep` a multiple of `2**-width` (see
    `field_width`): each element is whether its own `width`-bit field of random bits is below
    `keep * 2**width`. The bits are those of `random_()`'s int32 values (31 uniform bits each)."""
    count = math.prod(shape)
    fields_per_word = 31 // width
    words = torch.empty(-(-count // fields_per_word), dtype=torch.int32, device=device).random_()
    shifts = torch.arange(0, fields_per_word * width, width, dtype=torch.int32, device=device)
    fields = (words.unsqueeze(1) >> shifts) & (2**width - 1)
    return (fields.view(-1)[:count] < round(keep * 2**width)).view(shape)


class FastDropout(torch.nn.Dropout):
    """
    `torch.nn.Dropout` (same constructor and behaviour: in training each element is zeroed with
    probability `p` and the others are scaled by `1 / (1 - p)`; identity in eval mode) whose masks
    come from `keep_mask` when `1 - p` is a multiple of 1/256, e.g. `p = 0.5`, and from torch's
    dropout otherwise (and for `inplace`).
    """

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        keep = 1.0 - self.p
        width = field_width(keep)
        if not self.training or width is None or self.inplace:
            return torch.nn.functional.dropout(inputs, self.p, self.training, self.inplace)
        mask = keep_mask(tuple(inputs.shape), keep, width, inputs.device)
        return inputs * mask.to(inputs.dtype).mul_(1.0 / keep)
