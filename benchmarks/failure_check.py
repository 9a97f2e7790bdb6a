"""The unsupervised failure checks (`xlner_allennlp.alignment.assessment`) on mappings known to
work or to fail: each `<lang>-en` artifact of `--alignments` (its own stored status beside what
the checks say now), and the synthetic identifiable pair of tests/alignment/synthetic.py under
its hidden rotation, a random rotation, a map right only on the 10 principal directions of the
mapped side, and (`--adversarial`, minutes) the adversarial method's own fit.

Each row appends a record (key ``{"mapping": ...}``) to benchmarks/results/failure_check.jsonl with
the mean-cosine criterion, the nearest-neighbour standout, each beside its chance level under
random rotations, their ratio, the identical-strings agreement and the status.

    OMP_NUM_THREADS=1 python benchmarks/failure_check.py --alignments artifacts/alignments/procrustes-refine --adversarial
"""
import argparse
import json
import os
import sys
import time
from typing import Any, Dict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.records import Recorder, results_path  # noqa: E402
from xlner_allennlp import data_layout  # noqa: E402
from xlner_allennlp.data_layout import data_root  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=data_root(), help="data root (default: $XLNER_DATA, else the layout's)")
    parser.add_argument("--alignments", help="a directory of <lang>-en artifacts to check (none: synthetic rows only)")
    parser.add_argument("--languages", nargs="+", default=["es", "fr", "de", "nl"])
    parser.add_argument("--adversarial", action="store_true", help="also fit the adversarial method on the synthetic pair")
    parser.add_argument("--output", default=results_path("failure_check"), help="records file (appended to)")
    return parser.parse_args()


def summary(assessment: Dict[str, Any]) -> Dict[str, Any]:
    numbers = {key: assessment[key] for key in ("criterion", "criterion_chance", "standout", "standout_chance",
                                                 "identical_agreement", "n_identical", "status")}
    numbers["standout_ratio"] = assessment["standout"] / assessment["standout_chance"]
    if "status_reason" in assessment:
        numbers["status_reason"] = assessment["status_reason"]
    return numbers


def main() -> None:
    args = parse_args()
    recorder = Recorder("failure_check", vars(args), args.output)
    from tests.alignment.synthetic import make_synthetic_pair, normalized_sides, principal_directions_only
    from xlner_allennlp.alignment import align, load_alignment
    from xlner_allennlp.alignment.assessment import ASSESSMENT_RANK, assess_alignment
    from xlner_allennlp.alignment.vectors import load_vectors

    def report(mapping: str, numbers: Dict[str, Any]) -> None:
        recorder.record({"mapping": mapping}, numbers)
        print(mapping, json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in numbers.items()}), flush=True)

    if args.alignments:
        english = load_vectors(data_layout.path("en", "vectors", args.data), max_vocab=ASSESSMENT_RANK)
        for language in args.languages:
            directory = os.path.join(args.alignments, f"{language}-en")
            alignment = load_alignment(directory)
            vectors = load_vectors(data_layout.path(language, "vectors", args.data), max_vocab=ASSESSMENT_RANK)
            x = alignment.mapped_normalization.apply(vectors.matrix)
            z = alignment.reference_normalization.apply(english.matrix)
            numbers = summary(assess_alignment(x, z, alignment.mapping, alignment.reference_mapping,
                                               vectors.words, english.words))
            numbers.update(method=alignment.method, stored_status=alignment.evaluation.get("status"))
            report(f"{os.path.basename(os.path.normpath(args.alignments))}/{language}-en", numbers)

    pair = make_synthetic_pair()
    x, z = normalized_sides(pair)
    rng = np.random.default_rng(1)
    partial = principal_directions_only(x, pair.rotation, rng)
    maps = {
        "synthetic: hidden rotation": pair.rotation,
        "synthetic: random rotation": np.linalg.qr(rng.standard_normal((x.shape[1],) * 2))[0],
        "synthetic: right on the 10 principal directions only": partial,
    }
    for name, mapping in maps.items():
        report(name, summary(assess_alignment(x, z, mapping.astype(np.float32), None, pair.source.words, pair.target.words)))
    if args.adversarial:
        start = time.perf_counter()
        fitted = align(pair.source, pair.target, "adversarial")
        numbers = summary(fitted.evaluation)
        numbers["fit_s"] = round(time.perf_counter() - start, 1)
        report("synthetic: adversarial fit (default settings)", numbers)


if __name__ == "__main__":
    main()
