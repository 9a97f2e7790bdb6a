"""The `xlner_random_state` trainer callback: checkpoints torch's and numpy's random generators, so
that `allennlp train --recover` resumes exactly where the killed run was."""
from typing import Any, Dict

import numpy
import torch
from allennlp.training.callbacks import TrainerCallback


@TrainerCallback.register("xlner_random_state")
class RandomStateCallback(TrainerCallback):
    """
    Saves the states of torch's random generators (CPU and every CUDA device) and numpy's global
    one with each checkpoint and restores them when training is recovered from it.

    allennlp's `--recover` reseeds all generators, then replays the data loading of the finished
    epochs, so Python's generator (which shuffles and buckets the batches) catches up; but it does
    not replay their forward passes, so without this callback torch's and numpy's generators would
    restart where model construction left them and every later dropout mask (or sampled softmax
    sample) would differ from those of the uninterrupted run. Python's generator is left to the
    replay; validation must not draw from it (the replay skips validation): the tagger and parser configs validate in
    plain batches, not bucketed ones (a bucket sampler draws padding noise even unshuffled).

    Registered as a `TrainerCallback` with name "xlner_random_state".

    # Parameters

    serialization_dir : `str`
        Given by the trainer.
    """

    def state_dict(self) -> Dict[str, Any]:
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
        name, keys, position, has_gauss, cached_gaussian = numpy.random.get_state()
        # Plain types and tensors only: allennlp loads checkpoints with torch.load(weights_only=True).
        numpy_state = [name, torch.from_numpy(keys.astype(numpy.int64)), position, has_gauss, cached_gaussian]
        return {"cpu": torch.get_rng_state(), "cuda": cuda, "numpy": numpy_state}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        torch.set_rng_state(state_dict["cpu"])
        name, keys, position, has_gauss, cached_gaussian = state_dict["numpy"]
        numpy.random.set_state((name, keys.numpy().astype(numpy.uint32), position, has_gauss, cached_gaussian))
        if state_dict["cuda"]:
            torch.cuda.set_rng_state_all(state_dict["cuda"])
