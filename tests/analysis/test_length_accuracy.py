import pytest

from xlner_allennlp.analysis import length_buckets, plot_length_accuracy


def test_buckets_count_tokens_and_entities_per_length():
    gold = [["B-PER", "L-PER", "O"], ["U-LOC"] + ["O"] * 6, ["O"] * 12]
    predicted = [["B-PER", "L-PER", "O"], ["U-ORG"] + ["O"] * 6, ["O"] * 11 + ["U-PER"]]
    buckets = length_buckets(gold, predicted, [0.9, 0.5, 0.3], "BIOUL", edges=(5, 10))
    assert [(b.low, b.high, b.sentences) for b in buckets] == [(1, 5, 1), (6, 10, 1), (11, 10**9, 1)]
    short, middle, long = buckets
    assert short.accuracy == 1.0 and short.f1 == 1.0
    assert middle.accuracy == pytest.approx(6 / 7) and middle.f1 == 0.0
    assert long.correct_tokens == 11 and long.predicted_entities == 1 and long.gold_entities == 0
    assert middle.as_dict()["mean_confidence"] == pytest.approx(0.5)


def test_mismatched_inputs_are_rejected():
    with pytest.raises(ValueError, match="one entry per sentence"):
        length_buckets([["O"]], [], [], "BIOUL")
    with pytest.raises(ValueError, match="differs in length"):
        length_buckets([["O"]], [["O", "O"]], [1.0], "BIOUL")


def test_plot_writes_a_png(tmp_path):
    buckets = length_buckets([["O", "U-PER"]], [["O", "U-PER"]], [0.8], "BIOUL")
    output = tmp_path / "length.png"
    plot_length_accuracy(buckets, "test", str(output))
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
