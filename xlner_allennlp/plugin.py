"""Importing this module registers every ``xlner_*`` component and ``xlner-*`` subcommand with AllenNLP.

``.allennlp_plugins`` names it (AllenNLP imports a plugin module without its submodules); Python
code that loads an archive or builds a config without ``--include-package`` imports it too.
"""
from xlner_allennlp import commands, data, models, modules, predictors, training  # noqa: F401
