"""xlner-allennlp: zero-shot cross-lingual NER and word-vector alignment as an AllenNLP plugin.

Importing this package imports nothing else, so the numerical alignment library
(:mod:`xlner_allennlp.alignment`: numpy and torch only) loads without AllenNLP or spaCy.
The AllenNLP components register when their subpackages are imported: ``--include-package
xlner_allennlp`` imports every submodule, and ``.allennlp_plugins`` (or ``import
xlner_allennlp.plugin`` in Python) imports :mod:`xlner_allennlp.plugin`, which imports them all.
"""
