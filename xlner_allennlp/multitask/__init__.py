"""Multi-task bilingual word embeddings from comparable documents (Wang, Peng & Duh 2017).

Plain numpy/torch (the BiLSTM-CRF option reuses the package's CRF functions, also plain torch):
the pairs file, stochastic merging, the language-tagged vocabulary, skip-gram with negative
sampling, the unigram NER model with its Baseline / FJ / HFJ regimes, the training loop, an
initial V from an existing bilingual space and the export of the learned space.
"""
from xlner_allennlp.multitask.export import export_space
from xlner_allennlp.multitask.initial_space import initial_rows, principal_axes
from xlner_allennlp.multitask.merging import stochastic_merge
from xlner_allennlp.multitask.model import NER_MODELS, REGIMES, MultitaskBwe, MultitaskBweSettings, SkipGramBatch
from xlner_allennlp.multitask.pairs import MAX_DOCUMENT_TOKENS, DocumentPair, PairFileError, read_pairs, split_pair
from xlner_allennlp.multitask.skipgram import (
    NegativeSampler,
    keep_probabilities,
    sgns_loss,
    sgns_sgd_update,
    skipgram_pairs,
)
from xlner_allennlp.multitask.training import TrainingSettings, pad_sentences, train_multitask_bwe
from xlner_allennlp.multitask.vocabulary import OOV, TaggedVocabulary, normalize_word, singleton_rows
