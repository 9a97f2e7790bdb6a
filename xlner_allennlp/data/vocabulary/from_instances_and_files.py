"""The ``xlner_from_instances_and_files`` vocabulary: the training instances plus some namespaces of
other files, e.g. the characters of unlabelled target text that a self-trained model will read."""
from collections import defaultdict
from typing import Dict, Iterable, List, Optional, Union

from allennlp.data import DatasetReader, Instance, Vocabulary
from allennlp.data.vocabulary import DEFAULT_NON_PADDED_NAMESPACES


@Vocabulary.register("xlner_from_instances_and_files", constructor="from_instances_and_files")
class FromInstancesAndFiles(Vocabulary):
    """
    A vocabulary counted over the training instances (as ``from_instances``) and, for the
    namespaces in `namespaces` only, over the instances that `reader` reads from `data_paths`.

    Unlabelled target text must enter the character vocabulary of a model that self-trains on it
    (its characters would otherwise all be out of vocabulary), without the text posing as a
    validation or test set and without its labels or words entering any other namespace.

    Registered as a `Vocabulary` with name "xlner_from_instances_and_files".

    # Parameters

    instances : `Iterable[Instance]`
        Given by the trainer: the instances of `datasets_for_vocab_creation`.
    reader : `DatasetReader`
        Reads `data_paths`; only the fields that fill `namespaces` matter (a reader with just a
        `characters` indexer is enough for characters).
    data_paths : `List[str]`
        The extra files.
    namespaces : `List[str]`
        The namespaces the extra files add to, e.g. `["token_characters"]`.
    min_count, max_vocab_size, non_padded_namespaces, tokens_to_add, padding_token, oov_token
        As for allennlp's ``Vocabulary``, applied to the combined counts.
    """

    @classmethod
    def from_instances_and_files(
        cls,
        instances: Iterable[Instance],
        reader: DatasetReader,
        data_paths: List[str],
        namespaces: List[str],
        min_count: Optional[Dict[str, int]] = None,
        max_vocab_size: Union[int, Dict[str, int], None] = None,
        non_padded_namespaces: Iterable[str] = DEFAULT_NON_PADDED_NAMESPACES,
        tokens_to_add: Optional[Dict[str, List[str]]] = None,
        padding_token: Optional[str] = None,
        oov_token: Optional[str] = None,
    ) -> Vocabulary:
        counts: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for instance in instances:
            instance.count_vocab_items(counts)
        for path in data_paths:
            for instance in reader.read(path):
                extra: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
                instance.count_vocab_items(extra)
                for namespace in namespaces:
                    for item, count in extra[namespace].items():
                        counts[namespace][item] += count
        return Vocabulary(
            counter=counts,
            min_count=min_count,
            max_vocab_size=max_vocab_size,
            non_padded_namespaces=non_padded_namespaces,
            tokens_to_add=tokens_to_add,
            padding_token=padding_token,
            oov_token=oov_token,
        )
