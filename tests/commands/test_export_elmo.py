"""`allennlp xlner-export-elmo`: a trained tiny BiLM, exported, loads in allennlp's stock `Elmo` and
`_ElmoBiLm`, which compute every layer of the model's own network (both directions)."""
import json
import os

import pytest
import torch
from allennlp.commands.train import train_model_from_file
from allennlp.modules.elmo import Elmo, _ElmoBiLm, batch_to_ids

from tests.commands.test_align import run
from tests.conftest import PROJECT_ROOT
from tests.tiny_text import write_tiny_text

CONFIG = os.path.join(PROJECT_ROOT, "training_config", "bilm.jsonnet")
TINY = {"model.char_embedding_dim": 4, "model.filters": [[1, 4], [2, 4], [3, 8]], "model.projection_dim": 8,
        "model.cell_size": 16, "data_loader.batch_sampler.batch_size": 16, "trainer.num_epochs": 2}
SENTENCES = [["the", "cat", "sat", "on", "the", "mat", "."], ["Größe", "unseen-word"], ["big"]]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("bilm")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in write_tiny_text(str(root / "data")).items():
            patch.setenv(name, value)
        model = train_model_from_file(CONFIG, str(root / "run"), overrides=json.dumps(TINY))
    return model.eval(), str(root / "run" / "model.tar.gz")


def test_stock_elmo_loads_the_export_and_computes_the_models_layers(trained, tmp_path, monkeypatch, capsys):
    model, archive = trained
    output = str(tmp_path / "elmo")
    run(monkeypatch, "xlner-export-elmo", archive, "--output", output)
    assert "3 layers of 16 dimensions" in capsys.readouterr().out
    options, weights = os.path.join(output, "options.json"), os.path.join(output, "weights.hdf5")
    character_ids = batch_to_ids(SENTENCES)
    with torch.no_grad():
        ours, mask = model.network(character_ids)
        theirs = _ElmoBiLm(options, weights)(character_ids)
    assert torch.equal(theirs["mask"], mask)
    half = model.network.options.projection_dim
    for layer, (mine, stock) in enumerate(zip(ours, theirs["activations"])):
        for direction, part in (("forward", slice(0, half)), ("backward", slice(half, None))):
            assert (mine[..., part] - stock[..., part]).abs().max() <= 1e-5, f"layer {layer} {direction}"
            assert mine[..., part].abs().max() > 1e-3
        mix = [0.0 if i == layer else -1e4 for i in range(len(ours))]
        elmo = Elmo(options, weights, num_output_representations=1, dropout=0.0, scalar_mix_parameters=mix,
                    keep_sentence_boundaries=True)
        with torch.no_grad():
            assert (elmo(character_ids)["elmo_representations"][0] - mine).abs().max() <= 1e-5, f"Elmo layer {layer}"


def test_export_errors_are_one_line_messages(trained, tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, "xlner-export-elmo", str(tmp_path / "absent.tar.gz"), "--output", str(tmp_path / "out"))
    assert exit_info.value.code == 1
    assert "absent.tar.gz" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
