"""`PseudoLabeller`: what the `xlner_pseudo_label` callback needs from a model."""
from typing import Any, Dict


class PseudoLabeller:
    """
    A tagger whose Viterbi output can pseudo-label target-language sentences.

    The `xlner_pseudo_label` callback runs the model in eval mode on batches of target sentences
    as `model(**tensors, **model.pseudo_labelling_arguments())` and reads `output["tags"]`
    (tag ids per sentence, unpadded) and `output["confidence"]` (`(batch,)`, the probability of
    each path). Implementations have `label_namespace` (the vocabulary namespace of the tags)
    and `label_encoding` (`"IOB2"`, `"BIOUL"` or `"IOB1"`) attributes.
    """

    label_namespace: str
    label_encoding: str

    def pseudo_labelling_arguments(self) -> Dict[str, Any]:
        """Extra `forward` arguments that make the tags pseudo-labels are made of (none by default)."""
        return {}
