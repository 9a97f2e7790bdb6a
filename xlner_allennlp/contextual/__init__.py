"""Contextual word representations: the ELMo-architecture bidirectional LM and ELMo's file format.

Plain torch/numpy/h5py, no AllenNLP dependency (the ``xlner_bilm`` model and the
``xlner-export-elmo`` command are the AllenNLP layers over it)::

    from xlner_allennlp.contextual import BiLm, BiLmOptions, read_elmo, write_elmo

    network = BiLm(BiLmOptions(projection_dim=128, cell_size=256))
    activations, mask = network(character_ids)   # (batch, steps, 50) ELMo character ids
    write_elmo(network, "elmo/en")               # options.json + weights.hdf5 for allennlp's Elmo
    same = read_elmo("elmo/en")
"""
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
