"""Re-exports; see the modules of this folder."""
from xlner_allennlp.modules.token_embedders.aligned_embedding import AlignedEmbedding  # noqa: F401
