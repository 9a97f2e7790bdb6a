"""The `xlner_cross_augmented` model: a source LSTM-CRF tagger and a feature-augmented target
tagger trained jointly on source labels and pseudo-labelled target sentences (Bari et al., 2020)."""
import copy
from typing import Any, Dict, List, Optional, Tuple

import torch
from allennlp.common.checks import ConfigurationError, check_dimensions_match
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models.model import Model
from allennlp.modules import (
    Embedding,
    Seq2SeqEncoder,
    Seq2VecEncoder,
    TextFieldEmbedder,
    TimeDistributed,
)
from allennlp.modules.conditional_random_field import allowed_transitions
from allennlp.nn import InitializerApplicator
from allennlp.nn.util import get_text_field_mask
from allennlp.training.metrics import CategoricalAccuracy, SpanBasedF1Measure

from xlner_allennlp.models.crf_tagger import (
    allennlp_label_encoding,
    one_hot_paths,
    reported_span_metrics,
    tag_names,
)
from xlner_allennlp.models.pseudo_labeller import PseudoLabeller
from xlner_allennlp.modules.conditional_random_field import (
    FastConditionalRandomField,
    decoding_confidence,
)
from xlner_allennlp.modules.distinct_words import encode_distinct_words
from xlner_allennlp.modules.fast_dropout import FastDropout

PATHS = ("source", "target")
TARGET_ENCODERS = ("shared", "per_language")


@Model.register("xlner_cross_augmented")
class CrossAugmentedTagger(Model, PseudoLabeller):
    """
    Cross-Augmented tagger of Bari et al. (2020): a source model and a target model that share
    the character embeddings, with the target model's features augmented by the source model's.

    For a sentence `x` with word vectors `w_i` (aligned: one space for every language) and the
    shared character embeddings `e(c)` of its words:

        source:  h^s_i = BiLSTM_s([w_i ; CharLSTM_s(e(c_i))])            (source_encoder)
                 s^s_i = W_s h^s_i + b_s                                  (source dense layer)
                 p_s(y | x) = CRF(s^s, A)
        target:  h^t_i = BiLSTM_t([w_i ; CharLSTM_t(e(c_i))])            (target_encoder)
                 s^t_i = W_t [h^s_i ; h^t_i] + b_t                        (feature augmentation)
                 p_t(y | x) = CRF(s^t, A_t)

    Dropout is applied to each encoder's input and output. `A` holds the CRF's transition, start
    and end scores. A sentence is source-language when its `metadata["language"]` is
    `source_language`, target-language otherwise.

    One model for several target languages (`target_encoders`): `"shared"` (the default) has one
    target model (`CharLSTM_t`, `BiLSTM_t`, `W_t`, `b_t`) that every target language goes
    through; `"per_language"` has one per language of `target_languages` (a `ModuleDict`,
    `target_paths.<language>`, each built as a fresh copy of `target_character_encoder` and
    `target_encoder` with its own random initialization), and a sentence goes through its
    language's. A sentence whose language has no target model takes the source path: in
    `"per_language"` mode a language outside `target_languages`, e.g. a fifth aligned language
    plugged in by configuration after training; in `"shared"` mode a language outside
    `target_languages` when that list is given (override `model.target_languages` to send a
    plugged-in language through the shared target model: it has no per-language parameters).
    The source path is trained on the sentences of every language (the source term of Eq. 7
    below), while another language's target model would be a guess for a language it never saw.

    Loss (Eq. 7 of the paper), summed (or, see `loss_reduction`, averaged) over the sentences of
    the batch: a labelled source sentence contributes `-log p_s(y | x)`; a pseudo-labelled
    target sentence contributes `-log p_s(y | x) - log p_t(y | x)`, so the source model also
    learns from the target data and the target model learns with the source features as extra
    input (gradients of the target loss reach the source encoder through `h^s`). A batch may
    mix both kinds and several target languages; each sentence gets its own terms, and each
    target encoder runs on its own sentences only.

    Inference: target-language sentences are decoded by the target path (`s^t`, `A_t`),
    source-language sentences by the source path (`s^s`, `A`), with constrained Viterbi;
    `tagging_path` forces one path for the whole batch (the `xlner_pseudo_label` callback tags
    target sentences with the source path). Span F1 (`f1-measure-overall`, per type) is
    computed on the tags of whichever path each sentence used, so validating on source dev
    selects by the source path (truly zero-resource) and on target dev by the target path.

    CRF transitions: by default (`share_crf_transitions=True`) the target path uses the source
    CRF's transitions, `A_t = A`, and only its emission layer `W_t` is its own. Transitions
    encode the label grammar (which tag may follow which, how entities start and end), which
    does not depend on the language; the target path only ever sees pseudo labels, which are
    Viterbi paths of the source CRF, so its own transitions could at best relearn `A` from
    fewer and noisier (short-sentence) examples, and would start untrained when the first round
    begins. Sharing keeps them trained on gold source labels. `False` gives the target path its
    own CRF (one per target language in `"per_language"` mode).

    Registered as a `Model` with name "xlner_cross_augmented".

    # Parameters

    vocab : `Vocabulary`, required
        Must contain the tags in `label_namespace` and the characters of the character indexer.
    text_field_embedder : `TextFieldEmbedder`, required
        Embeds the word-level indexers of `tokens` (every indexer except `characters_indexer`),
        e.g. `xlner_aligned_embedding`; it is shared by both paths and receives
        `language=[...]`, the language of each sentence.
    character_embedding : `Embedding`, required
        Character embeddings shared by the source and the target character encoders.
    source_character_encoder : `Seq2VecEncoder`, required
        Encodes the characters of a word for the source model (e.g. a BiLSTM 25/25).
    target_character_encoder : `Seq2VecEncoder`, required
        Encodes the characters of a word for the target model.
    source_encoder : `Seq2SeqEncoder`, required
        Source word BiLSTM; input size = word embedding size + source character encoding size.
    target_encoder : `Seq2SeqEncoder`, required
        Target word BiLSTM; input size = word embedding size + target character encoding size.
    source_language : `str`, optional (default=`"en"`)
        Language of the labelled training data; sentences of other languages take the target
        path (see `target_languages`).
    target_encoders : `str`, optional (default=`"shared"`)
        `"shared"`: one target model for every target language; `"per_language"`: one per
        language of `target_languages` (see above).
    target_languages : `Optional[List[str]]`, optional (default=`None`)
        The languages that have a target path. `None` (only with `"shared"`): every language
        other than `source_language`. Required with `"per_language"`.
    label_namespace : `str`, optional (default=`"labels"`)
        Vocabulary namespace of the tags.
    label_encoding : `str`, optional (default=`"BIOUL"`)
        Encoding of the tags, as the `xlner_conll` reader's `label_encoding` (`"BIOUL"`,
        `"IOB2"`/`"BIO"` or `"IOB1"`); used for span F1 and the decoding constraints.
    characters_indexer : `str`, optional (default=`"token_characters"`)
        Name of the `tokens` field's character indexer (a `TokenCharactersIndexer`).
    share_crf_transitions : `bool`, optional (default=`True`)
        Whether the target path decodes and trains with the source CRF's transitions (see above).
    constrain_crf_decoding : `bool`, optional (default=`True`)
        Restrict Viterbi decoding to transitions `label_encoding` allows.
    include_start_end_transitions : `bool`, optional (default=`True`)
        Whether the CRFs learn start and end scores.
    dropout : `float`, optional (default=`0.5`)
        Dropout on the input and the output of both word encoders (`FastDropout`).
    verbose_metrics : `bool`, optional (default=`False`)
        Also report per-type span precision and recall (per-type F1 is always reported).
    loss_reduction : `str`, optional (default=`"sum"`)
        `"sum"` of the sentences' loss terms (above) or their `"mean"` over the sentences of the
        batch, as `xlner_crf_tagger`'s `loss_reduction`.
    initializer : `InitializerApplicator`, optional (default=`InitializerApplicator()`)
        Initializes the parameters.
    """

    def __init__(
        self,
        vocab: Vocabulary,
        text_field_embedder: TextFieldEmbedder,
        character_embedding: Embedding,
        source_character_encoder: Seq2VecEncoder,
        target_character_encoder: Seq2VecEncoder,
        source_encoder: Seq2SeqEncoder,
        target_encoder: Seq2SeqEncoder,
        source_language: str = "en",
        target_encoders: str = "shared",
        target_languages: Optional[List[str]] = None,
        label_namespace: str = "labels",
        label_encoding: str = "BIOUL",
        characters_indexer: str = "token_characters",
        share_crf_transitions: bool = True,
        constrain_crf_decoding: bool = True,
        include_start_end_transitions: bool = True,
        dropout: float = 0.5,
        verbose_metrics: bool = False,
        loss_reduction: str = "sum",
        initializer: InitializerApplicator = InitializerApplicator(),
        **kwargs,
    ) -> None:
        super().__init__(vocab, **kwargs)
        if loss_reduction not in ("sum", "mean"):
            raise ConfigurationError(
                f"loss_reduction must be 'sum' or 'mean', got {loss_reduction!r}"
            )
        if target_encoders not in TARGET_ENCODERS:
            raise ConfigurationError(
                f"target_encoders must be one of {TARGET_ENCODERS}, got {target_encoders!r}"
            )
        if target_encoders == "per_language" and not target_languages:
            raise ConfigurationError("target_encoders 'per_language' needs target_languages")
        if target_languages is not None and (
            source_language in target_languages or len(set(target_languages)) != len(target_languages)
        ):
            raise ConfigurationError(
                f"target_languages must be distinct and exclude the source language "
                f"{source_language!r}, got {target_languages}"
            )
        span_encoding = allennlp_label_encoding(label_encoding)
        self.source_language = source_language
        self.target_encoders = target_encoders
        self.target_languages = None if target_languages is None else list(target_languages)
        self.label_namespace = label_namespace
        self.label_encoding = label_encoding
        self.characters_indexer = characters_indexer
        self.share_crf_transitions = share_crf_transitions
        self.constrain_crf_decoding = constrain_crf_decoding
        self.verbose_metrics = verbose_metrics
        self.loss_reduction = loss_reduction
        self.num_tags = vocab.get_vocab_size(label_namespace)

        self.text_field_embedder = text_field_embedder
        # Kept inside `TimeDistributed` for the state-dict keys of existing archives; they run on
        # the batch's distinct words (`encode_characters`), through the wrapped modules.
        self.character_embedding = TimeDistributed(character_embedding)
        self.source_character_encoder = TimeDistributed(source_character_encoder)
        self.source_encoder = source_encoder
        self.dropout = FastDropout(dropout)

        word_dim = text_field_embedder.get_output_dim()
        check_dimensions_match(
            character_embedding.get_output_dim(),
            source_character_encoder.get_input_dim(),
            "character embedding dim",
            "source character encoder input dim",
        )
        check_dimensions_match(
            character_embedding.get_output_dim(),
            target_character_encoder.get_input_dim(),
            "character embedding dim",
            "target character encoder input dim",
        )
        check_dimensions_match(
            word_dim + source_character_encoder.get_output_dim(),
            source_encoder.get_input_dim(),
            "word + source character dims",
            "source encoder input dim",
        )
        check_dimensions_match(
            word_dim + target_character_encoder.get_output_dim(),
            target_encoder.get_input_dim(),
            "word + target character dims",
            "target encoder input dim",
        )
        self.source_projection = torch.nn.Linear(source_encoder.get_output_dim(), self.num_tags)
        augmented_dim = source_encoder.get_output_dim() + target_encoder.get_output_dim()

        constraints = None
        if constrain_crf_decoding:
            labels = vocab.get_index_to_token_vocabulary(label_namespace)
            constraints = allowed_transitions(span_encoding, labels)
        crf_settings = {"include_start_end_transitions": include_start_end_transitions}
        self.source_crf = FastConditionalRandomField(self.num_tags, constraints, **crf_settings)

        def own_crf() -> Optional[FastConditionalRandomField]:
            if share_crf_transitions:
                return None
            return FastConditionalRandomField(self.num_tags, constraints, **crf_settings)

        # The shared target model keeps the attribute names of one-language archives.
        self.target_character_encoder: Optional[TimeDistributed] = None
        self.target_encoder: Optional[Seq2SeqEncoder] = None
        self.target_projection: Optional[torch.nn.Linear] = None
        self.target_crf: Optional[FastConditionalRandomField] = None
        self.target_paths: Optional[torch.nn.ModuleDict] = None
        if target_encoders == "shared":
            self.target_character_encoder = TimeDistributed(target_character_encoder)
            self.target_encoder = target_encoder
            self.target_projection = torch.nn.Linear(augmented_dim, self.num_tags)
            self.target_crf = own_crf()
        else:
            paths = {}
            for language in self.target_languages:
                path = {
                    "character_encoder": TimeDistributed(fresh_copy(target_character_encoder)),
                    "encoder": fresh_copy(target_encoder),
                    "projection": torch.nn.Linear(augmented_dim, self.num_tags),
                }
                crf = own_crf()
                if crf is not None:
                    path["crf"] = crf
                paths[language] = torch.nn.ModuleDict(path)
            self.target_paths = torch.nn.ModuleDict(paths)
        self.accuracy = CategoricalAccuracy()
        self.span_f1 = SpanBasedF1Measure(
            vocab, tag_namespace=label_namespace, label_encoding=span_encoding
        )
        initializer(self)

    def encode_characters(self, characters: torch.Tensor, encoder: TimeDistributed) -> torch.Tensor:
        """Character encodings `(batch, seq_len, dim)` of character ids
        `(batch, seq_len, num_characters)` by `encoder` (the source or the target character
        encoder) over the shared character embedding, computed once per distinct word of the
        batch (`encode_distinct_words`)."""
        embedding, word_encoder = self.character_embedding._module, encoder._module

        def encode(word_characters: torch.Tensor) -> torch.Tensor:
            return word_encoder(embedding(word_characters), word_characters != 0)

        return encode_distinct_words(characters, encode)

    def pseudo_labelling_arguments(self) -> Dict[str, Any]:
        """Pseudo-labels come from the source path (`PseudoLabeller`)."""
        return {"tagging_path": "source"}

    def has_target_path(self, language: str) -> bool:
        """Whether sentences of `language` take a target path (see the class docstring)."""
        if language == self.source_language:
            return False
        return self.target_languages is None or language in self.target_languages

    def target_path(
        self, language: Optional[str]
    ) -> Tuple[TimeDistributed, Seq2SeqEncoder, torch.nn.Linear, FastConditionalRandomField]:
        """The character encoder, word encoder, projection and CRF (the source CRF when
        transitions are shared) of `language`'s target path; in `"shared"` mode the shared one,
        whatever `language` (`None` included)."""
        if self.target_paths is None:
            crf = self.source_crf if self.target_crf is None else self.target_crf
            return self.target_character_encoder, self.target_encoder, self.target_projection, crf
        if language not in self.target_paths:
            raise ValueError(
                f"no target path for language {language!r}: per-language target encoders exist "
                f"for {sorted(self.target_paths)} only"
            )
        path = self.target_paths[language]
        crf = path["crf"] if "crf" in path else self.source_crf
        return path["character_encoder"], path["encoder"], path["projection"], crf

    def forward(  # type: ignore
        self,
        tokens: TextFieldTensors,
        metadata: List[Dict[str, Any]],
        tags: Optional[torch.LongTensor] = None,
        tagging_path: Optional[str] = None,
    ) -> Dict[str, Any]:
        """
        # Parameters

        tokens : `TextFieldTensors`
            The word-level indexers and the character indexer `characters_indexer`.
        metadata : `List[Dict[str, Any]]`
            Per sentence, `"language"` (selects the word vectors and the path) and `"words"`.
        tags : `torch.LongTensor`, optional (default=`None`)
            Gold or pseudo tag ids `(batch, seq_len)`; with them the output has a `loss` and
            the metrics are updated.
        tagging_path : `str`, optional (default=`None`)
            `"source"` or `"target"` to run every sentence through that path (`"target"`: its
            language's, in `"per_language"` mode); `None` chooses by each sentence's language.

        # Returns

        An output dict with `logits` `(batch, seq_len, num_tags)` (each sentence's scores from
        its path), `mask`, `tags` (the Viterbi path of each sentence as tag ids, unpadded), in
        eval mode `confidence` (`(batch,)`, the probability of that path under its path's CRF
        among the allowed paths), `path` (`"source"` or `"target"` per sentence), `words`, `language` and,
        with `tags`, `loss`.
        """
        if tagging_path is not None and tagging_path not in PATHS:
            raise ValueError(f"tagging_path must be one of {PATHS} or None, got {tagging_path!r}")
        languages = [meta["language"] for meta in metadata]
        if tagging_path is None:
            is_target = [self.has_target_path(language) for language in languages]
        else:
            is_target = [tagging_path == "target"] * len(languages)
        mask = get_text_field_mask(tokens)
        words = self.text_field_embedder(
            {name: value for name, value in tokens.items() if name != self.characters_indexer},
            language=languages,
        )
        characters = tokens[self.characters_indexer]["token_characters"]

        source_characters = self.encode_characters(characters, self.source_character_encoder)
        source_features = self.dropout(
            self.source_encoder(self.dropout(torch.cat([words, source_characters], -1)), mask)
        )
        source_logits = self.source_projection(source_features)
        paths, scores = self.source_crf.viterbi_decode(source_logits, mask)
        # The confidence costs an extra forward algorithm: only evaluation, prediction and
        # pseudo-labelling (all in eval mode) use it.
        confidence = None
        if not self.training:
            confidence = decoding_confidence(
                source_logits, mask, scores, self.source_crf, constrained=True
            )
        logits = source_logits

        # Target sentences grouped by target model: one group in "shared" mode, one per language
        # in "per_language" mode. Each group goes through its target encoder alone; its results
        # replace the source path's in its rows.
        groups: Dict[Optional[str], List[int]] = {}
        for row, (language, target) in enumerate(zip(languages, is_target)):
            if target:
                key = None if self.target_paths is None else language
                groups.setdefault(key, []).append(row)
        target_log_likelihoods = []
        for key, rows in groups.items():
            character_encoder, encoder, projection, target_crf = self.target_path(key)
            target_rows = torch.tensor(rows, dtype=torch.long, device=mask.device)
            target_mask = mask[target_rows]
            target_characters = self.encode_characters(characters[target_rows], character_encoder)
            target_inputs = self.dropout(torch.cat([words[target_rows], target_characters], -1))
            target_features = self.dropout(encoder(target_inputs, target_mask))
            augmented = torch.cat([source_features[target_rows], target_features], -1)
            target_logits = projection(augmented)
            target_paths, target_scores = target_crf.viterbi_decode(target_logits, target_mask)
            logits = logits.index_copy(0, target_rows, target_logits)
            paths = paths.index_copy(0, target_rows, target_paths)
            if confidence is not None:
                target_confidence = decoding_confidence(
                    target_logits, target_mask, target_scores, target_crf, constrained=True
                )
                target_confidence = target_confidence.to(confidence.dtype)
                confidence = confidence.index_copy(0, target_rows, target_confidence)
            if tags is not None:
                target_log_likelihoods.append(
                    target_crf.log_likelihood(target_logits, tags[target_rows], target_mask)
                )
        best_tags = [path[:length] for path, length in zip(paths.tolist(), mask.sum(1).tolist())]

        output: Dict[str, Any] = {
            "logits": logits,
            "mask": mask,
            "tags": best_tags,
            "path": ["target" if target else "source" for target in is_target],
            "words": [meta["words"] for meta in metadata],
            "language": languages,
        }
        if confidence is not None:
            output["confidence"] = confidence
        if tags is not None:
            # Eq. 7: the source CRF on every sentence, the target CRFs on the target sentences.
            loss = -self.source_crf.log_likelihood(source_logits, tags, mask).sum()
            for target_ll in target_log_likelihoods:
                loss = loss - target_ll.sum()
            output["loss"] = loss / len(metadata) if self.loss_reduction == "mean" else loss
            predictions = one_hot_paths(best_tags, mask.size(1), self.num_tags, logits)
            self.accuracy(predictions, tags, mask)
            self.span_f1(predictions, tags, mask)
        return output

    def make_output_human_readable(self, output_dict: Dict[str, Any]) -> Dict[str, Any]:
        """Replaces the tag ids of `output_dict["tags"]` by the tags' names."""
        output_dict["tags"] = tag_names(self.vocab, output_dict["tags"], self.label_namespace)
        return output_dict

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        """Accuracy and span precision/recall/F1 over the tags of each sentence's path: overall,
        and F1 per entity type (precision and recall per type too with `verbose_metrics`)."""
        metrics = {"accuracy": self.accuracy.get_metric(reset)}
        metrics.update(reported_span_metrics(self.span_f1, reset, self.verbose_metrics))
        return metrics

    default_predictor = "xlner_tagger"


def fresh_copy(module: torch.nn.Module) -> torch.nn.Module:
    """A deep copy of `module` whose submodules with a `reset_parameters` (LSTMs, linear layers)
    draw new initial weights, so that per-language copies do not start identical."""
    duplicate = copy.deepcopy(module)
    for submodule in duplicate.modules():
        reset = getattr(submodule, "reset_parameters", None)
        if callable(reset):
            reset()
    return duplicate
