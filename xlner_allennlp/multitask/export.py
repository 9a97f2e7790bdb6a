"""Export of a learned bilingual space as per-language vector files plus an identity alignment.

``DIR/<language>.npy`` + ``.vocab`` for each language (rows of V, frequency-sorted, OOV entry
left out) and ``DIR/<target>-en/``, an alignment artifact with the identity mapping and no
normalization: both languages already share one space, and the artifact lets
``xlner_aligned_embedding`` (and every tool that reads artifacts) take the space like a mapped one.
"""
import os
from typing import Dict

import numpy as np

from xlner_allennlp.alignment.artifact import Alignment, save_alignment, write_vectors
from xlner_allennlp.alignment.vectors import WordVectors
from xlner_allennlp.multitask.model import MultitaskBwe


def export_space(model: MultitaskBwe, directory: str, target_language: str) -> Dict[str, str]:
    """Write the space of ``model`` under ``directory``; returns the written paths by name
    (``<language>`` for each vector file, ``alignment`` for the artifact directory)."""
    paths: Dict[str, str] = {}
    for language in (model.source_language, target_language):
        words, matrix = model.vectors(language)
        path = os.path.join(directory, f"{language}.npy")
        write_vectors(WordVectors(words, matrix, path), path)
        paths[language] = path
    alignment = Alignment(
        mapping=np.eye(model.settings.dim, dtype=np.float32),
        mapped_language=target_language,
        reference_language=model.source_language,
        method="identity",
        hyperparameters={"trained_by": "multitask_bwe", **vars(model.settings)},
    )
    paths["alignment"] = os.path.join(directory, f"{target_language}-{model.source_language}")
    save_alignment(alignment, paths["alignment"])
    return paths
