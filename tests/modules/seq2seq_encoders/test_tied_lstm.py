"""The `xlner_tied_lstm` Seq2SeqEncoder: one weight set for both directions, masks respected,
the backward half really reads each sentence reversed."""
import pytest
import torch
from allennlp.common import Params
from allennlp.modules.seq2seq_encoders import LstmSeq2SeqEncoder, Seq2SeqEncoder

from xlner_allennlp.modules.seq2seq_encoders import TiedLstmSeq2SeqEncoder, reverse_padded

INPUT, HIDDEN = 5, 4


def batch(seed: int = 0):
    torch.manual_seed(seed)
    lengths = torch.tensor([6, 3, 1, 5])
    mask = torch.arange(6).unsqueeze(0) < lengths.unsqueeze(1)
    return torch.randn(4, 6, INPUT), mask, lengths


def run_lstm(lstm: torch.nn.LSTM, sequence: torch.Tensor) -> torch.Tensor:
    """Outputs of `lstm` over one unpadded sequence `(length, dim)`."""
    return lstm(sequence.unsqueeze(0))[0].squeeze(0)


def test_is_registered_and_has_bidirectional_dimensions():
    encoder = Seq2SeqEncoder.from_params(
        Params({"type": "xlner_tied_lstm", "input_size": INPUT, "hidden_size": HIDDEN})
    )
    assert isinstance(encoder, TiedLstmSeq2SeqEncoder)
    assert encoder.get_input_dim() == INPUT
    assert encoder.get_output_dim() == 2 * HIDDEN
    assert encoder.is_bidirectional()


def test_has_the_parameters_of_one_direction():
    tied = TiedLstmSeq2SeqEncoder(INPUT, HIDDEN)
    one_direction = torch.nn.LSTM(INPUT, HIDDEN)
    untied = torch.nn.LSTM(INPUT, HIDDEN, bidirectional=True)
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    assert count(tied) == count(one_direction) == count(untied) // 2
    assert len(list(tied.parameters())) == len(list(one_direction.parameters()))


def test_directions_are_an_lstm_over_the_sentence_and_over_its_reversal():
    inputs, mask, lengths = batch()
    encoder = TiedLstmSeq2SeqEncoder(INPUT, HIDDEN)
    lstm = encoder._layers[0]
    output = encoder(inputs, mask)
    assert output.shape == (4, 6, 2 * HIDDEN)
    with torch.no_grad():
        for row, length in enumerate(lengths.tolist()):
            sentence = inputs[row, :length]
            forward = run_lstm(lstm, sentence)
            backward = run_lstm(lstm, sentence.flip(0)).flip(0)
            torch.testing.assert_close(output[row, :length, :HIDDEN], forward)
            torch.testing.assert_close(output[row, :length, HIDDEN:], backward)
            assert (output[row, length:] == 0).all()


def test_equals_a_bidirectional_lstm_whose_directions_hold_the_same_weights():
    inputs, mask, _ = batch(1)
    tied = TiedLstmSeq2SeqEncoder(INPUT, HIDDEN, num_layers=2)
    untied = LstmSeq2SeqEncoder(INPUT, HIDDEN, num_layers=2, bidirectional=True)
    with torch.no_grad():
        for name, parameter in untied._module.named_parameters():
            layer = int(name.split("_l")[1][0])
            source = name.replace(f"_l{layer}", "_l0").replace("_reverse", "")
            parameter.copy_(getattr(tied._layers[layer], source))
        torch.testing.assert_close(tied(inputs, mask), untied(inputs, mask))


def test_padding_does_not_change_real_positions():
    inputs, mask, _ = batch(2)
    encoder = TiedLstmSeq2SeqEncoder(INPUT, HIDDEN, num_layers=2)
    noisy = torch.where(mask.unsqueeze(2), inputs, torch.randn_like(inputs) * 100)
    clean = encoder(inputs, mask)
    torch.testing.assert_close(encoder(noisy, mask), clean)
    assert (clean[~mask] == 0).all()


def test_empty_sequences_give_zeros_and_leave_the_others_alone():
    inputs, mask, _ = batch(3)
    encoder = TiedLstmSeq2SeqEncoder(INPUT, HIDDEN)
    with_empty = mask.clone()
    with_empty[1] = False
    output = encoder(inputs, with_empty)
    assert (output[1] == 0).all()
    full = encoder(inputs, mask)
    torch.testing.assert_close(output[[0, 2, 3]], full[[0, 2, 3]])
    assert (encoder(inputs, torch.zeros_like(mask)) == 0).all()


@pytest.mark.parametrize("half", ["forward", "backward"])
def test_each_direction_trains_the_shared_weights(half):
    inputs, mask, _ = batch(4)
    encoder = TiedLstmSeq2SeqEncoder(INPUT, HIDDEN)
    output = encoder(inputs, mask)
    part = output[..., :HIDDEN] if half == "forward" else output[..., HIDDEN:]
    part.sum().backward()
    for name, parameter in encoder.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_reverse_padded_reverses_within_lengths_only():
    values = torch.arange(8.0).view(2, 4, 1)
    lengths = torch.tensor([4, 2])
    reversed_values = reverse_padded(values, lengths)
    assert reversed_values.squeeze(2).tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]
    torch.testing.assert_close(reverse_padded(reversed_values, lengths), values)
