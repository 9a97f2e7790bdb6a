import pytest
import torch
from allennlp.common import Params
from allennlp.modules.seq2vec_encoders import CnnEncoder, LstmSeq2VecEncoder
from allennlp.modules.token_embedders import Embedding, TokenCharactersEncoder, TokenEmbedder

from xlner_allennlp.modules.seq2vec_encoders import TiedLstmSeq2VecEncoder
from xlner_allennlp.modules.token_embedders import DistinctWordCharactersEncoder


def character_ids() -> torch.Tensor:
    """(batch 3, 5 tokens, 4 characters): repeated words within and across sentences, words of
    different lengths and padding tokens (all-zero rows)."""
    the, cat, a, dot = [3, 4, 5, 0], [6, 7, 8, 0], [7, 0, 0, 0], [9, 0, 0, 0]
    long, pad = [6, 6, 7, 2], [0, 0, 0, 0]
    return torch.tensor(
        [
            [the, cat, dot, the, dot],
            [a, cat, long, dot, pad],
            [the, a, pad, pad, pad],
        ]
    )


def encoder_pair(encoder_factory, dropout=0.0):
    torch.manual_seed(3)
    per_token = TokenCharactersEncoder(Embedding(embedding_dim=6, num_embeddings=10), encoder_factory(), dropout)
    distinct = DistinctWordCharactersEncoder(
        Embedding(embedding_dim=6, num_embeddings=10), encoder_factory(), dropout
    )
    distinct.load_state_dict(per_token.state_dict())
    return per_token, distinct


ENCODERS = {
    "lstm": lambda: LstmSeq2VecEncoder(6, 5, bidirectional=True),
    "tied_lstm": lambda: TiedLstmSeq2VecEncoder(6, 5),
    "cnn": lambda: CnnEncoder(6, num_filters=4, ngram_filter_sizes=(2,)),
}


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_outputs_and_gradients_equal_per_token_encoding(name):
    per_token, distinct = encoder_pair(ENCODERS[name])
    characters = character_ids()
    weights = torch.randn(3, 5, per_token.get_output_dim())
    outputs = {}
    for label, module in (("per_token", per_token), ("distinct", distinct)):
        output = module(characters)
        (output * weights).sum().backward()
        outputs[label] = output
    assert outputs["distinct"].shape == (3, 5, per_token.get_output_dim())
    # Equal up to float rounding (BLAS kernels depend on the number of rows).
    torch.testing.assert_close(outputs["distinct"], outputs["per_token"], rtol=0, atol=1e-6)
    gradients = dict(distinct.named_parameters())
    for parameter_name, parameter in per_token.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, parameter_name
        torch.testing.assert_close(gradients[parameter_name].grad, parameter.grad, rtol=1e-5, atol=1e-6)


def test_dropout_is_drawn_per_token():
    _, distinct = encoder_pair(ENCODERS["lstm"], dropout=0.5)
    distinct.train()
    torch.manual_seed(0)
    output = distinct(character_ids())
    # "the" occurs at (0, 0) and (0, 3): one shared dropout mask would zero the same units.
    assert not torch.equal(output[0, 0] == 0, output[0, 3] == 0)


def test_registered_with_the_constructor_of_character_encoding():
    params = Params(
        {
            "type": "xlner_character_encoding",
            "embedding": {"embedding_dim": 6, "num_embeddings": 10},
            "encoder": {"type": "lstm", "input_size": 6, "hidden_size": 5, "bidirectional": True},
            "dropout": 0.2,
        }
    )
    embedder = TokenEmbedder.from_params(params)
    assert isinstance(embedder, DistinctWordCharactersEncoder)
    assert embedder.get_output_dim() == 10
