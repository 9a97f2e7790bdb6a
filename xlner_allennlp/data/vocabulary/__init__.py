"""Re-exports; see the modules of this folder."""
from xlner_allennlp.data.vocabulary.from_instances_and_files import FromInstancesAndFiles  # noqa: F401
