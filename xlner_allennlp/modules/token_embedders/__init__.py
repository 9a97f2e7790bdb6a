"""Re-exports; see the modules of this folder."""
from xlner_allennlp.modules.token_embedders.aligned_embedding import AlignedEmbedding  # noqa: F401
from xlner_allennlp.modules.token_embedders.aligned_elmo import AlignedElmo  # noqa: F401
from xlner_allennlp.modules.token_embedders.distinct_word_characters import (  # noqa: F401
    DistinctWordCharactersEncoder,
)
