"""The training loop of the numerical core: alternating Ln / Lm steps with plain SGD.

With ``pretrain_pairs``, that many Lm steps alone come first, whatever the regime, training every
row of V (HFJ's English rows too: this is the Lm-only start its joint phase adapts). Then ``fj``
and ``hfj`` alternate one Ln step (a batch of English NER sentences) and one Lm step (one
merged document pair) for ``update_pairs`` pairs. ``baseline`` first takes the ``update_pairs``
Lm steps alone (pretraining V and Θ), then ``update_pairs`` Ln steps that train Λ over the
pretrained, no longer changing V. Pairs are re-merged each time they are visited, so every pass
over the corpus sees a new merge.
"""
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch

from xlner_allennlp.multitask.model import MultitaskBwe

Sentence = Tuple[np.ndarray, np.ndarray]  # token rows, tag ids (int64, same length)


@dataclass
class TrainingSettings:
    """learning_rate: SGD step (Vulić & Moens 2015's 0.025) for every parameter. update_pairs: the
    early stop, in alternating (Ln, Lm) update pairs. ner_batch_size: sentences per Ln step.
    pretrain_pairs: Lm steps alone before the regime's schedule (V and Θ start Lm-only, as the
    Baseline's space, instead of at random; 0: no pretraining)."""

    learning_rate: float = 0.025
    update_pairs: int = 10_000
    ner_batch_size: int = 16
    pretrain_pairs: int = 0


def pad_sentences(sentences: Sequence[Sentence]) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-pad to (batch, max length) int64 tokens and tags and a bool mask."""
    length = max(len(tokens) for tokens, _ in sentences)
    tokens = torch.zeros(len(sentences), length, dtype=torch.long)
    tags = torch.zeros(len(sentences), length, dtype=torch.long)
    mask = torch.zeros(len(sentences), length, dtype=torch.bool)
    for i, (sentence_tokens, sentence_tags) in enumerate(sentences):
        tokens[i, : len(sentence_tokens)] = torch.from_numpy(np.asarray(sentence_tokens, dtype=np.int64))
        tags[i, : len(sentence_tags)] = torch.from_numpy(np.asarray(sentence_tags, dtype=np.int64))
        mask[i, : len(sentence_tokens)] = True
    return tokens, tags, mask


def _epochs(items: Sequence, batch_size: int, rng: np.random.Generator) -> Iterator[List]:
    """Batches of ``items`` in a new shuffled order each pass, forever."""
    while True:
        order = rng.permutation(len(items))
        for start in range(0, len(items), batch_size):
            yield [items[i] for i in order[start : start + batch_size]]


def train_multitask_bwe(
    model: MultitaskBwe,
    ner_sentences: Sequence[Sentence],
    document_pairs: Sequence[Tuple[np.ndarray, np.ndarray]],
    settings: TrainingSettings,
    log: Optional[Callable[[str], None]] = None,
    log_every: int = 1000,
) -> Dict[str, float]:
    """Train ``model`` in place under its regime; returns mean losses and step counts.

    ``ner_sentences``: English (token rows, tag ids); ``document_pairs``: (source rows, target
    rows) of the comparable corpus, already cut to ``max_document_tokens``.
    """
    if not ner_sentences or not document_pairs:
        raise ValueError("training needs NER sentences and document pairs")
    optimizer = torch.optim.SGD(model.parameters(), lr=settings.learning_rate)
    device = model.embeddings.device  # every batch goes where the model is (CPU or a GPU)
    ner_batches = _epochs(ner_sentences, settings.ner_batch_size, model.rng)
    lm_batches = _epochs(document_pairs, 1, model.rng)
    totals = {"ner_loss": 0.0, "lm_loss": 0.0, "ner_steps": 0, "lm_steps": 0, "lm_pairs": 0}
    start = time.perf_counter()
    model.train()

    def step(loss: torch.Tensor) -> float:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    def ner_step() -> None:
        tokens, tags, mask = (t.to(device) for t in pad_sentences(next(ner_batches)))
        totals["ner_loss"] += step(model.ner_loss(tokens, tags, mask)) / max(int(mask.sum()), 1)
        totals["ner_steps"] += 1

    def lm_step(pretraining: bool = False) -> None:
        batch = model.skipgram_batch(next(lm_batches))
        if len(batch) == 0:
            return
        totals["lm_loss"] += model.lm_update(batch, settings.learning_rate, pretraining) / len(batch)
        totals["lm_steps"] += 1
        totals["lm_pairs"] += len(batch)

    def report(done: int, phase: str) -> None:
        if log is not None and done % log_every == 0:
            log(
                f"{phase} {done}/{settings.update_pairs}: ner {totals['ner_loss'] / max(totals['ner_steps'], 1):.4f} "
                f"lm {totals['lm_loss'] / max(totals['lm_steps'], 1):.4f} ({time.perf_counter() - start:.0f} s)"
            )

    for done in range(1, settings.pretrain_pairs + 1):
        lm_step(pretraining=True)
        report(done, "lm pretraining")
    if model.settings.regime == "baseline":
        for done in range(1, settings.update_pairs + 1):
            lm_step()
            report(done, "lm pretraining")
        for done in range(1, settings.update_pairs + 1):
            ner_step()
            report(done, "ner")
    else:
        for done in range(1, settings.update_pairs + 1):
            ner_step()
            lm_step()
            report(done, model.settings.regime)
    model.eval()
    return {
        "ner_loss_per_token": totals["ner_loss"] / max(totals["ner_steps"], 1),
        "lm_loss_per_pair": totals["lm_loss"] / max(totals["lm_steps"], 1),
        "ner_steps": totals["ner_steps"],
        "lm_steps": totals["lm_steps"],
        "lm_pairs": totals["lm_pairs"],
        "train_seconds": time.perf_counter() - start,
    }
