"""Unsupervised adversarial mapping (Conneau et al. 2018, "Word translation without parallel data").

A discriminator learns to tell mapped source vectors ``x W`` from target vectors ``z`` among the
``most_frequent`` words of each side; the mapping ``W`` (initialized to the identity) is trained to
fool it and is kept close to orthogonal after every update by ``W <- (1 + β) W - β (W Wᵀ) W``.
After each epoch MUSE's unsupervised criterion (mean cosine of the CSLS dictionary among the
10,000 most frequent words) selects the best mapping and halves the mapping learning rate when
it drops. The ``adversarial`` alignment method follows it with iterative Procrustes refinement
(:func:`~xlner_allennlp.alignment.refinement.refine`).

The defaults are a scaled-down MUSE schedule for a small CPU (a 512-unit discriminator, batches of
128, 5 epochs of 100,000 samples, where MUSE uses 2048 units, 32 and 1,000,000).
"""
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from xlner_allennlp.alignment.refinement import CRITERION_RANK, mean_cosine_criterion
from xlner_allennlp.alignment.similarity import CslsSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Adversarial(CslsSettings):
    """Settings of :func:`adversarial`.

    # Parameters

    epochs : `int`, optional (default = `5`)
    epoch_size : `int`, optional (default = `100000`)
        Samples per epoch; an epoch has ``epoch_size // batch_size`` mapping steps.
    batch_size : `int`, optional (default = `128`)
    most_frequent : `int`, optional (default = `20000`)
        Words of each side the discriminator sees.
    discriminator_hidden : `int`, optional (default = `512`)
    discriminator_layers : `int`, optional (default = `2`)
    discriminator_steps : `int`, optional (default = `5`)
        Discriminator updates per mapping update.
    discriminator_lr : `float`, optional (default = `0.1`)
    input_dropout : `float`, optional (default = `0.1`)
        Dropout on the discriminator's input.
    smoothing : `float`, optional (default = `0.1`)
        Label smoothing of the discriminator's targets.
    mapping_lr : `float`, optional (default = `0.1`)
    lr_decay : `float`, optional (default = `0.98`)
        Factor applied to both learning rates after each epoch.
    lr_shrink : `float`, optional (default = `0.5`)
        Extra factor on the mapping learning rate when the criterion drops.
    orthogonalization_beta : `float`, optional (default = `0.001`)
        β of the orthogonalization step after each mapping update.
    csls_k : `int`, optional (default = `10`)
        CSLS neighbourhood size of the criterion.
    """

    epochs: int = 5
    epoch_size: int = 100000
    batch_size: int = 128
    most_frequent: int = 20000
    discriminator_hidden: int = 512
    discriminator_layers: int = 2
    discriminator_steps: int = 5
    discriminator_lr: float = 0.1
    input_dropout: float = 0.1
    smoothing: float = 0.1
    mapping_lr: float = 0.1
    lr_decay: float = 0.98
    lr_shrink: float = 0.5
    orthogonalization_beta: float = 0.001


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
    source: np.ndarray, target: np.ndarray, settings: Optional[Adversarial] = None, random_seed: int = 0
) -> AdversarialResult:
    """Train the adversarial mapping (``d × d``) of normalized ``source`` rows ``(n, d)`` onto
    normalized ``target`` rows ``(m, d)`` with ``settings`` (default :class:`Adversarial`)."""
    s = settings or Adversarial()
    epochs, batch_size, most_frequent, csls_k = s.epochs, s.batch_size, s.most_frequent, s.csls_k
    torch.manual_seed(random_seed)
    generator = torch.Generator().manual_seed(random_seed)
    dim = source.shape[1]
    x = torch.from_numpy(np.ascontiguousarray(source[:most_frequent], dtype=np.float32))
    z = torch.from_numpy(np.ascontiguousarray(target[:most_frequent], dtype=np.float32))
    mapping = nn.Linear(dim, dim, bias=False)
    with torch.no_grad():
        mapping.weight.copy_(torch.eye(dim))
    discriminator = _discriminator(dim, s.discriminator_hidden, s.discriminator_layers, s.input_dropout)
    dis_optimizer = torch.optim.SGD(discriminator.parameters(), lr=s.discriminator_lr)
    map_optimizer = torch.optim.SGD(mapping.parameters(), lr=s.mapping_lr)
    labels = torch.cat([torch.full((batch_size,), 1.0 - s.smoothing), torch.full((batch_size,), s.smoothing)])
    loss_function = nn.BCEWithLogitsLoss()

    def batch() -> torch.Tensor:
        src = x[torch.randint(0, x.shape[0], (batch_size,), generator=generator)]
        tgt = z[torch.randint(0, z.shape[0], (batch_size,), generator=generator)]
        return torch.cat([mapping(src), tgt])

    def current() -> np.ndarray:
        # nn.Linear computes x Aᵀ, so the row-vector mapping is the transposed weight.
        return mapping.weight.detach().T.numpy().copy()

    best = AdversarialResult(current(), mean_cosine_criterion(source[:CRITERION_RANK] @ current(), target, csls_k=csls_k), 0)
    best.history.append({"epoch": 0, "criterion": best.criterion})
    previous = best.criterion
    steps = max(1, s.epoch_size // batch_size)
    threads = torch.get_num_threads()
    for epoch in range(1, epochs + 1):
        dis_losses = []
        # The products here are tiny: one thread avoids the synchronisation costs that dominate
        # them on a shared machine.
        torch.set_num_threads(1)
        try:
            for _ in tqdm(range(steps), desc=f"adversarial epoch {epoch}/{epochs}", leave=False, mininterval=1):
                discriminator.train()
                for _ in range(s.discriminator_steps):
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
                        (1 + s.orthogonalization_beta) * weight - s.orthogonalization_beta * weight @ weight.T @ weight
                    )
        finally:
            torch.set_num_threads(threads)
        criterion = mean_cosine_criterion(source[:CRITERION_RANK] @ current(), target, csls_k=csls_k)
        best.history.append(
            {"epoch": epoch, "criterion": criterion, "discriminator_loss": float(np.mean(dis_losses)),
             "mapping_lr": map_optimizer.param_groups[0]["lr"]}
        )
        logger.info("adversarial epoch %d: criterion %.4f, discriminator loss %.4f", epoch, criterion, np.mean(dis_losses))
        if criterion > best.criterion:
            best.mapping, best.criterion, best.best_epoch = current(), criterion, epoch
        for optimizer in (dis_optimizer, map_optimizer):
            optimizer.param_groups[0]["lr"] *= s.lr_decay
        if criterion < previous:
            map_optimizer.param_groups[0]["lr"] *= s.lr_shrink
        previous = criterion
    return best
