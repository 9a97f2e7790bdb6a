"""Benchmarks of xlner-allennlp: scripts that append records to ``benchmarks/results/`` (see ``records.py``)."""
