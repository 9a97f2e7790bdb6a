"""An LSTM over a padded batch, with the results of the packed one and a hand-written backward.

allennlp's `lstm` encoders sort and pack the batch; torch then runs a packed LSTM step by step
with a shrinking batch, and autograd records and replays many small operations per step, whose
overhead dominates training at the tagger's sizes (words: batch 16, hidden 100; characters: hidden 25).
Here one layer runs every direction in one time loop of a few batched operations per step, the
input projections are single matrix products over the real tokens only (padding adds no work
there), and the backward pass is written out: the recurrence goes back step by step, and the
weight gradients are again single matrix products over the real tokens. Without gradients
(evaluation, prediction) torch's packed LSTM is used as it is: its loop in C++ is then faster.

It is exact: an LSTM's output at a position depends only on the positions before it, so the
forward direction's outputs at real positions ignore trailing padding, and the backward
direction is a forward LSTM over each sequence reversed within its own length (`reverse_padded`),
reversed back. Outputs at padded positions are meaningless (callers mask them); the gradients
reaching padded positions are exactly zero. Outputs and gradients are those of `torch.nn.LSTM`
on packed sequences up to floating-point rounding (tests/modules/test_fast_lstm.py). Plain torch.
"""
from typing import List, Tuple

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from xlner_allennlp.contextual.bilm import reverse_padded


def batch_first_lstm(
    input_size: int, hidden_size: int, num_layers: int, bias: bool, dropout: float, bidirectional: bool
) -> torch.nn.LSTM:
    """The `torch.nn.LSTM` (batch first) whose parameters the `xlner_lstm` encoders hold, as
    allennlp's `lstm` encoders build it, so that their state dicts are interchangeable."""
    return torch.nn.LSTM(
        input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, bias=bias,
        batch_first=True, dropout=dropout, bidirectional=bidirectional,
    )


class LstmLayerFunction(torch.autograd.Function):
    """One LSTM layer for `D` directions at once (each with its own weights), over the real
    positions of a time-major padded batch, from zero states; gates in torch's order i, f, g, o.

    Inputs: `inputs` `(D, N, input_size)`, the inputs at the `N` real positions `(t, b)` of each
    direction; `weight_ih` `(D, 4H, input_size)`, `weight_hh` `(D, 4H, H)`, `bias` `(D, 4H)`
    (`bias_ih + bias_hh`); `rows` `(D, N)`, those positions as rows `(t * D + d) * batch + b` of a
    flattened `(steps, D, batch, ·)` tensor; `steps` and `batch`. Returns the hidden states
    `(steps, D, batch, H)`; those at padded positions are meaningless and must not reach the loss.
    """

    @staticmethod
    def forward(ctx, inputs, weight_ih, weight_hh, bias, rows, steps: int, batch: int):
        directions, _, _ = inputs.shape
        hidden = weight_hh.size(2)
        projected = torch.baddbmm(bias.unsqueeze(1), inputs, weight_ih.transpose(1, 2))
        # Time-major, so that each step reads contiguous memory; padded positions get zero input
        # projections (finite: their meaningless states must not turn into NaN gradients).
        input_gates = inputs.new_zeros(steps * directions * batch, 4 * hidden)
        input_gates.index_copy_(0, rows.view(-1), projected.view(-1, 4 * hidden))
        pre_activations = inputs.new_empty(directions, batch, 4 * hidden)
        gates = inputs.new_empty(steps, directions, batch, 4 * hidden)
        cells = inputs.new_empty(steps, directions, batch, hidden)
        tanh_cells = torch.empty_like(cells)
        states = torch.empty_like(cells)
        state = inputs.new_zeros(directions, batch, hidden)
        cell = torch.zeros_like(state)
        weight_hh_t = weight_hh.transpose(1, 2).contiguous()
        # Per-step views, made once (indexing in the loop would cost more than the arithmetic).
        step_inputs = input_gates.view(steps, directions, batch, 4 * hidden).unbind(0)
        step_gates, step_cells, step_tanh_cells, step_states = (
            tensor.unbind(0) for tensor in (gates, cells, tanh_cells, states)
        )
        step_input_gate, step_forget_gate, step_candidate, step_output_gate = (
            part.unbind(0) for part in gates.chunk(4, -1)
        )
        for step in range(steps):
            torch.baddbmm(step_inputs[step], state, weight_hh_t, out=pre_activations)
            torch.sigmoid(pre_activations, out=step_gates[step])
            torch.tanh(pre_activations[..., 2 * hidden : 3 * hidden], out=step_candidate[step])
            cell = torch.addcmul(
                step_forget_gate[step] * cell, step_input_gate[step], step_candidate[step], out=step_cells[step]
            )
            state = torch.mul(
                step_output_gate[step], torch.tanh(cell, out=step_tanh_cells[step]), out=step_states[step]
            )
        ctx.save_for_backward(inputs, weight_ih, weight_hh, rows, gates, cells, tanh_cells, states)
        return states

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_states):
        inputs, weight_ih, weight_hh, rows, gates, cells, tanh_cells, states = ctx.saved_tensors
        steps, directions, batch, hidden = states.shape
        input_gate, forget_gate, candidate, output_gate = gates.chunk(4, -1)
        zeros = states.new_zeros(1, directions, batch, hidden)
        previous_cells = torch.cat([zeros, cells[:-1]])
        # For all steps at once: d cell_t / d state_t, and the gates' pre-activation gradients per
        # unit of [d cell, d cell, d cell, d state] (i, f, g, o), by torch's fused derivative kernels
        # (`sigmoid_backward(a, s) = a * s * (1 - s)`, `tanh_backward(a, t) = a * (1 - t * t)`).
        sigmoid_backward, tanh_backward = torch.ops.aten.sigmoid_backward, torch.ops.aten.tanh_backward
        cell_from_state = tanh_backward(output_gate, tanh_cells).unbind(0)
        factors = torch.cat(
            [
                sigmoid_backward(candidate, input_gate),
                sigmoid_backward(previous_cells, forget_gate),
                tanh_backward(input_gate, candidate),
                sigmoid_backward(tanh_cells, output_gate),
            ],
            -1,
        ).unbind(0)
        grad_gates = torch.empty_like(gates)
        step_grad_gates = grad_gates.unbind(0)
        step_forget_gate = forget_gate.unbind(0)
        step_grad_states = grad_states.unbind(0)
        grad_cell = torch.zeros_like(zeros[0])
        for step in range(steps - 1, -1, -1):
            if step == steps - 1:
                grad_state = step_grad_states[step]
            else:
                grad_state = torch.baddbmm(step_grad_states[step], step_grad_gates[step + 1], weight_hh)
            grad_cell = torch.addcmul(grad_cell, grad_state, cell_from_state[step])
            unit_gradients = torch.cat([grad_cell, grad_cell, grad_cell, grad_state], -1)
            torch.mul(unit_gradients, factors[step], out=step_grad_gates[step])
            if step > 0:
                grad_cell = grad_cell * step_forget_gate[step]
        # Gradients at padded positions are zero (nothing there reaches the loss): only the real
        # positions enter the weight and input gradients.
        flat_rows = rows.view(-1)
        real_grad_gates = grad_gates.view(-1, 4 * hidden).index_select(0, flat_rows)
        real_grad_gates = real_grad_gates.view(directions, -1, 4 * hidden)
        previous_states = torch.cat([zeros, states[:-1]]).view(-1, hidden).index_select(0, flat_rows)
        previous_states = previous_states.view(directions, -1, hidden)
        grad_gates_t = real_grad_gates.transpose(1, 2)
        grad_inputs = torch.bmm(real_grad_gates, weight_ih) if ctx.needs_input_grad[0] else None
        grad_weight_ih = torch.bmm(grad_gates_t, inputs) if ctx.needs_input_grad[1] else None
        grad_weight_hh = torch.bmm(grad_gates_t, previous_states) if ctx.needs_input_grad[2] else None
        grad_bias = real_grad_gates.sum(1) if ctx.needs_input_grad[3] else None
        return grad_inputs, grad_weight_ih, grad_weight_hh, grad_bias, None, None, None


def direction_parameters(lstm: torch.nn.LSTM, layer: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`weight_ih` `(D, 4H, input)`, `weight_hh` `(D, 4H, H)` and the summed biases `(D, 4H)`
    (zeros without biases) of one layer of `lstm`, its directions stacked (forward first)."""
    suffixes = [f"_l{layer}"] + ([f"_l{layer}_reverse"] if lstm.bidirectional else [])
    weight_ih = torch.stack([getattr(lstm, "weight_ih" + suffix) for suffix in suffixes])
    weight_hh = torch.stack([getattr(lstm, "weight_hh" + suffix) for suffix in suffixes])
    if lstm.bias:
        bias = torch.stack(
            [getattr(lstm, "bias_ih" + suffix) + getattr(lstm, "bias_hh" + suffix) for suffix in suffixes]
        )
    else:
        bias = weight_hh.new_zeros(weight_hh.shape[:2])
    return weight_ih, weight_hh, bias


def layer_indices(lengths: torch.Tensor, steps: int, directions: int) -> List[torch.Tensor]:
    """Index tensors shared by the layers (see `LstmLayerFunction`) for sequences of `lengths`
    `(batch,)` padded to `steps`: `rows` `(D, N)` of the `N` real positions; `sources` `(D, N)`, the row
    of a batch-major `(batch * steps, ·)` input read by each direction at each real position (the
    backward direction reads its sequence reversed); `outputs` `(batch * steps * D,)`, the row of
    the flattened `(steps, D, batch, ·)` states that goes to each position of a batch-major
    `(batch, steps, D, ·)` output (reversed back for the backward direction)."""
    batch = lengths.size(0)
    device = lengths.device
    time = torch.arange(steps, device=device).unsqueeze(1)
    columns = torch.arange(batch, device=device).unsqueeze(0)
    real = time < lengths.unsqueeze(0)
    reversed_time = torch.where(real, lengths.unsqueeze(0) - 1 - time, time)
    read_time = torch.stack([time.expand(steps, batch), reversed_time])[:directions]  # (D, steps, batch)
    positions = real.view(-1).nonzero().squeeze(1)
    direction = torch.arange(directions, device=device).view(directions, 1, 1)
    rows = ((time * directions + direction) * batch + columns).view(directions, -1)[:, positions]
    sources = (columns * steps + read_time).view(directions, -1)[:, positions]
    outputs = ((read_time * directions + direction) * batch + columns).permute(2, 1, 0).reshape(-1)
    return [rows, sources, outputs]


def fast_lstm(lstm: torch.nn.LSTM, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The outputs `(batch, seq_len, num_directions * hidden_size)` of the batch-first `lstm` (any
    number of layers, one or two directions, no projection) over the padded `inputs` `(batch,
    seq_len, input_size)`, each sequence read within its length `(batch,)` from zero states, as the
    packed `lstm` gives them at real positions; padded positions hold meaningless values. Between
    layers `lstm.dropout` applies in training, as in `lstm` itself. With gradients enabled it runs
    `LstmLayerFunction` per layer; without, `lstm` itself on the packed batch."""
    if lstm.proj_size > 0 or not lstm.batch_first:
        raise ValueError("fast_lstm needs a batch-first LSTM without projection")
    if not torch.is_grad_enabled():
        # Without a backward pass torch's packed LSTM (its time loop in C++) is the faster one;
        # an empty sequence reads one padded step, which its caller masks like any padding.
        packed = pack_padded_sequence(inputs, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(lstm(packed)[0], batch_first=True, total_length=inputs.size(1))[0]
    batch, steps, _ = inputs.shape
    directions = 2 if lstm.bidirectional else 1
    rows, sources, outputs = layer_indices(lengths, steps, directions)
    layer_input = inputs
    for layer in range(lstm.num_layers):
        if layer > 0 and lstm.dropout > 0:
            layer_input = torch.nn.functional.dropout(layer_input, lstm.dropout, lstm.training)
        real_inputs = layer_input.reshape(batch * steps, -1).index_select(0, sources.view(-1))
        real_inputs = real_inputs.view(directions, -1, layer_input.size(2))
        states = LstmLayerFunction.apply(
            real_inputs, *direction_parameters(lstm, layer), rows, steps, batch
        )
        layer_input = states.reshape(-1, lstm.hidden_size).index_select(0, outputs).view(batch, steps, -1)
    return layer_input
