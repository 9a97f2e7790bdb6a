"""A trainer callback for tests that kills its own training process (SIGKILL, as a crash or an
out-of-memory kill would) once, so that ``allennlp train --recover`` can be tested on a real kill.

Registered as "xlner_test_kill" when imported (``--include-package tests.training.killing_callback``).
"""
import os
import signal

from allennlp.training.callbacks import TrainerCallback


@TrainerCallback.register("xlner_test_kill")
class KillingCallback(TrainerCallback):
    """Kills the process at the first training batch of epoch ``epoch`` unless the file ``marker``
    exists, which it creates first: the run it kills and the run that recovers it have the same
    configuration (``--recover`` requires it), and only the first is killed.

    # Parameters

    serialization_dir : `str`
        Given by the trainer.
    marker : `str`
        Path of the file that records the kill.
    epoch : `int`
        The (0-based) epoch to kill in.
    """

    def __init__(self, serialization_dir: str, marker: str, epoch: int) -> None:
        super().__init__(serialization_dir)
        self._marker = marker
        self._epoch = epoch

    def on_batch(self, trainer, batch_inputs, batch_outputs, batch_metrics, epoch, batch_number,
                 is_training, is_primary=True, batch_grad_norm=None, **kwargs) -> None:
        if is_training and epoch == self._epoch and not os.path.exists(self._marker):
            open(self._marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
