"""`FastDropout`: torch's dropout (training: zero with probability p, scale the rest by 1/(1-p);
eval: identity), with masks of exactly Bernoulli(1-p) elements drawn from random bits."""
import pytest
import torch

from xlner_allennlp.modules.fast_dropout import FastDropout, field_width, keep_mask


def test_field_width_is_the_fewest_bits_that_hold_the_probability():
    assert field_width(0.5) == 1
    assert field_width(0.25) == field_width(0.75) == 2
    assert field_width(0.125) == 4  # 3 bits needed: the next width that divides a byte
    assert field_width(1 / 256) == 8
    assert field_width(0.7) is None
    assert field_width(0.0) is None and field_width(1.0) is None


@pytest.mark.parametrize("keep", [0.5, 0.75, 0.125, 1 / 256])
def test_keep_mask_has_the_probability_and_independent_neighbours(keep):
    torch.manual_seed(0)
    count = 400_000
    mask = keep_mask((count,), keep, field_width(keep), torch.device("cpu")).double()
    tolerance = 5 * (keep * (1 - keep) / count) ** 0.5
    assert abs(mask.mean().item() - keep) < tolerance
    # Neighbours share a random word: their joint frequency is the product.
    both = (mask[:-1] * mask[1:]).mean().item()
    assert abs(both - keep * keep) < 5 * (keep * keep * (1 - keep * keep) / count) ** 0.5


def test_keep_mask_has_the_requested_shape_and_follows_the_seed():
    torch.manual_seed(1)
    first = keep_mask((3, 5, 7), 0.5, 1, torch.device("cpu"))
    torch.manual_seed(1)
    assert first.shape == (3, 5, 7) and first.dtype == torch.bool
    assert torch.equal(first, keep_mask((3, 5, 7), 0.5, 1, torch.device("cpu")))


@pytest.mark.parametrize("p", [0.5, 0.25, 0.3])
def test_training_zeroes_a_fraction_p_and_scales_the_rest(p):
    torch.manual_seed(2)
    dropout = FastDropout(p).train()
    inputs = torch.rand(200, 500) + 1
    output = dropout(inputs)
    zeroed = output == 0
    assert abs(zeroed.double().mean().item() - p) < 0.01
    torch.testing.assert_close(output[~zeroed], inputs[~zeroed] / (1 - p))


def test_gradient_is_the_mask_scaled():
    torch.manual_seed(3)
    inputs = torch.randn(50, 40, requires_grad=True)
    output = FastDropout(0.5).train()(inputs)
    output.sum().backward()
    torch.testing.assert_close(inputs.grad, (output != 0).float() * 2)


def test_eval_mode_and_p_zero_are_the_identity_and_p_one_zeroes():
    inputs = torch.randn(4, 6)
    assert torch.equal(FastDropout(0.5).eval()(inputs), inputs)
    assert torch.equal(FastDropout(0.0).train()(inputs), inputs)
    assert (FastDropout(1.0).train()(inputs) == 0).all()
