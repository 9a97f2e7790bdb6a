"""Word-vector space alignment: plain numpy/torch/faiss, no AllenNLP dependency."""
from xlner_allennlp.alignment.artifact import (
    Alignment,
    ArtifactError,
    load_alignment,
    save_alignment,
    write_vectors,
)
from xlner_allennlp.alignment.normalization import Normalization, parse_steps
from xlner_allennlp.alignment.vectors import VectorFileError, WordVectors, load_vectors, load_vocab
