"""The `xlner_bilm` model: trains the ELMo-architecture bidirectional LM of
:mod:`xlner_allennlp.contextual.bilm` on plain text (export it with `allennlp xlner-export-elmo`)."""
import logging
import math
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from allennlp.common.checks import ConfigurationError
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.data.token_indexers.elmo_indexer import ELMoCharacterMapper
from allennlp.models.model import Model
from allennlp.modules.sampled_softmax_loss import SampledSoftmaxLoss
from allennlp.nn import InitializerApplicator

from xlner_allennlp.contextual import BiLm, BiLmOptions
from xlner_allennlp.contextual.anchoring import (
    AnchoringError,
    AnchoringOptions,
    anchor_pairs,
    anchor_penalty,
    describe_pairs,
)

logger = logging.getLogger(__name__)

DIRECTIONS = ("forward", "backward")


@Model.register("xlner_bilm")
class BidirectionalLanguageModel(Model):
    """
    A forward and a backward LSTM language model over shared character-CNN token representations,
    the architecture allennlp's `Elmo` computes (see `xlner_allennlp.contextual.bilm`). The forward
    LM's top layer at each position predicts the next word (the last word predicts `</S>`), the
    backward LM's the previous one (the first predicts `<S>`); both share one softmax over the
    `tokens` namespace of the vocabulary, which AllenNLP sorts by frequency (what the log-uniform
    sampler assumes; `xlner_lm_text` counts `<S>` / `</S>` with the words). Training uses
    allennlp's `SampledSoftmaxLoss` (its sampler draws from numpy's global generator, which the
    config's `numpy_seed` seeds); evaluation the full softmax. Every batch starts from a zero LSTM
    state, so a sentence's vectors never depend on its batch.

    `loss` is the mean negative log-likelihood per predicted word over both directions. Metrics:
    `forward_perplexity`, `backward_perplexity` and `perplexity` (the geometric mean of the two),
    each exp(total NLL / predicted words) over the epoch: true perplexities in evaluation, sampled
    ones (lower than the truth) in training.

    With `anchoring` (the anchored LM of Schuster et al. 2019 for a low-resource target, see
    `xlner_allennlp.contextual.anchoring`), every training step also draws dictionary pairs and
    adds λ · mean_i ||embed_tokens(target_i) - anchor_i||² / P to the loss: the target's layer-0
    (character-CNN) vector of each drawn word against the raw-scale English layer-0 anchor of its
    translation. The training metric `anchor_distance` is that mean before λ, over the epoch's
    steps; evaluation neither computes nor reports it, and its loss stays the LM's alone. The
    pairs are read when the model is built, loading an archive included (the anchors directory
    and the dictionary must then still exist).

    Registered as a `Model` with name "xlner_bilm".

    # Parameters

    vocab : `Vocabulary`, required
        Its `tokens` namespace is the softmax vocabulary.
    char_embedding_dim, filters, n_highway, activation, projection_dim, cell_size, num_layers, cell_clip, proj_clip
        The network's architecture; see `BiLmOptions` for their meaning and defaults.
    dropout : `float`, optional (default = `0.1`)
        Dropout on the input of every LSTM layer and on the top layer before the softmax (training only).
    num_samples : `int`, optional (default = `1024`)
        Words drawn per batch for the sampled softmax (at most the vocabulary size minus one).
    sparse_softmax : `bool`, optional (default = `True`)
        Keep the softmax weights in sparse embeddings, so that only the rows of a batch's targets
        and samples get gradients; pair it with the `dense_sparse_adam` optimizer (dense Adam keeps
        moving the rows a batch did not sample with their stale moments).
    initializer : `InitializerApplicator`, optional
        Applied to the parameters after construction.
    anchoring : `Dict[str, Any]`, optional (default = `None`, a plain LM)
        The settings of `AnchoringOptions` (its docstring lists them and their defaults):
        `anchors` (English anchors directory) and `dictionary` (MUSE target-en) are required.
    """

    def __init__(
        self,
        vocab: Vocabulary,
        char_embedding_dim: int = BiLmOptions.char_embedding_dim,
        filters: List[Tuple[int, int]] = BiLmOptions.filters,
        n_highway: int = BiLmOptions.n_highway,
        activation: str = BiLmOptions.activation,
        projection_dim: int = BiLmOptions.projection_dim,
        cell_size: int = BiLmOptions.cell_size,
        num_layers: int = BiLmOptions.num_layers,
        cell_clip: float = BiLmOptions.cell_clip,
        proj_clip: float = BiLmOptions.proj_clip,
        dropout: float = 0.1,
        num_samples: int = 1024,
        sparse_softmax: bool = True,
        initializer: Optional[InitializerApplicator] = None,
        anchoring: Optional[Dict[str, Any]] = None,
        **kwargs,
    ) -> None:
        super().__init__(vocab, **kwargs)
        try:
            options = BiLmOptions(
                char_embedding_dim=char_embedding_dim, filters=tuple(map(tuple, filters)), n_highway=n_highway,
                activation=activation, projection_dim=projection_dim, cell_size=cell_size, num_layers=num_layers,
                cell_clip=cell_clip, proj_clip=proj_clip,
            )
        except ValueError as error:
            raise ConfigurationError(str(error)) from None
        vocab_size = vocab.get_vocab_size("tokens")
        if vocab_size < 3:
            raise ConfigurationError(f"the 'tokens' vocabulary has {vocab_size} entries; the LM needs words to predict")
        if num_samples < 1:
            raise ConfigurationError(f"num_samples must be positive, got {num_samples}")
        self._network = BiLm(options, dropout=dropout)
        self._dropout = torch.nn.Dropout(dropout)
        self._softmax = SampledSoftmaxLoss(
            num_words=vocab_size, embedding_dim=projection_dim, num_samples=min(num_samples, vocab_size - 1),
            sparse=sparse_softmax, use_character_inputs=False,
        )
        self._totals = {direction: 0.0 for direction in DIRECTIONS}
        self._counts = {direction: 0 for direction in DIRECTIONS}
        if initializer is not None:
            initializer(self)
        self._anchoring: Optional[AnchoringOptions] = None
        self._anchor_total, self._anchor_steps = 0.0, 0
        if anchoring is not None:
            self._set_up_anchoring(anchoring, vocab, projection_dim)

    def _set_up_anchoring(self, settings: Dict[str, Any], vocab: Vocabulary, projection_dim: int) -> None:
        """Read the anchoring pairs; their character ids (pairs, 50) and anchors (pairs, P) are
        buffers (not saved: rebuilt from the files) so that they follow the model's device."""
        try:
            options = AnchoringOptions.from_dict(settings)
            words = [vocab.get_token_from_index(i, "tokens") for i in range(vocab.get_vocab_size("tokens"))]
            pairs = anchor_pairs(options, words, projection_dim)
        except AnchoringError as error:
            raise ConfigurationError(str(error)) from None
        logger.info(describe_pairs(pairs, options))
        mapper = ELMoCharacterMapper()
        characters = [mapper.convert_word_to_char_ids(word) for word in pairs.target_words]
        self.register_buffer("_anchor_characters", torch.tensor(characters, dtype=torch.long), persistent=False)
        self.register_buffer("_anchor_vectors", torch.from_numpy(pairs.anchors), persistent=False)
        self._anchoring = options
        self._anchor_sampler = np.random.default_rng(options.seed)

    def _anchor_penalty(self) -> torch.Tensor:
        """The unweighted penalty of this step's random pairs (a scalar), added to the metric."""
        count = self._anchor_characters.size(0)
        drawn = self._anchor_sampler.choice(count, size=min(self._anchoring.pairs_per_batch, count), replace=False)
        drawn = torch.from_numpy(drawn).to(self._anchor_characters.device)
        penalty = anchor_penalty(self._network.embed_tokens(self._anchor_characters[drawn]), self._anchor_vectors[drawn])
        self._anchor_total += float(penalty.detach())
        self._anchor_steps += 1
        return penalty

    @property
    def network(self) -> BiLm:
        """The bidirectional LM network (what `xlner-export-elmo` writes)."""
        return self._network

    def forward(  # type: ignore
        self,
        tokens: TextFieldTensors,
        targets: TextFieldTensors,
        metadata: Optional[List[Dict[str, Any]]] = None,
    ) -> Dict[str, torch.Tensor]:
        """
        # Parameters

        tokens : `TextFieldTensors`
            ELMo character ids under `tokens["elmo_tokens"]["elmo_tokens"]`, (batch, steps, 50).
        targets : `TextFieldTensors`
            Word ids of `<S>`, the words, `</S>` under `targets["tokens"]["tokens"]`, (batch, steps + 2).
        metadata : `List[Dict[str, Any]]`, optional
            Per-instance metadata (the language); unused by the LM.

        # Returns

        `loss` (mean NLL per predicted word over both directions, plus the weighted anchoring
        penalty in training) and `mask` (batch, steps + 2),
        True at the sentence boundaries and words.
        """
        activations, mask = self._network(tokens["elmo_tokens"]["elmo_tokens"])
        target_ids = targets["tokens"]["tokens"]
        if target_ids.shape != mask.shape:
            raise ValueError(
                f"targets {tuple(target_ids.shape)} do not match the sentences with boundaries "
                f"{tuple(mask.shape)}: use the xlner_lm_text reader"
            )
        top = self._dropout(activations[-1])
        size = self._network.options.projection_dim
        predicted = mask[:, 1:]
        losses = {
            # The forward LM at positions 0..n predicts words 1..n+1; the backward LM at 1..n+1 predicts 0..n.
            "forward": self._softmax(top[:, :-1, :size][predicted], target_ids[:, 1:][predicted]),
            "backward": self._softmax(top[:, 1:, size:][predicted], target_ids[:, :-1][predicted]),
        }
        count = int(predicted.sum())
        for direction, loss in losses.items():
            self._totals[direction] += float(loss.detach())
            self._counts[direction] += count
        loss = (losses["forward"] + losses["backward"]) / (2 * max(count, 1))
        if self.training and self._anchoring is not None:
            loss = loss + self._anchoring.weight * self._anchor_penalty()
        return {"loss": loss, "mask": mask}

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        mean_nll = {d: self._totals[d] / self._counts[d] if self._counts[d] else 0.0 for d in DIRECTIONS}
        metrics = {f"{d}_perplexity": math.exp(mean_nll[d]) for d in DIRECTIONS}
        metrics["perplexity"] = math.exp((mean_nll["forward"] + mean_nll["backward"]) / 2)
        if self._anchoring is not None and self._anchor_steps:
            metrics["anchor_distance"] = self._anchor_total / self._anchor_steps
        if reset:
            self._totals = {d: 0.0 for d in DIRECTIONS}
            self._counts = {d: 0 for d in DIRECTIONS}
            self._anchor_total, self._anchor_steps = 0.0, 0
        return metrics
