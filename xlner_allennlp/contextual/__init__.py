"""Contextual word representations: the ELMo-architecture bidirectional LM, ELMo's file format, and
the anchors of contextual alignment (Schuster et al., 2019).

Plain torch/numpy/h5py, no AllenNLP dependency (the ``xlner_bilm`` model and the
``xlner-export-elmo`` / ``xlner-anchors`` commands are the AllenNLP layers over it)::

    from xlner_allennlp.contextual import BiLm, BiLmOptions, read_elmo, write_elmo

    network = BiLm(BiLmOptions(projection_dim=128, cell_size=256))
    activations, mask = network(character_ids)   # (batch, steps, 50) ELMo character ids
    write_elmo(network, "elmo/en")               # options.json + weights.hdf5 for allennlp's Elmo
    same = read_elmo("elmo/en")

:mod:`~xlner_allennlp.contextual.anchors` turns a stream of contextual token vectors into per-type
anchors (mean vector of every word type, per layer), which ``xlner-align`` aligns layer by layer;
:mod:`~xlner_allennlp.contextual.anchor_files` is the directory they are written to;
:mod:`~xlner_allennlp.contextual.text` reads the one-sentence-per-line corpora;
:mod:`~xlner_allennlp.contextual.anchoring` is the anchored LM's penalty (a target's layer-0 vectors of
dictionary words pulled toward the English anchors of their translations while it trains).
"""
from xlner_allennlp.contextual.anchor_files import layer_file, read_mean_token_norms, write_anchors
from xlner_allennlp.contextual.anchors import (
    AnchorAccumulator,
    Anchors,
    anchor_geometry,
    count_types,
    kept_types,
    merge_anchors,
)
from xlner_allennlp.contextual.bilm import (
    BOS_CHARACTERS,
    EOS_CHARACTERS,
    MAX_CHARACTERS_PER_TOKEN,
    N_CHARACTERS,
    BiLm,
    BiLmOptions,
    reverse_padded,
)
from xlner_allennlp.contextual.elmo_format import (
    OPTIONS_NAME,
    WEIGHTS_NAME,
    ElmoFormatError,
    elmo_options,
    elmo_weights,
    read_elmo,
    read_elmo_options,
    write_elmo,
)
from xlner_allennlp.contextual.text import TextFileError, read_sentences
