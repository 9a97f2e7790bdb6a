"""A batched, vectorized linear-chain CRF that is a drop-in replacement for allennlp's.

allennlp's `ConditionalRandomField` runs its forward algorithm and gold-path score with about
twenty small tensor operations per time step, back-propagates through all of them with autograd,
and decodes sentence by sentence. Here:

* the log-partition function is a scaled forward algorithm in probability space (float64, four
  in-place operations per time step, no autograd graph) with a hand-written backward pass
  (scaled backward algorithm: the gradient of log Z is the vector of marginals);
* the gold-path score is a handful of `gather`s over the whole batch;
* Viterbi decoding runs over the whole batch at once, one max-plus step per time step, with
  backpointers that stay put on padded positions so one backtrack serves every length.

Results (log-likelihood, its gradients, best paths and their scores) equal allennlp's up to
floating point rounding; `FastConditionalRandomField` subclasses allennlp's class, so it has the
same parameters (`transitions`, `start_transitions`, `end_transitions`, `_constraint_mask`) and
state-dict keys, and the same public methods (`forward`, `viterbi_tags`).

The functions on plain tensors (`log_partition`, `path_score`, `viterbi_decode`,
`sequence_lengths`) live in `xlner_allennlp.crf`, usable without AllenNLP, and are re-exported
here; `crf_potentials` and `decoding_confidence` read them off any allennlp
`ConditionalRandomField`. These are the building blocks other models reuse.

Masks must be prefix masks (each row is some `True`s followed by `False`s, at least one `True`),
as `allennlp.nn.util.get_text_field_mask` produces; values at padded positions are never read
into results, so they may be anything, even NaN.
"""
from typing import List, Optional, Tuple, Union

import torch
from allennlp.modules.conditional_random_field import ConditionalRandomField

from xlner_allennlp.crf import (  # noqa: F401 (the building blocks, re-exported)
    FORBIDDEN_SCORE,
    log_partition,
    path_score,
    sequence_lengths,
    viterbi_decode,
)

ViterbiDecoding = Tuple[List[int], float]


def crf_potentials(
    crf: ConditionalRandomField, constrained: bool = False
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The `(transitions (T, T), start (T,), end (T,))` scores of an allennlp-style CRF.

    Without start/end transitions, `start` and `end` are zeros. With `constrained=True`, every
    transition the CRF's constraints forbid (including from START and to END) scores
    `FORBIDDEN_SCORE`, exactly as in allennlp's `viterbi_tags`; gradients still flow to the
    allowed entries.
    """
    num_tags = crf.num_tags
    transitions = crf.transitions
    if crf.include_start_end_transitions:
        start, end = crf.start_transitions, crf.end_transitions
    else:
        start = transitions.new_zeros(num_tags)
        end = transitions.new_zeros(num_tags)
    if constrained:
        allowed = crf._constraint_mask > 0.5
        forbidden = transitions.new_tensor(FORBIDDEN_SCORE)
        transitions = torch.where(allowed[:num_tags, :num_tags], transitions, forbidden)
        start = torch.where(allowed[num_tags, :num_tags], start, forbidden)
        end = torch.where(allowed[:num_tags, num_tags + 1], end, forbidden)
    return transitions, start, end


def decoding_confidence(
    logits: torch.Tensor,
    mask: torch.Tensor,
    best_scores: torch.Tensor,
    crf: ConditionalRandomField,
    constrained: bool,
) -> torch.Tensor:
    """Probability of each decoded path, `exp(score(best) - log Z)`, `(batch,)`, in [0, 1].

    With `constrained=True` Z sums over the allowed paths only, so this is the path's
    probability in the distribution the constrained decoder chooses from. Not differentiable.
    """
    with torch.no_grad():
        log_z = log_partition(logits, mask, *crf_potentials(crf, constrained=constrained))
        return (best_scores.to(log_z.dtype) - log_z).clamp(max=0.0).exp()


class FastConditionalRandomField(ConditionalRandomField):
    """
    allennlp's `ConditionalRandomField` with batched, vectorized computations (see the module
    docstring). Same constructor, parameters, state-dict keys and results; `forward` and
    `viterbi_tags` keep allennlp's signatures, and it adds per-sentence methods.

    As in allennlp, the constraints apply to decoding (`viterbi_tags`, `viterbi_decode`) and not
    to the log-likelihood.

    # Parameters

    num_tags : `int`, required
        The number of tags.
    constraints : `List[Tuple[int, int]]`, optional (default = `None`)
        Allowed transitions `(from_tag_id, to_tag_id)`, with ids `num_tags` for START and
        `num_tags + 1` for END, as returned by allennlp's `allowed_transitions`. `None` allows all.
    include_start_end_transitions : `bool`, optional (default = `True`)
        Whether to learn scores for starting and ending a sequence with each tag.
    """

    def forward(
        self, inputs: torch.Tensor, tags: torch.Tensor, mask: Optional[torch.BoolTensor] = None
    ) -> torch.Tensor:
        """Sum over the batch of log P(tags | inputs), a scalar, like allennlp's `forward`."""
        return self.log_likelihood(inputs, tags, mask).sum()

    def log_likelihood(
        self, inputs: torch.Tensor, tags: torch.Tensor, mask: Optional[torch.BoolTensor] = None
    ) -> torch.Tensor:
        """log P(tags | inputs) per sequence, `(batch,)` (unconstrained, like allennlp's)."""
        mask = self._full_mask(inputs, mask)
        potentials = crf_potentials(self)
        return path_score(inputs, tags, mask, *potentials) - log_partition(
            inputs, mask, *potentials
        )

    def log_partition(
        self, inputs: torch.Tensor, mask: Optional[torch.BoolTensor] = None, constrained: bool = False
    ) -> torch.Tensor:
        """log Z per sequence, `(batch,)`; over allowed paths only if `constrained`."""
        mask = self._full_mask(inputs, mask)
        return log_partition(inputs, mask, *crf_potentials(self, constrained=constrained))

    def viterbi_decode(
        self, logits: torch.Tensor, mask: Optional[torch.BoolTensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Constrained best paths `(batch, seq_len)` (padding repeats the last tag) and scores."""
        mask = self._full_mask(logits, mask)
        return viterbi_decode(logits, mask, *crf_potentials(self, constrained=True))

    def viterbi_tags(
        self, logits: torch.Tensor, mask: Optional[torch.BoolTensor] = None, top_k: Optional[int] = None
    ) -> Union[List[ViterbiDecoding], List[List[ViterbiDecoding]]]:
        """allennlp's `viterbi_tags`: `[(path, score)]` per sentence, or, with `top_k`, a list
        of the `top_k` best per sentence. `top_k > 1` uses allennlp's per-sentence k-best decoder.
        """
        if top_k is not None and top_k > 1:
            return super().viterbi_tags(logits, mask, top_k=top_k)
        mask = self._full_mask(logits, mask)
        paths, scores = self.viterbi_decode(logits, mask)
        decoded = [
            (path[:length], score)
            for path, length, score in zip(
                paths.tolist(), mask.sum(1).tolist(), scores.tolist()
            )
        ]
        if top_k is None:
            return decoded
        return [[one] for one in decoded]

    @staticmethod
    def _full_mask(inputs: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
        if mask is None:
            return torch.ones(inputs.shape[:2], dtype=torch.bool, device=inputs.device)
        return mask.bool()
