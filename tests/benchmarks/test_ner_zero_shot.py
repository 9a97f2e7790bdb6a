import argparse

import numpy as np
import pytest

import xlner_allennlp.alignment as alignment_package
from benchmarks import ner_zero_shot
from xlner_allennlp.alignment import Alignment, ArtifactError, save_alignment


def write(root, language, reference_mapping=None):
    rotation = np.linalg.qr(np.random.default_rng(len(language)).standard_normal((4, 4)))[0]
    save_alignment(Alignment(mapping=rotation, mapped_language=language, reference_language="en",
                             reference_mapping=reference_mapping), str(root / "multistep" / f"{language}-en"))


def test_english_is_shared_only_when_every_artifact_leaves_english_at_the_same_place(tmp_path):
    args = argparse.Namespace(alignments=str(tmp_path), alignment_method="multistep")
    write(tmp_path, "es")
    write(tmp_path, "nl")
    assert ner_zero_shot.english_is_shared(["es", "nl"], args)
    write(tmp_path, "de", reference_mapping=np.diag([1.0, 2.0, 1.0, 1.0]))
    assert not ner_zero_shot.english_is_shared(["es", "nl", "de"], args)


def test_aligned_english_only_runs_are_named_per_target_when_english_moves(tmp_path):
    args = argparse.Namespace(alignment_method="multistep", english_shared=False)
    assert ner_zero_shot.run_name("cross_word", "es", 7, args) == "cross_word-multistep-es-7"
    assert ner_zero_shot.run_name("source_mono", "es", 7, args) == "source_mono-7"
    args.english_shared = True
    assert ner_zero_shot.run_name("cross_shared", "es", 7, args) == "cross_shared-multistep-7"


def test_dictionary_free_settings_fit_without_the_dictionary_and_a_failed_fit_stops_the_language(tmp_path, monkeypatch):
    calls = []

    def fake_align_files(**kwargs):
        calls.append(kwargs)
        failed = kwargs["method"] == "self-learning" and not kwargs.get("seed")
        save_alignment(Alignment(mapping=np.eye(4), mapped_language="nl", reference_language="en",
                                 evaluation={"status": "failed" if failed else "ok", "status_reason": "no match"}),
                       kwargs["output"])

    monkeypatch.setattr(alignment_package, "align_files", fake_align_files)
    monkeypatch.setattr(ner_zero_shot.data_layout, "path", lambda language, kind, root: f"{root}/{language}.{kind}")
    monkeypatch.setattr(ner_zero_shot.data_layout, "dictionary", lambda a, b, split, root: f"{root}/{a}-{b}.{split}")
    for setting, method, dictionary, seed in (
        ("multistep", "multistep", f"{tmp_path}/nl-en.train", None),
        ("self-learning+identical", "self-learning", None, "identical"),
    ):
        args = argparse.Namespace(alignments=str(tmp_path), alignment_method=setting, data=str(tmp_path))
        directory = ner_zero_shot.ensure_alignment("nl", args)
        assert directory == str(tmp_path / setting / "nl-en")
        assert (calls[-1]["method"], calls[-1]["dictionary"], calls[-1].get("seed")) == (method, dictionary, seed)
    args = argparse.Namespace(alignments=str(tmp_path), alignment_method="self-learning", data=str(tmp_path))
    with pytest.raises(ArtifactError, match="nl->en alignment .*failed its own checks \\(no match\\)"):
        ner_zero_shot.ensure_alignment("nl", args)
    assert calls[-1]["dictionary"] is None


def test_one_model_runs_train_once_over_every_language_from_the_library(tmp_path):
    args = argparse.Namespace(alignment_method="procrustes-refine", english_shared=True, languages=["es", "nl", "de"])
    name = ner_zero_shot.run_name("cross_augmented_multi_shared", "es", 7, args)
    assert name == "cross_augmented_multi_shared-procrustes-refine-es+nl+de-7"
    path = ner_zero_shot.config_file("cross_augmented_multi_shared", str(tmp_path / name), args)
    text = open(path).read()
    assert "cross_augmented.libsonnet" in text and '.multi(["es", "nl", "de"], "shared")' in text
    assert ner_zero_shot.config_file("cross_word", str(tmp_path / "x"), args).endswith("training_config/cross_word.jsonnet")
