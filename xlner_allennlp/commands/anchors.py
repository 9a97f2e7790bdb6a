"""``allennlp xlner-anchors``: the per-layer anchors of an ELMo over a text corpus.

Writes an anchors directory (layout in :mod:`xlner_allennlp.contextual.anchor_files`): per layer
the anchors divided by the layer's mean token norm, as a vector file ``xlner-align`` reads, the
counts, the norms and the geometry (mean distance of token vectors to their own anchor against
the mean distance between anchors of different types).

Every language, English included, then has mean token norm 1 before rotation (the reference's
scaling); align each layer with the unchanged ``xlner-align``, without further normalization::

    allennlp xlner-anchors --elmo elmo/en --text en.train.txt.gz --output anchors/en
    allennlp xlner-anchors --elmo elmo/es --text es.train.txt.gz --output anchors/es
    for l in 0 1 2; do
      allennlp xlner-align --mapped-vectors anchors/es/layer$l.npy --reference-vectors anchors/en/layer$l.npy \\
          --mapped-language es --reference-language en --normalization none \\
          --method procrustes-refine --dictionary es-en.0-5000.txt --output alignments/es-en/layer$l
    done
"""
import argparse
import inspect
import logging
import os
from itertools import islice
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch
from allennlp.commands.subcommand import Subcommand
from allennlp.common.tqdm import Tqdm
from allennlp.modules.elmo import batch_to_ids

from xlner_allennlp.commands.errors import exit_on_error
from xlner_allennlp.contextual.anchors import (
    AnchorAccumulator,
    Anchors,
    anchor_geometry,
    count_types,
    kept_types,
    merge_anchors,
)
from xlner_allennlp.contextual.anchor_files import write_anchors
from xlner_allennlp.contextual.text import read_sentences
from xlner_allennlp.contextual.elmo_format import WEIGHTS_NAME
from xlner_allennlp.modules.elmo import contextual_layers, load_elmo_bilm
from xlner_allennlp.file_utils import file_sha256

logger = logging.getLogger(__name__)

LayersOf = Callable[[torch.Tensor], Tuple[List[torch.Tensor], torch.Tensor]]


def _batches(sentences: Iterator[Tuple[int, List[str]]], batch_size: int, chunk: int) -> Iterator[List[List[str]]]:
    """Batches of sentences of similar length: each chunk of ``chunk`` sentences sorted by length."""
    while True:
        block = [tokens for _, tokens in islice(sentences, chunk)]
        if not block:
            return
        block.sort(key=len)
        for start in range(0, len(block), batch_size):
            yield block[start : start + batch_size]


def extract_anchors(
    layers_of: LayersOf,
    num_layers: int,
    dim: int,
    text: str,
    min_count: int = 5,
    lowercase: bool = True,
    batch_size: int = 64,
    max_length: Optional[int] = None,
    sample_size: int = 10000,
    seed: int = 0,
    encoding: str = "utf-8",
) -> Tuple[Anchors, List[Dict[str, float]], Dict[str, int]]:
    """Anchors of every type of ``text`` with at least ``min_count`` occurrences (after lowercasing
    when ``lowercase``), their geometry, and corpus counts.

    ``layers_of(character_ids)`` returns the layers ``[(batch, timesteps, dim)] * num_layers`` and
    the mask of a batch (:func:`contextual_layers` of a BiLM). Two passes over the file (text in
    ``encoding``): type counts, then the vectors, so only kept types are accumulated.
    """
    key = str.lower if lowercase else None
    counts = count_types(tokens for _, tokens in Tqdm.tqdm(read_sentences(text, max_length, encoding), desc="counting types"))
    accumulator = AnchorAccumulator(kept_types(counts, min_count, key), num_layers, dim, sample_size, seed)
    sentences = 0
    progress = Tqdm.tqdm(total=sum(counts.values()), desc="anchors", unit=" tokens")
    for batch in _batches(read_sentences(text, max_length, encoding), batch_size, chunk=100 * batch_size):
        with torch.no_grad():
            layers, mask = layers_of(batch_to_ids(batch))
        vectors = torch.stack([layer[mask] for layer in layers])
        accumulator.add(accumulator.rows([t for tokens in batch for t in tokens]), vectors)
        sentences += len(batch)
        progress.update(int(mask.sum()))
    progress.close()
    anchors = accumulator.anchors()
    if lowercase:
        anchors, mapping = merge_anchors(anchors, str.lower, min_count)
    else:
        mapping = np.arange(len(anchors.words))
    rows, sample = accumulator.sample
    rows = np.where(rows >= 0, mapping[np.maximum(rows, 0)], -1)
    geometry = anchor_geometry(rows, sample, anchors.vectors, seed)
    corpus = {"sentences": sentences, "tokens": anchors.tokens, "types": len(counts), "anchors": len(anchors.words)}
    return anchors, geometry, corpus


@Subcommand.register("xlner-anchors")
class XlnerAnchors(Subcommand):
    """Registers ``allennlp xlner-anchors``; see the module docstring."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = "Compute the per-layer anchors (mean contextual vector of each word type) of an ELMo."
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("--elmo", required=True, help="ELMo directory (options.json + weights.hdf5)")
        subparser.add_argument("--text", required=True, help="one sentence per line, tokens separated by spaces (.gz ok)")
        subparser.add_argument("--output", required=True, help="anchors directory to write")
        defaults = {name: p.default for name, p in inspect.signature(extract_anchors).parameters.items()}
        subparser.add_argument("--min-count", type=int, default=defaults["min_count"],
                               help="drop types seen fewer times")
        subparser.add_argument(
            "--keep-case", action="store_true", help="one anchor per cased type (default: lowercase, count-weighted)"
        )
        subparser.add_argument("--batch-size", type=int, default=defaults["batch_size"],
                               help="sentences per batch")
        subparser.add_argument("--max-length", type=int, help="keep the first N tokens of longer sentences")
        subparser.add_argument("--sample-size", type=int, default=defaults["sample_size"],
                               help="tokens sampled for the geometry")
        subparser.add_argument("--seed", type=int, default=defaults["seed"], help="seed of the geometry sample")
        subparser.add_argument("--encoding", default=defaults["encoding"], help="encoding of --text")
        subparser.set_defaults(func=exit_on_error(anchors_from_args))
        return subparser


def anchors_from_args(args: argparse.Namespace) -> None:
    """Run the command the arguments describe and print the geometry."""
    bilm = load_elmo_bilm(args.elmo)
    bilm.eval()
    anchors, geometry, corpus = extract_anchors(
        lambda ids: contextual_layers(bilm, ids), bilm.num_activation_layers, bilm.get_output_dim(), args.text,
        min_count=args.min_count, lowercase=not args.keep_case, batch_size=args.batch_size,
        max_length=args.max_length, sample_size=args.sample_size, seed=args.seed, encoding=args.encoding,
    )
    meta = {
        "elmo": os.path.abspath(args.elmo), "text": os.path.abspath(args.text),
        "weights_sha256": file_sha256(os.path.join(args.elmo, WEIGHTS_NAME)), "min_count": args.min_count,
        "lowercase": not args.keep_case, "max_length": args.max_length, **corpus,
    }
    write_anchors(anchors, geometry, args.output, meta)
    for row in geometry:
        print(f"layer {row['layer']}: token-to-own-anchor {row['token_to_own_anchor']:.4f}, "
              f"between anchors {row['between_anchors']:.4f} (ratio {row['ratio']:.3f})")
    print(f"{corpus['anchors']} anchors of {corpus['tokens']} tokens written to {args.output}")
