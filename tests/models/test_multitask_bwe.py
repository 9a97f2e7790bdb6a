import json
import os

import pytest
import torch
from allennlp.commands.train import train_model_from_file
from allennlp.common.checks import ConfigurationError
from allennlp.data import Vocabulary
from allennlp.models.archival import load_archive

from xlner_allennlp.models import MultitaskBweTagger
from xlner_allennlp.multitask import read_pairs
from xlner_allennlp.modules.token_embedders import AlignedEmbedding
from tests.conftest import PROJECT_ROOT

CONFIG = os.path.join(PROJECT_ROOT, "training_config", "multitask_bwe.jsonnet")
# One NER batch and one document pair: the smallest epoch of the config's alternating schedule.
ONE_BATCH = {"data_loader.instances_per_epoch": 17, "trainer.num_epochs": 1, "model.settings.dim": 8}


@pytest.mark.parametrize("regime,ner_model", [("baseline", "unigram"), ("fj", "unigram"), ("hfj", "unigram"), ("hfj", "bilstm_crf")])
def test_config_trains_one_batch_and_exports_the_space(regime, ner_model, tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv("XLNER_DATA", tiny_data["XLNER_DATA"])
    run = tmp_path / "run"
    overrides = {**ONE_BATCH, "model.settings.regime": regime, "model.settings.ner_model": ner_model}
    model = train_model_from_file(CONFIG, str(run), overrides=json.dumps(overrides))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["training_loss"] > 0 and "best_validation_f1-measure-overall" in metrics
    assert isinstance(model, MultitaskBweTagger) and model.bwe.settings.regime == regime
    assert (model.bwe.encoder is not None) == (ner_model == "bilstm_crf")
    bwe = run / "bwe"
    embedder = AlignedEmbedding(
        {language: {"vectors": str(bwe / f"{language}.npy"), "alignment": str(bwe / "es-en")} for language in ("en", "es")}
    )
    assert embedder.get_output_dim() == 8
    archived = load_archive(str(run / "model.tar.gz")).model
    assert torch.equal(archived.bwe.embeddings, model.bwe.embeddings)


def test_unknown_and_bad_settings_are_configuration_errors(tiny_data):
    data = tiny_data["XLNER_DATA"]
    vocab = Vocabulary()
    vocab.add_tokens_to_namespace(["O", "B-PER"], "labels")
    paths = {"pairs_path": f"{data}/comparable/en-es.pairs.jsonl.gz", "target_language": "es",
             "ner_train_path": f"{data}/ner/en/conll2003/eng.train"}
    with pytest.raises(ConfigurationError, match=r"unknown setting\(s\) \['dimension'\]"):
        MultitaskBweTagger(vocab, settings={"dimension": 8}, **paths)
    with pytest.raises(ConfigurationError, match="regime must be one of"):
        MultitaskBweTagger(vocab, settings={"regime": "joint"}, **paths)


@pytest.mark.parametrize("regime", ["fj", "hfj"])
def test_an_lm_batch_updates_the_space_in_forward_and_leaves_the_optimizer_nothing(regime, tiny_data):
    data = tiny_data["XLNER_DATA"]
    vocab = Vocabulary()
    vocab.add_tokens_to_namespace(["O", "B-PER"], "labels")
    pairs_path = f"{data}/comparable/en-es.pairs.jsonl.gz"
    model = MultitaskBweTagger(vocab, pairs_path=pairs_path, target_language="es",
                               ner_train_path=f"{data}/ner/en/conll2003/eng.train",
                               settings={"dim": 8, "regime": regime, "subsample": 0.0, "sgd_pairs": 5})
    with torch.no_grad():
        model.bwe.context_embeddings.normal_(generator=torch.Generator().manual_seed(0))
    before = model.bwe.embeddings.detach().clone()
    context_before = model.bwe.context_embeddings.detach().clone()
    model.train()
    loss = model(pair=[next(read_pairs(pairs_path, "es"))])["loss"]
    assert float(loss) > 0
    english = model.bwe.source_rows
    assert not torch.equal(model.bwe.embeddings.detach()[~english], before[~english])
    assert torch.equal(model.bwe.embeddings.detach()[english], before[english]) == (regime == "hfj")
    assert not torch.equal(model.bwe.context_embeddings.detach(), context_before)
    loss.backward()
    assert not model.bwe.context_embeddings.grad.any() and model.bwe.embeddings.grad is None
    model.eval()
    after = model.bwe.embeddings.detach().clone()
    model(pair=[next(read_pairs(pairs_path, "es"))])
    assert torch.equal(model.bwe.embeddings.detach(), after)  # no Lm update outside training
