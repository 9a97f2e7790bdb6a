import argparse

import numpy as np

from benchmarks import ner_zero_shot
from xlner_allennlp.alignment import Alignment, save_alignment


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
