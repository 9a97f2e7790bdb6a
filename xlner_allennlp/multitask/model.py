"""The multi-task bilingual embedding model of Wang, Peng & Duh (2017): one space V shared by
skip-gram over pseudo-bilingual documents (Lm, with context vectors Θ) and a unigram NER model
(Ln, with tag weights Λ = (W, b)).

Regimes, by which parameters each objective's step reaches:

- ``baseline``: Lm updates V and Θ; Ln updates Λ only (V is read but not trained by NER).
- ``fj`` (full joint): Lm updates V and Θ; Ln updates V and Λ.
- ``hfj`` (half joint): as ``fj``, but Lm leaves the English (source) rows of V unchanged, so
  only NER moves them and the target rows are pulled towards them through the merged contexts.
"""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from xlner_allennlp.multitask.merging import stochastic_merge
from xlner_allennlp.multitask.pairs import MAX_DOCUMENT_TOKENS
from xlner_allennlp.multitask.skipgram import (
    NegativeSampler,
    keep_probabilities,
    sgns_loss,
    sgns_sgd_update,
    skipgram_pairs,
)
from xlner_allennlp.multitask.vocabulary import TaggedVocabulary

REGIMES = ("baseline", "fj", "hfj")


@dataclass
class MultitaskBweSettings:
    """Settings of the model and its two objectives (defaults as Wang et al. 2017 where they give one).

    dim: width d of V. regime: ``baseline``, ``fj`` or ``hfj``. alpha: the loss is
    ``alpha * Ln + (1 - alpha) * Lm``, each objective's step weighted by its share. dropout: on the
    rows of V in Ln. oov_rate: probability that a singleton NER training word is read as OOV.
    window, negatives, subsample, unigram_power: skip-gram context width (``dynamic_window``:
    word2vec's per-center reduced window, see :func:`skipgram_pairs`), negatives per pair,
    subsampling threshold t, exponent of the negative-sampling distribution. min_count: corpus
    count a word needs to get a row. max_document_tokens: longer pairs are cut into aligned pieces
    (one skip-gram step each). seed: initialisation, merging, subsampling, negatives, OOV draws.
    """

    dim: int = 128
    regime: str = "hfj"
    alpha: float = 0.5
    dropout: float = 0.3
    oov_rate: float = 0.5
    window: int = 5
    dynamic_window: bool = True
    negatives: int = 25
    subsample: float = 1e-4
    unigram_power: float = 0.75
    min_count: int = 5
    max_document_tokens: int = MAX_DOCUMENT_TOKENS
    seed: int = 13

    def __post_init__(self) -> None:
        if self.regime not in REGIMES:
            raise ValueError(f"regime must be one of {', '.join(REGIMES)}; got {self.regime!r}")
        for name in ("dim", "window", "negatives", "min_count", "max_document_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1; got {getattr(self, name)}")
        for name in ("alpha", "dropout", "oov_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]; got {getattr(self, name)}")


class SkipGramBatch:
    """The (center, context, negatives) rows of one Lm step: int64 tensors (P,), (P,), (P, K)."""

    def __init__(self, centers: torch.Tensor, contexts: torch.Tensor, negatives: torch.Tensor) -> None:
        self.centers, self.contexts, self.negatives = centers, contexts, negatives

    def __len__(self) -> int:
        return int(self.centers.shape[0])


class MultitaskBwe(torch.nn.Module):
    """V (n, d), Θ (n, d) and Λ = W (d, T), b (T) over a :class:`TaggedVocabulary` of n rows.

    ``source_language`` is the labelled language (its rows are the ones HFJ keeps out of Lm).
    V starts uniform in ``[-0.5/d, 0.5/d)`` and Θ at zero (as word2vec); W uniform Xavier.
    """

    def __init__(
        self,
        vocabulary: TaggedVocabulary,
        num_tags: int,
        settings: MultitaskBweSettings,
        source_language: str = "en",
    ) -> None:
        super().__init__()
        self.vocabulary = vocabulary
        self.settings = settings
        self.source_language = source_language
        n, d = len(vocabulary), settings.dim
        init = torch.Generator().manual_seed(settings.seed)
        self.embeddings = torch.nn.Parameter((torch.rand(n, d, generator=init) - 0.5) / d)
        self.context_embeddings = torch.nn.Parameter(torch.zeros(n, d))
        bound = float(np.sqrt(6.0 / (d + num_tags)))
        self.tag_weights = torch.nn.Parameter((torch.rand(d, num_tags, generator=init) * 2 - 1) * bound)
        self.tag_bias = torch.nn.Parameter(torch.zeros(num_tags))
        self.register_buffer(
            "source_rows", torch.from_numpy(vocabulary.language_mask(source_language)), persistent=False
        )
        self.register_buffer("singleton_rows", torch.zeros(n, dtype=torch.bool), persistent=False)
        self._keep = keep_probabilities(vocabulary.counts, settings.subsample)
        self._negative_sampler = NegativeSampler(vocabulary.counts, settings.unigram_power)
        self.rng = np.random.default_rng(settings.seed)

    def set_singletons(self, rows: Sequence[int]) -> None:
        """Mark the rows of the NER training words seen once (replaced by OOV at ``oov_rate``)."""
        self.singleton_rows.zero_()
        self.singleton_rows[torch.as_tensor(list(rows), dtype=torch.long)] = True

    # Lm -------------------------------------------------------------------------------------
    def skipgram_batch(self, pairs: Sequence[Tuple[np.ndarray, np.ndarray]]) -> SkipGramBatch:
        """Merge each ``(source ids, target ids)`` pair anew, subsample, and draw the negatives."""
        centers, contexts = [], []
        for source, target in pairs:
            merged = stochastic_merge(source, target, self.rng)
            kept = merged[self.rng.random(len(merged)) < self._keep[merged]]
            center, context = skipgram_pairs(
                kept, self.settings.window, self.rng if self.settings.dynamic_window else None
            )
            centers.append(center)
            contexts.append(context)
        center = np.concatenate(centers) if centers else np.zeros(0, dtype=np.int64)
        context = np.concatenate(contexts) if contexts else np.zeros(0, dtype=np.int64)
        negatives = self._negative_sampler.sample((len(center), self.settings.negatives), self.rng)
        return SkipGramBatch(torch.from_numpy(center), torch.from_numpy(context), torch.from_numpy(negatives))

    def lm_loss(self, batch: SkipGramBatch) -> torch.Tensor:
        """``(1 - alpha) * Lm`` on ``batch``; under HFJ no gradient reaches the source rows of V."""
        centers = F.embedding(batch.centers, self.embeddings, sparse=True)
        if self.settings.regime == "hfj":
            fixed = self.source_rows[batch.centers].unsqueeze(-1)
            centers = torch.where(fixed, centers.detach(), centers)
        contexts = F.embedding(batch.contexts, self.context_embeddings, sparse=True)
        negatives = F.embedding(batch.negatives, self.context_embeddings, sparse=True)
        return (1.0 - self.settings.alpha) * sgns_loss(centers, contexts, negatives)

    def lm_update(self, batch: SkipGramBatch, learning_rate: float) -> float:
        """One SGD step of ``lm_loss`` on ``batch`` in place (:func:`sgns_sgd_update`, the same
        step as an optimizer over ``lm_loss``'s gradient, about twice as fast); returns the loss."""
        return sgns_sgd_update(
            self.embeddings.data,
            self.context_embeddings.data,
            batch.centers,
            batch.contexts,
            batch.negatives,
            learning_rate,
            scale=1.0 - self.settings.alpha,
            frozen_rows=self.source_rows if self.settings.regime == "hfj" else None,
        )

    # Ln -------------------------------------------------------------------------------------
    def replace_singletons(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens`` (any shape) with each singleton row read as OOV with probability ``oov_rate``."""
        singleton = self.singleton_rows[tokens]
        draws = torch.from_numpy(self.rng.random(tuple(tokens.shape))).to(tokens.device)
        replace = singleton & (draws < self.settings.oov_rate)
        return torch.where(replace, torch.full_like(tokens, self.vocabulary.oov(self.source_language)), tokens)

    def tag_scores(self, tokens: torch.Tensor) -> torch.Tensor:
        """Unigram scores ``V[x_t]·W[:, y] + b[y]``: (batch, length) ids -> (batch, length, T).

        Dropout applies to the rows of V in training mode; under ``baseline`` they are detached.
        """
        vectors = F.embedding(tokens, self.embeddings, sparse=True)
        if self.settings.regime == "baseline":
            vectors = vectors.detach()
        vectors = F.dropout(vectors, self.settings.dropout, self.training)
        return vectors @ self.tag_weights + self.tag_bias

    def ner_loss(self, tokens: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``alpha * Ln``: the negative log-likelihood of the tag sequences, summed over the batch.

        (batch, length) ids, tags and a bool mask. For a unigram score the sequence normaliser of
        Eq. 3 factorises over tokens, ``log Σ_y' exp Σ_t s(x_t, y'_t) = Σ_t log Σ_y exp s(x_t, y)``,
        so this is the sum of per-token softmax losses over the unmasked tokens.
        """
        if self.training:
            tokens = self.replace_singletons(tokens)
        log_probabilities = torch.log_softmax(self.tag_scores(tokens), dim=-1)
        gold = log_probabilities.gather(-1, tags.unsqueeze(-1)).squeeze(-1)
        return -self.settings.alpha * gold.masked_select(mask).sum()

    def predict(self, tokens: torch.Tensor) -> torch.Tensor:
        """The best tag sequence (batch, length): the per-token argmax, exact for a unigram score."""
        return self.tag_scores(tokens).argmax(-1)

    def vectors(self, language: str) -> Tuple[List[str], np.ndarray]:
        """``language``'s words (no OOV entry) and their rows of V, float32 (n_language, d)."""
        words, rows = self.vocabulary.words(language)
        return words, self.embeddings.detach()[torch.from_numpy(rows)].cpu().numpy().astype(np.float32)
