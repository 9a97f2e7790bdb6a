"""xlner-allennlp: zero-shot cross-lingual NER and word-vector alignment as an AllenNLP plugin.

Importing the package registers every ``xlner_*`` component with AllenNLP. The numerical
alignment library (``xlner_allennlp.alignment``) has no AllenNLP dependency and also works
where AllenNLP is not installed.
"""
try:
    import allennlp  # noqa: F401
except ImportError:  # pragma: no cover - library use without AllenNLP
    pass
else:
    from xlner_allennlp.environment import set_default_environment

    set_default_environment()
    from xlner_allennlp import commands, data, models, modules, predictors, training  # noqa: F401
