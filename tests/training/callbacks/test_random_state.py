import numpy
import torch

from xlner_allennlp.training.callbacks import RandomStateCallback


def test_loading_a_saved_state_repeats_the_draws_that_followed_it(tmp_path):
    callback = RandomStateCallback(str(tmp_path))
    torch.manual_seed(1)
    numpy.random.seed(1)
    torch.save(callback.state_dict(), tmp_path / "state.th")
    state = torch.load(tmp_path / "state.th", weights_only=True)  # as allennlp loads checkpoints
    expected = torch.rand(3), numpy.random.rand(3)
    torch.manual_seed(2)  # what --recover's reseeding does
    numpy.random.seed(2)
    callback.load_state_dict(state)
    drawn = torch.rand(3), numpy.random.rand(3)
    assert torch.equal(drawn[0], expected[0]) and numpy.array_equal(drawn[1], expected[1])
