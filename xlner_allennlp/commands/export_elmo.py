"""``allennlp xlner-export-elmo ARCHIVE --output DIR``: write a trained `xlner_bilm` as ELMo files.

``DIR`` gets ``options.json`` + ``weights.hdf5``, which allennlp's stock ``Elmo`` and the
``elmo_token_embedder`` load (``options_file`` / ``weight_file``). A thin layer over
:func:`xlner_allennlp.contextual.elmo_format.write_elmo`; the written files are read back and
checked before the command reports success.
"""
import argparse

import numpy as np
from allennlp.commands.subcommand import Subcommand
from allennlp.models.archival import load_archive

from xlner_allennlp.commands.errors import exit_on_error
from xlner_allennlp.contextual import ElmoFormatError, elmo_weights, read_elmo, write_elmo
from xlner_allennlp.models.bilm import BidirectionalLanguageModel


@Subcommand.register("xlner-export-elmo")
class XlnerExportElmo(Subcommand):
    """Registers ``allennlp xlner-export-elmo``; see the module docstring."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = "Write a trained xlner_bilm archive as ELMo options.json + weights.hdf5."
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("archive", help="model.tar.gz of a trained xlner_bilm (or its serialization directory)")
        subparser.add_argument("--output", required=True, help="directory to write options.json and weights.hdf5 into")
        subparser.set_defaults(func=exit_on_error(export_from_args))
        return subparser


def export_from_args(args: argparse.Namespace) -> None:
    model = load_archive(args.archive, cuda_device=-1).model
    if not isinstance(model, BidirectionalLanguageModel):
        raise ElmoFormatError(f"{args.archive}: holds a {type(model).__name__}, not an xlner_bilm model")
    options_path, weights_path = write_elmo(model.network, args.output)
    written, read_back = elmo_weights(model.network), elmo_weights(read_elmo(args.output))
    for name, value in written.items():
        if not np.array_equal(value, read_back[name]):
            raise ElmoFormatError(f"{weights_path}: dataset {name} does not read back as written")
    print(f"wrote {options_path} and {weights_path} ({model.network.options.num_layers + 1} layers of "
          f"{model.network.get_output_dim()} dimensions)")
