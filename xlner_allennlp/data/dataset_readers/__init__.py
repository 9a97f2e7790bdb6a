"""Re-exports; see the modules of this folder."""
from xlner_allennlp.data.dataset_readers.conll import (
    ConllFormatError,
    ConllReader,
    ConllSentence,
    read_conll_sentences,
)
from xlner_allennlp.data.dataset_readers.lm_text import LmTextReader
from xlner_allennlp.data.dataset_readers.pseudo_labelled import PseudoLabelFileError, PseudoLabelledReader
from xlner_allennlp.data.dataset_readers.comparable_pairs import ComparablePairsReader
from xlner_allennlp.data.dataset_readers.from_archive import evaluation_reader
from xlner_allennlp.data.dataset_readers.language_indexers import LanguageBoundIndexers
from xlner_allennlp.data.dataset_readers.universal_dependencies import (
    ConlluFormatError,
    ConlluSentence,
    UniversalDependenciesReader,
    format_conllu,
    read_conllu_sentences,
    universal_relation,
)
