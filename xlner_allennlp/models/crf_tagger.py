"""The `xlner_crf_tagger` model: the LSTM-CRF NER tagger of Lample et al. (2016)."""
from typing import Any, Dict, List, Optional

import torch
from allennlp.common.checks import ConfigurationError, check_dimensions_match
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models.model import Model
from allennlp.modules import FeedForward, Seq2SeqEncoder, TextFieldEmbedder
from allennlp.modules.conditional_random_field import ConditionalRandomField, allowed_transitions
from allennlp.nn import InitializerApplicator
from allennlp.nn.util import get_text_field_mask
from allennlp.training.metrics import CategoricalAccuracy, SpanBasedF1Measure

from xlner_allennlp.models.pseudo_labeller import PseudoLabeller
from xlner_allennlp.modules.conditional_random_field import (
    FastConditionalRandomField,
    decoding_confidence,
)
from xlner_allennlp.modules.fast_dropout import FastDropout
from xlner_allennlp.tag_encoding import allennlp_encoding_name

CRF_IMPLEMENTATIONS = {"fast": FastConditionalRandomField, "allennlp": ConditionalRandomField}


def allennlp_label_encoding(label_encoding: str) -> str:
    """allennlp's name for a label encoding of the `xlner_conll` reader ("IOB2" -> "BIO"), as a
    `ConfigurationError` for an unknown one."""
    try:
        return allennlp_encoding_name(label_encoding)
    except ValueError as error:
        raise ConfigurationError(f"label_encoding: {error}") from None


def one_hot_paths(paths: List[List[int]], seq_len: int, num_tags: int, like: torch.Tensor) -> torch.Tensor:
    """Decoded paths as one-hot "class probabilities" `(batch, seq_len, num_tags)` (padding: tag 0,
    which the metrics mask out), in the dtype and device of `like`."""
    padded = torch.tensor([path + [0] * (seq_len - len(path)) for path in paths], device=like.device)
    return torch.nn.functional.one_hot(padded, num_tags).to(like.dtype)


def tag_names(vocab: Vocabulary, paths: List[List[int]], namespace: str) -> List[List[str]]:
    """Tag ids of each path to the tags' names in `namespace`."""
    return [[vocab.get_token_from_index(tag, namespace=namespace) for tag in path] for path in paths]


def reported_span_metrics(metric: SpanBasedF1Measure, reset: bool, verbose: bool) -> Dict[str, float]:
    """Overall span precision/recall/F1 and per-type F1 (per-type precision and recall if `verbose`)."""
    spans = metric.get_metric(reset=reset)
    return {
        name: value
        for name, value in spans.items()
        if verbose or "overall" in name or name.startswith("f1-measure")
    }


@Model.register("xlner_crf_tagger")
class CrfTagger(Model, PseudoLabeller):
    """
    The LSTM-CRF tagger of Lample et al. (2016): each token's embedding (e.g. a word vector
    concatenated with a character BiLSTM encoding, through a `TextFieldEmbedder`) is encoded in
    context by a `Seq2SeqEncoder` (a word BiLSTM), projected by a dense layer to one score per tag,
    and a linear-chain CRF scores tag sequences: training maximises the log-likelihood of the gold
    tags, prediction takes the Viterbi path, restricted to transitions valid in the label encoding.

    The instances' languages (`metadata[i]["language"]`) are passed to the text field embedder
    as `language=[...]`, which reaches the token embedders whose `forward` accepts it (e.g.
    `xlner_aligned_embedding`) and no others.

    Tied directions (Bari et al.'s Cross-Shared, "learning less to transfer more") come from the
    encoders: use `xlner_tied_lstm` for the word `encoder` and for the character encoder of the
    `character_encoding` token embedder instead of bidirectional `lstm`s (one switch in the
    experiment configs, see `training_config/common.libsonnet`).

    A `PseudoLabeller`: the `xlner_pseudo_label` callback tags with its plain forward.

    Registered as a `Model` with name "xlner_crf_tagger".

    # Parameters

    vocab : `Vocabulary`, required
        Gives the number of tags and their names.
    text_field_embedder : `TextFieldEmbedder`, required
        Embeds the `tokens` `TextField`.
    encoder : `Seq2SeqEncoder`, required
        Encodes the embedded tokens in context (Lample et al.: a BiLSTM with 100 units per direction).
    label_namespace : `str`, optional (default = `"labels"`)
        Vocabulary namespace of the tags.
    feedforward : `FeedForward`, optional (default = `None`)
        An extra feedforward layer between the encoder and the tag projection.
    label_encoding : `str`, optional (default = `"BIOUL"`)
        Encoding of the tags, as the `xlner_conll` reader's `label_encoding`: `"IOB2"` (also
        accepted as allennlp's `"BIO"`), `"BIOUL"` or `"IOB1"`. Used to constrain decoding and to
        compute span F1.
    include_start_end_transitions : `bool`, optional (default = `True`)
        Whether the CRF learns scores for starting and ending a sentence with each tag.
    constrain_crf_decoding : `bool`, optional (default = `True`)
        Whether Viterbi decoding (and the decoding confidence) only considers tag sequences that
        are valid in `label_encoding`.
    calculate_span_f1 : `bool`, optional (default = `True`)
        Whether to compute span-based precision, recall and F1 (overall and per entity type);
        `f1-measure-overall` is the usual validation metric.
    dropout : `float`, optional (default = `0.5`)
        Dropout on the embedded tokens and on the encoder's output (`FastDropout`, torch's
        dropout with masks drawn faster); 0 disables it.
    verbose_metrics : `bool`, optional (default = `False`)
        Also report per-type span precision and recall (per-type F1 is always reported).
    crf : `str`, optional (default = `"fast"`)
        CRF implementation: `"fast"` (`FastConditionalRandomField`, batched and vectorized) or
        `"allennlp"` (allennlp's `ConditionalRandomField`). Both have the same parameters and
        give the same results; this exists to compare their speed.
    loss_reduction : `str`, optional (default = `"sum"`)
        `"sum"` of the sentences' negative log-likelihoods (allennlp's CrfTagger) or their `"mean"`
        over the batch, which keeps a plain SGD step size (lr 0.1 in Bari et al.) independent of
        the batch size.
    initializer : `InitializerApplicator`, optional (default = `InitializerApplicator()`)
        Initializes the model parameters.
    """

    def __init__(
        self,
        vocab: Vocabulary,
        text_field_embedder: TextFieldEmbedder,
        encoder: Seq2SeqEncoder,
        label_namespace: str = "labels",
        feedforward: Optional[FeedForward] = None,
        label_encoding: str = "BIOUL",
        include_start_end_transitions: bool = True,
        constrain_crf_decoding: bool = True,
        calculate_span_f1: bool = True,
        dropout: float = 0.5,
        verbose_metrics: bool = False,
        crf: str = "fast",
        loss_reduction: str = "sum",
        initializer: InitializerApplicator = InitializerApplicator(),
        **kwargs,
    ) -> None:
        super().__init__(vocab, **kwargs)
        if crf not in CRF_IMPLEMENTATIONS:
            raise ConfigurationError(f"crf must be one of {sorted(CRF_IMPLEMENTATIONS)}, got {crf!r}")
        if loss_reduction not in ("sum", "mean"):
            raise ConfigurationError(f"loss_reduction must be 'sum' or 'mean', got {loss_reduction!r}")
        self.loss_reduction = loss_reduction
        self.label_namespace = label_namespace
        self.label_encoding = label_encoding
        self.text_field_embedder = text_field_embedder
        self.encoder = encoder
        self.num_tags = self.vocab.get_vocab_size(label_namespace)
        self.dropout = FastDropout(dropout) if dropout > 0 else None
        self._feedforward = feedforward
        self._verbose_metrics = verbose_metrics
        check_dimensions_match(
            text_field_embedder.get_output_dim(),
            encoder.get_input_dim(),
            "text field embedding dim",
            "encoder input dim",
        )
        if feedforward is not None:
            check_dimensions_match(
                encoder.get_output_dim(),
                feedforward.get_input_dim(),
                "encoder output dim",
                "feedforward input dim",
            )
            output_dim = feedforward.get_output_dim()
        else:
            output_dim = encoder.get_output_dim()
        self.tag_projection_layer = torch.nn.Linear(output_dim, self.num_tags)

        encoding = allennlp_label_encoding(label_encoding)
        self.constrain_crf_decoding = constrain_crf_decoding
        constraints = None
        if constrain_crf_decoding:
            labels = self.vocab.get_index_to_token_vocabulary(label_namespace)
            constraints = allowed_transitions(encoding, labels)
        self.crf = CRF_IMPLEMENTATIONS[crf](
            self.num_tags, constraints, include_start_end_transitions=include_start_end_transitions
        )

        self.metrics = {"accuracy": CategoricalAccuracy()}
        self.calculate_span_f1 = calculate_span_f1
        if calculate_span_f1:
            self._f1_metric = SpanBasedF1Measure(
                vocab, tag_namespace=label_namespace, label_encoding=encoding
            )
        initializer(self)

    def forward(
        self,  # type: ignore
        tokens: TextFieldTensors,
        tags: Optional[torch.LongTensor] = None,
        metadata: Optional[List[Dict[str, Any]]] = None,
        **kwargs,
    ) -> Dict[str, Any]:
        """
        # Parameters

        tokens : `TextFieldTensors`
            The indexed `tokens` field (word ids, characters, ...).
        tags : `torch.LongTensor`, optional (default = `None`)
            Gold tag ids `(batch, seq_len)`; with them the output has a `loss` and the metrics
            are updated.
        metadata : `List[Dict[str, Any]]`, optional (default = `None`)
            Per sentence, `"words"` and `"language"` (passed to the text field embedder).
        **kwargs
            Other fields of the instances are ignored.

        # Returns

        An output dict with `logits` `(batch, seq_len, num_tags)`, `mask`, `tags` (the Viterbi
        path of each sentence as a list of tag ids, unpadded), in eval mode `confidence`
        (`(batch,)`, the probability of that path, `exp(score(path) - log Z)`, among the paths the
        decoder allows), `loss` when `tags` are given, and `words` and `language` when `metadata` is given.
        """
        languages = None if metadata is None else [meta["language"] for meta in metadata]
        mask = get_text_field_mask(tokens)
        logits = self.tag_logits(tokens, mask, languages)

        best_paths = self.crf.viterbi_tags(logits, mask)
        predicted_tags = [path for path, _ in best_paths]
        output: Dict[str, Any] = {"logits": logits, "mask": mask, "tags": predicted_tags}
        if not self.training:
            # An extra forward algorithm: only evaluation, prediction and pseudo-labelling use it.
            best_scores = torch.tensor([score for _, score in best_paths], device=logits.device)
            output["confidence"] = decoding_confidence(
                logits, mask, best_scores, self.crf, constrained=True
            )
        if tags is not None:
            log_likelihood = self.crf(logits, tags, mask)
            output["loss"] = -(log_likelihood / logits.size(0) if self.loss_reduction == "mean" else log_likelihood)
            predictions = one_hot_paths(predicted_tags, mask.size(1), self.num_tags, logits)
            for metric in self.metrics.values():
                metric(predictions, tags, mask)
            if self.calculate_span_f1:
                self._f1_metric(predictions, tags, mask)
        if metadata is not None:
            output["words"] = [meta["words"] for meta in metadata]
            output["language"] = languages
        return output

    def tag_logits(
        self, tokens: TextFieldTensors, mask: torch.BoolTensor, languages: Optional[List[str]] = None
    ) -> torch.Tensor:
        """Tag scores `(batch, seq_len, num_tags)`: embedder (given the sentences' languages),
        dropout, encoder, dropout, optional feedforward, dense projection."""
        embedded = self.text_field_embedder(tokens, language=languages)
        if self.dropout is not None:
            embedded = self.dropout(embedded)
        encoded = self.encoder(embedded, mask)
        if self.dropout is not None:
            encoded = self.dropout(encoded)
        if self._feedforward is not None:
            encoded = self._feedforward(encoded)
        return self.tag_projection_layer(encoded)

    def make_output_human_readable(self, output_dict: Dict[str, Any]) -> Dict[str, Any]:
        """Replaces the tag ids of `output_dict["tags"]` by the tags' names."""
        output_dict["tags"] = tag_names(self.vocab, output_dict["tags"], self.label_namespace)
        return output_dict

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        """Accuracy and span precision/recall/F1: overall, and F1 per entity type (precision and
        recall per type too with `verbose_metrics`)."""
        metrics = {name: metric.get_metric(reset) for name, metric in self.metrics.items()}
        if self.calculate_span_f1:
            metrics.update(reported_span_metrics(self._f1_metric, reset, self._verbose_metrics))
        return metrics

    default_predictor = "xlner_tagger"
