"""Per-epoch inverse time decay, the schedule of Lample et al. (2016) and Bari et al. (2020)."""
import torch
from allennlp.training.learning_rate_schedulers import LearningRateScheduler


@LearningRateScheduler.register("xlner_inverse_time_decay")
class InverseTimeDecay(LearningRateScheduler):
    """Sets the learning rate to ``lr_0 / (1 + decay * epoch)`` at the start of every epoch.

    # Parameters

    optimizer : `torch.optim.Optimizer`
        Built by the trainer; its initial learning rates are ``lr_0``.
    decay : `float`, optional (default = `0.01`)
        Decay per finished epoch (the papers' 0.01 per epoch).
    last_epoch : `int`, optional (default = `-1`)
        The last finished epoch, as allennlp schedulers count.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, decay: float = 0.01, last_epoch: int = -1) -> None:
        if decay < 0:
            raise ValueError(f"decay must be non-negative, got {decay}")
        self.decay = decay
        super().__init__(optimizer, last_epoch=last_epoch)

    def get_values(self):
        # ``step()`` runs after each epoch and increments ``last_epoch``: the next epoch is one later.
        next_epoch = self.last_epoch + 1
        return [base / (1.0 + self.decay * next_epoch) for base in self.base_values]
