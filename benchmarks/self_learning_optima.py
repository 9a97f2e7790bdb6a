"""Can an unsupervised criterion find the better mapping on these vectors?

Compares, on the real vectors of ``$XLNER_DATA/emb``, mappings reached from different starts by
the two unsupervised criteria a method can select with (no dictionary involved): the objective
self-learning maximizes (mean best cosine, both directions, among the 10,000 most frequent words)
and MUSE's model-selection criterion (mean cosine of the CSLS-induced dictionary), next to P@1 on
the MUSE test split:

* **gold**: deterministic self-learning (keep probability 1) from the MUSE training dictionary's
  Procrustes mapping, run to convergence among the 4,000 and the 10,000 most frequent words;
* **gold+refine**: that Procrustes mapping and 5 rounds of MUSE's refinement without the training
  pairs (what the supervised method reaches without supervision after its start);
* **noisy-gold**: deterministic self-learning among 10,000 words from the training dictionary
  with all but a fraction of its pairs replaced by random pairs of frequent words (how good a
  start must be to end where the gold start ends);
* **unsupervised**: the default unsupervised self-learning with several dropout seeds.

It also reports how many pairs of the unsupervised initial dictionary are correct (judged on
pairs whose source word is in the training dictionary), and writes JSON.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/self_learning_optima.py --pair en-es --seeds 0 1 2
"""
import argparse
import json
import os
import time
from typing import Any, Dict, List, Tuple

import numpy as np

from xlner_allennlp.alignment.align import DEFAULT_HYPERPARAMETERS, DEFAULT_NORMALIZATION
from xlner_allennlp.alignment.dictionary import index_dictionary, read_dictionary
from xlner_allennlp.alignment.evaluation import evaluate_bli
from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.refinement import mean_cosine_criterion, refine
from xlner_allennlp.alignment.report import format_table, percent
from xlner_allennlp.alignment.self_learning import (
    self_learning, self_learning_objective, similarity_distribution_init,
)
from xlner_allennlp.alignment.supervised import procrustes
from xlner_allennlp.alignment.vectors import load_vectors
from xlner_allennlp.file_utils import atomic_write_text

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = {
    k: v for k, v in DEFAULT_HYPERPARAMETERS["self-learning"].items()
    if not k.startswith("refinement_") and k not in ("final_mapping", "reweight_source", "reweight_target")
}
REFINEMENT = {k: DEFAULT_HYPERPARAMETERS["procrustes-refine"][k] for k in ("refinement_iterations", "refinement_vocab")}
COLUMNS = ["start", "cutoff", "seed", "objective", "criterion", "p1_nn", "p1_csls", "iterations", "fit_s"]


def noisy_pairs(
    source_rows: np.ndarray, target_rows: np.ndarray, kept: float, frequent: int, seed: int
) -> Tuple[np.ndarray, np.ndarray]:
    """The pairs with all but a fraction ``kept`` replaced by random pairs among the ``frequent`` first rows."""
    rng = np.random.default_rng(seed)
    replaced = rng.random(source_rows.size) >= kept
    source_rows, target_rows = source_rows.copy(), target_rows.copy()
    source_rows[replaced] = rng.integers(0, frequent, replaced.sum())
    target_rows[replaced] = rng.integers(0, frequent, replaced.sum())
    return source_rows, target_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pair", default="en-es")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--kept", nargs="+", type=float, default=[0.1, 0.2],
                        help="fractions of correct pairs in the noisy-gold starts")
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
    cutoff = SETTINGS["vocabulary_cutoff"]

    gold_pairs = set(zip(train.source.tolist(), train.target.tolist()))
    gold_sources = {s for s, _ in gold_pairs}
    init = similarity_distribution_init(x, z, SETTINGS["init_vocab"], SETTINGS["csls_k"])
    judged = [(s, t) for s, t in zip(*(rows.tolist() for rows in init)) if s in gold_sources]
    initial_dictionary = {"pairs": int(init[0].size), "judged": len(judged), "correct": sum(p in gold_pairs for p in judged)}
    print(f"unsupervised initial dictionary: {initial_dictionary['correct']} correct of {initial_dictionary['judged']} "
          f"judged pairs ({initial_dictionary['pairs']} pairs)", flush=True)

    def deterministic(rows: Tuple[np.ndarray, np.ndarray], at: int) -> Dict[str, Any]:
        return {"seed_rows": rows, "keep_prob_initial": 1.0, "search_cutoff": at, "vocabulary_cutoff": at}

    jobs: List[Tuple[str, int, int, Dict[str, Any]]] = [
        ("gold", at, 0, deterministic((train.source, train.target), at)) for at in (SETTINGS["search_cutoff"], cutoff)
    ]
    jobs.append(("gold+refine", cutoff, 0, {}))
    jobs += [(f"noisy-gold {kept:.0%}", cutoff, 0,
              deterministic(noisy_pairs(train.source, train.target, kept, SETTINGS["init_vocab"], 0), cutoff))
             for kept in args.kept]
    jobs += [("unsupervised", cutoff, seed, {}) for seed in args.seeds]
    runs: List[Dict[str, Any]] = []
    print(format_table([], COLUMNS), flush=True)
    for start_kind, at, seed, options in jobs:
        began = time.perf_counter()
        if start_kind == "gold+refine":
            result = refine(x, z, procrustes(x[train.source], z[train.target]),
                            iterations=REFINEMENT["refinement_iterations"], max_rank=REFINEMENT["refinement_vocab"])
            mapping, iterations = result.mapping, len(result.history) - 1
        else:
            learned = self_learning(x, z, **{**SETTINGS, **options, "final_mapping": "orthogonal", "random_seed": seed})
            mapping, iterations = learned.mapping, len(learned.history)
        seconds = time.perf_counter() - began
        bli = evaluate_bli(x @ mapping, z, test, methods=("nn", "csls"))
        runs.append({
            "start": start_kind, "cutoff": at, "seed": seed,
            "objective": round(self_learning_objective(x, z, mapping, cutoff), 4),
            "criterion": round(mean_cosine_criterion(x @ mapping, z), 4),
            "p1_nn": percent(bli["precision_at_1_nn"]), "p1_csls": percent(bli["precision_at_1_csls"]),
            "iterations": iterations, "fit_s": round(seconds, 1),
        })
        print(format_table(runs[-1:], COLUMNS).splitlines()[-1], flush=True)
    print()
    print(format_table(runs, COLUMNS))
    atomic_write_text(args.output, json.dumps(
        {"pair": args.pair, "settings": SETTINGS, "refinement": REFINEMENT,
         "initial_dictionary": initial_dictionary, "runs": runs}, indent=2))
    print(f"results written to {args.output}")


if __name__ == "__main__":
    main()
