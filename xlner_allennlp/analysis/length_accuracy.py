"""How good are pseudo-labels as a function of sentence length (the analogue of Bari et al. 2020, Figure 2).

The source model labels a labelled target-language dev set as it labels unlabelled target text in
self-training; its tags are compared with the gold tags per sentence-length bucket (token
accuracy and entity F1), which is what motivates labelling only sentences shorter than a
threshold. The gold labels are used for this analysis only, never for training.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

from xlner_allennlp.tag_encoding import tags_to_spans


@dataclass
class Bucket:
    """Counts of one sentence-length range ``[low, high]``."""

    low: int
    high: int
    sentences: int = 0
    tokens: int = 0
    correct_tokens: int = 0
    gold_entities: int = 0
    predicted_entities: int = 0
    correct_entities: int = 0
    confidences: List[float] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct_tokens / self.tokens if self.tokens else 0.0

    @property
    def f1(self) -> float:
        denominator = self.gold_entities + self.predicted_entities
        return 2 * self.correct_entities / denominator if denominator else 0.0

    def as_dict(self) -> Dict[str, float]:
        return {
            "low": self.low, "high": self.high, "sentences": self.sentences, "tokens": self.tokens,
            "token_accuracy": self.accuracy, "entity_f1": self.f1,
            "mean_confidence": sum(self.confidences) / len(self.confidences) if self.confidences else 0.0,
        }


def length_buckets(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    confidences: Sequence[float],
    encoding: str,
    edges: Sequence[int] = (5, 10, 15, 20, 25, 30, 40, 60),
) -> List[Bucket]:
    """Per-length accuracy and entity F1 of ``predicted`` against ``gold`` tag sequences.

    Buckets are ``[1, e0], [e0 + 1, e1], ...`` and a last open-ended one; empty buckets are dropped.
    """
    if not (len(gold) == len(predicted) == len(confidences)):
        raise ValueError("gold, predicted and confidences must have one entry per sentence")
    bounds = [1] + [e + 1 for e in edges]
    buckets = [Bucket(lo, hi - 1) for lo, hi in zip(bounds, bounds[1:])] + [Bucket(bounds[-1], 10**9)]
    for gold_tags, predicted_tags, confidence in zip(gold, predicted, confidences):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError("a predicted sentence differs in length from its gold sentence")
        bucket = next(b for b in buckets if b.low <= len(gold_tags) <= b.high)
        bucket.sentences += 1
        bucket.tokens += len(gold_tags)
        bucket.correct_tokens += sum(g == p for g, p in zip(gold_tags, predicted_tags))
        gold_spans = set(tags_to_spans(list(gold_tags), encoding))
        predicted_spans = set(tags_to_spans(list(predicted_tags), encoding))
        bucket.gold_entities += len(gold_spans)
        bucket.predicted_entities += len(predicted_spans)
        bucket.correct_entities += len(gold_spans & predicted_spans)
        bucket.confidences.append(float(confidence))
    return [b for b in buckets if b.sentences]


def plot_length_accuracy(buckets: Sequence[Bucket], title: str, output: str) -> None:
    """Token accuracy, entity F1 and mean confidence against sentence length, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{b.low}-{b.high}" if b.high < 10**9 else f"{b.low}+" for b in buckets]
    x = list(range(len(buckets)))
    figure, axis = plt.subplots(figsize=(7, 4.5))
    axis.plot(x, [100 * b.accuracy for b in buckets], "o-", label="token accuracy")
    axis.plot(x, [100 * b.f1 for b in buckets], "s-", label="entity F1")
    axis.plot(x, [100 * b.as_dict()["mean_confidence"] for b in buckets], "^--", label="mean confidence")
    for i, b in enumerate(buckets):
        axis.annotate(f"n={b.sentences}", (i, 100 * b.f1), textcoords="offset points", xytext=(0, -14),
                      ha="center", fontsize=7)
    axis.set_xticks(x)
    axis.set_xticklabels(labels)
    axis.set_xlabel("sentence length (tokens)")
    axis.set_ylabel("%")
    axis.set_title(title)
    axis.legend()
    figure.tight_layout()
    figure.savefig(output, dpi=110)
    plt.close(figure)
