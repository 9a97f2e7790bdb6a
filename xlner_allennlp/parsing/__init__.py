"""Numerical core of dependency parsing (plain numpy, no AllenNLP): maximum spanning tree decoding."""
from xlner_allennlp.parsing.mst import decode_mst, decode_mst_batch
