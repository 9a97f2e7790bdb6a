"""Unsupervised adversarial mapping (Conneau et al. 2018, "Word translation without parallel data").

A discriminator learns to tell mapped source vectors ``x W`` from target vectors ``z`` among the
``most_frequent`` words of each side; the mapping ``W`` (initialized to the identity) is trained to
fool it and is kept close to orthogonal after every update by ``W <- (1 + β) W - β (W Wᵀ) W``.
After each epoch MUSE's unsupervised criterion (mean cosine of the CSLS dictionary among the
10,000 most frequent words) selects the best mapping and halves the mapping learning rate when
it drops. Iterative Procrustes refinement follows (:func:`~xlner_allennlp.alignment.refinement.refine`).

The defaults are a scaled-down MUSE recipe for a 2-core CPU (a 512-unit discriminator, batches of
128, 5 epochs of 100,000 samples instead of 2048 units, 32 and 1,000,000).
"""
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from xlner_allennlp.alignment.refinement import mean_cosine_criterion

logger = logging.getLogger(__name__)


@dataclass
class AdversarialResult:
    """The best mapping by the criterion, its value and epoch, and one log entry per epoch."""

    mapping: np.ndarray
    criterion: float
    best_epoch: int
    history: List[Dict[str, Any]] = field(default_factory=list)


def _discriminator(dim: int, hidden: int, layers: int, input_dropout: float) -> nn.Module:
    modules: List[nn.Module] = [nn.Dropout(input_dropout)]
    width = dim
    for _ in range(layers):
        modules += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    modules.append(nn.Linear(width, 1))
    return nn.Sequential(*modules)


def adversarial(
    source: np.ndarray,
    target: np.ndarray,
    epochs: int = 5,
    epoch_size: int = 100000,
    batch_size: int = 128,
    most_frequent: int = 20000,
    discriminator_hidden: int = 512,
    discriminator_layers: int = 2,
    discriminator_steps: int = 5,
    discriminator_lr: float = 0.1,
    input_dropout: float = 0.1,
    smoothing: float = 0.1,
    mapping_lr: float = 0.1,
    lr_decay: float = 0.98,
    lr_shrink: float = 0.5,
    orthogonalization_beta: float = 0.001,
    csls_k: int = 10,
    random_seed: int = 0,
) -> AdversarialResult:
    """Train the adversarial mapping of normalized ``source`` rows onto normalized ``target`` rows."""
    torch.manual_seed(random_seed)
    generator = torch.Generator().manual_seed(random_seed)
    dim = source.shape[1]
    x = torch.from_numpy(np.ascontiguousarray(source[:most_frequent], dtype=np.float32))
    z = torch.from_numpy(np.ascontiguousarray(target[:most_frequent], dtype=np.float32))
    mapping = nn.Linear(dim, dim, bias=False)
    with torch.no_grad():
        mapping.weight.copy_(torch.eye(dim))
    discriminator = _discriminator(dim, discriminator_hidden, discriminator_layers, input_dropout)
    dis_optimizer = torch.optim.SGD(discriminator.parameters(), lr=discriminator_lr)
    map_optimizer = torch.optim.SGD(mapping.parameters(), lr=mapping_lr)
    labels = torch.cat([torch.full((batch_size,), 1.0 - smoothing), torch.full((batch_size,), smoothing)])
    loss_function = nn.BCEWithLogitsLoss()

    def batch() -> torch.Tensor:
        src = x[torch.randint(0, x.shape[0], (batch_size,), generator=generator)]
        tgt = z[torch.randint(0, z.shape[0], (batch_size,), generator=generator)]
        return torch.cat([mapping(src), tgt])

    def current() -> np.ndarray:
        # nn.Linear computes x Aᵀ, so the row-vector mapping is the transposed weight.
        return mapping.weight.detach().T.numpy().copy()

    best = AdversarialResult(current(), mean_cosine_criterion(source @ current(), target, csls_k=csls_k), 0)
    best.history.append({"epoch": 0, "criterion": best.criterion})
    previous = best.criterion
    steps = max(1, epoch_size // batch_size)
    threads = torch.get_num_threads()
    for epoch in range(1, epochs + 1):
        dis_losses = []
        # The products here are tiny: one thread avoids synchronisation costs that dominate on a
        # shared machine (3 steps/s with 2 busy threads here, 50+ with one).
        torch.set_num_threads(1)
        try:
            for _ in tqdm(range(steps), desc=f"adversarial epoch {epoch}/{epochs}", leave=False, mininterval=1):
                discriminator.train()
                for _ in range(discriminator_steps):
                    with torch.no_grad():
                        inputs = batch()
                    loss = loss_function(discriminator(inputs).squeeze(1), labels)
                    dis_optimizer.zero_grad()
                    loss.backward()
                    dis_optimizer.step()
                    dis_losses.append(loss.item())
                discriminator.eval()
                loss = loss_function(discriminator(batch()).squeeze(1), 1.0 - labels)
                map_optimizer.zero_grad()
                loss.backward()
                map_optimizer.step()
                with torch.no_grad():
                    weight = mapping.weight
                    weight.copy_(
                        (1 + orthogonalization_beta) * weight - orthogonalization_beta * weight @ weight.T @ weight
                    )
        finally:
            torch.set_num_threads(threads)
        criterion = mean_cosine_criterion(source @ current(), target, csls_k=csls_k)
        best.history.append(
            {"epoch": epoch, "criterion": criterion, "discriminator_loss": float(np.mean(dis_losses)),
             "mapping_lr": map_optimizer.param_groups[0]["lr"]}
        )
        logger.info("adversarial epoch %d: criterion %.4f, discriminator loss %.4f", epoch, criterion, np.mean(dis_losses))
        if criterion > best.criterion:
            best.mapping, best.criterion, best.best_epoch = current(), criterion, epoch
        for optimizer in (dis_optimizer, map_optimizer):
            optimizer.param_groups[0]["lr"] *= lr_decay
        if criterion < previous:
            map_optimizer.param_groups[0]["lr"] *= lr_shrink
        previous = criterion
    return best
