"""Unsupervised adversarial mapping (Conneau et al. 2018, "Word translation without parallel data").

A discriminator learns to tell mapped source vectors ``x W`` from target vectors ``z`` among the
``most_frequent`` words of each side; the mapping ``W`` (initialized to the identity) is trained to
fool it and is kept close to orthogonal after every update by ``W <- (1 + β) W - β (W Wᵀ) W``.
After each epoch MUSE's unsupervised criterion (mean cosine of the CSLS dictionary among the
10,000 most frequent words) selects the best mapping. The schedule is MUSE's: the mapping learning
rate is multiplied by ``lr_decay`` after every epoch (never below ``min_lr``), and by
``lr_shrink`` each time the criterion falls below its best value except the first; training
stops early when the mapping learning rate falls below ``min_lr``. The ``adversarial`` alignment
method follows it with iterative Procrustes refinement
(:func:`~xlner_allennlp.alignment.refinement.refine`).

Two presets (:data:`PRESETS`) give every schedule, size and refinement setting at once:
``fast`` (the default) is a scaled-down schedule for a small CPU; ``muse`` is MUSE's
``unsupervised.py`` for Wikipedia-scale vectors and a GPU (also pass ``--max-vocab 200000``, its
vocabulary). Explicit settings win over the preset's. Training runs on ``device``; the
criterion and the refinement run on the CPU.
"""
import logging
import re
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Dict, List, Mapping, Optional

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from xlner_allennlp.alignment.refinement import CRITERION_RANK, mean_cosine_criterion
from xlner_allennlp.alignment.similarity import CslsSettings

logger = logging.getLogger(__name__)

# Each preset's value of every setting it names. The refinement settings apply to the refinement
# of the ``adversarial`` alignment method (its settings dataclass has those fields too).
PRESETS: Dict[str, Dict[str, Any]] = {
    "fast": {
        "epochs": 5, "epoch_size": 100000, "batch_size": 128, "most_frequent": 20000,
        "discriminator_hidden": 512, "discriminator_layers": 2, "discriminator_steps": 5,
        "discriminator_lr": 0.1, "input_dropout": 0.1, "smoothing": 0.1,
        "mapping_lr": 0.1, "lr_decay": 0.98, "min_lr": 1e-6, "lr_shrink": 0.5, "orthogonalization_beta": 0.001,
        "refinement_iterations": 5, "refinement_vocab": 15000, "refinement_direction": "mutual",
        "refinement_induction": "truncated", "refinement_keep": "best",
    },
    # MUSE's unsupervised.py defaults: --n_epochs 5 --epoch_size 1000000 --batch_size 32
    # --dis_most_frequent 75000 --dis_hid_dim 2048 --dis_layers 2 --dis_steps 5
    # --dis_optimizer sgd,lr=0.1 --dis_input_dropout 0.1 --dis_smooth 0.1 --map_optimizer sgd,lr=0.1
    # --lr_decay 0.98 --min_lr 1e-6 --lr_shrink 0.5 --map_beta 0.001; refinement: --n_refinement 5
    # --dico_max_rank 15000 --dico_build S2T --dico_method csls_knn_10 over the whole vocabulary,
    # the best iteration by the criterion kept.
    "muse": {
        "epochs": 5, "epoch_size": 1000000, "batch_size": 32, "most_frequent": 75000,
        "discriminator_hidden": 2048, "discriminator_layers": 2, "discriminator_steps": 5,
        "discriminator_lr": 0.1, "input_dropout": 0.1, "smoothing": 0.1,
        "mapping_lr": 0.1, "lr_decay": 0.98, "min_lr": 1e-6, "lr_shrink": 0.5, "orthogonalization_beta": 0.001,
        "refinement_iterations": 5, "refinement_vocab": 15000, "refinement_direction": "s2t",
        "refinement_induction": "muse", "refinement_keep": "best",
    },
}
_DEVICE = re.compile(r"^(auto|cpu|cuda(:[0-9]+)?)$")


def resolve_device(device: str) -> torch.device:
    """The torch device of the ``device`` setting: ``auto`` is CUDA when
    ``torch.cuda.is_available()``, else the CPU; ``cpu``, ``cuda`` and ``cuda:N`` are taken as
    given (a ``ValueError`` when CUDA is asked for and there is none)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device} but torch finds no CUDA device; use device=auto or device=cpu")
    return resolved


@dataclass(frozen=True)
class Adversarial(CslsSettings):
    """Settings of :func:`adversarial`. A setting left at ``None`` takes the value of ``preset``
    (:data:`PRESETS`); after construction every setting has a value.

    # Parameters

    preset : `str`, optional (default = `"fast"`)
        ``fast`` (a scaled-down schedule: 100,000 samples per epoch, batches of 128, a 512-unit
        discriminator on the 20,000 most frequent words) or ``muse`` (MUSE's: 1,000,000, 32,
        2048 units, 75,000 words, and its refinement).
    device : `str`, optional (default = `"auto"`)
        Where training runs: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``.
    epochs : `int`, optional (fast 5, muse 5)
    epoch_size : `int`, optional (fast 100000, muse 1000000)
        Samples per epoch; an epoch has ``epoch_size // batch_size`` mapping steps.
    batch_size : `int`, optional (fast 128, muse 32)
    most_frequent : `int`, optional (fast 20000, muse 75000)
        Words of each side the discriminator sees (0: all).
    discriminator_hidden : `int`, optional (fast 512, muse 2048)
    discriminator_layers : `int`, optional (2)
        Hidden layers (leaky ReLU 0.2, no hidden dropout, as MUSE).
    discriminator_steps : `int`, optional (5)
        Discriminator updates per mapping update.
    discriminator_lr : `float`, optional (0.1)
        SGD learning rate of the discriminator (constant, as MUSE).
    input_dropout : `float`, optional (0.1)
        Dropout on the discriminator's input.
    smoothing : `float`, optional (0.1)
        Label smoothing of the discriminator's targets.
    mapping_lr : `float`, optional (0.1)
        Initial SGD learning rate of the mapping.
    lr_decay : `float`, optional (0.98)
        Factor applied to the mapping learning rate after each epoch.
    min_lr : `float`, optional (1e-6)
        Floor of the decay; training stops when a shrink takes the rate below it.
    lr_shrink : `float`, optional (0.5)
        Extra factor on the mapping learning rate when the criterion falls below its best, from
        the second such epoch on.
    orthogonalization_beta : `float`, optional (0.001)
        β of the orthogonalization step after each mapping update.
    csls_k : `int`, optional (default = `10`)
        CSLS neighbourhood size of the criterion.
    """

    PRESETS: ClassVar[Mapping[str, Mapping[str, Any]]] = PRESETS

    preset: str = "fast"
    device: str = "auto"
    epochs: Optional[int] = None
    epoch_size: Optional[int] = None
    batch_size: Optional[int] = None
    most_frequent: Optional[int] = None
    discriminator_hidden: Optional[int] = None
    discriminator_layers: Optional[int] = None
    discriminator_steps: Optional[int] = None
    discriminator_lr: Optional[float] = None
    input_dropout: Optional[float] = None
    smoothing: Optional[float] = None
    mapping_lr: Optional[float] = None
    lr_decay: Optional[float] = None
    min_lr: Optional[float] = None
    lr_shrink: Optional[float] = None
    orthogonalization_beta: Optional[float] = None

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose from {', '.join(PRESETS)}")
        # Fill every field of this instance (a subclass may add the refinement's) left at None.
        names = {f.name for f in fields(self)}
        for name, value in PRESETS[self.preset].items():
            if name in names and getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if not _DEVICE.match(self.device):
            raise ValueError(f"unknown device {self.device!r}; choose from auto, cpu, cuda, cuda:N")
        super().__post_init__()


@dataclass
class AdversarialResult:
    """The best mapping by the criterion, its value and epoch, and one log entry per epoch
    (epoch 0: the identity it starts from, kept only when no epoch is trained)."""

    mapping: np.ndarray
    criterion: float
    best_epoch: int
    history: List[Dict[str, Any]] = field(default_factory=list)
    device: str = "cpu"


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
    device = resolve_device(s.device)
    epochs, batch_size, csls_k = s.epochs, s.batch_size, s.csls_k
    most_frequent = s.most_frequent or max(source.shape[0], target.shape[0])
    torch.manual_seed(random_seed)
    generator = torch.Generator(device=device).manual_seed(random_seed)
    dim = source.shape[1]
    x = torch.from_numpy(np.ascontiguousarray(source[:most_frequent], dtype=np.float32)).to(device)
    z = torch.from_numpy(np.ascontiguousarray(target[:most_frequent], dtype=np.float32)).to(device)
    mapping = nn.Linear(dim, dim, bias=False).to(device)
    with torch.no_grad():
        mapping.weight.copy_(torch.eye(dim))
    discriminator = _discriminator(dim, s.discriminator_hidden, s.discriminator_layers, s.input_dropout).to(device)
    dis_optimizer = torch.optim.SGD(discriminator.parameters(), lr=s.discriminator_lr)
    map_optimizer = torch.optim.SGD(mapping.parameters(), lr=s.mapping_lr)
    labels = torch.cat([torch.full((batch_size,), 1.0 - s.smoothing), torch.full((batch_size,), s.smoothing)])
    labels = labels.to(device)
    loss_function = nn.BCEWithLogitsLoss()

    def batch() -> torch.Tensor:
        src = x[torch.randint(0, x.shape[0], (batch_size,), generator=generator, device=device)]
        tgt = z[torch.randint(0, z.shape[0], (batch_size,), generator=generator, device=device)]
        return torch.cat([mapping(src), tgt])

    def current() -> np.ndarray:
        # nn.Linear computes x Aᵀ, so the row-vector mapping is the transposed weight.
        return mapping.weight.detach().T.cpu().numpy().copy()

    def criterion_of(matrix: np.ndarray) -> float:
        return mean_cosine_criterion(source[:CRITERION_RANK] @ matrix, target, csls_k=csls_k)

    best = AdversarialResult(current(), criterion_of(current()), 0, device=str(device))
    best.history.append({"epoch": 0, "criterion": best.criterion})
    fell_before = False
    steps = max(1, s.epoch_size // batch_size)
    threads = torch.get_num_threads()
    for epoch in range(1, epochs + 1):
        dis_loss = torch.zeros((), device=device)
        # On the CPU the products are tiny: one thread avoids the synchronisation costs that
        # dominate them on a shared machine.
        if device.type == "cpu":
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
                    dis_loss += loss.detach()
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
        criterion = criterion_of(current())
        mean_loss = float(dis_loss) / (steps * s.discriminator_steps)
        lr = map_optimizer.param_groups[0]["lr"]
        best.history.append({"epoch": epoch, "criterion": criterion, "discriminator_loss": mean_loss, "mapping_lr": lr})
        logger.info("adversarial epoch %d: criterion %.4f, discriminator loss %.4f", epoch, criterion, mean_loss)
        fell = epoch > 1 and criterion < best.criterion
        if epoch == 1 or criterion > best.criterion:
            best.mapping, best.criterion, best.best_epoch = current(), criterion, epoch
        lr = max(s.min_lr, lr * s.lr_decay)
        if fell:
            lr *= s.lr_shrink if fell_before else 1.0
            fell_before = True
        map_optimizer.param_groups[0]["lr"] = lr
        if lr < s.min_lr:
            logger.info("adversarial: mapping learning rate %.2e below min_lr, stopping", lr)
            break
    return best
