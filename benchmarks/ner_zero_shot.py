"""Zero-shot cross-lingual NER benchmark: Source-Mono, Cross-Word, Cross-Shared, Cross-Augmented.

Trains each config on English CoNLL-2003 labels only and reports span F1 (mean ± std over seeds)
on the target dev sets (CoNLL testa; WikiNEuRal val for French), with training wall times, beside
the published Cross-Augmented numbers of Bari et al. (2020, test sets, Wikipedia-scale vectors).

The English-only configs are trained once per seed and evaluated on every target language by
plugging that language's vectors and alignment into the trained model through archive overrides
(the "one model, any aligned language" use); Cross-Augmented trains one model per language.
Results are written after every run (atomically) and finished runs are skipped on a re-run.

    python benchmarks/ner_zero_shot.py --languages es nl de fr --seeds 13 42 7
"""
import argparse
import json
import os
import statistics
import sys
import time
from typing import Any, Dict, List

from xlner_allennlp.file_utils import atomic_write_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = ["source_mono", "cross_word", "cross_shared", "cross_augmented"]
ENGLISH_ONLY = {"source_mono", "cross_word", "cross_shared"}
ALIGNED = {"cross_word", "cross_shared", "cross_augmented"}
PAPER_TEST_F1 = {
    "cross_word": {"es": 72.66, "nl": 70.31, "de": 45.20},
    "cross_shared": {"es": 74.39, "nl": 71.02, "de": 58.91},
    "cross_augmented": {"es": 75.93, "nl": 74.61, "de": 65.24},
}
DEV = {
    "es": ("ner/es/conll2002/esp.testa", "utf-8"),
    "nl": ("ner/nl/conll2002/ned.testa", "utf-8"),
    "de": ("ner/de/conll2003/deu.testa", "latin-1"),
    "fr": ("ner/fr/wikineural/val.tsv", "utf-8"),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=CONFIGS, choices=CONFIGS)
    parser.add_argument("--languages", nargs="+", default=["es", "nl", "de", "fr"], choices=sorted(DEV))
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 42, 7])
    parser.add_argument("--epochs", type=int, default=None, help="XLNER_EPOCHS for every run")
    parser.add_argument("--max-train", type=int, default=0, help="cap on English training sentences (0: all)")
    parser.add_argument("--selection", choices=["source", "target"], default="source")
    parser.add_argument("--data", default=os.environ.get("XLNER_DATA", os.path.join(ROOT, "..", "shared", "data")))
    parser.add_argument("--alignments", default=os.path.join(ROOT, "artifacts", "alignments"))
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "ner_zero_shot"))
    parser.add_argument("--output", default=os.path.join(ROOT, "benchmarks", "results", "ner_zero_shot.json"))
    return parser.parse_args()


def ensure_alignment(language: str, args: argparse.Namespace) -> str:
    """The <language>-en artifact (Procrustes + refinement on the MUSE training dictionary)."""
    from xlner_allennlp.alignment import align_files

    directory = os.path.join(args.alignments, f"{language}-en")
    test_dictionary = os.path.join(args.data, "dict", "muse", f"{language}-en.5000-6500.txt")
    if not os.path.isfile(os.path.join(directory, "meta.json")):
        align_files(
            mapped_vectors=os.path.join(args.data, "emb", f"{language}.npy"),
            reference_vectors=os.path.join(args.data, "emb", "en.npy"),
            method="procrustes-refine",
            dictionary=os.path.join(args.data, "dict", "muse", f"{language}-en.0-5000.txt"),
            evaluation_dictionary=test_dictionary if os.path.isfile(test_dictionary) else None,
            output=directory,
        )
    return directory


def evaluate_on(archive_path: str, config: str, language: str, args: argparse.Namespace) -> Dict[str, float]:
    """Span F1 of a trained archive on ``language``'s dev set, that language plugged in by overrides."""
    from xlner_allennlp.commands.evaluate_language import evaluate_language

    path, encoding = DEV[language]
    return evaluate_language(
        archive_path, language, os.path.join(args.data, path),
        vectors=os.path.join(args.data, "emb", f"{language}.npy"),
        alignment=os.path.join(args.alignments, f"{language}-en") if config in ALIGNED else None,
        encoding=encoding,
    )


def train(config: str, target: str, seed: int, args: argparse.Namespace) -> Dict[str, Any]:
    from allennlp.commands.train import train_model_from_file

    name = f"{config}-{seed}" if config in ENGLISH_ONLY else f"{config}-{target}-{seed}"
    directory = os.path.join(args.runs, name)
    archive = os.path.join(directory, "model.tar.gz")
    timing_file = os.path.join(directory, "wall_time.json")
    if not os.path.isfile(archive):
        os.environ.update(
            XLNER_TARGET=target,
            XLNER_SEED=str(seed),
            XLNER_SELECTION=args.selection,
            XLNER_ALIGNMENTS=args.alignments,
            XLNER_DATA=args.data,
            XLNER_MAX_TRAIN=str(args.max_train),
        )
        if args.epochs is not None:
            os.environ["XLNER_EPOCHS"] = str(args.epochs)
        start = time.perf_counter()
        train_model_from_file(os.path.join(ROOT, "training_config", f"{config}.jsonnet"), directory, force=True)
        write_json(timing_file, {"wall_time_s": time.perf_counter() - start})
    with open(timing_file, encoding="utf-8") as handle:
        return {"archive": archive, "wall_time_s": json.load(handle)["wall_time_s"]}


def write_json(path: str, payload: Any) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True))


def summarize(values: List[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f} (n=1)"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f} (n={len(values)})"


def print_table(results: Dict[str, Any]) -> None:
    """One row per config and one column per language over every run measured so far."""
    languages = [lang for lang in DEV if any(r["language"] == lang for r in results["runs"])]
    header = ["config"] + [f"{lang} dev F1" for lang in languages] + ["train wall (min)"]
    rows = [header]
    for config in [c for c in CONFIGS if any(r["config"] == c for r in results["runs"])]:
        cells = [config]
        for language in languages:
            f1s = [r["f1"] for r in results["runs"] if r["config"] == config and r["language"] == language]
            cells.append(summarize(f1s))
        walls = {r["run"]: r["wall_time_s"] for r in results["runs"] if r["config"] == config}
        cells.append(f"{statistics.mean(walls.values()) / 60:.1f}" if walls else "-")
        rows.append(cells)
    rows.append(["paper Cross-Aug (test)"] + [
        f"{PAPER_TEST_F1['cross_augmented'].get(lang, '-')}" for lang in languages] + ["-"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths)))


def main() -> None:
    args = parse_args()
    sys.path.insert(0, ROOT)
    import xlner_allennlp  # noqa: F401  registers the components and sets XLNER_* defaults

    results: Dict[str, Any] = {"settings": {k: v for k, v in vars(args).items()}, "runs": []}
    if os.path.isfile(args.output):
        with open(args.output, encoding="utf-8") as handle:
            previous = json.load(handle)
        results["runs"] = previous.get("runs", [])
    done = {(r["config"], r["language"], r["seed"]) for r in results["runs"]}
    for language in args.languages:
        if any(c in ALIGNED for c in args.configs):
            ensure_alignment(language, args)
    for seed in args.seeds:
        for config in args.configs:
            targets = args.languages if config not in ENGLISH_ONLY else [args.languages[0]]
            for target in targets:
                todo = [l for l in (args.languages if config in ENGLISH_ONLY else [target])
                        if (config, l, seed) not in done]
                if not todo:
                    continue
                run = train(config, target, seed, args)
                for language in todo:
                    metrics = evaluate_on(run["archive"], config, language, args)
                    results["runs"].append({
                        "config": config, "language": language, "seed": seed,
                        "run": run["archive"], "wall_time_s": run["wall_time_s"],
                        "f1": 100 * metrics["f1-measure-overall"], "metrics": metrics,
                    })
                    write_json(args.output, results)
                    print(f"{config} seed={seed} {language}: F1 {results['runs'][-1]['f1']:.2f}", flush=True)
    print_table(results)
    write_json(args.output, results)


if __name__ == "__main__":
    main()
