"""`fast_lstm` and the `xlner_lstm` encoders: the outputs and gradients of allennlp's packed
`lstm` encoders with the same weights, for random lengths (empty and full ones included)."""
import pytest
import torch
from allennlp.common import Params
from allennlp.modules.seq2seq_encoders import LstmSeq2SeqEncoder, Seq2SeqEncoder
from allennlp.modules.seq2vec_encoders import LstmSeq2VecEncoder, Seq2VecEncoder

from xlner_allennlp.modules.fast_lstm import fast_lstm
from xlner_allennlp.modules.seq2seq_encoders import FastLstmSeq2SeqEncoder
from xlner_allennlp.modules.seq2vec_encoders import FastLstmSeq2VecEncoder

INPUT, HIDDEN, STEPS = 5, 4, 7
PAIRS = {
    "seq2seq": (LstmSeq2SeqEncoder, FastLstmSeq2SeqEncoder),
    "seq2vec": (LstmSeq2VecEncoder, FastLstmSeq2VecEncoder),
}
SHAPES = [
    {"num_layers": 1, "bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "bias": False},
    {"num_layers": 1, "bidirectional": False},
    {"num_layers": 3, "bidirectional": False},
]


def batch(seed: int, dtype: torch.dtype = torch.float64):
    """Inputs `(8, STEPS, INPUT)` and a prefix mask with random lengths, one empty, one full."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, STEPS + 1, (8,), generator=generator)
    lengths[0], lengths[3] = STEPS, 0
    mask = torch.arange(STEPS).unsqueeze(0) < lengths.unsqueeze(1)
    return torch.randn(8, STEPS, INPUT, generator=generator, dtype=dtype), mask


def pair(kind: str, seed: int, dtype: torch.dtype = torch.float64, **shape):
    stock_class, fast_class = PAIRS[kind]
    torch.manual_seed(seed)
    stock = stock_class(INPUT, HIDDEN, **shape).to(dtype)
    fast = fast_class(INPUT, HIDDEN, **shape).to(dtype)
    fast.load_state_dict(stock.state_dict())
    return stock, fast


def outputs_and_gradients(encoder, inputs, mask, weights):
    """The encoder's output, and the gradients of `(output * weights).sum()` with respect to the
    inputs and to every parameter (by name)."""
    inputs = inputs.clone().requires_grad_()
    encoder.zero_grad()
    output = encoder(inputs, mask)
    (output * weights).sum().backward()
    return output.detach(), inputs.grad, {name: p.grad for name, p in encoder.named_parameters()}


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("seed", [0, 1])
def test_outputs_and_gradients_are_the_packed_lstms(kind, shape, seed):
    stock, fast = pair(kind, seed, **shape)
    inputs, mask = batch(seed)
    weights = torch.randn_like(stock(inputs, mask))
    expected, expected_input_grad, expected_grads = outputs_and_gradients(stock, inputs, mask, weights)
    output, input_grad, grads = outputs_and_gradients(fast, inputs, mask, weights)
    torch.testing.assert_close(output, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(input_grad, expected_input_grad, rtol=1e-12, atol=1e-12)
    assert grads.keys() == expected_grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name], rtol=1e-12, atol=1e-12, msg=name)


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_float32_matches_up_to_rounding(kind):
    stock, fast = pair(kind, 2, torch.float32, bidirectional=True)
    inputs, mask = batch(2, torch.float32)
    weights = torch.randn_like(stock(inputs, mask))
    expected, expected_input_grad, expected_grads = outputs_and_gradients(stock, inputs, mask, weights)
    output, input_grad, grads = outputs_and_gradients(fast, inputs, mask, weights)
    torch.testing.assert_close(output, expected)
    torch.testing.assert_close(input_grad, expected_input_grad)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name], msg=name)


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_without_gradients_it_is_the_packed_lstm(kind):
    stock, fast = pair(kind, 3, torch.float32, num_layers=2, bidirectional=True)
    inputs, mask = batch(3, torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(fast(inputs, mask), stock(inputs, mask), rtol=0, atol=0)


def test_padding_gets_zero_outputs_and_zero_gradients_and_never_matters():
    _, fast = pair("seq2seq", 4, num_layers=2, bidirectional=True)
    inputs, mask = batch(4)
    noisy = torch.where(mask.unsqueeze(2), inputs, torch.randn_like(inputs) * 100).requires_grad_()
    output = fast(noisy, mask)
    torch.testing.assert_close(output, fast(inputs, mask))
    assert (output[~mask] == 0).all()
    output.sum().backward()
    assert (noisy.grad[~mask] == 0).all()
    assert (noisy.grad[mask] != 0).any()


def test_the_backward_direction_reads_each_sequence_reversed():
    lstm = torch.nn.LSTM(INPUT, HIDDEN, batch_first=True, bidirectional=True).double()
    inputs, mask = batch(5)
    lengths = mask.sum(1)
    output = fast_lstm(lstm, inputs, lengths)
    backward_only = torch.nn.LSTM(INPUT, HIDDEN, batch_first=True).double()
    backward_only.load_state_dict(
        {name.replace("_reverse", ""): p for name, p in lstm.state_dict().items() if "reverse" in name}
    )
    with torch.no_grad():
        for row, length in enumerate(lengths.tolist()):
            if length:
                reversed_states = backward_only(inputs[row, :length].flip(0).unsqueeze(0))[0][0].flip(0)
                torch.testing.assert_close(output[row, :length, HIDDEN:], reversed_states)


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_same_state_dict_keys_as_allennlp_both_ways(kind):
    stock, fast = pair(kind, 6, bidirectional=True, num_layers=2)
    assert list(stock.state_dict()) == list(fast.state_dict())
    stock.load_state_dict(fast.state_dict())


def test_registered_as_xlner_lstm():
    parameters = {"type": "xlner_lstm", "input_size": INPUT, "hidden_size": HIDDEN, "bidirectional": True}
    seq2seq = Seq2SeqEncoder.from_params(Params(dict(parameters)))
    seq2vec = Seq2VecEncoder.from_params(Params(dict(parameters)))
    assert isinstance(seq2seq, FastLstmSeq2SeqEncoder) and isinstance(seq2vec, FastLstmSeq2VecEncoder)
    assert seq2seq.get_input_dim() == seq2vec.get_input_dim() == INPUT
    assert seq2seq.get_output_dim() == seq2vec.get_output_dim() == 2 * HIDDEN
    assert seq2seq.is_bidirectional()


def test_a_missing_mask_means_every_position_is_real():
    stock, fast = pair("seq2seq", 7, bidirectional=True)
    inputs, _ = batch(7)
    full = torch.ones(inputs.shape[:2], dtype=torch.bool)
    torch.testing.assert_close(fast(inputs), stock(inputs, full))


def test_refuses_a_projected_lstm():
    inputs, mask = batch(0, torch.float32)
    with pytest.raises(ValueError, match="without projection"):
        fast_lstm(torch.nn.LSTM(INPUT, HIDDEN, batch_first=True, proj_size=2), inputs, mask.sum(1))


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_a_long_mask_as_character_encoding_passes_it(kind):
    stock, fast = pair(kind, 8, bidirectional=True)
    inputs, mask = batch(8)
    torch.testing.assert_close(fast(inputs, mask.long()), stock(inputs, mask))
