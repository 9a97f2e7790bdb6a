"""The `xlner_multitask_bwe` model: AllenNLP wrapper of the multi-task bilingual embeddings of
Wang, Peng & Duh (2017) (numerical core: `xlner_allennlp.multitask`)."""
import dataclasses
from typing import Any, Dict, List, Optional

import torch
import torch.nn.functional as F
from allennlp.common.checks import ConfigurationError
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models.model import Model
from allennlp.nn.util import get_text_field_mask
from allennlp.training.metrics import SpanBasedF1Measure

from xlner_allennlp.data.dataset_readers.conll import read_conll_sentences
from xlner_allennlp.multitask import (
    DocumentPair,
    MultitaskBwe,
    MultitaskBweSettings,
    TaggedVocabulary,
    export_space,
    read_pairs,
    singleton_rows,
)


@Model.register("xlner_multitask_bwe")
class MultitaskBweTagger(Model):
    """
    Learns one bilingual space V from a comparable corpus (skip-gram over stochastically merged
    document pairs, Lm) while fitting the unigram NER model `V[x]·W[y] + b[y]` on English labels
    (Ln), under the Baseline, FJ or HFJ regime (`MultitaskBwe`).

    Trained with AllenNLP's `multitask` reader and data loader: batches of the task `ner`
    (`xlner_conll` instances, IOB2 labels) and of the task `lm` (`xlner_comparable_pairs`
    instances, one document pair a batch) alternate. An `ner` batch is a step of the trainer's
    optimizer; an `lm` batch is applied in `forward`, in training mode, by `MultitaskBwe.lm_update`
    (SGD at `lm_learning_rate`, `sgd_pairs` skip-gram pairs per update: one optimizer step over a
    whole document's gradients diverges), and returns its loss with a zero gradient, so the
    trainer's step for it changes nothing (plain SGD: no momentum, no weight decay). Under
    `baseline` the two alternate too, with V trained by Lm only (the core's
    `train_multitask_bwe` instead pretrains first, then fits Λ). Words are indexed by the model's
    language-tagged vocabulary, built at construction from the pairs file (counts, `min_count`)
    and the English NER training file (every word gets a row; its singletons are read as OOV at
    `oov_rate`), so a target-language instance (metadata `language`) is tagged zero-shot.

    Registered as a `Model` with name "xlner_multitask_bwe".

    # Parameters

    vocab : `Vocabulary`
        Only its `label_namespace` is used (the tag set).
    pairs_path : `str`
        The comparable corpus (`read_pairs` format), also the `lm` data path of the config.
    target_language : `str`
        The key of the target documents in the pairs file (e.g. `"es"`).
    ner_train_path : `str`
        The English CoNLL training file (also the `ner` data path): its words and singletons.
    ner_encoding : `str`, optional (default=`"utf-8"`)
        Encoding of `ner_train_path`.
    source_language : `str`, optional (default=`"en"`)
        The labelled language.
    label_namespace : `str`, optional (default=`"labels"`)
    lm_learning_rate : `float`, optional (default=`0.025`)
        The SGD step of the Lm updates (Vulić & Moens 2015's; state the trainer's lr beside it).
    settings : `Dict[str, Any]`, optional (default=`{}`)
        Fields of `MultitaskBweSettings` (dim, regime, alpha, dropout, oov_rate, window,
        dynamic_window, negatives, subsample, unigram_power, min_count, seed, ner_model,
        lstm_hidden); missing fields take its defaults, an unknown name is a configuration error.
    """

    def __init__(
        self,
        vocab: Vocabulary,
        pairs_path: str,
        target_language: str,
        ner_train_path: str,
        ner_encoding: str = "utf-8",
        source_language: str = "en",
        label_namespace: str = "labels",
        lm_learning_rate: float = 0.025,
        settings: Optional[Dict[str, Any]] = None,
        **kwargs,
    ) -> None:
        super().__init__(vocab, **kwargs)
        known = {f.name for f in dataclasses.fields(MultitaskBweSettings)}
        unknown = sorted(set(settings or {}) - known)
        if unknown:
            raise ConfigurationError(
                f"xlner_multitask_bwe: unknown setting(s) {unknown}; known: {', '.join(sorted(known))}"
            )
        try:
            parsed = MultitaskBweSettings(**(settings or {}))
        except ValueError as error:
            raise ConfigurationError(f"xlner_multitask_bwe: {error}") from None
        english = [sentence.tokens for sentence in read_conll_sentences(ner_train_path, ner_encoding)]
        documents = []
        for pair in read_pairs(pairs_path, target_language, source_language):
            documents += [(source_language, pair.source), (target_language, pair.target)]
        vocabulary = TaggedVocabulary.build(
            documents,
            [source_language, target_language],
            parsed.min_count,
            ((source_language, token) for tokens in english for token in tokens),
        )
        self._label_namespace = label_namespace
        self._source_language = source_language
        self._target_language = target_language
        self._lm_learning_rate = lm_learning_rate
        self.bwe = MultitaskBwe(vocabulary, vocab.get_vocab_size(label_namespace), parsed, source_language)
        self.bwe.set_singletons(singleton_rows(vocabulary, english, source_language))
        self._f1 = SpanBasedF1Measure(vocab, label_namespace, label_encoding="BIO")

    def forward(  # type: ignore
        self,
        tokens: Optional[TextFieldTensors] = None,
        tags: Optional[torch.LongTensor] = None,
        metadata: Optional[List[Dict[str, Any]]] = None,
        pair: Optional[List[DocumentPair]] = None,
        task: Optional[List[str]] = None,
    ) -> Dict[str, torch.Tensor]:
        """
        A `ner` batch (`tokens`, `metadata` with `words` and `language`, optional `tags`) gives
        `logits` (batch, length, T), `mask` and, with `tags`, `loss` = alpha·Ln; an `lm` batch
        (`pair`) gives `loss` = (1 − alpha)·Lm over its merged documents.
        """
        if pair is not None:
            return {"loss": self._lm_loss(pair)}
        if tokens is None or metadata is None:
            raise ConfigurationError("xlner_multitask_bwe: a batch needs `pair`, or `tokens` and `metadata`")
        mask = get_text_field_mask(tokens)
        rows = torch.zeros_like(mask, dtype=torch.long)
        for i, entry in enumerate(metadata):
            encoded = self.bwe.vocabulary.encode(entry["words"], entry.get("language", self._source_language))
            rows[i, : len(encoded)] = torch.from_numpy(encoded)
        logits = self.bwe.tag_scores(rows, mask)
        predicted = self.bwe.decode(logits, mask)
        output: Dict[str, torch.Tensor] = {"logits": logits, "mask": mask, "predicted_tags": predicted}
        if tags is not None:
            output["loss"] = self.bwe.ner_loss(rows, tags, mask) / mask.size(0)
            self._f1(F.one_hot(predicted, logits.shape[-1]).to(logits.dtype), tags, mask)
        return output

    def _lm_loss(self, pairs: List[DocumentPair]) -> torch.Tensor:
        # A loss with a zero gradient: the trainer's optimizer step leaves every parameter as is.
        no_step = self.bwe.context_embeddings.sum() * 0.0
        if not self.training:
            return no_step
        vocabulary = self.bwe.vocabulary
        encoded = [
            (vocabulary.encode(p.source, self._source_language), vocabulary.encode(p.target, self._target_language))
            for p in pairs
        ]
        batch = self.bwe.skipgram_batch(encoded)
        if len(batch) == 0:  # every token subsampled away
            return no_step
        return no_step + self.bwe.lm_update(batch, self._lm_learning_rate) / len(batch)  # on V's device

    def make_output_human_readable(self, output_dict: Dict[str, torch.Tensor]) -> Dict[str, Any]:
        """Adds `tags`: the decoded labels of each instance (`MultitaskBwe.decode`)."""
        predictions = output_dict["predicted_tags"].cpu().tolist()
        lengths = output_dict["mask"].sum(-1).cpu().tolist()
        output_dict["tags"] = [
            [self.vocab.get_token_from_index(t, self._label_namespace) for t in row[:length]]
            for row, length in zip(predictions, lengths)
        ]
        return output_dict

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        metrics = self._f1.get_metric(reset)
        return {name: value for name, value in metrics.items() if "overall" in name}

    def export(self, directory: str) -> Dict[str, str]:
        """Write the learned space as vector files plus an identity alignment (`export_space`)."""
        return export_space(self.bwe, directory, self._target_language)

    default_predictor = "xlner_tagger"
