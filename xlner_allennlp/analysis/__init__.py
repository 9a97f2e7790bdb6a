"""Analyses behind `allennlp xlner-plot` (the aligned space, pseudo-label quality by length) and
the parser benchmark's breakdown of attachment errors by word class."""
from xlner_allennlp.analysis.attachment import attachment_by_upos, predicted_trees
from xlner_allennlp.analysis.length_accuracy import Bucket, length_buckets, plot_length_accuracy
from xlner_allennlp.analysis.model_outputs import encoder_word_vectors, predicted_tags
from xlner_allennlp.analysis.space import (
    EntityWords,
    entity_word_vectors,
    entity_words,
    majority_types,
    neighbour_type_shares,
    pca_2d,
    plot_views,
    same_type_neighbour_rate,
)
