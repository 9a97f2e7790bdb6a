"""Where a parser goes wrong: attachment scores of each gold UPOS tag (of the dependent), and what
a trained parser predicts for a treebank. The scores count what `AttachmentScores` counts for UAS
and LAS (punctuation left out), split by the dependent's tag, so that two parsers' errors can be
compared word class by word class."""
from typing import Dict, Iterable, List, Sequence, Tuple

from allennlp.data import Instance
from allennlp.models import Model

from xlner_allennlp.models.biaffine_parser import PUNCTUATION_UPOS

# One scored sentence: gold UPOS, gold heads (1-based, 0 = root) and relations, predicted heads and relations.
ScoredSentence = Tuple[Sequence[str], Sequence[int], Sequence[str], Sequence[int], Sequence[str]]


def attachment_by_upos(
    sentences: Iterable[ScoredSentence], punctuation: Sequence[str] = PUNCTUATION_UPOS
) -> Dict[str, Dict[str, float]]:
    """Per gold UPOS tag of the dependent, and over all (``"all"``): ``words`` (how many are
    scored), ``share`` (their fraction of the scored words), ``UAS`` (correct head), ``LAS``
    (correct head and relation) and ``label_given_head`` (LAS / UAS: the relation right where the
    head is). Relations are compared as given (both universal, or both with subtypes)."""
    counts: Dict[str, List[int]] = {}
    for upos, gold_heads, gold_relations, heads, relations in sentences:
        if not len(upos) == len(gold_heads) == len(gold_relations) == len(heads) == len(relations):
            raise ValueError(f"a sentence of {len(upos)} words has {len(gold_heads)} gold heads, "
                             f"{len(gold_relations)} gold relations, {len(heads)} heads and {len(relations)} relations")
        for tag, gold_head, gold_relation, head, relation in zip(upos, gold_heads, gold_relations, heads, relations):
            if tag in punctuation:
                continue
            for key in (tag, "all"):
                row = counts.setdefault(key, [0, 0, 0])
                row[0] += 1
                row[1] += head == gold_head
                row[2] += head == gold_head and relation == gold_relation
    total = counts.get("all", [0])[0]
    return {
        tag: {"words": words, "share": words / total, "UAS": attached / words, "LAS": labelled / words,
              "label_given_head": labelled / attached if attached else 0.0}
        for tag, (words, attached, labelled) in counts.items()
    }


def predicted_trees(model: Model, instances: List[Instance], batch_size: int = 64) -> List[Tuple[List[int], List[str]]]:
    """The heads and relation names a parser (`xlner_biaffine_parser`) predicts for each instance,
    in eval mode (MST-decoded trees)."""
    model.eval()
    trees = []
    for start in range(0, len(instances), batch_size):
        for output in model.forward_on_instances(instances[start:start + batch_size]):
            trees.append((list(output["heads"]), list(output["relations"])))
    return trees
