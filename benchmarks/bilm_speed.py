"""Training speed and heldout perplexity of the default `xlner_bilm` (training_config/bilm.jsonnet).

Builds the reader, vocabulary, model and optimizer from the config exactly as `allennlp train`
does, on the first `--sentences` sentences of `text/<language>.train.txt.gz`; trains for at most
`--seconds` seconds (one pass at most; batches of the config's size, bucketed by length and
shuffled), then measures forward/backward perplexity with the full softmax on the first
`--heldout-sentences` sentences of `<language>.heldout.txt.gz`. Training tokens are the words of
the sentences (boundaries not counted); tokens/s is measured two ways: the whole step loop
(tensorizing the batch + forward + backward + optimizer step) and the model alone (forward +
backward + step). Appends one record (``benchmarks/records.py``; its key the language, sentence
counts, time budget and config overrides) to benchmarks/results/bilm.jsonl.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bilm_speed.py --language en --sentences 20000 --seconds 300
"""
import argparse
import itertools
import json
import math
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.records import Recorder, results_path  # noqa: E402
from xlner_allennlp.data_layout import data_root  # noqa: E402

CONFIG = os.path.join(ROOT, "training_config", "bilm.jsonnet")
CORPUS_TOKENS = 4_000_000  # size of each text/<language>.train.txt.gz (../shared/data/README.md)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=data_root(), help="data root (default: $XLNER_DATA, else the layout's)")
    parser.add_argument("--language", default="en")
    parser.add_argument("--sentences", type=int, default=20000, help="first N training sentences")
    parser.add_argument("--heldout-sentences", type=int, default=2000, help="first N heldout sentences")
    parser.add_argument("--seconds", type=float, default=300.0, help="training time budget")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--overrides", default="{}", help="JSON overrides of the config, as allennlp's -o")
    parser.add_argument("--output", default=results_path("bilm"), help="records file (appended to)")
    return parser.parse_args()


def batches_of(instances, size: int, seed: int):
    """Batches of `size` instances of similar length (sorted, then the batches shuffled)."""
    ordered = sorted(instances, key=lambda instance: len(instance["tokens"]))
    batches = [ordered[start: start + size] for start in range(0, len(ordered), size)]
    random.Random(seed).shuffle(batches)
    return batches


def tensorize(instances, vocab):
    from allennlp.data import Batch

    batch = Batch(instances)
    batch.index_instances(vocab)
    return batch.as_tensor_dict()


def main() -> None:
    args = parse_args()
    recorder = Recorder("bilm", vars(args), args.output)
    import numpy as np
    import torch
    from allennlp.common import Params
    from allennlp.data import DatasetReader, Vocabulary
    from allennlp.models import Model
    from allennlp.training.optimizers import Optimizer

    import xlner_allennlp.plugin  # noqa: F401  (registers the components)

    torch.set_num_threads(args.threads)
    paths = {split: os.path.join(args.data, "text", f"{args.language}.{split}.txt.gz") for split in ("train", "heldout")}
    for path in paths.values():
        if not os.path.isfile(path):
            sys.exit(f"bilm_speed: {path} not found; set --data or XLNER_DATA to the data directory")
    overrides = json.loads(args.overrides)
    params = Params.from_file(CONFIG, json.dumps(overrides), ext_vars={"XLNER_DATA": args.data, "XLNER_LANGUAGE": args.language})
    seed = params["random_seed"]
    random.seed(seed), np.random.seed(params["numpy_seed"]), torch.manual_seed(params["pytorch_seed"])
    batch_size = params["data_loader"]["batch_sampler"]["batch_size"]

    started = time.perf_counter()
    reader = DatasetReader.from_params(params.pop("dataset_reader"))
    train = list(itertools.islice(reader.read(paths["train"]), args.sentences))
    heldout = list(itertools.islice(reader.read(paths["heldout"]), args.heldout_sentences))
    vocab = Vocabulary.from_params(params.pop("vocabulary"), instances=train)
    model = Model.from_params(vocab=vocab, params=params.pop("model"))
    optimizer = Optimizer.from_params(
        model_parameters=[[n, p] for n, p in model.named_parameters() if p.requires_grad],
        params=params["trainer"].pop("optimizer"),
    )
    setup_seconds = time.perf_counter() - started

    model.train()
    tokens = sentences = steps = 0
    loop_seconds = model_seconds = 0.0
    losses = []
    for batch_instances in batches_of(train, batch_size, seed):
        if loop_seconds >= args.seconds:
            break
        step_started = time.perf_counter()
        batch = tensorize(batch_instances, vocab)
        model_started = time.perf_counter()
        optimizer.zero_grad()
        loss = model(**batch)["loss"]
        loss.backward()
        optimizer.step()
        now = time.perf_counter()
        model_seconds += now - model_started
        loop_seconds += now - step_started
        losses.append(loss.item())
        tokens += sum(len(instance["tokens"]) for instance in batch_instances)
        sentences += len(batch_instances)
        steps += 1
    model.get_metrics(reset=True)

    model.eval()
    evaluation_started = time.perf_counter()
    with torch.no_grad():
        for batch_instances in batches_of(heldout, batch_size, seed):
            model(**tensorize(batch_instances, vocab))
    heldout_metrics = model.get_metrics(reset=True)
    evaluation_seconds = time.perf_counter() - evaluation_started

    tokens_per_second = tokens / loop_seconds
    key = {"language": args.language, "train_sentences": len(train), "heldout_sentences": len(heldout),
           "seconds_budget": args.seconds, "overrides": overrides}
    numbers = {
        "config": "training_config/bilm.jsonnet", "threads": args.threads, "batch_size": batch_size,
        "vocabulary_size": vocab.get_vocab_size("tokens"),
        "network_parameters": sum(p.numel() for p in model.network.parameters()),
        "softmax_parameters": sum(p.numel() for p in model.parameters()) - sum(p.numel() for p in model.network.parameters()),
        "setup_seconds": round(setup_seconds, 1),
        "train_steps": steps,
        "train_tokens": tokens,
        "train_sentences_seen": sentences,
        "train_seconds": round(loop_seconds, 1),
        "train_tokens_per_second": round(tokens_per_second, 1),
        "model_tokens_per_second": round(tokens / model_seconds, 1),
        "train_loss_first_50_steps": round(sum(losses[:50]) / max(len(losses[:50]), 1), 4),
        "train_loss_last_50_steps": round(sum(losses[-50:]) / max(len(losses[-50:]), 1), 4),
        "heldout_forward_perplexity": round(heldout_metrics["forward_perplexity"], 2),
        "heldout_backward_perplexity": round(heldout_metrics["backward_perplexity"], 2),
        "heldout_seconds": round(evaluation_seconds, 1),
        "projected_minutes_per_epoch_of_4M_tokens": round(CORPUS_TOKENS / tokens_per_second / 60, 1),
        "projection_note": "projection from the measured tokens/s, not a measured 4M-token run",
    }
    print(json.dumps(recorder.record(key, numbers), indent=2))
    if not math.isfinite(heldout_metrics["perplexity"]):
        sys.exit("bilm_speed: heldout perplexity is not finite")


if __name__ == "__main__":
    main()
