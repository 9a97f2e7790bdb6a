"""Multi-task bilingual embeddings (Wang, Peng & Duh 2017), their Table 2 on our data.

For each target language, dimension d, regime (Baseline, FJ, HFJ) and seed: learn the space from
the comparable corpus ``comparable/en-<xx>.pairs.jsonl.gz`` jointly with the unigram NER model on
English CoNLL-2003 train, then tag the target dev set zero-shot. Reports span F1 over PER/LOC/ORG
(the paper's three types) and over all four CoNLL types, with the training wall time; one JSON
record per run is appended to ``benchmarks/results/multitask_bwe.jsonl``, and runs already
recorded for the same commit and settings are skipped on a re-run.

    OMP_NUM_THREADS=1 python benchmarks/multitask_bwe.py --languages es de --dims 64 128 256 512 \
        --regimes baseline fj hfj --seeds 13 42 7
"""
import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
import torch

from xlner_allennlp.data.dataset_readers.conll import read_conll_sentences
from xlner_allennlp.data.dataset_readers.tag_encoding import convert_iob, tags_to_spans
from xlner_allennlp.multitask import (
    REGIMES,
    MultitaskBwe,
    MultitaskBweSettings,
    TaggedVocabulary,
    TrainingSettings,
    read_pairs,
    singleton_rows,
    split_pair,
    train_multitask_bwe,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEV = {
    "es": ("ner/es/conll2002/esp.testa", "utf-8"),
    "nl": ("ner/nl/conll2002/ned.testa", "utf-8"),
    "de": ("ner/de/conll2003/deu.testa", "latin-1"),
    "fr": ("ner/fr/wikineural/val.tsv", "utf-8"),
}
ENGLISH_TRAIN = "ner/en/conll2003/eng.train"
PAPER_TYPES = ("PER", "LOC", "ORG")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="+", default=["es", "de"], choices=sorted(DEV))
    parser.add_argument("--dims", nargs="+", type=int, default=[64, 128, 256, 512])
    parser.add_argument("--regimes", nargs="+", default=list(REGIMES), choices=REGIMES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 42, 7])
    parser.add_argument("--update-pairs", type=int, default=TrainingSettings.update_pairs)
    parser.add_argument("--data", default=os.environ.get("XLNER_DATA", os.path.join(ROOT, "..", "shared", "data")))
    parser.add_argument("--output", default=os.path.join(ROOT, "benchmarks", "results", "multitask_bwe.jsonl"))
    return parser.parse_args()


def iob2_sentences(path: str, encoding: str) -> List[Tuple[List[str], List[str]]]:
    return [(s.tokens, convert_iob(s.tags, "IOB2")) for s in read_conll_sentences(path, encoding)]


def span_f1(gold: Sequence[List[str]], predicted: Sequence[List[str]], types: Sequence[str]) -> Dict[str, float]:
    """Micro span F1 (percent) over the entities of ``types``."""
    true_positive = n_gold = n_predicted = 0
    for gold_tags, predicted_tags in zip(gold, predicted):
        gold_spans = {s for s in tags_to_spans(gold_tags, "IOB2") if s.type in types}
        predicted_spans = {s for s in tags_to_spans(predicted_tags, "IOB2") if s.type in types}
        true_positive += len(gold_spans & predicted_spans)
        n_gold += len(gold_spans)
        n_predicted += len(predicted_spans)
    precision = true_positive / n_predicted if n_predicted else 0.0
    recall = true_positive / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": 100 * precision, "recall": 100 * recall, "f1": 100 * f1}


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def recorded(path: str) -> List[Dict[str, Any]]:
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def append_record(path: str, record: Dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


_PREPARED: Dict[Tuple[str, int, int], Tuple[Any, ...]] = {}


def prepare(language: str, settings: MultitaskBweSettings, args: argparse.Namespace, english, tag_names) -> Tuple[Any, ...]:
    """Vocabulary, encoded NER sentences and encoded corpus, shared by the runs that agree on them."""
    key = (language, settings.min_count, settings.max_document_tokens)
    if key not in _PREPARED:
        pairs = [piece for pair in read_pairs(os.path.join(args.data, "comparable", f"en-{language}.pairs.jsonl.gz"), language)
                 for piece in split_pair(pair, settings.max_document_tokens)]
        documents = [("en", p.source) for p in pairs] + [(language, p.target) for p in pairs]
        vocabulary = TaggedVocabulary.build(
            documents, ["en", language], settings.min_count, (("en", t) for tokens, _ in english for t in tokens)
        )
        tag_index = {tag: i for i, tag in enumerate(tag_names)}
        ner = [(vocabulary.encode(tokens, "en"), np.asarray([tag_index[t] for t in tags])) for tokens, tags in english]
        corpus = [(vocabulary.encode(p.source, "en"), vocabulary.encode(p.target, language)) for p in pairs]
        _PREPARED[key] = (vocabulary, ner, corpus, len(pairs))
    return _PREPARED[key]


def run(language: str, dim: int, regime: str, seed: int, args: argparse.Namespace, english, tag_names) -> Dict[str, Any]:
    settings = MultitaskBweSettings(dim=dim, regime=regime, seed=seed)
    training = TrainingSettings(update_pairs=args.update_pairs)
    start = time.perf_counter()
    vocabulary, ner, corpus, pieces = prepare(language, settings, args, english, tag_names)
    model = MultitaskBwe(vocabulary, len(tag_names), settings)
    model.set_singletons(singleton_rows(vocabulary, (tokens for tokens, _ in english), "en"))
    prepare_seconds = time.perf_counter() - start
    losses = train_multitask_bwe(model, ner, corpus, training, log=lambda m: print(f"  {m}", flush=True))
    dev_path, encoding = DEV[language]
    dev = iob2_sentences(os.path.join(args.data, dev_path), encoding)
    predicted = []
    with torch.no_grad():
        for tokens, _ in dev:
            ids = torch.from_numpy(vocabulary.encode(tokens, language)).unsqueeze(0)
            predicted.append([tag_names[i] for i in model.predict(ids)[0].tolist()])
    gold = [tags for _, tags in dev]
    all_types = sorted({s.type for tags in gold for s in tags_to_spans(tags, "IOB2")})
    dev_oov = float(np.mean([i == vocabulary.oov(language) for tokens, _ in dev for i in vocabulary.encode(tokens, language)]))
    return {
        "settings": {"language": language, **asdict(settings), **asdict(training)},
        "f1_per_loc_org": span_f1(gold, predicted, PAPER_TYPES)["f1"],
        "f1_all_types": span_f1(gold, predicted, all_types)["f1"],
        "scores_all_types": span_f1(gold, predicted, all_types),
        "vocabulary": {"en": int(vocabulary.language_mask("en").sum()), language: int(vocabulary.language_mask(language).sum())},
        "dev_oov_rate": dev_oov,
        "document_pieces": pieces,
        "prepare_seconds": prepare_seconds,
        **losses,
        "wall_seconds": time.perf_counter() - start,
    }


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    english = iob2_sentences(os.path.join(args.data, ENGLISH_TRAIN), "utf-8")
    tag_names = sorted({t for _, tags in english for t in tags})
    head = commit()
    done = {json.dumps(r["settings"], sort_keys=True) for r in recorded(args.output) if r.get("commit") == head}
    command = " ".join(["python"] + [shlex.quote(a) for a in sys.argv])
    table: Dict[Tuple[str, int, str], List[Dict[str, Any]]] = defaultdict(list)
    for language in args.languages:
        for dim in args.dims:
            for regime in args.regimes:
                for seed in args.seeds:
                    key = {"language": language, **asdict(MultitaskBweSettings(dim=dim, regime=regime, seed=seed)),
                           **asdict(TrainingSettings(update_pairs=args.update_pairs))}
                    if json.dumps(key, sort_keys=True) in done:
                        print(f"skip {language} d={dim} {regime} seed {seed}: recorded for {head[:10]}")
                        continue
                    print(f"run {language} d={dim} {regime} seed {seed}", flush=True)
                    numbers = run(language, dim, regime, seed, args, english, tag_names)
                    record = {
                        "commit": head,
                        "command": command,
                        "machine": {"cores": os.cpu_count(), "load": os.getloadavg()[0], "platform": platform.platform(),
                                    "torch_threads": torch.get_num_threads()},
                        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        **numbers,
                    }
                    append_record(args.output, record)
                    table[(language, dim, regime)].append(record)
                    print(f"  F1 PER/LOC/ORG {numbers['f1_per_loc_org']:.2f}  all {numbers['f1_all_types']:.2f}  "
                          f"{numbers['wall_seconds']:.0f} s", flush=True)
    print("\n| language | d | regime | F1 PER/LOC/ORG | F1 all types | runs | s/run |")
    print("|---|---|---|---|---|---|---|")
    for (language, dim, regime), records in table.items():
        def cell(name: str) -> str:
            values = [r[name] for r in records]
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            return f"{statistics.mean(values):.2f} ± {sd:.2f}"
        seconds = statistics.mean(r["wall_seconds"] for r in records)
        print(f"| {language} | {dim} | {regime} | {cell('f1_per_loc_org')} | {cell('f1_all_types')} | {len(records)} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
