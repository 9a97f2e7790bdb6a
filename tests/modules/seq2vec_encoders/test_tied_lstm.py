"""The `xlner_tied_lstm` Seq2VecEncoder: final states of both directions from one weight set."""
import torch
from allennlp.common import Params
from allennlp.modules.seq2vec_encoders import LstmSeq2VecEncoder, Seq2VecEncoder

from xlner_allennlp.modules.seq2vec_encoders import TiedLstmSeq2VecEncoder

INPUT, HIDDEN = 5, 4


def batch(seed: int = 0):
    torch.manual_seed(seed)
    lengths = torch.tensor([6, 3, 1, 0, 5])
    mask = torch.arange(6).unsqueeze(0) < lengths.unsqueeze(1)
    return torch.randn(5, 6, INPUT), mask, lengths


def test_is_registered_with_bidirectional_output_dim():
    encoder = Seq2VecEncoder.from_params(
        Params({"type": "xlner_tied_lstm", "input_size": INPUT, "hidden_size": HIDDEN})
    )
    assert isinstance(encoder, TiedLstmSeq2VecEncoder)
    assert encoder.get_input_dim() == INPUT
    assert encoder.get_output_dim() == 2 * HIDDEN
    assert sum(p.numel() for p in encoder.parameters()) == sum(
        p.numel() for p in torch.nn.LSTM(INPUT, HIDDEN).parameters()
    )


def test_final_states_of_the_sentence_and_of_its_reversal():
    inputs, mask, lengths = batch()
    encoder = TiedLstmSeq2VecEncoder(INPUT, HIDDEN)
    lstm = encoder._encoder._layers[0]
    output = encoder(inputs, mask)
    assert output.shape == (5, 2 * HIDDEN)
    with torch.no_grad():
        for row, length in enumerate(lengths.tolist()):
            if length == 0:
                assert (output[row] == 0).all()
                continue
            sentence = inputs[row, :length].unsqueeze(0)
            _, (forward, _) = lstm(sentence)
            _, (backward, _) = lstm(sentence.flip(1))
            torch.testing.assert_close(output[row], torch.cat([forward, backward], 2).view(-1))


def test_equals_allennlp_bidirectional_lstm_with_the_same_weights_in_both_directions():
    inputs, mask, _ = batch(1)
    tied = TiedLstmSeq2VecEncoder(INPUT, HIDDEN)
    untied = LstmSeq2VecEncoder(INPUT, HIDDEN, bidirectional=True)
    with torch.no_grad():
        for name, parameter in untied._module.named_parameters():
            parameter.copy_(getattr(tied._encoder._layers[0], name.replace("_reverse", "")))
        torch.testing.assert_close(tied(inputs, mask), untied(inputs, mask))


def test_padding_is_ignored_and_gradients_reach_the_shared_weights():
    inputs, mask, _ = batch(2)
    encoder = TiedLstmSeq2VecEncoder(INPUT, HIDDEN)
    noisy = torch.where(mask.unsqueeze(2), inputs, torch.randn_like(inputs) * 100)
    output = encoder(inputs, mask)
    torch.testing.assert_close(encoder(noisy, mask), output)
    output[:, HIDDEN:].sum().backward()  # the backward direction alone
    for name, parameter in encoder.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
