"""Defaults for the ``XLNER_*`` environment variables that the configs read with ``std.extVar``.

AllenNLP hands every environment variable to jsonnet as an external variable, and jsonnet has no
way to give ``std.extVar`` a default, so importing the plugin sets the variables below when they
are unset. Relative paths are resolved against the working directory (the project root in the
README's commands).
"""
import os
from typing import Dict

DEFAULTS: Dict[str, str] = {
    # Root of the real data (CoNLL, WikiNEuRal, MUSE dictionaries, fastText vectors).
    "XLNER_DATA": "../shared/data",
    # Target language of the cross-lingual configs: es, nl, de or fr.
    "XLNER_TARGET": "es",
    # Directory holding one alignment artifact per language, named "<lang>-en".
    "XLNER_ALIGNMENTS": "artifacts/alignments",
    # Model selection: "source" (English dev, truly zero-resource) or "target" (target dev).
    "XLNER_SELECTION": "source",
    # Training length and seed, overridable for quick runs and for the benchmark's seeds.
    "XLNER_EPOCHS": "12",
    "XLNER_SEED": "13",
    # Optional cap on training sentences (0: all); used by tests and smoke runs.
    "XLNER_MAX_TRAIN": "0",
}


def set_default_environment() -> None:
    """Set each unset ``XLNER_*`` variable to its default."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
