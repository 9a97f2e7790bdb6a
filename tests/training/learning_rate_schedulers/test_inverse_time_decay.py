import pytest
import torch

from xlner_allennlp.training.learning_rate_schedulers import InverseTimeDecay


def test_learning_rate_follows_inverse_time_decay():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=0.1)
    scheduler = InverseTimeDecay(optimizer, decay=0.5)
    seen = []
    for _ in range(3):
        seen.append(optimizer.param_groups[0]["lr"])
        scheduler.step()
    assert seen == pytest.approx([0.1, 0.1 / 1.5, 0.1 / 2.0])


def test_negative_decay_is_rejected():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="decay"):
        InverseTimeDecay(optimizer, decay=-1.0)
