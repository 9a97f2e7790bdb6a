"""Bilingual lexicon induction benchmark of every alignment method on the real vectors.

For each language pair ``src-tgt`` (source mapped onto target, as in MUSE) and each method, fits an
alignment on both languages' vectors (supervised methods: the MUSE training split of ``src-tgt``;
unsupervised methods: no dictionary) and evaluates it on the MUSE test split, every file where
the data layout (``xlner_allennlp/data_layout.json``) puts it under ``--data``. Pairs without a
test split (en-de) are evaluated on a
held-out part of the training split instead: the source words in the last ``--heldout`` fraction
of the file (the least frequent ranks) are removed from training and used for testing; the table
and the records mark these rows ``heldout-train``.

Prints a table (P@1 with NN and CSLS, P@5/P@10 CSLS, coverage, criterion, status, fit wall time,
1-minute load average before and after the fit, because the machine may be shared) and appends
one record per row to ``benchmarks/results/alignment_bli.jsonl`` as soon as it is measured (see
``benchmarks/records.py``).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/alignment_bli.py --data ../shared/data
    .venv/bin/python benchmarks/alignment_bli.py --pairs es-en,nl-en --methods procrustes-refine
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/alignment_bli.py --anchors artifacts/anchors --layers 0 1 2 \
        --methods procrustes,procrustes-refine,self-learning

With ``--anchors``, the vectors are ELMo anchors (``xlner-anchors``, per layer, lowercased types),
the records go to ``benchmarks/results/anchor_bli.jsonl`` with the layer in their key, and the
docs show them beside the static rows of the same pairs and methods. Anchor rows add two
diagnostics of a failing alignment: the median rank of the gold translation, and how alike the
two spaces are before any mapping (:func:`similarity_correlation`, also for the static vectors).
"""
import argparse
import os
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from benchmarks.records import Recorder, results_path  # noqa: E402
from xlner_allennlp.alignment import METHODS, align, evaluate_alignment
from xlner_allennlp.alignment.dictionary import IndexedDictionary, WordPair, index_dictionary, read_dictionary
from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.report import format_table, percent
from xlner_allennlp.alignment.vectors import WordVectors, load_vectors
from xlner_allennlp.contextual.anchor_files import layer_file
from xlner_allennlp.data_layout import DataLayoutError, data_root, dictionary, path

DEFAULT_PAIRS = "en-es,en-fr,en-nl,en-de"
# Benchmark rows: the five methods with their defaults, procrustes-refine with MUSE's plain
# orthogonal final mapping instead of the re-weighted one, procrustes-refine whose later
# iterations do not keep the training pairs (only the first mapping uses the dictionary), and
# self-learning initialized from the identical-strings seed (no bilingual dictionary, but not
# purely unsupervised: it uses the spellings the two vocabularies share), and MUSE's supervised
# recipe with MUSE's own induction (CSLS over the full vocabularies, rank limit; no training pairs
# after the first mapping; orthogonal final mapping). ``multistep/vecmap`` is VecMap's
# ``--supervised`` recipe (re-weighting by Σ^0.5 on both sides, no refinement),
# ``multistep/no-refinement`` the default multi-step settings without refinement, and
# ``multistep/always-refine`` their refinement with both iterations kept (no held-out selection).
VARIANTS: Dict[str, Tuple[str, Dict[str, Any]]] = {
    **{method: (method, {}) for method in METHODS},
    "procrustes-refine/orthogonal": ("procrustes-refine", {"final_mapping": "orthogonal"}),
    "procrustes-refine/no-anchor": ("procrustes-refine", {"keep_training_dictionary": False}),
    "self-learning+identical": ("self-learning", {"seed": "identical"}),
    "procrustes-refine/muse": ("procrustes-refine", {
        "refinement_induction": "muse", "keep_training_dictionary": False, "final_mapping": "orthogonal",
    }),
    "multistep/vecmap": ("multistep", {"reweight_source": 0.5, "reweight_target": 0.5, "refinement_iterations": 0}),
    "multistep/no-refinement": ("multistep", {"refinement_iterations": 0}),
    "multistep/always-refine": ("multistep", {"heldout_fraction": 0.0}),
}

def split_dictionaries(root: str, source: str, target: str, heldout: float) -> Tuple[List[WordPair], List[WordPair], str]:
    """Training pairs, test pairs and where the test pairs come from (``muse-test`` or ``heldout-train``)."""
    train = read_dictionary(dictionary(source, target, "train", root))
    try:
        test_path = dictionary(source, target, "test", root)
    except DataLayoutError:  # the layout has no test split for this pair
        test_path = None
    if test_path is not None:
        return train, read_dictionary(test_path), "muse-test"
    words = list(dict.fromkeys(s for s, _ in train))
    held = set(words[int(len(words) * (1 - heldout)):])
    return [p for p in train if p[0] not in held], [p for p in train if p[0] in held], "heldout-train"


def run_pair(
    root: str, pair: str, methods: List[str], heldout: float, max_vocab: Any, recorder: Recorder,
    anchors: Optional[str] = None, layer: Optional[int] = None, static_correlation: Optional[float] = None,
) -> List[Dict[str, Any]]:
    """Fit and evaluate every method on ``pair``; each row is recorded as soon as it is measured.

    With ``anchors`` (a directory of ``xlner-anchors`` outputs, one per language), the vectors are
    the languages' anchors of ``layer``, already divided by their mean token norm: aligned without
    further normalization, as the aligned ELMo embedder applies the maps; ``static_correlation``
    (:func:`static_similarity_correlation` of the pair) is recorded beside the anchors' own."""
    source_language, target_language = pair.split("-")
    if anchors is None:
        source = load_vectors(path(source_language, "vectors", root), max_vocab)
        target = load_vectors(path(target_language, "vectors", root), max_vocab)
        options_of_vectors: Dict[str, Any] = {}
    else:
        source = load_vectors(layer_file(os.path.join(anchors, source_language), layer), max_vocab)
        target = load_vectors(layer_file(os.path.join(anchors, target_language), layer), max_vocab)
        options_of_vectors = {"normalization": "none"}
    train, test, test_kind = split_dictionaries(root, source_language, target_language, heldout)
    test_dictionary = index_dictionary(test, source, target, f"{pair} {test_kind}")
    diagnostics: Dict[str, Any] = {}
    if anchors is not None:  # how alike the two anchor spaces are, beside the static vectors' value
        diagnostics = {
            "similarity_correlation": round(similarity_correlation(
                source, target, index_dictionary(train, source, target, f"{pair} train")), 3),
            "static_similarity_correlation": static_correlation,
        }
    rows = []
    for name in methods:
        method, options = VARIANTS[name]
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        alignment = align(
            source, target, method,
            dictionary=train if METHODS[method].dictionary == "required" else None,
            mapped_language=source_language, reference_language=target_language, **options_of_vectors, **options,
        )
        seconds = time.perf_counter() - start
        load_after = os.getloadavg()[0]
        bli = evaluate_alignment(alignment, source, target, test_dictionary)
        evaluation = alignment.evaluation
        rows.append({
            "pair": pair, "method": name, "test": test_kind,
            "p1_nn": percent(bli["precision_at_1_nn"]), "p1_csls": percent(bli["precision_at_1_csls"]),
            "p5_csls": percent(bli["precision_at_5_csls"]), "p10_csls": percent(bli["precision_at_10_csls"]),
            "coverage": percent(bli["coverage"]), "n_queries": bli["n_source_words"],
            "criterion": round(evaluation["criterion"], 4), "status": evaluation["status"],
            "fit_s": round(seconds, 1), "load_before": round(load_before, 2), "load_after": round(load_after, 2),
            "bli": bli, "evaluation": evaluation, "hyperparameters": alignment.hyperparameters,
            **diagnostics,
        })
        if anchors is not None:
            rows[-1]["median_rank"] = median_translation_rank(alignment, source, target, test_dictionary)
        key = {"pair": pair, "method": name, **({} if anchors is None else {"anchors": anchors, "layer": layer})}
        recorder.record(key, {k: v for k, v in rows[-1].items() if k not in key})
        shown = COLUMNS if anchors is None else ["layer", *COLUMNS, *ANCHOR_COLUMNS]
        print(format_table([{**rows[-1], "layer": layer}], shown).splitlines()[-1], flush=True)
    return rows


def unit_centred(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` (shape ``(n, d)``) normalized by the package's ``unit,center,unit`` steps (float32)."""
    return Normalization.fit(matrix, "unit,center,unit").apply(matrix)


def static_similarity_correlation(root: str, pair: str, heldout: float, max_vocab: Any) -> float:
    """:func:`similarity_correlation` of the pair's static vectors on its training pairs (3 decimals)."""
    source_language, target_language = pair.split("-")
    static = [load_vectors(path(language, "vectors", root), max_vocab) for language in (source_language, target_language)]
    train, _, _ = split_dictionaries(root, source_language, target_language, heldout)
    return round(similarity_correlation(*static, index_dictionary(train, *static, f"{pair} train")), 3)


def similarity_correlation(source: WordVectors, target: WordVectors, pairs: IndexedDictionary,
                           size: int = 1000, seed: int = 0) -> float:
    """How alike the two spaces' geometries are, with no mapping: the Spearman correlation between
    the cosine similarities of ``size`` random translation pairs' words within each space (over all
    ``size * (size - 1) / 2`` word pairs; one translation per source word). Isomorphic spaces give 1,
    unrelated ones 0; a coarse shared structure (frequency, part of speech) already gives a positive value."""
    first = dict(zip(pairs.source.tolist(), pairs.target.tolist()))
    chosen = np.random.default_rng(seed).permutation(len(first))[:size]
    rows = np.array(list(first.items()))[chosen]
    upper = np.triu_indices(len(rows), 1)
    ranks = []
    for matrix, index in ((source.matrix, rows[:, 0]), (target.matrix, rows[:, 1])):
        space = unit_centred(matrix)
        similarities = (space[index] @ space[index].T)[upper]
        ranks.append(np.argsort(np.argsort(similarities)))
    return float(np.corrcoef(ranks[0], ranks[1])[0, 1])


def median_translation_rank(alignment: Any, source: WordVectors, target: WordVectors, test: IndexedDictionary) -> float:
    """Median, over the test source words, of the rank (1 = nearest, cosine) of their best-ranked
    gold translation among all target rows after mapping: how far from P@1 a failing alignment is
    (chance: about half the target vocabulary)."""
    mapped = unit_centred(alignment.apply(source.matrix, "mapped"))
    reference = unit_centred(alignment.apply(target.matrix, "reference"))
    gold: Dict[int, List[int]] = {}
    for i, j in zip(test.source.tolist(), test.target.tolist()):
        gold.setdefault(i, []).append(j)
    ranks = []
    for i, translations in gold.items():
        scores = reference @ mapped[i]
        ranks.append(1 + int((scores > scores[translations].max()).sum()))
    return float(np.median(ranks))


COLUMNS = ["pair", "method", "test", "p1_nn", "p1_csls", "p5_csls", "p10_csls", "coverage", "n_queries",
           "criterion", "status", "fit_s", "load_before", "load_after"]
ANCHOR_COLUMNS = ["median_rank", "similarity_correlation", "static_similarity_correlation"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default=DEFAULT_PAIRS, help="comma-separated src-tgt pairs")
    parser.add_argument("--methods", default=",".join(VARIANTS), help="comma-separated methods (and variants)")
    parser.add_argument("--heldout", type=float, default=0.2, help="held-out fraction where no test split exists")
    parser.add_argument("--max-vocab", type=int, default=None, help="rows kept per vector file (default: all)")
    parser.add_argument("--data", default=data_root(), help="data root (default: $XLNER_DATA, else the layout's)")
    parser.add_argument("--anchors", help="align ELMo anchors instead of the static vectors: DIR/<language> "
                        "are xlner-anchors outputs (records go to anchor_bli.jsonl unless --output)")
    parser.add_argument("--layers", type=int, nargs="+", default=[0, 1, 2], help="anchor layers (with --anchors)")
    parser.add_argument("--output", help="records file, appended to (default: benchmarks/results/"
                        "alignment_bli.jsonl, or anchor_bli.jsonl with --anchors)")
    args = parser.parse_args()
    benchmark = "alignment_bli" if args.anchors is None else "anchor_bli"
    args.output = args.output or results_path(benchmark)
    root = os.path.abspath(args.data)
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown method(s) {', '.join(sorted(unknown))}; choose from {', '.join(VARIANTS)}")
    print(f"data: {root}; cpus: {os.cpu_count()}; load average at start: {os.getloadavg()}")
    recorder = Recorder(benchmark, {**vars(args), "data": root}, args.output)
    columns = COLUMNS if args.anchors is None else ["layer", *COLUMNS, *ANCHOR_COLUMNS]
    print(format_table([], columns), flush=True)
    rows: List[Dict[str, Any]] = []
    for pair in args.pairs.split(","):
        static = None if args.anchors is None else static_similarity_correlation(root, pair, args.heldout, args.max_vocab)
        for layer in [None] if args.anchors is None else args.layers:
            pair_rows = run_pair(root, pair, methods, args.heldout, args.max_vocab, recorder, args.anchors, layer, static)
            rows += [{**row, "layer": layer} for row in pair_rows]
    print()
    print(format_table(rows, columns))
    print("test: muse-test = MUSE 5000-6500 split; heldout-train = source words in the last "
          f"{args.heldout:.0%} of the 0-5000 training split, removed from training (no test split exists)")
    print(f"{len(rows)} records appended to {args.output}")


if __name__ == "__main__":
    main()
