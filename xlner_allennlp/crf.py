"""The linear-chain CRF's computations on plain tensors (no AllenNLP): batched log-partition
function with a hand-written backward pass, gold-path scores and Viterbi decoding.

Potentials are `(transitions (T, T), start (T,), end (T,))` score tensors; masks must be prefix
masks (each row some `True`s followed by `False`s, at least one `True`), and values at padded
positions are never read into results, so they may be anything, even NaN.
`xlner_allennlp.modules.conditional_random_field` builds allennlp's CRF module on these.
"""
from typing import Tuple

import torch
from torch.autograd.function import once_differentiable

# Score given to transitions that constraints forbid; allennlp's Viterbi uses the same value, so
# decoded scores agree even for paths that cannot avoid one.
FORBIDDEN_SCORE = -10000.0


def sequence_lengths(mask: torch.Tensor) -> torch.Tensor:
    """Lengths of the sequences of a prefix mask `(batch, seq_len)`, as a LongTensor `(batch,)`.

    Raises `ValueError` for a mask that is not a prefix mask or has an empty sequence, which the
    CRF functions of this module cannot handle.
    """
    mask = mask.bool()
    if mask.dim() != 2 or mask.size(1) == 0:
        raise ValueError(f"CRF mask must have shape (batch, seq_len>0), got {tuple(mask.shape)}")
    if not bool(mask[:, 0].all()) or bool((mask[:, 1:] & ~mask[:, :-1]).any()):
        raise ValueError(
            "CRF mask must be a prefix mask (True for the first tokens, then False) with at "
            "least one True per sequence"
        )
    return mask.sum(1)


class _LogPartition(torch.autograd.Function):
    """log Z per sequence by the scaled forward algorithm, gradient by the scaled backward one.

    Probabilities are kept in float64 and renormalised at every step, each emission row and the
    transition matrix are shifted by their maximum before `exp`, so nothing under- or overflows
    unless scores differ by more than ~700 nats. Transitions scored `FORBIDDEN_SCORE` become exact
    zeros, as they should.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx,
        logits: torch.Tensor,
        mask: torch.Tensor,
        transitions: torch.Tensor,
        start: torch.Tensor,
        end: torch.Tensor,
    ) -> torch.Tensor:
        seq_len = logits.size(1)
        lengths = sequence_lengths(mask)
        mask_t = mask.bool().t()  # (seq_len, batch)
        # Time-major float64 copies: each step reads and writes one contiguous (batch, T) slice.
        scores = logits.detach().to(torch.float64).transpose(0, 1).contiguous()
        emission_max = scores.amax(-1, keepdim=True)
        emissions = (scores - emission_max).exp_()
        transitions64 = transitions.detach().to(torch.float64)
        transition_max = transitions64.max()
        exp_transitions = (transitions64 - transition_max).exp_()

        initial = start.detach().to(torch.float64) + scores[0]
        initial_max = initial.amax(-1, keepdim=True)
        alphas = torch.empty_like(scores)  # normalised forward vectors
        norms = torch.empty_like(emission_max)  # their normalisers
        # unbind once: indexing a tensor in the loop would cost an operation per use.
        alpha_steps, norm_steps = alphas.unbind(0), norms.unbind(0)
        emission_steps = emissions.unbind(0)
        torch.exp(initial - initial_max, out=alpha_steps[0])
        torch.sum(alpha_steps[0], -1, keepdim=True, out=norm_steps[0])
        alpha_steps[0].div_(norm_steps[0])
        for t in range(1, seq_len):
            alpha = alpha_steps[t]
            torch.mm(alpha_steps[t - 1], exp_transitions, out=alpha)
            alpha.mul_(emission_steps[t])
            torch.sum(alpha, -1, keepdim=True, out=norm_steps[t])
            alpha.div_(norm_steps[t])

        log_steps = (norms[1:].log() + emission_max[1:]).squeeze(-1) + transition_max
        log_scale = (
            initial_max.squeeze(-1)
            + norms[0].log().squeeze(-1)
            + torch.where(mask_t[1:], log_steps, log_steps.new_zeros(())).sum(0)
        )
        last_index = (lengths - 1).view(1, -1, 1).expand(1, -1, scores.size(2))
        last_alpha = alphas.gather(0, last_index).squeeze(0)
        end64 = end.detach().to(torch.float64)
        end_max = end64.max()
        exp_end = (end64 - end_max).exp()
        end_mass = (last_alpha * exp_end).sum(-1)
        log_z = log_scale + end_mass.log() + end_max

        ctx.save_for_backward(alphas, norms, emissions, exp_transitions, exp_end, end_mass, mask_t)
        ctx.lengths = lengths
        ctx.dtypes = (logits.dtype, transitions.dtype, start.dtype, end.dtype)
        return log_z.to(logits.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output: torch.Tensor):  # type: ignore[override]
        alphas, norms, emissions, exp_transitions, exp_end, end_mass, mask_t = ctx.saved_tensors
        lengths = ctx.lengths
        logits_dtype, transitions_dtype, start_dtype, end_dtype = ctx.dtypes
        seq_len = alphas.size(0)
        grad = grad_output.detach().to(torch.float64)
        exp_transitions_t = exp_transitions.t().contiguous()

        # betas[t] * alphas[t] is the marginal of the tags at t; a sequence's positions from its
        # last one on keep the final vector, so one backward sweep serves every length.
        betas = torch.empty_like(alphas)
        beta_steps, norm_steps = betas.unbind(0), norms.unbind(0)
        emission_steps, mask_steps = emissions.unbind(0), mask_t.unsqueeze(2).unbind(0)
        torch.div(exp_end.unsqueeze(0), end_mass.unsqueeze(1), out=beta_steps[seq_len - 1])
        for t in range(seq_len - 1, 0, -1):
            candidate = torch.mm(emission_steps[t] * beta_steps[t], exp_transitions_t)
            candidate.div_(norm_steps[t])
            torch.where(mask_steps[t], candidate, beta_steps[t], out=beta_steps[t - 1])

        zero = alphas.new_zeros(())
        mask3 = mask_t.unsqueeze(2)
        marginals = torch.where(mask3, alphas * betas, zero) * grad.view(1, -1, 1)

        grad_logits = grad_transitions = grad_start = grad_end = None
        if ctx.needs_input_grad[0]:
            grad_logits = marginals.transpose(0, 1).to(logits_dtype)
        if ctx.needs_input_grad[2]:
            num_tags = alphas.size(2)
            previous = torch.where(mask3[:-1], alphas[:-1], zero).reshape(-1, num_tags)
            following = torch.where(
                mask3[1:], emissions[1:] * betas[1:] / norms[1:] * grad.view(1, -1, 1), zero
            ).reshape(-1, num_tags)
            grad_transitions = (previous.t() @ following * exp_transitions).to(transitions_dtype)
        if ctx.needs_input_grad[3]:
            grad_start = marginals[0].sum(0).to(start_dtype)
        if ctx.needs_input_grad[4]:
            last_index = (lengths - 1).view(1, -1, 1).expand(1, -1, alphas.size(2))
            grad_end = marginals.gather(0, last_index).squeeze(0).sum(0).to(end_dtype)
        return grad_logits, None, grad_transitions, grad_start, grad_end


def log_partition(
    logits: torch.Tensor,
    mask: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
) -> torch.Tensor:
    """log Z(x) per sequence, `(batch,)`: log-sum-exp of the scores of all tag sequences.

    `logits` is `(batch, seq_len, num_tags)`, `mask` a prefix mask `(batch, seq_len)`, the
    potentials as from `crf_potentials`. Differentiable (once) in `logits` and the potentials.
    """
    return _LogPartition.apply(logits, mask, transitions, start, end)


def path_score(
    logits: torch.Tensor,
    tags: torch.Tensor,
    mask: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
) -> torch.Tensor:
    """Score of the given tag sequences, `(batch,)`: start + emissions + transitions + end.

    Tags at padded positions are ignored (they must still be valid indices, as padding 0 is).
    """
    lengths = sequence_lengths(mask)
    mask = mask.bool()
    zero = logits.new_zeros(())
    emitted = logits.gather(2, tags.unsqueeze(2)).squeeze(2)
    score = torch.where(mask, emitted, zero).sum(1)
    if tags.size(1) > 1:
        moved = transitions[tags[:, :-1], tags[:, 1:]]
        score = score + torch.where(mask[:, 1:], moved, zero).sum(1)
    last_tags = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)
    return score + start[tags[:, 0]] + end[last_tags]


@torch.no_grad()
def viterbi_decode(
    logits: torch.Tensor,
    mask: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Best tag sequence of every sentence at once.

    Returns `(paths, scores)`: a LongTensor `(batch, seq_len)` whose padded positions repeat the
    sequence's last tag (slice each row to its length), and the best paths' scores `(batch,)`.
    Pass `crf_potentials(crf, constrained=True)` for decoding restricted to allowed transitions.
    """
    sequence_lengths(mask)  # validates the mask
    batch_size, seq_len, num_tags = logits.shape
    scores = logits.detach().transpose(0, 1)  # (seq_len, batch, T) view
    score_steps = scores.unbind(0)
    mask_steps = mask.bool().t().unsqueeze(2).unbind(0)
    transitions = transitions.detach().unsqueeze(0)
    # backpointers[t][b, j]: best tag at t-1 given tag j at t; identity on padded positions.
    backpointers = torch.empty(seq_len, batch_size, num_tags, dtype=torch.long, device=logits.device)
    pointer_steps = backpointers.unbind(0)
    stay = torch.arange(num_tags, device=logits.device).expand(batch_size, num_tags)
    best = start.detach() + score_steps[0]
    for t in range(1, seq_len):
        step_best, step_pointer = (best.unsqueeze(2) + transitions).max(1)
        best = torch.where(mask_steps[t], step_best.add_(score_steps[t]), best)
        torch.where(mask_steps[t], step_pointer, stay, out=pointer_steps[t])
    best_scores, last_tags = (best + end.detach()).max(1)

    paths = torch.empty(seq_len, batch_size, 1, dtype=torch.long, device=logits.device)
    path_steps = paths.unbind(0)
    path_steps[seq_len - 1].copy_(last_tags.unsqueeze(1))
    for t in range(seq_len - 1, 0, -1):
        torch.gather(pointer_steps[t], 1, path_steps[t], out=path_steps[t - 1])
    return paths.squeeze(2).t(), best_scores
