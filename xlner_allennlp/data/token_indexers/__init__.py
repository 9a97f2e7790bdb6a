"""Re-exports; see the modules of this folder."""
from xlner_allennlp.data.token_indexers.aligned_word import AlignedWordIndexer  # noqa: F401
