"""What a trained tagger makes of instances, for the analyses: its word encoder's vectors and its
tags. Works with any model that has an `encoder` or `source_encoder` and outputs `tags`."""
from typing import List, Tuple

import numpy as np
import torch
from allennlp.data import Batch, Instance
from allennlp.models import Model


def _encoder_module(model: Model) -> torch.nn.Module:
    for name in ("encoder", "source_encoder"):
        module = getattr(model, name, None)
        if isinstance(module, torch.nn.Module):
            return module
    raise ValueError(f"{type(model).__name__} has no `encoder` or `source_encoder` to read features from")


def encoder_word_vectors(
    model: Model, instances: List[Instance], words: List[str], batch_size: int = 32
) -> np.ndarray:
    """Mean output of the model's word encoder over every occurrence of each (lowercased) word."""
    wanted = {w: i for i, w in enumerate(words)}
    sums = np.zeros((len(words), 0), dtype=np.float32)
    counts = np.zeros(len(words))
    captured: List[torch.Tensor] = []
    hook = _encoder_module(model).register_forward_hook(lambda m, i, o: captured.append(o.detach()))
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(instances), batch_size):
                chunk = instances[start:start + batch_size]
                batch = Batch(chunk)
                batch.index_instances(model.vocab)
                captured.clear()
                model(**batch.as_tensor_dict())
                features = captured[0].numpy()
                if sums.shape[1] == 0:
                    sums = np.zeros((len(words), features.shape[-1]), dtype=np.float32)
                for row, instance in enumerate(chunk):
                    for position, word in enumerate(instance["metadata"]["words"]):
                        index = wanted.get(word.lower())
                        if index is not None:
                            sums[index] += features[row, position]
                            counts[index] += 1
    finally:
        hook.remove()
    return sums / np.maximum(counts, 1)[:, None]


def predicted_tags(
    model: Model, instances: List[Instance], batch_size: int = 64
) -> Tuple[List[List[str]], List[float]]:
    """The model's tags of each instance and their path confidence (NaN for a model that gives
    none), in eval mode."""
    model.eval()
    tags, confidences = [], []
    for start in range(0, len(instances), batch_size):
        for output in model.forward_on_instances(instances[start:start + batch_size]):
            tags.append(list(output["tags"]))
            confidences.append(float(output.get("confidence", float("nan"))))
    return tags, confidences
