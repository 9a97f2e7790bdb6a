"""The `xlner_bilm` model and `training_config/bilm.jsonnet`: trains, saves, loads, resumes; the
evaluation loss is the full-softmax NLL of the right neighbours. The anchored LM (`anchoring`,
`training_config/bilm_anchored.jsonnet`): the penalty falls in training, is absent in evaluation,
bad input is a ConfigurationError naming the file."""
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
from tests.tiny_anchors import write_tiny_anchors, write_tiny_dictionary
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


# The anchored LM (training_config/bilm_anchored.jsonnet, the model's `anchoring`).
ANCHORED_CONFIG = os.path.join(PROJECT_ROOT, "training_config", "bilm_anchored.jsonnet")


def _anchored_environment(root, monkeypatch):
    """Tiny Spanish text, the layout's es-en dictionary and English anchors under ``root``; returns
    the anchors directory and their raw-scale layer-0 halves."""
    for name, value in write_tiny_text(str(root), languages=("es",), train=32, heldout=4).items():
        monkeypatch.setenv(name, value)
    write_tiny_dictionary(str(root / "dict" / "muse" / "es-en.0-5000.txt"))
    return write_tiny_anchors(str(root / "anchors" / "en"), projection_dim=TINY["model.projection_dim"])


def _anchored_model(anchors, dictionary, **anchoring):
    instances = _instances([["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "ran", "in", "the", "park"],
                            ["Größe", "bird", "tree"]])
    vocab = Vocabulary.from_instances(instances)
    torch.manual_seed(0)
    params = {"type": "xlner_bilm", "char_embedding_dim": 4, "filters": [[1, 4], [2, 4], [3, 8]], "projection_dim": 8,
              "cell_size": 16, "sparse_softmax": False,
              "anchoring": {"anchors": anchors, "dictionary": dictionary, **{"pairs_per_batch": 4, **anchoring}}}
    model = Model.from_params(vocab=vocab, params=Params(params))
    batch = Batch(instances)
    batch.index_instances(vocab)
    return model, batch.as_tensor_dict()


def test_the_anchoring_penalty_falls_in_training_and_is_absent_in_evaluation(tmp_path):
    anchors, _ = write_tiny_anchors(str(tmp_path / "anchors"))
    dictionary = write_tiny_dictionary(str(tmp_path / "es-en.txt"))
    model, batch = _anchored_model(anchors, dictionary, weight=1.0, pairs_per_batch=10)
    assert model._anchor_characters.shape == (6, 50)  # "mat" has no anchor, "caballo" is not in the text
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    distances = []
    model.train()
    for _ in range(40):
        optimizer.zero_grad()
        model(**batch)["loss"].backward()
        optimizer.step()
        distances.append(model.get_metrics(reset=True)["anchor_distance"])
    assert np.mean(distances[-5:]) < 0.5 * np.mean(distances[:5])

    model.eval()
    with torch.no_grad():
        loss = model(**batch)["loss"].item()
    assert "anchor_distance" not in model.get_metrics(reset=True)
    # Evaluation's loss is the LM's alone: the same with a 100 times heavier penalty.
    heavier, _ = _anchored_model(anchors, dictionary, weight=100.0)
    heavier.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert heavier.eval()(**batch)["loss"].item() == pytest.approx(loss, rel=1e-6)


def test_weight_zero_monitors_without_pulling(tmp_path):
    anchors, _ = write_tiny_anchors(str(tmp_path / "anchors"))
    dictionary = write_tiny_dictionary(str(tmp_path / "es-en.txt"))
    monitored, batch = _anchored_model(anchors, dictionary, weight=0.0)
    plain, _ = _anchored_model(anchors, dictionary, weight=0.0)
    plain._anchoring = None
    losses = []
    for model in (monitored, plain):
        model.train()
        torch.manual_seed(1)  # the same dropout masks
        np.random.seed(1)  # the same softmax samples
        losses.append(model(**batch)["loss"].item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)
    assert monitored.get_metrics()["anchor_distance"] > 0


def test_bad_anchoring_input_is_a_configuration_error_naming_the_file(tmp_path):
    anchors, _ = write_tiny_anchors(str(tmp_path / "anchors"), projection_dim=6)
    dictionary = write_tiny_dictionary(str(tmp_path / "es-en.txt"))
    with pytest.raises(ConfigurationError, match="layer0.npy: anchors are 12-dimensional"):
        _anchored_model(anchors, dictionary)
    anchors, _ = write_tiny_anchors(str(tmp_path / "anchors8"))
    with pytest.raises(ConfigurationError, match="missing.txt: no such dictionary file"):
        _anchored_model(anchors, str(tmp_path / "missing.txt"))
    unusable = write_tiny_dictionary(str(tmp_path / "none.txt"), [("caballo", "horse_en"), ("mat", "mat_en")])
    with pytest.raises(ConfigurationError, match="no usable anchoring pair.*none.txt"):
        _anchored_model(anchors, unusable)
    with pytest.raises(ConfigurationError, match="unknown anchoring option"):
        _anchored_model(anchors, dictionary, lambda_=1.0)


def test_anchored_config_trains_one_batch_on_the_first_sentences(tmp_path, monkeypatch):
    anchors, _ = _anchored_environment(tmp_path / "data", monkeypatch)
    overrides = {**TINY, "model.anchoring.anchors": anchors, "dataset_reader.max_instances": 16}
    model = train_model_from_file(ANCHORED_CONFIG, str(tmp_path / "run"), overrides=json.dumps(overrides))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["training_anchor_distance"] > 0 and "validation_anchor_distance" not in metrics
    assert metrics["validation_perplexity"] > 1
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model"]["anchoring"]["dictionary"].endswith("dict/muse/es-en.0-5000.txt")
    assert model._anchoring.weight == 1.0 and (tmp_path / "run" / "model.tar.gz").is_file()


def test_anchored_config_needs_a_target_language(tmp_path, monkeypatch):
    _anchored_environment(tmp_path / "data", monkeypatch)
    monkeypatch.setenv("XLNER_LANGUAGE", "en")
    with pytest.raises(Exception, match="the anchored LM needs a target language"):
        Params.from_file(ANCHORED_CONFIG)


class TestAnchoredLanguageModel(ModelTestCase):
    def test_can_train_save_and_load(self, tmp_path, monkeypatch):
        anchors, _ = _anchored_environment(tmp_path / "data", monkeypatch)
        # The harness builds its model from the file alone: write the config with the fixtures' anchors.
        config = tmp_path / "bilm_anchored.json"
        Params.from_file(ANCHORED_CONFIG, json.dumps({**TINY, "model.anchoring.anchors": anchors})).to_file(str(config))
        self.set_up_model(str(config), str(tmp_path / "data" / "text" / "es.heldout.txt.gz"), seed=13)
        self.ensure_model_can_train_save_and_load(self.param_file)
