"""The `xlner_biaffine_parser` model on tiny generated treebanks."""
import json

import numpy as np
import pytest
import torch
from allennlp.common.checks import ConfigurationError
from allennlp.common.testing import ModelTestCase
from allennlp.data import Batch

from tests.tiny_data import sentences, tiny_conllu
from xlner_allennlp.data.dataset_readers import UniversalDependenciesReader
from xlner_allennlp.models.biaffine_parser import bilinear


def parser_config(data_path: str, upos: bool = True, words: bool = True) -> dict:
    model = {
        "type": "xlner_biaffine_parser",
        "encoder": {"type": "lstm", "input_size": (8 if words else 0) + (4 if upos else 0),
                    "hidden_size": 6, "num_layers": 2, "bidirectional": True, "dropout": 0.1},
        "arc_dim": 7,
        "relation_dim": 5,
        "dropout": 0.1,
        "input_dropout": 0.1,
    }
    if words:
        model["text_field_embedder"] = {"token_embedders": {"tokens": {"type": "embedding", "embedding_dim": 8}}}
    if upos:
        model["upos_embedding_dim"] = 4
    return {
        "dataset_reader": {"type": "xlner_universal_dependencies", "language": "en", "strip_subtypes": False},
        "train_data_path": data_path,
        "validation_data_path": data_path,
        "model": model,
        "data_loader": {"batch_size": 4},
        "trainer": {"num_epochs": 2, "optimizer": {"type": "adam", "lr": 0.01}, "cuda_device": -1},
    }


class TestBiaffineParser(ModelTestCase):
    def setup_method(self):
        super().setup_method()
        self.data_path = str(self.TEST_DIR / "train.conllu")
        with open(self.data_path, "w", encoding="utf-8") as handle:
            handle.write(tiny_conllu(sentences("en", 6, 3)))
        self.config_path = str(self.TEST_DIR / "parser.json")
        with open(self.config_path, "w", encoding="utf-8") as handle:
            json.dump(parser_config(self.data_path), handle)
        self.set_up_model(self.config_path, self.data_path, seed=13)

    def test_can_train_save_and_load(self):
        self.ensure_model_can_train_save_and_load(self.param_file)

    def test_batch_predictions_are_consistent(self):
        self.ensure_batch_predictions_are_consistent()

    def test_evaluation_outputs_are_single_rooted_trees(self):
        self.model.eval()
        output = self.model(**self.dataset.as_tensor_dict())
        lengths = [len(instance["tokens"]) for instance in self.instances]
        assert [len(heads) for heads in output["heads"]] == lengths
        for heads in output["heads"]:
            assert heads.count(0) == 1
            for start in range(1, len(heads) + 1):
                node, steps = start, 0
                while node != 0:
                    node, steps = heads[node - 1], steps + 1
                    assert steps <= len(heads), "a cycle"
        log_probs = output["arc_log_probs"]
        assert log_probs.shape[1] == log_probs.shape[2] == max(lengths) + 1
        for b, n in enumerate(lengths):  # each word's head distribution sums to 1 over real nodes
            assert torch.allclose(log_probs[b, 1 : n + 1, : n + 1].exp().sum(-1), torch.ones(n), atol=1e-5)
        readable = self.model.make_output_human_readable(output)
        relations = set(self.vocab.get_token_to_index_vocabulary("dependency_relations"))
        assert all(set(sentence) <= relations - {"@@PADDING@@", "@@UNKNOWN@@"} for sentence in readable["relations"])

    def test_metrics_report_both_definitions(self):
        self.model.eval()
        self.model(**self.dataset.as_tensor_dict())
        metrics = self.model.get_metrics(reset=True)
        assert {"UAS", "LAS", "UEM", "LEM", "conll18_UAS", "conll18_LAS"} <= set(metrics)

    def test_conll18_scores_ignore_subtypes_and_punctuation_exclusion(self):
        # Gold relation obl:tmod predicted as obl: wrong for LAS, right for the CoNLL 2018 LAS.
        vocab = self.model.vocab
        index = {name: vocab.get_token_index(name, "dependency_relations") for name in ("obl", "obl:tmod", "punct")}
        upos = {name: vocab.get_token_index(name, "upos") for name in ("NOUN", "PUNCT")}
        gold_heads = torch.tensor([[0, 1]])
        gold = torch.tensor([[index["obl:tmod"], index["punct"]]])
        predicted = torch.tensor([[index["obl"], index["punct"]]])
        self.model.get_metrics(reset=True)
        self.model._update_metrics(torch.tensor([[0, 0]]), predicted, gold_heads, gold,
                                   torch.tensor([[upos["NOUN"], upos["PUNCT"]]]), torch.tensor([[True, True]]))
        metrics = self.model.get_metrics(reset=True)
        # Punctuation (wrong head) is excluded from UAS/LAS, included in the CoNLL 2018 scores.
        assert metrics["UAS"] == 1.0 and metrics["LAS"] == 0.0
        assert metrics["conll18_UAS"] == 0.5 and metrics["conll18_LAS"] == 0.5

    def test_unseen_relation_in_evaluation_does_not_crash(self):
        reader = UniversalDependenciesReader()
        other = str(self.TEST_DIR / "other.conllu")
        with open(other, "w", encoding="utf-8") as handle:
            handle.write("1\tHola\t_\tINTJ\t_\t_\t0\troot\t_\t_\n2\tya\t_\tX\t_\t_\t1\tdiscourse:new\t_\t_\n\n")
        instances = list(reader.read(other))
        batch = Batch(instances)
        batch.index_instances(self.model.vocab)
        self.model.eval()
        output = self.model(**batch.as_tensor_dict())
        assert torch.isfinite(output["loss"])
        assert self.model.get_metrics(reset=True)["LAS"] <= 0.5

    def test_upos_reading_parser_needs_upos(self):
        reader = UniversalDependenciesReader()
        instance = reader.text_to_instance(["Mary", "said"])
        reader.apply_token_indexers(instance)
        batch = Batch([instance])
        batch.index_instances(self.model.vocab)
        with pytest.raises(ConfigurationError, match="gold UPOS"):
            self.model(**batch.as_tensor_dict())


class TestDelexicalisedParser(ModelTestCase):
    def setup_method(self):
        super().setup_method()
        data_path = str(self.TEST_DIR / "train.conllu")
        with open(data_path, "w", encoding="utf-8") as handle:
            handle.write(tiny_conllu(sentences("en", 6, 4)))
        config_path = str(self.TEST_DIR / "delex.json")
        with open(config_path, "w", encoding="utf-8") as handle:
            json.dump(parser_config(data_path, upos=True, words=False), handle)
        self.set_up_model(config_path, data_path, seed=13)

    def test_can_train_save_and_load(self):
        self.ensure_model_can_train_save_and_load(self.param_file)


def test_a_parser_that_reads_nothing_is_rejected(tmp_path):
    from allennlp.data import Vocabulary
    from allennlp.modules.seq2seq_encoders import LstmSeq2SeqEncoder

    from xlner_allennlp.models import BiaffineParser

    with pytest.raises(ConfigurationError, match="reads nothing"):
        BiaffineParser(Vocabulary(), LstmSeq2SeqEncoder(4, 3))


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_equals_torch_bilinear_in_values_and_gradients(bias):
    torch.manual_seed(0)
    layer = torch.nn.Bilinear(7, 5, 3, bias=bias).double()
    left = torch.randn(2, 4, 7, dtype=torch.double, requires_grad=True)
    right = torch.randn(2, 4, 5, dtype=torch.double, requires_grad=True)
    ours, theirs = bilinear(left, right, layer), layer(left, right)
    assert ours.shape == (2, 4, 3)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)
    weights = torch.randn_like(theirs)
    parameters = [left, right, *layer.parameters()]
    ours_gradients = torch.autograd.grad((ours * weights).sum(), parameters)
    theirs_gradients = torch.autograd.grad((theirs * weights).sum(), parameters)
    for mine, reference in zip(ours_gradients, theirs_gradients):
        torch.testing.assert_close(mine, reference, rtol=0, atol=1e-12)
