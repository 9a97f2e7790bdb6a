import json
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.common.testing import ModelTestCase
from allennlp.data import Batch, Instance
from allennlp.models import Model

from xlner_allennlp.data.dataset_readers import ConllReader
from xlner_allennlp.models import CrossAugmentedTagger

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cross_augmented"
CONFIG = FIXTURES / "experiment.jsonnet"
TARGET_PARAMETERS = ("target_character_encoder", "target_encoder", "target_projection")


def instance_of(words: List[str], language: str) -> Instance:
    """An unlabelled instance indexed like the fixture config's (default `xlner_conll` indexers)."""
    reader = ConllReader(language=language)
    instance = reader.text_to_instance(words, None, language)
    reader.apply_token_indexers(instance)
    return instance


class TestCrossAugmentedTagger(ModelTestCase):
    def setup_method(self):
        super().setup_method()
        # The training reader reads the English file and the fixed pseudo-labelled Spanish file.
        self.set_up_model(CONFIG, FIXTURES / "en.train.conll", seed=1)
        self.english = [i for i in self.instances if i["metadata"]["language"] == "en"]
        self.spanish = [i for i in self.instances if i["metadata"]["language"] == "es"]

    def forward(self, instances: List[Instance], **kwargs) -> Dict:
        batch = Batch(instances)
        batch.index_instances(self.vocab)
        return self.model(**batch.as_tensor_dict(), **kwargs)

    def test_model_can_train_save_and_load(self):
        # One batch holds every sentence, so the gradient check sees both paths.
        overrides = json.dumps({"data_loader.batch_size": 16})
        self.ensure_model_can_train_save_and_load(CONFIG, overrides=overrides)

    def test_batch_predictions_are_consistent(self):
        self.ensure_batch_predictions_are_consistent()

    def test_each_sentence_takes_the_path_of_its_language(self):
        self.model.eval()
        mixed = self.forward(self.english[:2] + self.spanish)
        assert mixed["path"] == ["source", "source"] + ["target"] * len(self.spanish)
        english, spanish = self.forward(self.english[:2]), self.forward(self.spanish)
        assert mixed["tags"] == english["tags"] + spanish["tags"]
        separate = torch.cat([english["confidence"], spanish["confidence"]])
        assert torch.allclose(mixed["confidence"], separate)
        assert ((mixed["confidence"] > 0) & (mixed["confidence"] <= 1)).all()
        # Eq. 7 sums over sentences: the mixed batch's loss is the sum of its parts' losses.
        assert torch.allclose(mixed["loss"], english["loss"] + spanish["loss"], rtol=1e-5)

    def test_target_sentences_add_the_target_loss(self):
        self.model.eval()
        both = self.forward(self.spanish)["loss"]
        source_only = self.forward(self.spanish, tagging_path="source")["loss"]
        # The difference is the target CRF's negative log-likelihood, which is positive.
        assert both > source_only > 0

    def test_gradients_reach_the_target_model_only_from_target_sentences(self):
        self.model.train()
        for instances, reached in ((self.english, False), (self.spanish, True)):
            self.model.zero_grad(set_to_none=True)
            self.forward(instances)["loss"].backward()
            target_grads = [
                parameter.grad
                for name, parameter in self.model.named_parameters()
                if name.startswith(TARGET_PARAMETERS)
            ]
            got = [grad is not None and bool(grad.abs().sum() > 0) for grad in target_grads]
            assert got == [reached] * len(target_grads)
            assert self.model.source_projection.weight.grad.abs().sum() > 0

    def test_forced_source_path_ignores_the_language(self):
        # With a language-independent word embedding, the source path of a Spanish sentence is
        # the same computation as for the same words marked English.
        self.model.eval()
        forced = self.forward(self.spanish, tagging_path="source")
        assert forced["path"] == ["source"] * len(self.spanish)
        as_english = self.forward([instance_of(i["metadata"]["words"], "en") for i in self.spanish])
        assert forced["tags"] == as_english["tags"]
        assert torch.allclose(forced["confidence"], as_english["confidence"])
        assert self.forward(self.english[:2], tagging_path="target")["path"] == ["target", "target"]

    def test_mean_loss_reduction_divides_by_the_batch_size(self):
        self.model.eval()
        summed = self.forward(self.english[:3] + self.spanish)["loss"]
        self.model.loss_reduction = "mean"
        mean = self.forward(self.english[:3] + self.spanish)["loss"]
        assert torch.allclose(mean * (3 + len(self.spanish)), summed)
        params = Params.from_file(str(CONFIG)).pop("model")
        params["loss_reduction"] = "median"
        with pytest.raises(ConfigurationError, match="loss_reduction must be"):
            Model.from_params(vocab=self.vocab, params=params)

    def test_unknown_tagging_path_is_an_error(self):
        with pytest.raises(ValueError, match="tagging_path must be one of"):
            self.forward(self.english[:1], tagging_path="both")

    def test_human_readable_tags(self):
        self.model.eval()
        output = self.model.make_output_human_readable(self.forward(self.spanish))
        labels = set(self.vocab.get_token_to_index_vocabulary("labels"))
        lengths = [len(instance["metadata"]["words"]) for instance in self.spanish]
        assert [len(tags) for tags in output["tags"]] == lengths
        assert {tag for tags in output["tags"] for tag in tags} <= labels

    def test_own_target_crf_when_transitions_are_not_shared(self):
        params = Params.from_file(str(CONFIG)).pop("model")
        params["share_crf_transitions"] = False
        model = Model.from_params(vocab=self.vocab, params=params)
        assert isinstance(model, CrossAugmentedTagger)
        assert any(name.startswith("target_crf.") for name, _ in model.named_parameters())
        assert not any(name.startswith("target_crf.") for name, _ in self.model.named_parameters())
        batch = Batch(self.spanish)
        batch.index_instances(self.vocab)
        model(**batch.as_tensor_dict())["loss"].backward()
        assert model.target_crf.transitions.grad.abs().sum() > 0
        assert model.source_crf.transitions.grad.abs().sum() > 0
