import json
import os

import pytest
import torch
from allennlp.commands.train import train_model_from_file
from allennlp.common.checks import ConfigurationError
from allennlp.data import Vocabulary
from allennlp.models.archival import load_archive

from xlner_allennlp.models import MultitaskBweTagger
from xlner_allennlp.modules.token_embedders import AlignedEmbedding
from tests.conftest import PROJECT_ROOT

CONFIG = os.path.join(PROJECT_ROOT, "training_config", "multitask_bwe.jsonnet")
# One NER batch and one document pair: the smallest epoch of the config's alternating schedule.
ONE_BATCH = {"data_loader.instances_per_epoch": 17, "trainer.num_epochs": 1, "model.settings.dim": 8}


@pytest.mark.parametrize("regime", ["baseline", "fj", "hfj"])
def test_config_trains_one_batch_and_exports_the_space(regime, tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv("XLNER_DATA", tiny_data["XLNER_DATA"])
    run = tmp_path / "run"
    model = train_model_from_file(CONFIG, str(run), overrides=json.dumps({**ONE_BATCH, "model.settings.regime": regime}))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["training_loss"] > 0 and "best_validation_f1-measure-overall" in metrics
    assert isinstance(model, MultitaskBweTagger) and model.bwe.settings.regime == regime
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
