"""Can an unsupervised criterion find the better mapping on these vectors?

Compares, on the real vectors of the data root (``--data``), mappings reached from different starts by
the two unsupervised criteria a method can select with (no dictionary involved): the objective
self-learning maximizes (mean best cosine, both directions, among the 10,000 most frequent words)
and MUSE's model-selection criterion (mean cosine of the CSLS-induced dictionary), next to P@1 on
the MUSE test split:

* **gold**: deterministic self-learning (keep probability 1) from the MUSE training dictionary's
  Procrustes mapping, run to convergence among the 4,000 and the 10,000 most frequent words;
* **gold+refine**: that Procrustes mapping and rounds of MUSE's refinement without the training
  pairs (what the supervised method reaches without supervision after its start), after 5, 10
  and 20 rounds of mutual CSLS induction among the 15,000 most frequent words, and after 5 rounds
  of union induction or among 25,000 words (other refinement schemes);
* **noisy-gold**: deterministic self-learning among 10,000 words from the training dictionary
  with all but a fraction of its pairs replaced by random pairs of frequent words (how good a
  start must be to end where the gold start ends);
* **unsupervised**: the default unsupervised self-learning with several dropout seeds, and the
  first seed's mapping after 5, 10 and 20 rounds of refinement (**unsupervised+refine**).

It also reports how many pairs of the unsupervised initial dictionary are correct (judged on
pairs whose source word is in the training dictionary), and appends the whole run as one record
to ``benchmarks/results/self_learning_optima.jsonl`` (see ``benchmarks/records.py``).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/self_learning_optima.py --data ../shared/data --pair en-es --seeds 0 1 2
"""
import argparse
import dataclasses
import os
import sys
import time
from typing import Any, Dict, List, Tuple

import numpy as np

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

from benchmarks.records import Recorder, results_path  # noqa: E402
from xlner_allennlp.alignment.align import DEFAULT_NORMALIZATION
from xlner_allennlp.alignment.dictionary import index_dictionary, read_dictionary
from xlner_allennlp.alignment.evaluation import evaluate_bli
from xlner_allennlp.alignment.normalization import Normalization
from xlner_allennlp.alignment.refinement import Refinement, mean_cosine_criterion, refine
from xlner_allennlp.alignment.report import format_table, percent
from xlner_allennlp.alignment.self_learning import (
    SelfLearning, self_learning, self_learning_objective, similarity_distribution_init,
)
from xlner_allennlp.alignment.supervised import procrustes
from xlner_allennlp.alignment.vectors import load_vectors
from xlner_allennlp.data_layout import data_root, dictionary, path

SETTINGS = dataclasses.asdict(SelfLearning())
# Refinement induces among as many words as procrustes-refine does; the rounds come from --refinements.
REFINEMENT_VOCAB = Refinement().refinement_vocab
COLUMNS = ["start", "cutoff", "seed", "refinement", "objective", "criterion", "p1_nn", "p1_csls", "iterations", "fit_s"]


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
    parser.add_argument("--refinements", nargs="+", type=int, default=[5, 10, 20],
                        help="refinement counts recorded from the gold and the first unsupervised start")
    parser.add_argument("--wide-vocab", type=int, default=25000,
                        help="a larger induction vocabulary for one more gold+refine row")
    parser.add_argument("--data", default=data_root(), help="data root (default: $XLNER_DATA, else the layout's)")
    parser.add_argument("--output", default=results_path("self_learning_optima"), help="records file (appended to)")
    args = parser.parse_args()
    recorder = Recorder("self_learning_optima", vars(args), args.output)
    source_language, target_language = args.pair.split("-")
    source = load_vectors(path(source_language, "vectors", args.data))
    target = load_vectors(path(target_language, "vectors", args.data))
    train = read_dictionary(dictionary(source_language, target_language, "train", args.data))
    test = read_dictionary(dictionary(source_language, target_language, "test", args.data))
    train = index_dictionary(train, source, target, "train")
    test = index_dictionary(test, source, target, "test")
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
        return {"seed_rows": rows, "settings": {"keep_prob_initial": 1.0, "search_cutoff": at, "vocabulary_cutoff": at}}

    frequent = min(SETTINGS["init_vocab"], x.shape[0], z.shape[0])
    jobs: List[Tuple[str, int, int, Dict[str, Any]]] = [
        ("gold", at, 0, deterministic((train.source, train.target), at)) for at in (SETTINGS["search_cutoff"], cutoff)
    ]
    jobs += [(f"noisy-gold {kept:.0%}", cutoff, 0,
              deterministic(noisy_pairs(train.source, train.target, kept, frequent, 0), cutoff))
             for kept in args.kept]
    jobs += [("unsupervised", cutoff, seed, {}) for seed in args.seeds]
    runs: List[Dict[str, Any]] = []

    def record(start_kind: str, at: int, seed: int, refinement: str, mapping: np.ndarray, iterations: int,
               seconds: float) -> None:
        mapped = x @ mapping
        bli = evaluate_bli(mapped, z, test, methods=("nn", "csls"))
        runs.append({
            "start": start_kind, "cutoff": at, "seed": seed, "refinement": refinement,
            "objective": round(self_learning_objective(x, z, mapping, cutoff), 4),
            "criterion": round(mean_cosine_criterion(mapped, z), 4),
            "p1_nn": percent(bli["precision_at_1_nn"]), "p1_csls": percent(bli["precision_at_1_csls"]),
            "iterations": iterations, "fit_s": round(seconds, 1),
        })
        print(format_table(runs[-1:], COLUMNS).splitlines()[-1], flush=True)

    def refined(start_kind: str, seed: int, mapping: np.ndarray, direction: str, rank: int, counts: List[int]) -> None:
        """Refinement without any dictionary (keeping the last iteration), recorded after each of ``counts``
        iterations; a refinement round depends only on the current mapping, so continuing a run is the
        same as restarting it with more rounds."""
        seconds, done = 0.0, 0
        for count in counts:
            began = time.perf_counter()
            mapping = refine(x, z, mapping, Refinement(
                refinement_iterations=count - done, refinement_vocab=rank, refinement_direction=direction,
                refinement_keep="last",
            )).mapping
            seconds, done = seconds + time.perf_counter() - began, count
            record(start_kind, rank, seed, f"{direction} x{count}", mapping, count, seconds)

    print(format_table([], COLUMNS), flush=True)
    for start_kind, at, seed, options in jobs:
        began = time.perf_counter()
        learned = self_learning(
            x, z, SelfLearning(**{**SETTINGS, **options.get("settings", {})}), seed_rows=options.get("seed_rows"),
            random_seed=seed,
        )
        record(start_kind, at, seed, "-", learned.mapping, len(learned.history), time.perf_counter() - began)
        if start_kind == "unsupervised" and seed == args.seeds[0]:
            refined("unsupervised+refine", seed, learned.mapping, "mutual", REFINEMENT_VOCAB, args.refinements)
    gold = procrustes(x[train.source], z[train.target])
    refined("gold+refine", 0, gold, "mutual", REFINEMENT_VOCAB, args.refinements)
    refined("gold+refine", 0, gold, "union", REFINEMENT_VOCAB, args.refinements[:1])
    refined("gold+refine", 0, gold, "mutual", args.wide_vocab, args.refinements[:1])
    print()
    print(format_table(runs, COLUMNS))
    recorder.record({"pair": args.pair}, {
        "initial_dictionary": initial_dictionary, "runs": runs,
        "self_learning_settings": SETTINGS, "refinement_vocab": REFINEMENT_VOCAB,
    })
    print(f"record appended to {args.output}")


if __name__ == "__main__":
    main()
