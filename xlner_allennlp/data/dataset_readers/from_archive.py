"""The dataset reader that reads labelled evaluation data for a trained archive."""
from allennlp.common import Params
from allennlp.data import DatasetReader

PSEUDO_LABELLED_TYPE = "xlner_pseudo_labelled"


def evaluation_reader(config: Params, language: str, encoding: str) -> DatasetReader:
    """A reader of labelled ``language`` text in ``encoding`` for the model of an archive whose
    configuration is ``config``: its `validation_dataset_reader` (else its `dataset_reader`),
    with an `xlner_pseudo_labelled` reader unwrapped to its `base_reader` (pseudo-labelled
    sentences are for training only). ``config`` is not modified."""
    params = config.get("validation_dataset_reader", None) or config.get("dataset_reader")
    reader_params = params.duplicate().as_dict()
    if reader_params.get("type") == PSEUDO_LABELLED_TYPE:
        reader_params = reader_params["base_reader"]
    reader_params.update(language=language, encoding=encoding)
    return DatasetReader.from_params(Params(reader_params))
