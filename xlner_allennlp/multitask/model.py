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
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from xlner_allennlp.crf import log_partition, path_score, viterbi_decode

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
NER_MODELS = ("unigram", "bilstm_crf")


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
    sgd_pairs: int = 64
    ner_model: str = "unigram"
    lstm_hidden: int = 100

    def __post_init__(self) -> None:
        if self.regime not in REGIMES:
            raise ValueError(f"regime must be one of {', '.join(REGIMES)}; got {self.regime!r}")
        if self.ner_model not in NER_MODELS:
            raise ValueError(f"ner_model must be one of {', '.join(NER_MODELS)}; got {self.ner_model!r}")
        for name in ("dim", "window", "negatives", "min_count", "max_document_tokens", "sgd_pairs", "lstm_hidden"):
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

    With ``ner_model="bilstm_crf"``, Λ is a BiLSTM (d -> 2h), W (2h, T), b (T) and the CRF's
    transition (T, T), start (T) and end (T) scores, all starting at zero.
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
        features = d
        self.encoder = None
        if settings.ner_model == "bilstm_crf":
            self.encoder = torch.nn.LSTM(d, settings.lstm_hidden, batch_first=True, bidirectional=True)
            with torch.no_grad():  # torch's default LSTM initialisation, drawn from the seeded generator
                for weight in self.encoder.parameters():
                    weight.uniform_(-(settings.lstm_hidden ** -0.5), settings.lstm_hidden ** -0.5, generator=init)
            features = 2 * settings.lstm_hidden
            self.transitions = torch.nn.Parameter(torch.zeros(num_tags, num_tags))
            self.start_transitions = torch.nn.Parameter(torch.zeros(num_tags))
            self.end_transitions = torch.nn.Parameter(torch.zeros(num_tags))
        bound = float(np.sqrt(6.0 / (features + num_tags)))
        self.tag_weights = torch.nn.Parameter((torch.rand(features, num_tags, generator=init) * 2 - 1) * bound)
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

    def set_rows(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Overwrite rows (m,) of V with ``values`` (m, d), e.g. from :func:`initial_rows`."""
        if values.shape != (len(rows), self.settings.dim):
            raise ValueError(f"{len(rows)} rows need values of shape ({len(rows)}, {self.settings.dim}); got {values.shape}")
        with torch.no_grad():
            index = torch.as_tensor(rows, dtype=torch.long, device=self.embeddings.device)
            self.embeddings[index] = torch.as_tensor(values, dtype=self.embeddings.dtype, device=self.embeddings.device)

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

    def lm_update(self, batch: SkipGramBatch, learning_rate: float, pretraining: bool = False) -> float:
        """SGD on ``lm_loss`` over ``batch`` in place, ``sgd_pairs`` pairs per update in a random
        order (each update :func:`sgns_sgd_update`, the same step as an optimizer over that
        chunk's ``lm_loss`` gradient, without autograd) on the device of V; returns the summed
        loss, each chunk's measured before its update. Under ``hfj`` the English rows of V stay
        as they are, except in ``pretraining`` (the Lm-only start, which trains every row)."""
        device = self.embeddings.device
        order = torch.from_numpy(self.rng.permutation(len(batch))).to(device)
        centers, contexts, negatives = (rows.to(device) for rows in (batch.centers, batch.contexts, batch.negatives))
        frozen = self.source_rows if self.settings.regime == "hfj" and not pretraining else None
        loss = 0.0
        for chunk in order.split(self.settings.sgd_pairs):
            loss += sgns_sgd_update(
                self.embeddings.data,
                self.context_embeddings.data,
                centers[chunk],
                contexts[chunk],
                negatives[chunk],
                learning_rate,
                scale=1.0 - self.settings.alpha,
                frozen_rows=frozen,
            )
        return loss

    # Ln -------------------------------------------------------------------------------------
    def replace_singletons(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens`` (any shape) with each singleton row read as OOV with probability ``oov_rate``."""
        singleton = self.singleton_rows[tokens]
        draws = torch.from_numpy(self.rng.random(tuple(tokens.shape))).to(tokens.device)
        replace = singleton & (draws < self.settings.oov_rate)
        return torch.where(replace, torch.full_like(tokens, self.vocabulary.oov(self.source_language)), tokens)

    def tag_scores(self, tokens: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Tag scores (batch, length, T) of (batch, length) ids; ``mask`` (bool, a prefix mask,
        default all True) bounds the BiLSTM's sequences and is ignored by the unigram model.

        Unigram: ``V[x_t]·W[:, y] + b[y]``. BiLSTM-CRF: ``h_t·W[:, y] + b[y]`` (the emission
        scores of the CRF), ``h`` the BiLSTM over the rows of V. Dropout applies to the rows of V
        in training mode; under ``baseline`` they are detached.
        """
        vectors = F.embedding(tokens, self.embeddings, sparse=True)
        if self.settings.regime == "baseline":
            vectors = vectors.detach()
        vectors = F.dropout(vectors, self.settings.dropout, self.training)
        if self.encoder is not None:
            lengths = (torch.ones_like(tokens, dtype=torch.bool) if mask is None else mask).sum(1).cpu()
            packed = pack_padded_sequence(vectors, lengths, batch_first=True, enforce_sorted=False)
            vectors = pad_packed_sequence(self.encoder(packed)[0], batch_first=True, total_length=tokens.shape[1])[0]
        return vectors @ self.tag_weights + self.tag_bias

    def ner_loss(self, tokens: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``alpha * Ln``: the negative log-likelihood of the tag sequences, summed over the batch.

        (batch, length) ids, tags and a bool prefix mask. For a unigram score the sequence
        normaliser of Eq. 3 factorises over tokens, ``log Σ_y' exp Σ_t s(x_t, y'_t) =
        Σ_t log Σ_y exp s(x_t, y)``, so this is the sum of per-token softmax losses over the
        unmasked tokens; the BiLSTM-CRF's is the CRF's ``log Z - score(gold path)``.
        """
        if self.training:
            tokens = self.replace_singletons(tokens)
        scores = self.tag_scores(tokens, mask)
        if self.encoder is not None:
            potentials = (self.transitions, self.start_transitions, self.end_transitions)
            log_likelihood = path_score(scores, tags, mask, *potentials) - log_partition(scores, mask, *potentials)
            return -self.settings.alpha * log_likelihood.sum()
        gold = torch.log_softmax(scores, dim=-1).gather(-1, tags.unsqueeze(-1)).squeeze(-1)
        return -self.settings.alpha * gold.masked_select(mask).sum()

    def decode(self, scores: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The best tag sequence (batch, length) under ``tag_scores`` (padded positions: any tag):
        the per-token argmax, exact for a unigram score; Viterbi decoding for the BiLSTM-CRF."""
        if self.encoder is None:
            return scores.argmax(-1)
        mask = torch.ones(scores.shape[:2], dtype=torch.bool, device=scores.device) if mask is None else mask
        return viterbi_decode(scores, mask, self.transitions, self.start_transitions, self.end_transitions)[0]

    def predict(self, tokens: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``decode(tag_scores(tokens, mask), mask)``: (batch, length) ids -> tags."""
        return self.decode(self.tag_scores(tokens, mask), mask)

    def vectors(self, language: str) -> Tuple[List[str], np.ndarray]:
        """``language``'s words (no OOV entry) and their rows of V, float32 (n_language, d)."""
        words, rows = self.vocabulary.words(language)
        return words, self.embeddings.detach()[torch.from_numpy(rows)].cpu().numpy().astype(np.float32)
