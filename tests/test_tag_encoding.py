import pytest

from xlner_allennlp.tag_encoding import (
    Span,
    allennlp_encoding_name,
    canonical_encoding,
    convert_iob,
    detect_iob_scheme,
    iob_tag_problem,
    iob_to_iob2,
    irregular_positions,
    tags_to_spans,
)

IOB1 = ["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "I-ORG", "O"]
IOB2 = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "B-ORG", "O"]
BIOUL = ["B-PER", "L-PER", "O", "U-LOC", "B-LOC", "L-LOC", "U-ORG", "O"]
SPANS = [Span("PER", 0, 2), Span("LOC", 3, 4), Span("LOC", 4, 6), Span("ORG", 6, 7)]


def test_iob_tag_problem_accepts_iob_and_names_the_rest():
    for tag in ["O", "B-PER", "I-MISC", "B-ORG-X"]:
        assert iob_tag_problem(tag) is None
    for tag in ["E-PER", "S-LOC", "U-ORG", "L-MISC"]:
        assert "BIOES/BIOUL" in iob_tag_problem(tag)
    for tag in ["PER", "B-", "X-PER", "o", "B"]:
        assert "unknown tag" in iob_tag_problem(tag)


def test_conversions():
    assert iob_to_iob2(IOB1) == IOB2
    assert iob_to_iob2(IOB2) == IOB2
    assert convert_iob(IOB1, "IOB2") == IOB2
    assert convert_iob(IOB1, "BIOUL") == BIOUL
    assert convert_iob(IOB2, "BIOUL") == BIOUL
    assert convert_iob(["O", "O"], "BIOUL") == ["O", "O"]
    # An I- after an entity of another type starts a new entity in both schemes.
    assert convert_iob(["B-PER", "I-LOC", "I-LOC"], "BIOUL") == ["U-PER", "B-LOC", "L-LOC"]
    with pytest.raises(ValueError, match="label encoding"):
        convert_iob(IOB1, "BIOES")


def test_irregular_positions_and_detection():
    assert irregular_positions(IOB1, "IOB1") == []
    assert irregular_positions(IOB1, "IOB2") == [0, 3, 6]
    assert irregular_positions(IOB2, "IOB2") == []
    assert irregular_positions(IOB2, "IOB1") == [0, 3, 6]
    assert detect_iob_scheme([IOB1, ["O"]]) == "IOB1"
    assert detect_iob_scheme([IOB2]) == "IOB2"
    # One stray entity-initial I- among many IOB2 entities does not flip the vote.
    assert detect_iob_scheme([IOB2, IOB2, ["I-PER", "O"]]) == "IOB2"
    assert detect_iob_scheme([["O", "O"]]) == "IOB2"


def test_tags_to_spans():
    assert tags_to_spans(IOB2, "IOB2") == SPANS
    assert tags_to_spans(IOB1, "IOB1") == SPANS
    assert tags_to_spans(BIOUL, "BIOUL") == SPANS
    assert tags_to_spans([], "BIOUL") == []
    assert tags_to_spans(["O", "B-PER"], "IOB2") == [Span("PER", 1, 2)]
    # Ill-formed model output is decoded leniently.
    assert tags_to_spans(["I-PER", "L-LOC", "O", "L-ORG"], "BIOUL") == [
        Span("PER", 0, 1),
        Span("LOC", 1, 2),
        Span("ORG", 3, 4),
    ]
    assert tags_to_spans(["B-PER", "I-PER", "I-PER"], "BIOUL") == [Span("PER", 0, 3)]
    with pytest.raises(ValueError, match="label encoding"):
        tags_to_spans(IOB2, "BIO")


def test_encoding_names_and_aliases():
    assert canonical_encoding("BIO") == "IOB2"
    assert [canonical_encoding(name) for name in ("IOB1", "IOB2", "BIOUL")] == ["IOB1", "IOB2", "BIOUL"]
    assert [allennlp_encoding_name(name) for name in ("BIO", "IOB2", "IOB1", "BIOUL")] == [
        "BIO",
        "BIO",
        "IOB1",
        "BIOUL",
    ]
    with pytest.raises(ValueError, match="unknown label encoding 'BIOES'"):
        canonical_encoding("BIOES")
