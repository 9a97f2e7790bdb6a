"""The `xlner_pseudo_labelled` dataset reader: the source training file plus the current round's
pseudo-labelled target sentences, for self-training with the `xlner_pseudo_label` callback."""
import json
import os
from typing import Any, Iterable, Iterator, List, Optional

from allennlp.common.checks import ConfigurationError
from allennlp.data.dataset_readers.dataset_reader import DatasetReader, WorkerInfo
from allennlp.data.instance import Instance


class PseudoLabelFileError(ValueError):
    """A pseudo-labelled JSONL file that cannot be read; the message names the file and line."""


def read_pseudo_labelled(path: str) -> Iterator[dict]:
    """Yield the records of a pseudo-labelled JSONL file, checked.

    Each line is a JSON object with `"words"` (list of strings, at least one), `"tags"` (one
    string per word, in the model's label encoding) and `"language"` (string); other keys (such
    as `"confidence"`) are passed through. Raises `PseudoLabelFileError` naming the file and line.
    """
    try:
        handle = open(path, encoding="utf-8")
    except OSError as error:
        raise PseudoLabelFileError(f"{path}: cannot open the file ({error.strerror})") from error
    with handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise PseudoLabelFileError(
                    f"{path}, line {line_number}: not JSON ({error.msg})"
                ) from None
            problem = _record_problem(record)
            if problem is not None:
                raise PseudoLabelFileError(f"{path}, line {line_number}: {problem}")
            yield record


def _record_problem(record: Any) -> Optional[str]:
    """Why `record` is not a valid pseudo-labelled sentence, or None when it is."""
    if not isinstance(record, dict):
        return "expected a JSON object"
    words, tags, language = record.get("words"), record.get("tags"), record.get("language")
    if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
        return '"words" must be a non-empty list of strings'
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return '"tags" must be a list of strings'
    if len(tags) != len(words):
        return f'{len(words)} words but {len(tags)} tags'
    if not isinstance(language, str) or not language:
        return '"language" must be a language code'
    return None


@DatasetReader.register("xlner_pseudo_labelled")
class PseudoLabelledReader(DatasetReader):
    """
    Reads the labelled source training file with `base_reader`, then the sentences of the
    current pseudo-labelled file (if any), which the `xlner_pseudo_label` trainer callback
    writes at the start of every self-training round and announces with
    `set_pseudo_labelled_path`. Nothing is cached here, so a data loader that re-reads its
    reader every epoch (a `MultiProcessDataLoader` with `max_instances_in_memory` set) sees a
    new round's sentences from the first epoch of that round on.

    The pseudo-labelled file is JSONL (see `read_pseudo_labelled`): one sentence per line with its
    words, its tags (already in the model's label encoding) and its language; instances are
    made by `base_reader.text_to_instance(words, tags, language)`, so they have the same fields
    as the source instances and their token indexers are bound to their own language.

    The reader takes no `max_instances` of its own (it would also cap the pseudo-labelled
    sentences): give it to `base_reader` to cap the source sentences.

    Registered as a `DatasetReader` with name "xlner_pseudo_labelled".

    # Parameters

    base_reader : `DatasetReader`
        Reads the source training file (the data path) and makes the pseudo-labelled instances;
        an `xlner_conll` reader, or any reader with `text_to_instance(tokens, tags, language)`
        and language-aware `apply_token_indexers`. Its `max_instances` and
        `max_sentence_length` apply to the source file only.
    pseudo_labelled_path : `Optional[str]`, optional (default=`None`)
        A pseudo-labelled JSONL file to read after the source file, e.g. the
        `pseudo_labels/round_K/pseudo_labelled.jsonl` of an earlier run. The callback replaces it
        every round; `None` reads the source file only.
    """

    def __init__(
        self, base_reader: DatasetReader, pseudo_labelled_path: Optional[str] = None
    ) -> None:
        super().__init__(manual_distributed_sharding=True, manual_multiprocess_sharding=True)
        if not (
            base_reader.manual_distributed_sharding and base_reader.manual_multiprocess_sharding
        ):
            raise ConfigurationError(
                "xlner_pseudo_labelled: base_reader must shard its own instances (manual_"
                "distributed_sharding and manual_multiprocess_sharding), as xlner_conll does"
            )
        self.base_reader = base_reader
        self._pseudo_labelled_path: Optional[str] = None
        self.set_pseudo_labelled_path(pseudo_labelled_path)

    @property
    def pseudo_labelled_path(self) -> Optional[str]:
        """The pseudo-labelled file read after the source file, or None."""
        return self._pseudo_labelled_path

    def set_pseudo_labelled_path(self, path: Optional[str]) -> None:
        """Read `path` (a pseudo-labelled JSONL file) after the source file from now on; `None`
        goes back to the source file alone. The file must exist."""
        if path is not None and not os.path.isfile(path):
            raise PseudoLabelFileError(f"{path}: pseudo-labelled file not found")
        self._pseudo_labelled_path = path

    def _set_worker_info(self, info: Optional[WorkerInfo]) -> None:
        # The base reader shards the source sentences itself, so it must know the worker too.
        super()._set_worker_info(info)
        self.base_reader._set_worker_info(info)

    def _read(self, file_path: str) -> Iterable[Instance]:
        yield from self.base_reader.read(file_path)
        if self._pseudo_labelled_path is not None:
            for record in self.shard_iterable(read_pseudo_labelled(self._pseudo_labelled_path)):
                yield self.text_to_instance(record["words"], record["tags"], record["language"])

    def text_to_instance(  # type: ignore
        self, tokens: List[str], tags: Optional[List[str]] = None, language: Optional[str] = None
    ) -> Instance:
        """Make an instance with `base_reader` (see its `text_to_instance`)."""
        return self.base_reader.text_to_instance(tokens, tags, language)

    def apply_token_indexers(self, instance: Instance) -> None:
        self.base_reader.apply_token_indexers(instance)
