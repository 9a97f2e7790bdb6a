"""`AttachmentScores` and the parser's two metric definitions on a hand-made example."""
import pytest
import torch

from xlner_allennlp.training.metrics import AttachmentScores


def test_scores_on_a_hand_made_batch():
    # Sentence 1: 4 words, word 4 is punctuation; sentence 2: 2 words, one padding position.
    gold_heads = torch.tensor([[2, 0, 2, 2], [0, 1, 0, 0]])
    gold_relations = torch.tensor([[5, 3, 6, 7], [3, 8, 0, 0]])
    predicted_heads = torch.tensor([[2, 0, 1, 3], [0, 1, 0, 0]])
    predicted_relations = torch.tensor([[5, 3, 6, 7], [3, 9, 0, 0]])
    mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    punctuation = torch.tensor([[False, False, False, True], [False, False, False, False]])

    with_punctuation = AttachmentScores()
    with_punctuation(predicted_heads, predicted_relations, gold_heads, gold_relations, mask)
    scores = with_punctuation.get_metric(reset=True)
    # Heads right: 2 + 2 of 6 words; both right: 2 + 1; no sentence fully right, labelled.
    assert scores == pytest.approx({"UAS": 4 / 6, "LAS": 3 / 6, "UEM": 1 / 2, "LEM": 0.0})
    assert with_punctuation.get_metric()["UAS"] == 0.0  # reset

    without_punctuation = AttachmentScores()
    without_punctuation(predicted_heads, predicted_relations, gold_heads, gold_relations, mask & ~punctuation)
    scores = without_punctuation.get_metric()
    # The wrong head of the punctuation mark no longer counts: 4 of 5, 3 of 5.
    assert scores == pytest.approx({"UAS": 4 / 5, "LAS": 3 / 5, "UEM": 1 / 2, "LEM": 0.0})


def test_sentences_without_scored_words_do_not_count():
    metric = AttachmentScores()
    heads = torch.tensor([[0, 1]])
    metric(heads, heads, heads, heads, torch.tensor([[False, False]]))
    metric(heads, heads, heads, heads, torch.tensor([[True, True]]))
    assert metric.get_metric() == pytest.approx({"UAS": 1.0, "LAS": 1.0, "UEM": 1.0, "LEM": 1.0})
