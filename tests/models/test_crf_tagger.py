"""The `xlner_crf_tagger` model, with bidirectional and with direction-tied LSTMs."""
import json
import os
from typing import List, Optional

import pytest
import torch
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.common.testing import ModelTestCase
from allennlp.data import Batch, Vocabulary
from allennlp.models import Model
from allennlp.modules.conditional_random_field import ConditionalRandomField
from allennlp.modules.text_field_embedders import BasicTextFieldEmbedder
from allennlp.modules.token_embedders import Embedding, TokenEmbedder

from xlner_allennlp.data.dataset_readers.conll import ConllReader
from xlner_allennlp.models.crf_tagger import CrfTagger
from xlner_allennlp.modules.conditional_random_field import FastConditionalRandomField
from xlner_allennlp.modules.seq2seq_encoders import TiedLstmSeq2SeqEncoder
from xlner_allennlp.modules.seq2vec_encoders import TiedLstmSeq2VecEncoder

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "crf_tagger")
DATA = os.path.join(FIXTURES, "tiny.conll")
OVERRIDES = json.dumps({"train_data_path": DATA, "validation_data_path": DATA})


class CrfTaggerTestBase(ModelTestCase):
    config = ""

    def setup_method(self):
        super().setup_method()
        self.set_up_model(os.path.join(FIXTURES, self.config), DATA, seed=13)

    def test_can_train_save_and_load(self):
        self.ensure_model_can_train_save_and_load(self.param_file, overrides=OVERRIDES)

    def test_batch_predictions_are_consistent(self):
        self.ensure_batch_predictions_are_consistent()

    def test_outputs_and_human_readable_tags(self):
        self.model.eval()
        output = self.model(**self.dataset.as_tensor_dict())
        lengths = [len(instance["tokens"]) for instance in self.instances]
        assert [len(path) for path in output["tags"]] == lengths
        assert output["logits"].shape[:2] == output["mask"].shape
        assert output["confidence"].shape == (len(self.instances),)
        assert ((output["confidence"] > 0) & (output["confidence"] <= 1)).all()
        assert torch.isfinite(output["loss"])
        assert output["language"] == ["en"] * len(self.instances)
        readable = self.model.make_output_human_readable(output)
        labels = set(self.vocab.get_token_to_index_vocabulary("labels"))
        assert all(set(tags) <= labels for tags in readable["tags"])
        assert readable["words"][0] == self.instances[0]["metadata"]["words"]

    def test_metrics(self):
        self.model(**self.dataset.as_tensor_dict())
        metrics = self.model.get_metrics(reset=True)
        expected = {"accuracy", "precision-overall", "recall-overall", "f1-measure-overall"}
        expected |= {f"f1-measure-{kind}" for kind in ("PER", "LOC", "ORG", "MISC")}
        assert expected <= set(metrics)
        assert not any(name.startswith("precision-") and name != "precision-overall" for name in metrics)


class TestUntiedCrfTagger(CrfTaggerTestBase):
    config = "experiment_untied.jsonnet"

    def test_encoders_are_bidirectional_lstms(self):
        assert not any(isinstance(m, (TiedLstmSeq2SeqEncoder, TiedLstmSeq2VecEncoder)) for m in self.model.modules())
        assert self.model.label_encoding == "BIOUL"
        assert isinstance(self.model.crf, FastConditionalRandomField)


class TestTiedCrfTagger(CrfTaggerTestBase):
    config = "experiment_tied.jsonnet"

    def test_both_lstms_have_tied_directions(self):
        assert isinstance(self.model.encoder, TiedLstmSeq2SeqEncoder)
        characters = self.model.text_field_embedder.token_embedder_token_characters._encoder._module
        assert isinstance(characters, TiedLstmSeq2VecEncoder)
        untied = Model.from_params(
            vocab=self.vocab,
            params=Params.from_file(os.path.join(FIXTURES, "experiment_untied.jsonnet"))["model"],
        )
        lstm_parameters = lambda model: sum(  # noqa: E731
            p.numel() for name, p in model.named_parameters() if "encoder" in name
        )
        assert lstm_parameters(self.model) < lstm_parameters(untied)

    def test_iob2_decoding_respects_the_encoding(self):
        self.model.eval()
        with torch.no_grad():
            self.model.tag_projection_layer.bias.normal_(0, 10)
        readable = self.model.make_output_human_readable(self.model(**self.dataset.as_tensor_dict()))
        for tags in readable["tags"]:
            for previous, tag in zip(["O"] + tags, tags):
                if tag.startswith("I-"):
                    assert previous[2:] == tag[2:], tags


class LanguageRecorder(TokenEmbedder):
    """A token embedder that records the `language` it is given."""

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.embedding = Embedding(embedding_dim=dim, num_embeddings=vocab_size)
        self.seen: List[Optional[List[str]]] = []

    def get_output_dim(self) -> int:
        return self.embedding.get_output_dim()

    def forward(self, tokens: torch.Tensor, language: Optional[List[str]] = None) -> torch.Tensor:
        self.seen.append(language)
        return self.embedding(tokens)


def tiny_model(instances, crf: str = "fast", **kwargs):
    """A small tagger on word ids only, with a language-recording embedder."""
    vocab = Vocabulary.from_instances(instances)
    recorder = LanguageRecorder(vocab.get_vocab_size("tokens"), 6)
    embedder = BasicTextFieldEmbedder({"tokens": recorder})
    encoder = TiedLstmSeq2SeqEncoder(6, 5)
    kwargs.setdefault("label_encoding", "IOB2")
    return CrfTagger(vocab, embedder, encoder, crf=crf, **kwargs), recorder


@pytest.fixture()
def instances():
    """Fresh instances (indexed labels are not counted again by `Vocabulary.from_instances`)."""
    reader = ConllReader(label_encoding="IOB2", language="xx")
    return list(reader.read(DATA))


def tensors(model, instances):
    """The model's inputs for `instances`, without the character ids `tiny_model` does not use."""
    batch = Batch(instances)
    batch.index_instances(model.vocab)
    inputs = batch.as_tensor_dict()
    inputs["tokens"] = {"tokens": inputs["tokens"]["tokens"]}
    return inputs


def test_languages_reach_the_token_embedders_that_accept_them(instances):
    model, recorder = tiny_model(instances)
    model(**tensors(model, instances))
    assert recorder.seen == [["xx"] * len(instances)]
    inputs = tensors(model, instances)
    del inputs["metadata"]
    output = model(**inputs)
    assert recorder.seen[-1] is None and "language" not in output


def test_allennlp_and_fast_crf_give_the_same_results(instances):
    torch.manual_seed(0)
    fast, _ = tiny_model(instances, crf="fast", dropout=0.0)
    reference, _ = tiny_model(instances, crf="allennlp", dropout=0.0)
    assert type(reference.crf) is ConditionalRandomField
    reference.load_state_dict(fast.state_dict())
    inputs = tensors(fast, instances)
    fast_output, reference_output = fast(**inputs), reference(**inputs)
    assert fast_output["tags"] == reference_output["tags"]
    torch.testing.assert_close(fast_output["loss"], reference_output["loss"])
    assert "confidence" not in fast_output and "confidence" not in reference_output
    fast.eval()
    reference.eval()
    fast_output, reference_output = fast(**inputs), reference(**inputs)
    torch.testing.assert_close(fast_output["confidence"], reference_output["confidence"])
    assert fast.get_metrics() == reference.get_metrics()


def test_verbose_metrics_add_per_type_precision_and_recall(instances):
    model, _ = tiny_model(instances, verbose_metrics=True)
    model(**tensors(model, instances))
    metrics = model.get_metrics()
    assert {"precision-PER", "recall-PER", "f1-measure-PER"} <= set(metrics)


@pytest.mark.parametrize(
    "kwargs,message",
    [({"label_encoding": "IOBES"}, "label_encoding"), ({"crf": "slow"}, "crf must be one of")],
)
def test_bad_settings_are_configuration_errors(instances, kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        tiny_model(instances, **kwargs)
