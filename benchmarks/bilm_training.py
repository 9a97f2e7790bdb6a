"""Full BiLM trainings (`make elmo LANGUAGE=<l>`, training_config/bilm.jsonnet on the 4M-token
`text/<l>.train.txt.gz`): wall time, training tokens/s and heldout perplexities, read from finished runs.

`benchmarks/bilm_speed.py` measures a few minutes of training; this script records what the whole
trainings took. For each `--runs` directory (an `allennlp train` serialization directory of an
`xlner_bilm` with its final `metrics.json`), it reads the training duration, the epochs and the
validation (heldout, full softmax) perplexities, counts the training tokens the reader reads (its
`max_sentence_length` pieces, its `max_instances`), and appends one record per run to
benchmarks/results/bilm_training.jsonl. `--conditions` says how the runs were made (threads,
concurrent jobs), since the wall time depends on it.

    .venv/bin/python benchmarks/bilm_training.py --runs runs/bilm-en runs/bilm-es \\
        --conditions "en and es trained at the same time, OMP_NUM_THREADS=1 each"
"""
import argparse
import gzip
import json
import os
import re
import sys
from typing import Any, Dict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.records import Recorder, results_path  # noqa: E402


def seconds_of(duration: str) -> float:
    """allennlp's `training_duration` ("H:MM:SS.ffffff", or "N day(s), H:MM:SS") in seconds."""
    match = re.fullmatch(r"(?:(\d+) days?, )?(\d+):(\d+):(\d+(?:\.\d+)?)", duration)
    if match is None:
        raise ValueError(f"unreadable training_duration {duration!r}")
    days, hours, minutes, seconds = match.groups()
    return ((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + float(seconds)


def training_tokens(path: str, max_length: Any, max_pieces: Any = None) -> Dict[str, int]:
    """Training instances and tokens the `xlner_lm_text` reader makes of a one-sentence-per-line file:
    a sentence longer than ``max_length`` is cut into pieces of at most that many tokens (none dropped),
    and only the first ``max_pieces`` pieces are read when given (its `max_instances`)."""
    pieces = tokens = 0
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            words = len(line.split())
            step = words if max_length is None else max_length
            for start in range(0, words, max(step, 1)):
                if max_pieces is not None and pieces == max_pieces:
                    return {"sentences": pieces, "tokens": tokens}
                pieces += 1
                tokens += min(step, words - start)
    return {"sentences": pieces, "tokens": tokens}


def run_record(directory: str) -> Dict[str, Any]:
    """What one finished run measured (its `metrics.json`, its `config.json` and its training text)."""
    metrics_path = os.path.join(directory, "metrics.json")
    if not os.path.isfile(metrics_path):
        raise FileNotFoundError(f"{metrics_path} is missing: {directory} is not a finished run")
    with open(metrics_path, encoding="utf-8") as handle:
        metrics = json.load(handle)
    with open(os.path.join(directory, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    reader, model = config["dataset_reader"], config["model"]
    corpus = training_tokens(config["train_data_path"], reader.get("max_sentence_length"), reader.get("max_instances"))
    epochs = metrics["epoch"] + 1
    wall = seconds_of(metrics["training_duration"])
    return {
        "key": {"language": reader["language"], "train_data": os.path.basename(config["train_data_path"])},
        "numbers": {
            "wall_s": round(wall, 1), "epochs": epochs, "train_sentences": corpus["sentences"],
            "train_tokens": corpus["tokens"], "tokens_per_second": round(epochs * corpus["tokens"] / wall, 1),
            "heldout_forward_perplexity": metrics["best_validation_forward_perplexity"],
            "heldout_backward_perplexity": metrics["best_validation_backward_perplexity"],
            "train_forward_perplexity": metrics["training_forward_perplexity"],
            "train_backward_perplexity": metrics["training_backward_perplexity"],
            "peak_memory_mb": metrics.get("peak_worker_0_memory_MB"),
            "run": directory,
            "model": {name: model[name] for name in ("projection_dim", "cell_size", "num_layers", "filters", "num_samples")
                      if name in model},
            "batch_size": config["data_loader"]["batch_sampler"]["batch_size"],
            "heldout_data": os.path.basename(config["validation_data_path"]),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", required=True, help="finished xlner_bilm serialization directories")
    parser.add_argument("--conditions", required=True, help="how the runs were made (threads, concurrent jobs)")
    parser.add_argument("--output", default=results_path("bilm_training"), help="records file (appended to)")
    args = parser.parse_args()
    recorder = Recorder("bilm_training", vars(args), args.output)
    print("language | epochs | tokens | wall (min) | tok/s | heldout ppl fwd / bwd")
    for directory in args.runs:
        record = run_record(directory)
        record["numbers"]["conditions"] = args.conditions
        recorder.record(record["key"], record["numbers"])
        values = record["numbers"]
        print(f"{record['key']['language']} | {values['epochs']} | {values['train_tokens']:,} | "
              f"{values['wall_s'] / 60:.1f} | {values['tokens_per_second']:,.0f} | "
              f"{values['heldout_forward_perplexity']:.1f} / {values['heldout_backward_perplexity']:.1f}", flush=True)
    print(f"{len(args.runs)} records appended to {args.output}")


if __name__ == "__main__":
    main()
