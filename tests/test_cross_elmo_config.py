"""training_config/cross_elmo.jsonnet and parser_elmo.jsonnet train on the tiny data with tiny aligned
ELMos, and their archives reload with the ELMos rebuilt from their files (the generic config tests
cannot: they have no ELMo)."""
import json
import os

import pytest
from allennlp.commands.train import train_model_from_file
from allennlp.common.checks import ConfigurationError
from allennlp.models.archival import load_archive

from xlner_allennlp.alignment import Alignment, save_alignment
from xlner_allennlp.alignment.supervised import procrustes
from xlner_allennlp.alignment.vectors import load_vectors
from xlner_allennlp.commands.anchors import extract_anchors
from xlner_allennlp.commands.evaluate_language import evaluate_language
from xlner_allennlp.contextual import layer_file, write_anchors
from xlner_allennlp.modules.elmo import contextual_layers, load_elmo_bilm
from xlner_allennlp.data_layout import treebank
from xlner_allennlp.predictors.parser import ParserPredictor
from xlner_allennlp.predictors.tagger import TaggerPredictor

from tests.conftest import PROJECT_ROOT
from tests.tiny_data import sentences
from tests.tiny_elmo import make_tiny_elmo

CONFIG = os.path.join(PROJECT_ROOT, "training_config", "cross_elmo.jsonnet")
PARSER_CONFIG = os.path.join(PROJECT_ROOT, "training_config", "parser_elmo.jsonnet")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """Tiny ELMos of en and es, their anchors and layer-1 alignment es -> en, as the config lays them out."""
    root = tmp_path_factory.mktemp("elmo_artifacts")
    for seed, language in enumerate(("en", "es")):
        text = root / f"{language}.txt"
        text.write_text("".join(" ".join(w for w, _ in s) + "\n" for s in sentences(language, 30, seed)), encoding="utf-8")
        bilm = load_elmo_bilm(make_tiny_elmo(str(root / "elmo" / language), seed=seed))
        anchors, geometry, _ = extract_anchors(lambda ids: contextual_layers(bilm, ids), 3, 16, str(text), min_count=1)
        write_anchors(anchors, geometry, str(root / "anchors" / language), {})
    # The layer-1 map es -> en: Procrustes on the anchors of a few translation pairs, written as an
    # artifact directly. Two tiny random ELMos share no structure, so `align_files` would rightly
    # report the fit failed (and the embedder refuse it); these tests exercise the plumbing.
    es, en = (load_vectors(layer_file(str(root / "anchors" / language), 1)) for language in ("es", "en"))
    pairs = [("dijo", "said"), ("en", "in"), ("a", "to"), ("hoy", "today"), (".", "."), ("london", "london")]
    mapping = procrustes(es.matrix[[es.index[a] for a, _ in pairs]], en.matrix[[en.index[b] for _, b in pairs]])
    save_alignment(Alignment(mapping=mapping, mapped_language="es", reference_language="en"),
                   str(root / "elmo_alignments" / "es-en" / "layer1"))
    return str(root)


def _languages(root):
    def language(code, side):
        return {"elmo": f"{root}/elmo/{code}", "anchors": f"{root}/anchors/{code}",
                "alignment": f"{root}/elmo_alignments/es-en", "side": side}
    return {"en": language("en", "reference"), "es": language("es", "mapped")}


def test_cross_elmo_trains_one_epoch_and_reloads(tiny_data, artifacts, tmp_path, monkeypatch):
    for name, value in {**tiny_data, "XLNER_TARGET": "es"}.items():
        monkeypatch.setenv(name, value)
    overrides = {
        "model.text_field_embedder.token_embedders.elmo.languages": _languages(artifacts),
        "model.encoder.input_size": 16 + 50,
        "trainer.num_epochs": 1,
        "validation_dataset_reader.language": "es",
        "validation_data_path": f"{tiny_data['XLNER_DATA']}/ner/es/conll2002/esp.testa",
    }
    model = train_model_from_file(CONFIG, str(tmp_path / "run"), overrides=json.dumps(overrides))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epoch"] == 0 and metrics["training_loss"] > 0
    assert "best_validation_f1-measure-overall" in metrics
    archive = load_archive(str(tmp_path / "run" / "model.tar.gz"))  # ELMos and maps rebuilt from their files
    tokens = {"tokens": ["John", "Smith", "dijo", "en", "Paris", "hoy", "."], "language": "es"}
    in_memory = TaggerPredictor(model, archive.validation_dataset_reader).predict_json(tokens)
    reloaded = TaggerPredictor(archive.model, archive.validation_dataset_reader).predict_json(tokens)
    assert len(reloaded["tags"]) == 7 and reloaded["tags"] == in_memory["tags"]
    english = {"tokens": ["Mary", "said", "in", "London"], "language": "en"}
    assert len(TaggerPredictor(archive.model, archive.validation_dataset_reader).predict_json(english)["tags"]) == 4
    # A language the model never saw, plugged in by configuration alone (here es's ELMo and maps
    # under the code "xx"): an override of the embedder's languages when loading the archive.
    plugged = {"model.text_field_embedder.token_embedders.elmo.languages.xx": _languages(artifacts)["es"]}
    extended = load_archive(str(tmp_path / "run" / "model.tar.gz"), overrides=json.dumps(plugged))
    as_xx = TaggerPredictor(extended.model, extended.validation_dataset_reader).predict_json({**tokens, "language": "xx"})
    assert as_xx["tags"] == in_memory["tags"]
    # The same through xlner-evaluate: es's ELMo, anchors and maps plugged in as "nl" score the
    # Spanish dev set exactly as "es"; without the maps (the unaligned baseline) it still runs.
    dev = f"{tiny_data['XLNER_DATA']}/ner/es/conll2002/esp.testa"
    archive_path = str(tmp_path / "run" / "model.tar.gz")
    as_es = evaluate_language(archive_path, "es", dev)
    spec = _languages(artifacts)["es"]
    elmo = {"elmo": spec["elmo"], "anchors": spec["anchors"], "alignment": spec["alignment"]}
    assert evaluate_language(archive_path, "nl", dev, elmo=elmo) == as_es
    unaligned = evaluate_language(archive_path, "nl", dev, elmo={**elmo, "alignment": None})
    assert 0.0 <= unaligned["f1-measure-overall"] <= 1.0


def test_evaluate_refuses_an_elmo_for_a_model_without_one(tiny_data, tmp_path):
    archive = tmp_path / "config.json"
    archive.write_text(json.dumps({"model": {"text_field_embedder": {"token_embedders": {"tokens": {"type": "xlner_aligned_embedding"}}}}}))
    with pytest.raises(ConfigurationError, match="no xlner_aligned_elmo embedder"):
        evaluate_language(str(tmp_path), "nl", "unused.testa", elmo={"elmo": "elmo/nl"})
    with pytest.raises(ConfigurationError, match="needs the anchors"):
        evaluate_language(str(tmp_path), "nl", "unused.testa", elmo={"elmo": "elmo/nl", "alignment": "al/nl-en"})


def test_parser_elmo_trains_one_epoch_reloads_and_takes_a_language_plugged_in(tiny_data, artifacts, tmp_path, monkeypatch):
    for name, value in {**tiny_data, "XLNER_TARGET": "es"}.items():
        monkeypatch.setenv(name, value)
    overrides = {
        "model.text_field_embedder.token_embedders.elmo.languages": _languages(artifacts),
        "model.encoder.input_size": 16,
        "trainer.num_epochs": 1,
        "data_loader.batch_sampler.batch_size": 32,
    }
    model = train_model_from_file(PARSER_CONFIG, str(tmp_path / "run"), overrides=json.dumps(overrides))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epoch"] == 0 and metrics["training_loss"] > 0 and "best_validation_LAS" in metrics
    archive_path = str(tmp_path / "run" / "model.tar.gz")
    archive = load_archive(archive_path)  # ELMos and maps rebuilt from their files
    sentence = {"tokens": ["dijo", "en", "Paris", "hoy", "."], "language": "es"}
    in_memory = ParserPredictor(model, archive.validation_dataset_reader).predict_json(sentence)
    reloaded = ParserPredictor(archive.model, archive.validation_dataset_reader).predict_json(sentence)
    assert len(reloaded["heads"]) == 5 and reloaded["heads"] == in_memory["heads"]
    # es's ELMo, anchors and maps plugged in as "nl" parse the Spanish dev treebank exactly as "es".
    dev = treebank("es_gsd", "dev", tiny_data["XLNER_DATA"])
    spec = _languages(artifacts)["es"]
    elmo = {"elmo": spec["elmo"], "anchors": spec["anchors"], "alignment": spec["alignment"]}
    as_es = evaluate_language(archive_path, "es", dev)
    assert {"UAS", "LAS"} <= set(as_es)
    assert evaluate_language(archive_path, "nl", dev, elmo=elmo) == as_es
