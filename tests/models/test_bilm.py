"""The `xlner_bilm` model and `training_config/bilm.jsonnet`: trains, saves, loads, resumes; the
evaluation loss is the full-softmax NLL of the right neighbours."""
import json
import os

import numpy as np
import pytest
import torch
from allennlp.commands.train import train_model_from_file
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.common.testing import ModelTestCase
from allennlp.data import Batch, Vocabulary
from allennlp.models import Model

from tests.conftest import PROJECT_ROOT
from tests.tiny_text import write_tiny_text
from xlner_allennlp.data.dataset_readers import LmTextReader

CONFIG = os.path.join(PROJECT_ROOT, "training_config", "bilm.jsonnet")
# A small network for the tests that train; the config's own defaults are trained by test_config_trains_one_batch.
TINY = {"model.char_embedding_dim": 4, "model.filters": [[1, 4], [2, 4], [3, 8]], "model.projection_dim": 8,
        "model.cell_size": 16, "data_loader.batch_sampler.batch_size": 16}


class TestBidirectionalLanguageModel(ModelTestCase):
    def setup_method(self):
        super().setup_method()
        environment = write_tiny_text(str(self.TEST_DIR / "data"))
        self._previous = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)
        self.set_up_model(CONFIG, str(self.TEST_DIR / "data" / "text" / "en.heldout.txt.gz"), seed=13)

    def teardown_method(self):
        for name, value in self._previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        super().teardown_method()

    def test_can_train_save_and_load(self):
        self.ensure_model_can_train_save_and_load(self.param_file, overrides=json.dumps(TINY))

    def test_evaluation_loss_is_the_full_softmax_nll_of_both_neighbours(self):
        self.model.eval()
        batch = self.dataset.as_tensor_dict()
        with torch.no_grad():
            output = self.model(**batch)
            softmax = self.model._softmax
            weights, biases = softmax.softmax_w.weight, softmax.softmax_b.weight.squeeze(1)
            activations, mask = self.model.network(batch["tokens"]["elmo_tokens"]["elmo_tokens"])
        log_probs = torch.log_softmax(activations[-1].view(*mask.shape, 2, -1) @ weights.t() + biases, dim=-1)
        targets = batch["targets"]["tokens"]["tokens"]
        total, count = 0.0, 0
        for row, length in enumerate(mask.sum(dim=1).tolist()):  # length = words + 2
            for position in range(length - 1):
                total -= float(log_probs[row, position, 0, targets[row, position + 1]])  # forward: next word
                total -= float(log_probs[row, position + 1, 1, targets[row, position]])  # backward: previous
                count += 2
        assert output["loss"].item() == pytest.approx(total / count, rel=1e-5)
        metrics = self.model.get_metrics(reset=True)
        assert metrics["perplexity"] == pytest.approx(np.exp(total / count), rel=1e-5)
        assert metrics["forward_perplexity"] != metrics["backward_perplexity"]
        assert self.model.get_metrics()["perplexity"] == 1.0  # reset

    def test_training_uses_the_sampled_softmax_and_only_sampled_rows_get_gradients(self):
        self.model.train()
        np.random.seed(0)
        self.model(**self.dataset.as_tensor_dict())["loss"].backward()
        gradient = self.model._softmax.softmax_w.weight.grad
        assert gradient.is_sparse
        num_samples = self.model._softmax._num_samples
        assert num_samples == self.vocab.get_vocab_size("tokens") - 1  # capped by the vocabulary


def test_config_trains_one_batch_with_its_defaults(tmp_path, monkeypatch):
    for name, value in write_tiny_text(str(tmp_path / "data"), train=16, heldout=4).items():
        monkeypatch.setenv(name, value)
    model = train_model_from_file(CONFIG, str(tmp_path / "run"))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epoch"] == 0 and metrics["training_loss"] > 0
    assert metrics["validation_perplexity"] > 1
    assert model.network.options.cell_size == 256 and model.network.options.projection_dim == 128
    assert (tmp_path / "run" / "model.tar.gz").is_file()


def test_recover_resumes_from_the_last_epoch(tmp_path, monkeypatch):
    for name, value in write_tiny_text(str(tmp_path / "data"), train=32, heldout=4).items():
        monkeypatch.setenv(name, value)
    run = tmp_path / "run"
    train_model_from_file(CONFIG, str(run), overrides=json.dumps(TINY))
    first_written = os.stat(run / "metrics_epoch_0.json").st_mtime_ns
    # A 2-epoch run interrupted after its first epoch: the saved config asks for 2 epochs.
    config = json.loads((run / "config.json").read_text())
    config["trainer"]["num_epochs"] = 2
    (run / "config.json").write_text(json.dumps(config))
    train_model_from_file(CONFIG, str(run), overrides=json.dumps({**TINY, "trainer.num_epochs": 2}), recover=True)
    assert os.stat(run / "metrics_epoch_0.json").st_mtime_ns == first_written  # epoch 0 was not trained again
    assert json.loads((run / "metrics.json").read_text())["epoch"] == 1
    assert (run / "metrics_epoch_1.json").is_file()


def _instances(sentences):
    reader = LmTextReader()
    instances = [reader.text_to_instance(words) for words in sentences]
    for instance in instances:
        reader.apply_token_indexers(instance)
    return instances


def test_bad_settings_are_configuration_errors():
    vocab = Vocabulary.from_instances(_instances([["a", "b"]]))
    with pytest.raises(ConfigurationError, match="must be smaller than cell_size"):
        Model.from_params(vocab=vocab, params=Params({"type": "xlner_bilm", "projection_dim": 32, "cell_size": 16}))
    with pytest.raises(ConfigurationError, match="needs words to predict"):
        Model.from_params(vocab=Vocabulary(), params=Params({"type": "xlner_bilm"}))


def test_a_sentence_scores_the_same_alone_and_in_a_batch():
    instances = _instances([["a", "b", "a", "c", "b"], ["b", "a"]])
    vocab = Vocabulary.from_instances(instances)
    torch.manual_seed(0)
    model = Model.from_params(vocab=vocab, params=Params({"type": "xlner_bilm", "projection_dim": 4, "cell_size": 8})).eval()

    def loss(batch_instances):
        batch = Batch(batch_instances)
        batch.index_instances(vocab)
        with torch.no_grad():
            return model(**batch.as_tensor_dict())["loss"].item()

    alone = [loss([instance]) for instance in instances]
    together = loss(instances)
    counts = [len(instance["targets"]) - 1 for instance in instances]
    assert together == pytest.approx(sum(a * c for a, c in zip(alone, counts)) / sum(counts), rel=1e-5)
