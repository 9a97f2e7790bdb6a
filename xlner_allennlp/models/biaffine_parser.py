"""The `xlner_biaffine_parser` model: a graph-based dependency parser (Dozat and Manning, 2017)."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from allennlp.common.checks import ConfigurationError
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models.model import Model
from allennlp.modules import Seq2SeqEncoder, TextFieldEmbedder
from allennlp.nn import InitializerApplicator
from allennlp.nn.util import get_text_field_mask

from xlner_allennlp.data.dataset_readers.universal_dependencies import universal_relation
from xlner_allennlp.parsing import decode_mst_batch
from xlner_allennlp.training.metrics import AttachmentScores

# Arc scores of impossible heads (padding, the word itself): finite, so MST decoding can check
# that every allowed arc has a real score, and far below any log-probability.
_IMPOSSIBLE = -1e9


def bilinear(left: torch.Tensor, right: torch.Tensor, layer: torch.nn.Bilinear) -> torch.Tensor:
    """`layer(left, right)` (`(..., in1)`, `(..., in2)` -> `(..., out)`) as two matrix products.

    The same function as `torch.nn.Bilinear`, whose CPU kernel (`_trilinear`) took over half of
    a parser training step; here the left side is projected by all `out` matrices at once
    `(..., out, in2)` and each projection multiplied with the right side."""
    out, in1, in2 = layer.weight.shape
    projected = (left @ layer.weight.transpose(0, 1).reshape(in1, out * in2)).unflatten(-1, (out, in2))
    scores = (projected @ right.unsqueeze(-1)).squeeze(-1)
    return scores if layer.bias is None else scores + layer.bias


# Gold UPOS tags of the dependents that UAS/LAS leave out (Schuster et al.'s scoring; CoNLL 2018 keeps them).
PUNCTUATION_UPOS = ("PUNCT", "SYM")


@Model.register("xlner_biaffine_parser")
class BiaffineParser(Model):
    """
    A biaffine dependency parser (Dozat and Manning, 2017), trainable on one language and applied
    to others through aligned word representations.

    Words are embedded by `text_field_embedder` (given each instance's language, so aligned
    embedders pick the right vectors) and/or by an embedding of their gold UPOS, encoded by
    `encoder` (a BiLSTM), and a learned sentinel vector is prepended as the root. Four ELU
    feed-forward layers give head and dependent representations for arcs (`arc_dim`) and for
    relations (`relation_dim`). Arc score of dependent `d` and head `h`:
    `s[d, h] = a_d^T W a_h + u^T a_h` (the dependent's own bias cannot change its choice of head);
    relation scores: a bilinear layer (with bias) on the relation representations of the
    dependent and its head. Loss: the negative log-likelihood of each word's gold head (softmax
    over the sentence's nodes) plus that of its gold relation given the gold head, averaged over
    words.

    Decoding: in training, each word's best head (greedy; fast, and trees are not needed for the
    loss); in evaluation, the maximum spanning tree with exactly one root word (Chu-Liu-Edmonds,
    `xlner_allennlp.parsing.decode_mst`), so every output is a tree. Relations are then the best
    one given the predicted head, never padding or the OOV relation.

    Metrics (gold heads and relations given): `UAS`, `LAS`, `UEM`, `LEM` over words whose gold
    UPOS is not in `punctuation_upos` (as Dozat and Manning, and allennlp-models), and
    `conll18_UAS`, `conll18_LAS` over all words with relations compared on their universal part
    (the CoNLL 2018 shared task's definition).

    Registered as a `Model` with name "xlner_biaffine_parser".

    # Parameters

    vocab : `Vocabulary`
        Holds the `upos_namespace` and `relation_namespace` tags.
    encoder : `Seq2SeqEncoder`
        The sentence encoder, e.g. a 3-layer BiLSTM; its input size is the embedder's output
        size plus `upos_embedding_dim`.
    text_field_embedder : `TextFieldEmbedder`, optional (default=`None`)
        Embeds the words. None gives a delexicalised parser (gold UPOS only, McDonald et al. 2011),
        which then needs `upos_embedding_dim`.
    upos_embedding_dim : `int`, optional (default=`None`)
        Size of a learned embedding of the gold UPOS tags (the instances must have `upos`); None
        reads no POS.
    arc_dim : `int`, optional (default=`500`)
        Size of the arc representations.
    relation_dim : `int`, optional (default=`100`)
        Size of the relation representations.
    dropout : `float`, optional (default=`0.33`)
        Dropout on the encoder output and the four representations.
    input_dropout : `float`, optional (default=`0.33`)
        Dropout on the encoder input.
    punctuation_upos : `Sequence[str]`, optional (default=`("PUNCT", "SYM")`)
        Gold UPOS tags left out of `UAS` / `LAS` / `UEM` / `LEM`.
    upos_namespace : `str`, optional (default=`"upos"`)
    relation_namespace : `str`, optional (default=`"dependency_relations"`)
        Vocabulary namespaces of the reader's tags (padded ones, with an OOV entry).
    initializer : `InitializerApplicator`, optional (default=`InitializerApplicator()`)
    """

    def __init__(
        self,
        vocab: Vocabulary,
        encoder: Seq2SeqEncoder,
        text_field_embedder: Optional[TextFieldEmbedder] = None,
        upos_embedding_dim: Optional[int] = None,
        arc_dim: int = 500,
        relation_dim: int = 100,
        dropout: float = 0.33,
        input_dropout: float = 0.33,
        punctuation_upos: Sequence[str] = PUNCTUATION_UPOS,
        upos_namespace: str = "upos",
        relation_namespace: str = "dependency_relations",
        initializer: InitializerApplicator = InitializerApplicator(),
        **kwargs,
    ) -> None:
        super().__init__(vocab, **kwargs)
        if text_field_embedder is None and not upos_embedding_dim:
            raise ConfigurationError(
                "xlner_biaffine_parser reads nothing: give a text_field_embedder, an upos_embedding_dim or both"
            )
        input_dim = (text_field_embedder.get_output_dim() if text_field_embedder is not None else 0) + (
            upos_embedding_dim or 0
        )
        if encoder.get_input_dim() != input_dim:
            raise ConfigurationError(
                f"the encoder's input size is {encoder.get_input_dim()}, but the words are embedded "
                f"in {input_dim} dimensions (text_field_embedder + upos_embedding_dim)"
            )
        self.text_field_embedder = text_field_embedder
        self.upos_embedding = (
            torch.nn.Embedding(vocab.get_vocab_size(upos_namespace), upos_embedding_dim)
            if upos_embedding_dim
            else None
        )
        self.encoder = encoder
        hidden = encoder.get_output_dim()
        self.root_sentinel = torch.nn.Parameter(torch.randn(1, 1, hidden))
        self.head_arc = torch.nn.Linear(hidden, arc_dim)
        self.dependent_arc = torch.nn.Linear(hidden, arc_dim)
        self.head_relation = torch.nn.Linear(hidden, relation_dim)
        self.dependent_relation = torch.nn.Linear(hidden, relation_dim)
        self.arc_weight = torch.nn.Parameter(torch.empty(arc_dim, arc_dim))
        self.arc_head_bias = torch.nn.Parameter(torch.zeros(arc_dim))
        num_relations = vocab.get_vocab_size(relation_namespace)
        self.relation_bilinear = torch.nn.Bilinear(relation_dim, relation_dim, num_relations)
        self.dropout = torch.nn.Dropout(dropout)
        self.input_dropout = torch.nn.Dropout(input_dropout)
        torch.nn.init.xavier_uniform_(self.arc_weight)

        self.upos_namespace = upos_namespace
        self.relation_namespace = relation_namespace
        # Relations that may be predicted: every real one, not padding nor OOV.
        allowed = torch.ones(num_relations, dtype=torch.bool)
        for special in (vocab._padding_token, vocab._oov_token):
            index = vocab.get_token_to_index_vocabulary(relation_namespace).get(special)
            if index is not None:
                allowed[index] = False
        self.register_buffer("_allowed_relations", allowed, persistent=False)
        # Each relation id -> the id of the first relation with the same universal part.
        relations = vocab.get_index_to_token_vocabulary(relation_namespace)
        first_of: Dict[str, int] = {}
        universal = [first_of.setdefault(universal_relation(relations[i]), i) for i in range(num_relations)]
        self.register_buffer("_universal_relation", torch.tensor(universal, dtype=torch.long), persistent=False)
        upos_vocab = vocab.get_token_to_index_vocabulary(upos_namespace)
        punctuation = torch.zeros(max(vocab.get_vocab_size(upos_namespace), 1), dtype=torch.bool)
        for tag in punctuation_upos:
            if tag in upos_vocab:
                punctuation[upos_vocab[tag]] = True
        self.register_buffer("_punctuation", punctuation, persistent=False)
        self._scores = AttachmentScores()
        self._conll18_scores = AttachmentScores()
        initializer(self)

    def forward(
        self,  # type: ignore
        tokens: TextFieldTensors,
        upos: Optional[torch.LongTensor] = None,
        heads: Optional[torch.LongTensor] = None,
        relations: Optional[torch.LongTensor] = None,
        metadata: Optional[List[Dict[str, Any]]] = None,
    ) -> Dict[str, Any]:
        """
        # Parameters

        tokens : `TextFieldTensors`
            The indexed words `(batch, seq_len)`.
        upos : `torch.LongTensor`, optional (default=`None`)
            Gold UPOS ids `(batch, seq_len)`: the POS input (when the model reads it) and the
            punctuation mask of the metrics.
        heads : `torch.LongTensor`, optional (default=`None`)
            Gold head of each word `(batch, seq_len)`, 0 = root, `i` = the `i`-th word.
        relations : `torch.LongTensor`, optional (default=`None`)
            Gold relation ids `(batch, seq_len)`; with `heads`, the output has a `loss`.
        metadata : `List[Dict[str, Any]]`, optional (default=`None`)
            Per sentence, `"words"` and `"language"` (passed to the text field embedder).

        # Returns

        `heads` and `relations` (per sentence, unpadded lists of head positions and relation
        ids), `arc_log_probs` `(batch, seq_len + 1, seq_len + 1)` (dependent, head; row and
        column 0 are the root), `mask`, `loss` with gold trees, and `words`, `language`, `upos`
        when `metadata` is given.
        """
        languages = None if metadata is None else [meta["language"] for meta in metadata]
        mask = get_text_field_mask(tokens)
        encoded = self._encode(tokens, upos, mask, languages)
        batch, length = mask.shape
        node_mask = torch.cat([mask.new_ones(batch, 1), mask], dim=1)  # (batch, length + 1)

        head_arc = self.dropout(torch.nn.functional.elu(self.head_arc(encoded)))
        dependent_arc = self.dropout(torch.nn.functional.elu(self.dependent_arc(encoded)))
        head_relation = self.dropout(torch.nn.functional.elu(self.head_relation(encoded)))
        dependent_relation = self.dropout(torch.nn.functional.elu(self.dependent_relation(encoded)))
        # (batch, dependent, head)
        arc_scores = torch.bmm(dependent_arc @ self.arc_weight, head_arc.transpose(1, 2))
        arc_scores = arc_scores + (head_arc @ self.arc_head_bias).unsqueeze(1)
        impossible = ~node_mask.unsqueeze(1) | torch.eye(length + 1, dtype=torch.bool, device=mask.device)
        arc_scores = arc_scores.masked_fill(impossible, _IMPOSSIBLE)
        arc_log_probs = torch.log_softmax(arc_scores, dim=-1)

        predicted_heads = self._decode_heads(arc_log_probs, mask)
        with torch.no_grad():  # the loss scores relations under the gold heads
            predicted_relations = self._relation_logits(
                head_relation, dependent_relation, predicted_heads
            ).masked_fill(~self._allowed_relations, _IMPOSSIBLE).argmax(dim=-1)
        output: Dict[str, Any] = {"arc_log_probs": arc_log_probs, "mask": mask}
        lengths = mask.sum(dim=1).tolist()
        output["heads"] = [predicted_heads[b, 1 : n + 1].tolist() for b, n in enumerate(lengths)]
        output["relations"] = [predicted_relations[b, 1 : n + 1].tolist() for b, n in enumerate(lengths)]

        if heads is not None and relations is not None:
            gold_heads = torch.cat([heads.new_zeros(batch, 1), heads], dim=1)
            gold_relations = torch.cat([relations.new_zeros(batch, 1), relations], dim=1)
            arc_nll = -arc_log_probs.gather(2, gold_heads.unsqueeze(-1)).squeeze(-1)
            relation_log_probs = torch.log_softmax(
                self._relation_logits(head_relation, dependent_relation, gold_heads), dim=-1
            )
            relation_nll = -relation_log_probs.gather(2, gold_relations.unsqueeze(-1)).squeeze(-1)
            words = mask.sum().clamp(min=1)
            output["loss"] = ((arc_nll + relation_nll)[:, 1:] * mask).sum() / words
            self._update_metrics(predicted_heads[:, 1:], predicted_relations[:, 1:], heads, relations, upos, mask)
        if metadata is not None:
            output["words"] = [meta["words"] for meta in metadata]
            output["language"] = languages
            output["upos"] = [meta.get("upos") for meta in metadata]
        return output

    def _encode(
        self,
        tokens: TextFieldTensors,
        upos: Optional[torch.LongTensor],
        mask: torch.BoolTensor,
        languages: Optional[List[str]],
    ) -> torch.Tensor:
        """Encoded nodes `(batch, seq_len + 1, hidden)`, the root sentinel first."""
        pieces = []
        if self.text_field_embedder is not None:
            pieces.append(self.text_field_embedder(tokens, language=languages))
        if self.upos_embedding is not None:
            if upos is None:
                raise ConfigurationError(
                    "this parser reads gold UPOS tags: give them ('upos' in the predictor's input, "
                    "or a UPOS column in the CoNLL-U file)"
                )
            pieces.append(self.upos_embedding(upos))
        embedded = self.input_dropout(torch.cat(pieces, dim=-1))
        encoded = self.encoder(embedded, mask)
        sentinel = self.root_sentinel.expand(encoded.size(0), 1, encoded.size(2))
        return self.dropout(torch.cat([sentinel, encoded], dim=1))

    def _decode_heads(self, arc_log_probs: torch.Tensor, mask: torch.BoolTensor) -> torch.LongTensor:
        """Head of each node `(batch, seq_len + 1)` (0 for the root and padding): greedy in
        training, the single-rooted maximum spanning tree in evaluation."""
        if self.training:
            return arc_log_probs.argmax(dim=-1).masked_fill(
                ~torch.cat([mask.new_zeros(mask.size(0), 1), mask], dim=1), 0
            )
        scores = arc_log_probs.detach().transpose(1, 2).cpu().numpy()  # (batch, head, dependent)
        trees = decode_mst_batch(scores, mask.sum(dim=1).tolist())
        padded = np.zeros(arc_log_probs.shape[:2], dtype=np.int64)
        for b, tree in enumerate(trees):
            padded[b, : len(tree)] = tree
        return torch.from_numpy(padded).to(arc_log_probs.device)

    def _relation_logits(
        self, head_relation: torch.Tensor, dependent_relation: torch.Tensor, heads: torch.LongTensor
    ) -> torch.Tensor:
        """Relation logits `(batch, seq_len + 1, num_relations)` of each node under head `heads`."""
        index = heads.unsqueeze(-1).expand(-1, -1, head_relation.size(-1))
        return bilinear(head_relation.gather(1, index), dependent_relation, self.relation_bilinear)

    def _update_metrics(
        self,
        predicted_heads: torch.Tensor,
        predicted_relations: torch.Tensor,
        heads: torch.Tensor,
        relations: torch.Tensor,
        upos: Optional[torch.Tensor],
        mask: torch.BoolTensor,
    ) -> None:
        scored = mask if upos is None else mask & ~self._punctuation[upos]
        self._scores(predicted_heads, predicted_relations, heads, relations, scored)
        self._conll18_scores(
            predicted_heads,
            self._universal_relation[predicted_relations],
            heads,
            self._universal_relation[relations],
            mask,
        )

    def make_output_human_readable(self, output_dict: Dict[str, Any]) -> Dict[str, Any]:
        """Replaces the relation ids of `output_dict["relations"]` by their names."""
        output_dict["relations"] = [
            [self.vocab.get_token_from_index(index, self.relation_namespace) for index in sentence]
            for sentence in output_dict["relations"]
        ]
        return output_dict

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        metrics = self._scores.get_metric(reset)
        conll18 = self._conll18_scores.get_metric(reset)
        metrics["conll18_UAS"] = conll18["UAS"]
        metrics["conll18_LAS"] = conll18["LAS"]
        return metrics

    default_predictor = "xlner_parser"
