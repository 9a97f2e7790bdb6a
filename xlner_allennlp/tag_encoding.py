"""NER tag encodings: checking IOB tags, telling IOB1 from IOB2, converting to IOB2 or BIOUL and
decoding entity spans.

Plain Python with no AllenNLP dependency, shared by the `xlner_conll` reader (conversion), the
models (allennlp's names of the encodings), the `xlner_tagger` predictor, the `xlner_pseudo_label`
callback and the analyses (span decoding). A tag is ``O`` or ``<prefix>-<type>``: IOB1 and IOB2 use
the prefixes ``B`` and ``I``; BIOUL adds ``L`` (last token) and ``U`` (single-token entity).

Ill-formed sequences are read leniently, the way both IOB variants mean them: a ``B-X`` or an
``I-X`` that does not continue an ``X`` entity starts a new one. Under that reading IOB1 and IOB2
give the same entities, so the scheme only decides which tags count as irregular (an entity-initial
``I-`` in IOB2, a ``B-`` that does not follow its own type in IOB1), which the reader reports.
"""
from typing import Iterable, List, NamedTuple, Optional, Tuple

IOB_SCHEMES = ("IOB1", "IOB2")
OUTPUT_ENCODINGS = ("IOB2", "BIOUL")
SPAN_ENCODINGS = ("IOB1", "IOB2", "BIOUL")
_BIOUL_ONLY_PREFIXES = ("E", "S", "U", "L")
# Other names accepted for an encoding: allennlp calls IOB2 "BIO".
ALIASES = {"BIO": "IOB2"}
# allennlp's names (`allowed_transitions`, `SpanBasedF1Measure`) of the span encodings.
ALLENNLP_NAMES = {"IOB1": "IOB1", "IOB2": "BIO", "BIOUL": "BIOUL"}


def canonical_encoding(encoding: str) -> str:
    """The name in `SPAN_ENCODINGS` of ``encoding`` or of its alias (``"BIO"`` -> ``"IOB2"``);
    ``ValueError`` for an unknown encoding."""
    canonical = ALIASES.get(encoding, encoding)
    if canonical not in SPAN_ENCODINGS:
        accepted = sorted(SPAN_ENCODINGS + tuple(ALIASES))
        raise ValueError(f"unknown label encoding {encoding!r}; expected one of {accepted}")
    return canonical


def allennlp_encoding_name(encoding: str) -> str:
    """allennlp's name of ``encoding`` (an encoding or alias as `canonical_encoding` accepts)."""
    return ALLENNLP_NAMES[canonical_encoding(encoding)]


class Span(NamedTuple):
    """An entity: its type and its token range ``[start, end)``."""

    type: str
    start: int
    end: int


def split_tag(tag: str) -> Tuple[str, Optional[str]]:
    """Split ``"B-PER"`` into ``("B", "PER")`` and ``"O"`` into ``("O", None)``."""
    if tag == "O":
        return "O", None
    prefix, _, entity_type = tag.partition("-")
    return prefix, entity_type


def iob_tag_problem(tag: str) -> Optional[str]:
    """Why ``tag`` is not a valid IOB1/IOB2 tag, or None when it is."""
    if tag == "O":
        return None
    prefix, entity_type = split_tag(tag)
    if entity_type and prefix in ("B", "I"):
        return None
    if entity_type and prefix in _BIOUL_ONLY_PREFIXES:
        return (
            f"tag {tag!r} has the BIOES/BIOUL prefix '{prefix}-', but input files must use IOB1 "
            "or IOB2 tags"
        )
    return f"unknown tag {tag!r} (expected 'O', 'B-<type>' or 'I-<type>')"


def _starts_entity(tags: List[str], index: int) -> bool:
    """Whether the IOB tag at ``index`` starts an entity (it is not ``O`` and does not continue the
    previous tag's type with ``I-``)."""
    prefix, entity_type = split_tag(tags[index])
    if prefix == "O":
        return False
    if prefix == "B" or index == 0:
        return True
    return split_tag(tags[index - 1])[1] != entity_type


def irregular_positions(tags: List[str], scheme: str) -> List[int]:
    """Positions of tags that break the rules of ``scheme`` ("IOB1" or "IOB2").

    IOB2 starts every entity with ``B-``, so an entity-initial ``I-`` is irregular. IOB1 starts
    entities with ``I-`` and uses ``B-`` only right after an entity of the same type, so any other
    ``B-`` is irregular.
    """
    if scheme not in IOB_SCHEMES:
        raise ValueError(f"unknown IOB scheme {scheme!r}; expected one of {IOB_SCHEMES}")
    positions = []
    for index, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag)
        previous_type = split_tag(tags[index - 1])[1] if index > 0 else None
        if scheme == "IOB2" and prefix == "I" and previous_type != entity_type:
            positions.append(index)
        if scheme == "IOB1" and prefix == "B" and previous_type != entity_type:
            positions.append(index)
    return positions


def detect_iob_scheme(tag_sequences: Iterable[List[str]]) -> str:
    """Guess whether IOB tag sequences are IOB1 or IOB2.

    Counts the tags that would be irregular under each scheme and returns the scheme with fewer
    (IOB2 on a tie, e.g. when there are no entities, where both read the same). Published files
    contain a few irregular tags (CoNLL-2002 Spanish dev has one entity-initial ``I-``), so this
    is a vote rather than a proof.
    """
    irregular = {scheme: 0 for scheme in IOB_SCHEMES}
    for tags in tag_sequences:
        for scheme in IOB_SCHEMES:
            irregular[scheme] += len(irregular_positions(tags, scheme))
    return "IOB1" if irregular["IOB1"] < irregular["IOB2"] else "IOB2"


def iob_to_iob2(tags: List[str]) -> List[str]:
    """Convert IOB1 or IOB2 tags to IOB2: every tag that starts an entity gets ``B-``."""
    converted = []
    for index, tag in enumerate(tags):
        if _starts_entity(tags, index):
            converted.append("B-" + split_tag(tag)[1])
        else:
            converted.append(tag)
    return converted


def iob2_to_bioul(tags: List[str]) -> List[str]:
    """Convert IOB2 tags to BIOUL: the last token of an entity gets ``L-`` and a single-token
    entity ``U-``."""
    converted = []
    for index, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag)
        if prefix == "O":
            converted.append(tag)
            continue
        next_continues = index + 1 < len(tags) and tags[index + 1] == "I-" + entity_type
        if prefix == "B":
            converted.append(("B-" if next_continues else "U-") + entity_type)
        else:
            converted.append(("I-" if next_continues else "L-") + entity_type)
    return converted


def convert_iob(tags: List[str], encoding: str) -> List[str]:
    """Convert IOB1 or IOB2 tags to ``encoding`` ("IOB2" or "BIOUL")."""
    if encoding not in OUTPUT_ENCODINGS:
        raise ValueError(f"unknown label encoding {encoding!r}; expected one of {OUTPUT_ENCODINGS}")
    iob2 = iob_to_iob2(tags)
    return iob2 if encoding == "IOB2" else iob2_to_bioul(iob2)


def tags_to_spans(tags: List[str], encoding: str) -> List[Span]:
    """Decode entity spans from IOB2 (or IOB1) or BIOUL tags, in order.

    Model output may be ill-formed, so decoding is lenient: ``B-`` and ``U-`` always start an
    entity, ``I-`` continues an entity of its type or else starts one, ``L-`` ends an entity of its
    type or else is a one-token entity, and ``O`` (or any tag of another type) ends the current one.
    """
    if encoding not in SPAN_ENCODINGS:
        raise ValueError(f"unknown label encoding {encoding!r}; expected one of {SPAN_ENCODINGS}")
    spans: List[Span] = []
    current_type: Optional[str] = None
    current_start = 0

    def close(end: int) -> None:
        nonlocal current_type
        if current_type is not None:
            spans.append(Span(current_type, current_start, end))
        current_type = None

    for index, tag in enumerate(tags):
        prefix, entity_type = split_tag(tag)
        continues = prefix in ("I", "L") and entity_type == current_type
        if not continues:
            close(index)
            if prefix != "O":
                current_type, current_start = entity_type, index
        if encoding == "BIOUL" and prefix in ("L", "U"):
            close(index + 1)
    close(len(tags))
    return spans
