"""Does the unsupervised self-learning objective prefer the right mapping on these vectors?

Compares the objective self-learning maximizes (mean best cosine, both directions, among the
``cutoff`` most frequent words) at two kinds of fixed points on the real vectors of
``$XLNER_DATA/emb``:

* **gold start**: deterministic self-learning (keep probability 1) started from the MUSE
  training dictionary's Procrustes mapping, run to convergence among the 4,000 and the 10,000 most
  frequent words;
* **unsupervised**: the default unsupervised self-learning (stochastic search among 4,000 words,
  final stage among 10,000) with several dropout seeds.

For each it prints the objective and P@1 (nearest neighbour, MUSE test split) and writes JSON. If
the unsupervised runs end with a lower objective than the gold start, the search is what fails; if
higher, the objective itself prefers a worse mapping.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/self_learning_optima.py --pair en-es --seeds 0 1 2
"""
import argparse
import json
import os
import time
from typing import Any, Dict, List

from xlner_allennlp.alignment.align import DEFAULT_HYPERPARAMETERS, DEFAULT_NORMALIZATION
from xlner_allennlp.alignment.dictionary import index_dictionary, read_dictionary
from xlner_allennlp.alignment.evaluation import evaluate_bli
from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.report import format_table, percent
from xlner_allennlp.alignment.self_learning import self_learning
from xlner_allennlp.alignment.vectors import load_vectors
from xlner_allennlp.file_utils import atomic_write_text

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = {
    k: v for k, v in DEFAULT_HYPERPARAMETERS["self-learning"].items()
    if not k.startswith("refinement_") and k not in ("final_mapping", "reweight_source", "reweight_target")
}
COLUMNS = ["start", "cutoff", "seed", "objective", "p1_nn", "iterations", "fit_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pair", default="en-es")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--data", default=os.environ.get("XLNER_DATA", os.path.join(PROJECT_ROOT, "..", "shared", "data")))
    parser.add_argument("--output", default=os.path.join(PROJECT_ROOT, "benchmarks", "results", "self_learning_optima.json"))
    args = parser.parse_args()
    source_language, target_language = args.pair.split("-")
    source = load_vectors(os.path.join(args.data, "emb", f"{source_language}.npy"))
    target = load_vectors(os.path.join(args.data, "emb", f"{target_language}.npy"))
    muse = os.path.join(args.data, "dict", "muse", args.pair)
    train = index_dictionary(read_dictionary(muse + ".0-5000.txt"), source, target, "train")
    test = index_dictionary(read_dictionary(muse + ".5000-6500.txt"), source, target, "test")
    x = Normalization.fit(source.matrix, DEFAULT_NORMALIZATION).apply(source.matrix)
    z = Normalization.fit(target.matrix, DEFAULT_NORMALIZATION).apply(target.matrix)

    runs: List[Dict[str, Any]] = []
    jobs = [("gold", cutoff, 0, {"seed_rows": (train.source, train.target), "keep_prob_initial": 1.0,
                                 "search_cutoff": cutoff, "vocabulary_cutoff": cutoff})
            for cutoff in (SETTINGS["search_cutoff"], SETTINGS["vocabulary_cutoff"])]
    jobs += [("unsupervised", SETTINGS["vocabulary_cutoff"], seed, {}) for seed in args.seeds]
    print(format_table([], COLUMNS), flush=True)
    for start_kind, cutoff, seed, options in jobs:
        began = time.perf_counter()
        result = self_learning(x, z, **{**SETTINGS, **options, "final_mapping": "orthogonal", "random_seed": seed})
        seconds = time.perf_counter() - began
        bli = evaluate_bli(x @ result.mapping, z, test, methods=("nn",))
        last = result.history[-1]
        runs.append({
            "start": start_kind, "cutoff": cutoff, "seed": seed, "objective": round(last["objective"], 4),
            "p1_nn": percent(bli["precision_at_1_nn"]), "iterations": len(result.history), "fit_s": round(seconds, 1),
        })
        print(format_table(runs[-1:], COLUMNS).splitlines()[-1], flush=True)
    print()
    print(format_table(runs, COLUMNS))
    atomic_write_text(args.output, json.dumps({"pair": args.pair, "settings": SETTINGS, "runs": runs}, indent=2))
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
