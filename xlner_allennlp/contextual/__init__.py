"""Contextual (ELMo) alignment, numerical core: plain numpy/torch, no AllenNLP dependency.

:mod:`~xlner_allennlp.contextual.anchors` turns a stream of contextual token vectors into the
per-type anchors of Schuster et al. (2019) (mean vector of every word type, per layer), which
``xlner-align`` then aligns layer by layer; :mod:`~xlner_allennlp.contextual.text` reads the
one-sentence-per-line corpora they are computed on.
"""
from xlner_allennlp.contextual.anchors import (
    AnchorAccumulator,
    Anchors,
    anchor_geometry,
    count_types,
    kept_types,
    merge_anchors,
)
from xlner_allennlp.contextual.anchor_files import layer_file, read_mean_token_norms, write_anchors
from xlner_allennlp.contextual.text import TextFileError, read_sentences
