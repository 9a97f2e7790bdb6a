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


MULTI_CONFIG = FIXTURES / "experiment_multi.jsonnet"


class TwoTargets(ModelTestCase):
    """Two target languages in one model: Spanish and German pseudo-labelled sentences, with the
    target encoders of `MODE` (the subclasses below)."""

    MODE = ""

    def setup_method(self):
        super().setup_method()
        self.overrides = json.dumps({"model.target_encoders": self.MODE, "data_loader.batch_size": 16})
        config = self.TEST_DIR / "config.json"
        config.write_text(json.dumps(Params.from_file(str(MULTI_CONFIG), self.overrides).as_dict()))
        self.set_up_model(config, FIXTURES / "en.train.conll", seed=1)
        self.by_language = {
            language: [i for i in self.instances if i["metadata"]["language"] == language]
            for language in ("en", "es", "de")
        }

    def forward(self, instances: List[Instance], **kwargs) -> Dict:
        batch = Batch(instances)
        batch.index_instances(self.vocab)
        return self.model(**batch.as_tensor_dict(), **kwargs)

    def test_model_can_train_save_and_load(self):
        # One batch holds every sentence, so the gradient check sees every target model.
        self.ensure_model_can_train_save_and_load(MULTI_CONFIG, overrides=self.overrides)

    def test_batch_predictions_are_consistent(self):
        self.ensure_batch_predictions_are_consistent()

    def test_a_mixed_language_batch_is_its_languages_batches(self):
        self.model.eval()
        en, es, de = (self.by_language[language] for language in ("en", "es", "de"))
        mixed = self.forward(en[:2] + de[:1] + es + de[1:])
        order = ["en", "en", "de"] + ["es"] * len(es) + ["de"] * (len(de) - 1)
        assert mixed["language"] == order
        assert mixed["path"] == ["source" if language == "en" else "target" for language in order]
        parts = [self.forward(part) for part in (en[:2], de[:1], es, de[1:])]
        assert mixed["tags"] == [tags for part in parts for tags in part["tags"]]
        assert torch.allclose(mixed["confidence"], torch.cat([part["confidence"] for part in parts]))
        assert torch.allclose(mixed["loss"], sum(part["loss"] for part in parts), rtol=1e-5)

    @pytest.mark.parametrize(
        "changes, message",
        [
            ({"target_languages": None}, "'per_language' needs target_languages"),
            ({"target_encoders": "each"}, "target_encoders must be one of"),
            ({"target_languages": ["es", "en"]}, "exclude the source language"),
        ],
    )
    def test_bad_target_settings_are_configuration_errors(self, changes, message):
        params = Params.from_file(str(MULTI_CONFIG)).pop("model")
        for key, value in changes.items():
            params[key] = value
        with pytest.raises(ConfigurationError, match=message):
            Model.from_params(vocab=self.vocab, params=params)


class TestPerLanguageTargetEncoders(TwoTargets):
    MODE = "per_language"

    def test_gradients_reach_only_the_target_model_of_the_batch_language(self):
        self.model.train()
        for language in ("en", "es", "de"):
            self.model.zero_grad(set_to_none=True)
            self.forward(self.by_language[language])["loss"].backward()
            reached = {
                name.split(".")[1]
                for name, parameter in self.model.named_parameters()
                if name.startswith("target_paths.") and parameter.grad is not None
                and bool(parameter.grad.abs().sum() > 0)
            }
            assert reached == (set() if language == "en" else {language})

    def test_a_language_without_its_target_model_takes_the_source_path(self):
        self.model.eval()
        german = self.by_language["de"]
        as_italian = [instance_of(i["metadata"]["words"], "it") for i in german]
        output = self.forward(as_italian)
        assert output["path"] == ["source"] * len(german)
        forced = self.forward(german, tagging_path="source")
        assert output["tags"] == forced["tags"]
        with pytest.raises(ValueError, match="no target path for language 'it'"):
            self.forward(as_italian, tagging_path="target")

    def test_each_language_starts_from_its_own_initial_weights(self):
        params = Params.from_file(str(MULTI_CONFIG)).pop("model")
        model = Model.from_params(vocab=self.vocab, params=params)
        es, de = (dict(model.target_paths[language].named_parameters()) for language in ("es", "de"))
        assert set(es) == set(de)
        assert not any(torch.equal(es[name], de[name]) for name in es if es[name].dim() > 1)


class TestSharedTargetEncoder(TwoTargets):
    MODE = "shared"

    def test_gradients_reach_only_the_target_model_of_the_batch_language(self):
        self.model.train()
        for language in ("en", "es", "de"):
            self.model.zero_grad(set_to_none=True)
            self.forward(self.by_language[language])["loss"].backward()
            grad = self.model.target_projection.weight.grad
            assert (grad is not None and bool(grad.abs().sum() > 0)) == (language != "en")
        assert self.model.target_paths is None

    def test_a_language_without_its_target_model_takes_the_source_path(self):
        # Listed target languages only; without the list, every non-source language (as with one target).
        self.model.eval()
        as_italian = [instance_of(i["metadata"]["words"], "it") for i in self.by_language["de"]]
        assert set(self.forward(as_italian)["path"]) == {"source"}
        self.model.target_languages = None
        assert set(self.forward(as_italian)["path"]) == {"target"}
