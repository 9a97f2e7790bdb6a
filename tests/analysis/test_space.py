import numpy as np
import pytest

from xlner_allennlp.analysis import (
    EntityWords,
    entity_words,
    majority_types,
    neighbour_type_shares,
    pca_2d,
    plot_views,
    same_type_neighbour_rate,
)


def test_entity_words_takes_the_majority_type_and_most_frequent_first(tmp_path):
    path = tmp_path / "dev.conll"
    path.write_text("Paris B-LOC\nis O\nnice O\n\nParis B-PER\nHilton I-PER\n\nParis B-LOC\nRome B-LOC\n\n")
    words = entity_words(str(path), "en", per_type=5)
    assert list(zip(words.words, words.types)) == [("paris", "LOC"), ("rome", "LOC"), ("hilton", "PER")]


def test_majority_types_count_occurrences_outside_entities_too(tmp_path):
    path = tmp_path / "train.conll"
    path.write_text("New B-LOC\nYork I-LOC\nis O\nnew O\n\nnew O\nYork B-LOC\n, O\n\n")
    assert majority_types(str(path)) == {"new": "O", "york": "LOC", "is": "O"}


def test_entity_words_needs_labels(tmp_path):
    path = tmp_path / "tokens.txt"
    path.write_text("Paris\nis\n\n")
    with pytest.raises(ValueError, match="no tags"):
        entity_words(str(path), "en")


def test_pca_keeps_the_main_axis():
    rng = np.random.default_rng(0)
    points = np.outer(rng.standard_normal(50), [3.0, 4.0, 0.0]) + 0.01 * rng.standard_normal((50, 3))
    projected = pca_2d(points)
    assert projected.shape == (50, 2)
    assert np.var(projected[:, 0]) > 100 * np.var(projected[:, 1])


def test_neighbour_rate_and_plot(tmp_path):
    source = np.eye(3, dtype=np.float32)
    rotation = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float32)
    types = ["PER", "LOC", "ORG"]
    assert same_type_neighbour_rate(source, types, source, types) == 1.0
    assert same_type_neighbour_rate(source @ rotation, types, source, types) == pytest.approx(1 / 3)
    rates = plot_views(
        {"before": (source, source @ rotation), "after": (source, source)},
        EntityWords("en", ["a", "b", "c"], types), EntityWords("es", ["x", "y", "z"], types),
        str(tmp_path / "space.png"),
    )
    assert rates == {"before": pytest.approx(1 / 3), "after": 1.0}
    assert (tmp_path / "space.png").stat().st_size > 1000


def test_neighbour_type_shares_count_the_k_nearest_source_rows_per_target_type():
    source = np.array([[1.0, 0.0], [0.9, 0.1], [0.8, 0.3], [0.0, 1.0], [0.1, 0.9]])
    source_types = ["PER", "PER", "O", "LOC", "O"]
    target = np.array([[1.0, 0.05], [0.05, 1.0]])
    shares = neighbour_type_shares(target, ["PER", "LOC"], source, source_types, k=2)
    assert shares == {"PER": 1.0, "LOC": 0.5, "all": 0.75}
    assert neighbour_type_shares(target, ["PER", "LOC"], source, source_types, k=3)["PER"] == pytest.approx(2 / 3)
