"""Attachment scores of a dependency parser: UAS, LAS and exact-match rates over scored words."""
from typing import Dict, Optional

import torch
from allennlp.training.metrics.metric import Metric


@Metric.register("xlner_attachment_scores")
class AttachmentScores(Metric):
    """
    Unlabelled and labelled attachment scores over the words selected by `mask`: UAS = the share
    of words whose predicted head is the gold one, LAS = head and relation both right; UEM / LEM
    = the share of sentences whose selected words are all right (unlabelled / labelled); a
    sentence with no selected word does not count. Which words are scored is the caller's
    choice: the parser passes all words (CoNLL 2018 definition, with relations reduced to their
    universal part) and, separately, the words whose gold UPOS is not punctuation (Dozat and
    Manning 2017, allennlp-models' `AttachmentScores`).

    Registered as a `Metric` with name "xlner_attachment_scores".
    """

    def __init__(self) -> None:
        self._words = 0
        self._unlabelled = 0
        self._labelled = 0
        self._sentences = 0
        self._unlabelled_exact = 0
        self._labelled_exact = 0

    def __call__(  # type: ignore
        self,
        predicted_heads: torch.Tensor,
        predicted_relations: torch.Tensor,
        gold_heads: torch.Tensor,
        gold_relations: torch.Tensor,
        mask: Optional[torch.BoolTensor] = None,
    ) -> None:
        """All arguments `(batch, seq_len)`: head positions (0 = root), relation ids, and the
        words to score (default: all)."""
        predicted_heads, predicted_relations, gold_heads, gold_relations, mask = self.detach_tensors(
            predicted_heads, predicted_relations, gold_heads, gold_relations, mask
        )
        if mask is None:
            mask = torch.ones_like(gold_heads, dtype=torch.bool)
        mask = mask.bool()
        head_right = (predicted_heads == gold_heads) & mask
        both_right = head_right & (predicted_relations == gold_relations)
        words = mask.sum(dim=1)
        scored = words > 0
        self._words += int(words.sum())
        self._unlabelled += int(head_right.sum())
        self._labelled += int(both_right.sum())
        self._sentences += int(scored.sum())
        self._unlabelled_exact += int(((head_right.sum(dim=1) == words) & scored).sum())
        self._labelled_exact += int(((both_right.sum(dim=1) == words) & scored).sum())

    def get_metric(self, reset: bool = False) -> Dict[str, float]:
        words = max(self._words, 1)
        sentences = max(self._sentences, 1)
        metrics = {
            "UAS": self._unlabelled / words,
            "LAS": self._labelled / words,
            "UEM": self._unlabelled_exact / sentences,
            "LEM": self._labelled_exact / sentences,
        }
        if reset:
            self.reset()
        return metrics

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]
