"""Supervised mappings against VecMap's supervised recipe, on the same vectors and dictionaries.

For each pair (source mapped onto target), each method is fitted on the MUSE training split and
evaluated on the MUSE test split (en-de: the held-out part of its training split, as in
``benchmarks/alignment_bli.py``, whose dictionary split this reuses). Printed and recorded per
pair and method: P@1 with CSLS and NN retrieval, the wall time of loading both vector files,
fitting and evaluating (what VecMap's measured time covers), and the test dictionary's coverage in
two accountings:

* ``coverage``: the package's own, test pairs with both words in the vocabularies / pairs read;
* ``src_coverage``: VecMap's ``eval_translation.py`` definition, distinct test source words with at
  least one translation pair in the vocabularies / distinct source words read. It is the share
  of queries both evaluate, so equal values mean both evaluate the same queries.

Beside them, VecMap's own numbers measured on this machine with its code (``map_embeddings.py
--supervised`` on the 0-5000 split, ``eval_translation.py --retrieval csls``; from
``../shared/benchmarks/anchors.md``; none for en-de, which has no test split there). The default
rows are ``multistep/vecmap`` (this package's implementation of the same recipe, so its row should
reproduce VecMap's number), the package's default supervised method and ``procrustes-refine`` (the
default before it).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/vecmap_comparison.py --data ../shared/data
"""
import argparse
import os
import sys
import time
from typing import Any, Dict, List

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from benchmarks.alignment_bli import VARIANTS, split_dictionaries  # noqa: E402
from benchmarks.records import Recorder, results_path  # noqa: E402
from xlner_allennlp.alignment import align, evaluate_alignment
from xlner_allennlp.alignment.dictionary import index_dictionary
from xlner_allennlp.alignment.methods import DEFAULT_SUPERVISED_METHOD
from xlner_allennlp.alignment.report import format_table, percent
from xlner_allennlp.alignment.vectors import load_vectors
from xlner_allennlp.data_layout import data_root, path

# Measured with VecMap's own code on this machine (../shared/benchmarks/anchors.md): P@1 CSLS and
# source-word coverage in %, wall time in seconds including reading and writing its text files.
VECMAP_MEASURED: Dict[str, Dict[str, float]] = {
    "en-es": {"p1_csls": 35.2, "src_coverage": 71.4, "seconds": 140},
    "en-fr": {"p1_csls": 31.5, "src_coverage": 80.7, "seconds": 182},
    "en-nl": {"p1_csls": 12.4, "src_coverage": 67.3, "seconds": 154},
}
DEFAULT_METHODS = ",".join(dict.fromkeys(["multistep/vecmap", DEFAULT_SUPERVISED_METHOD, "procrustes-refine"]))
COLUMNS = ["pair", "method", "test", "p1_csls", "p1_nn", "vecmap_p1_csls", "coverage", "src_coverage",
           "vecmap_src_coverage", "n_queries", "total_s", "vecmap_s", "fit_s", "load_before", "load_after"]


def run_pair(root: str, pair: str, methods: List[str], heldout: float, recorder: Recorder) -> List[Dict[str, Any]]:
    """Load, fit and evaluate every method on ``pair``; each row is recorded as soon as it is measured."""
    source_language, target_language = pair.split("-")
    start = time.perf_counter()
    source = load_vectors(path(source_language, "vectors", root))
    target = load_vectors(path(target_language, "vectors", root))
    load_s = time.perf_counter() - start
    train, test, test_kind = split_dictionaries(root, source_language, target_language, heldout)
    test_dictionary = index_dictionary(test, source, target, f"{pair} {test_kind}")
    reference = VECMAP_MEASURED.get(pair, {})
    rows = []
    for name in methods:
        method, options = VARIANTS[name]
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        alignment = align(source, target, method, dictionary=train, mapped_language=source_language,
                          reference_language=target_language, **options)
        fit_s = time.perf_counter() - start
        bli = evaluate_alignment(alignment, source, target, test_dictionary, ks=(1,))
        evaluate_s = time.perf_counter() - start - fit_s
        rows.append({
            "pair": pair, "method": name, "test": test_kind,
            "p1_csls": percent(bli["precision_at_1_csls"]), "p1_nn": percent(bli["precision_at_1_nn"]),
            "vecmap_p1_csls": reference.get("p1_csls"),
            "coverage": percent(bli["coverage"]), "src_coverage": percent(bli["source_word_coverage"]),
            "vecmap_src_coverage": reference.get("src_coverage"), "n_queries": bli["n_source_words"],
            "total_s": round(load_s + fit_s + evaluate_s, 1), "vecmap_s": reference.get("seconds"),
            "fit_s": round(fit_s, 1), "load_s": round(load_s, 1), "evaluate_s": round(evaluate_s, 1),
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
            "heldout_selection": alignment.evaluation.get("heldout_selection"),
            "bli": bli, "hyperparameters": alignment.hyperparameters,
        })
        recorder.record({"pair": pair, "method": name},
                        {k: v for k, v in rows[-1].items() if k not in ("pair", "method")})
        print(format_table(rows[-1:], COLUMNS).splitlines()[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default="en-es,en-fr,en-nl,en-de", help="comma-separated src-tgt pairs")
    parser.add_argument("--methods", default=DEFAULT_METHODS, help="comma-separated methods (and variants of alignment_bli.py)")
    parser.add_argument("--heldout", type=float, default=0.2, help="held-out fraction where no test split exists")
    parser.add_argument("--data", default=data_root(), help="data root (default: $XLNER_DATA, else the layout's)")
    parser.add_argument("--output", default=results_path("vecmap_comparison"), help="records file (appended to)")
    args = parser.parse_args()
    root = os.path.abspath(args.data)
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown method(s) {', '.join(sorted(unknown))}; choose from {', '.join(VARIANTS)}")
    print(f"data: {root}; cpus: {os.cpu_count()}; load average at start: {os.getloadavg()}")
    recorder = Recorder("vecmap_comparison", {**vars(args), "data": root}, args.output)
    print(format_table([], COLUMNS), flush=True)
    rows: List[Dict[str, Any]] = []
    for pair in args.pairs.split(","):
        rows += run_pair(root, pair, methods, args.heldout, recorder)
    print()
    print(format_table(rows, COLUMNS))
    print("vecmap_*: VecMap's supervised recipe measured with its own code on this machine (anchors.md); "
          "src_coverage: VecMap's source-word coverage; coverage: the package's pair coverage; "
          "total_s: loading + fit + evaluation")
    print(f"{len(rows)} records appended to {args.output}")


if __name__ == "__main__":
    main()
