"""Zero-shot dependency parsing benchmark: a biaffine parser trained on English UD EWT only,
evaluated on English dev and on every target dev set (es GSD, es AnCora, fr GSD, de GSD,
nl Alpino, nl LassySmall).

Configs: `parser_word` (aligned fastText), `parser_word_upos` (the same with 50-d gold UPOS) and
`parser_delex` (gold UPOS only). One model per config and seed; the target languages' vectors and
alignments are plugged into it by archive overrides (`evaluate_language`). Setting of every number:
single-source (English only), zero-shot, gold UPOS where the config reads it, UD dev sets; the
Dutch fastText vectors were trained on text that includes the UD Dutch dev/test sentences
(unlabelled), which each Dutch record flags. Also measures MST decoding against allennlp's
`decode_mst` on the English dev sentence lengths.

Each run appends one JSON record per (config, seed) to benchmarks/results/parser.jsonl:
commit, command, settings, machine {cores, load}, date, train wall time and seconds per epoch,
and per dev set UAS/LAS (punctuation excluded) and CoNLL 2018 UAS/LAS, with evaluation times.

    OMP_NUM_THREADS=1 python benchmarks/parser_zero_shot.py --configs parser_word --seeds 13 --epochs 1
"""
import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import time
from typing import Any, Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = {
    "parser_word": ("parser_word", {}),
    "parser_word_upos": ("parser_word", {"model.upos_embedding_dim": 50, "model.encoder.input_size": 350}),
    "parser_delex": ("parser_delex", {}),
}
LEXICAL = {"parser_word", "parser_word_upos"}
DEV_SETS = {
    "en_ewt": ("en", "ud/en/en_ewt-ud-dev.conllu"),
    "es_gsd": ("es", "ud/es/es_gsd-ud-dev.conllu"),
    "es_ancora": ("es", "ud/es/es_ancora-ud-dev.conllu"),
    "fr_gsd": ("fr", "ud/fr/fr_gsd-ud-dev.conllu"),
    "de_gsd": ("de", "ud/de/de_gsd-ud-dev.conllu"),
    "nl_alpino": ("nl", "ud/nl/nl_alpino-ud-dev.conllu"),
    "nl_lassysmall": ("nl", "ud/nl/nl_lassysmall-ud-dev.conllu"),
}
DUTCH_NOTE = "the nl fastText vectors were trained on text including the UD Dutch dev/test sentences (unlabelled)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 42, 7])
    parser.add_argument("--epochs", type=int, default=None, help="trainer.num_epochs (default: the config's)")
    parser.add_argument("--max-train", type=int, default=0, help="cap on English training sentences (0: all)")
    parser.add_argument("--dev-sets", nargs="+", default=list(DEV_SETS), choices=list(DEV_SETS))
    parser.add_argument("--data", default=os.environ.get("XLNER_DATA", os.path.join(ROOT, "..", "shared", "data")))
    parser.add_argument("--alignments", default=os.path.join(ROOT, "artifacts", "alignments"))
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "parser_zero_shot"))
    parser.add_argument("--output", default=os.path.join(ROOT, "benchmarks", "results", "parser.jsonl"))
    parser.add_argument("--mst-only", action="store_true", help="only measure MST decoding speed")
    return parser.parse_args()


def machine() -> Dict[str, Any]:
    return {"cores": os.cpu_count(), "load": os.getloadavg()[0], "omp_threads": os.environ.get("OMP_NUM_THREADS")}


def commit() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def append_record(path: str, record: Dict[str, Any]) -> None:
    """Append one JSON line (a single write of a whole line, so a record is never half there)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")


def measure_mst(args: argparse.Namespace) -> Dict[str, Any]:
    """Seconds to decode the English dev sentence lengths with random log-softmax scores."""
    import numpy as np
    import torch
    from allennlp.nn.chu_liu_edmonds import decode_mst as allennlp_decode_mst

    from xlner_allennlp.data.dataset_readers import read_conllu_sentences
    from xlner_allennlp.parsing import decode_mst

    lengths = [len(s.words) for s in read_conllu_sentences(os.path.join(args.data, DEV_SETS["en_ewt"][1]))]
    rng = np.random.default_rng(0)
    matrices = [torch.log_softmax(torch.from_numpy(rng.standard_normal((n + 1, n + 1)) * 3), dim=0).numpy()
                for n in lengths]
    start = time.perf_counter()
    for scores in matrices:
        decode_mst(scores)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for scores, n in zip(matrices, lengths):
        allennlp_decode_mst(scores, n + 1, has_labels=False)
    theirs = time.perf_counter() - start
    return {"sentences": len(lengths), "xlner_decode_mst_s": round(ours, 3), "allennlp_decode_mst_s": round(theirs, 3)}


def train(name: str, seed: int, args: argparse.Namespace) -> Dict[str, Any]:
    config, overrides = CONFIGS[name]
    overrides = dict(overrides, random_seed=seed, numpy_seed=seed, pytorch_seed=seed)
    if args.epochs is not None:
        overrides["trainer.num_epochs"] = args.epochs
    if args.max_train:
        overrides["dataset_reader.max_instances"] = args.max_train
    serialization = os.path.join(args.runs, f"{name}-seed{seed}")
    command = [
        os.path.join(os.path.dirname(sys.executable), "allennlp"), "train",
        os.path.join(ROOT, "training_config", f"{config}.jsonnet"), "-s", serialization, "--force",
        "-o", json.dumps(overrides), "--include-package", "xlner_allennlp",
    ]
    env = dict(os.environ, XLNER_DATA=args.data, XLNER_ALIGNMENTS=args.alignments)
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    with open(os.path.join(serialization, "metrics.json"), encoding="utf-8") as handle:
        metrics = json.load(handle)
    epochs = metrics["training_epochs"] + 1 if "training_epochs" in metrics else metrics["epoch"] + 1
    return {
        "archive": os.path.join(serialization, "model.tar.gz"),
        "train_command": " ".join(shlex.quote(part) for part in command),
        "overrides": overrides,
        "train_wall_s": round(wall, 1),
        "epochs": epochs,
        "training_duration": metrics.get("training_duration"),
        "best_epoch": metrics.get("best_epoch"),
    }


def evaluate(archive: str, name: str, dev_set: str, args: argparse.Namespace) -> Dict[str, Any]:
    from xlner_allennlp.commands.evaluate_language import evaluate_language

    language, path = DEV_SETS[dev_set]
    vectors = alignment = None
    if name in LEXICAL and language != "en":
        alignment = os.path.join(args.alignments, f"{language}-en")
        if not os.path.isfile(os.path.join(alignment, "meta.json")):
            return {"skipped": f"no alignment artifact {alignment} (build it with `make {alignment}/meta.json`)"}
        vectors = os.path.join(args.data, "emb", f"{language}.npy")
    start = time.perf_counter()
    metrics = evaluate_language(archive, language, os.path.join(args.data, path), vectors, alignment)
    result = {key: round(100 * metrics[key], 2) for key in ("UAS", "LAS", "conll18_UAS", "conll18_LAS")}
    result["eval_wall_s"] = round(time.perf_counter() - start, 1)
    if language == "nl" and name in LEXICAL:
        result["note"] = DUTCH_NOTE
    return result


def main() -> None:
    args = parse_args()
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    base = {"commit": commit(), "command": " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv),
            "machine": machine(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    mst = measure_mst(args)
    append_record(args.output, dict(base, settings={"kind": "mst_speed"}, **mst))
    print(json.dumps(mst))
    if args.mst_only:
        return
    for name in args.configs:
        for seed in args.seeds:
            run = train(name, seed, args)
            dev = {dev_set: evaluate(run["archive"], name, dev_set, args) for dev_set in args.dev_sets}
            settings = {
                "kind": "zero_shot_parsing",
                "config": name,
                "seed": seed,
                "overrides": run.pop("overrides"),
                "max_train": args.max_train,
                "setting": "single-source English EWT, zero-shot, UD dev sets"
                + (", gold UPOS" if name != "parser_word" else ", no POS"),
            }
            record = dict(base, machine=machine(), settings=settings, dev=dev, **run)
            append_record(args.output, record)
            print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
