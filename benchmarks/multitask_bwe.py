"""Multi-task bilingual embeddings (Wang, Peng & Duh 2017), their Table 2 on our data.

For each target language, dimension d, regime (Baseline, FJ, HFJ) and seed: learn the space from
the comparable corpus ``comparable/en-<xx>.pairs.jsonl.gz`` jointly with the unigram NER model on
English CoNLL-2003 train, then tag the target dev set zero-shot. Reports span F1 over PER/LOC/ORG
(the paper's three types) and over all four CoNLL types, with the training wall time; one record
(``benchmarks/records.py``; its key the run's language and settings) per run is appended to
``benchmarks/results/multitask_bwe.jsonl``, and runs already recorded for the same key at the same
commit, without uncommitted changes, are skipped on a re-run. The NER files are the data layout's.

    OMP_NUM_THREADS=1 python benchmarks/multitask_bwe.py --languages es de --dims 64 128 256 512 \
        --regimes baseline fj hfj --seeds 13 42 7
"""
import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import asdict
from typing import Any, Dict, List, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.records import Recorder, git_state, read_records, results_path  # noqa: E402
from xlner_allennlp.alignment import load_alignment, load_vectors  # noqa: E402
from xlner_allennlp.data.dataset_readers.conll import read_conll_sentences  # noqa: E402
from xlner_allennlp.tag_encoding import convert_iob, tags_to_spans  # noqa: E402
from xlner_allennlp.data_layout import data_root, encoding, languages, path as data_path  # noqa: E402
from xlner_allennlp.multitask import (  # noqa: E402
    NER_MODELS,
    REGIMES,
    MultitaskBwe,
    MultitaskBweSettings,
    TaggedVocabulary,
    TrainingSettings,
    export_space,
    initial_rows,
    read_pairs,
    singleton_rows,
    split_pair,
    train_multitask_bwe,
)

TARGETS = [language for language in languages() if language != "en"]
PAPER_TYPES = ("PER", "LOC", "ORG")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="+", default=["es", "de"], choices=TARGETS)
    parser.add_argument("--dims", nargs="+", type=int, default=[64, 128, 256, 512])
    parser.add_argument("--regimes", nargs="+", default=list(REGIMES), choices=REGIMES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 42, 7])
    parser.add_argument("--update-pairs", type=int, default=TrainingSettings.update_pairs)
    parser.add_argument("--ner-model", default=MultitaskBweSettings.ner_model, choices=NER_MODELS,
                        help="the Ln model: the paper's unigram one or the BiLSTM-CRF")
    parser.add_argument("--init", default="random", choices=["random", "aligned"],
                        help="V's start: word2vec's random one, or the aligned fastText vectors of the data layout "
                             "(the artifact --alignment/<language>-en maps the target side) by one joint PCA to d")
    parser.add_argument("--pretrain-pairs", type=int, default=TrainingSettings.pretrain_pairs,
                        help="Lm steps alone before the regime's schedule (an Lm-only start for FJ / HFJ)")
    parser.add_argument("--alignment", default=os.path.join(ROOT, "artifacts", "alignments", "procrustes-refine"),
                        help="directory of the <language>-en alignment artifacts (with --init aligned)")
    parser.add_argument("--device", default="cpu", help="torch device of the model, e.g. cuda:0 for the large d")
    parser.add_argument("--data", default=data_root(), help="data root (default: $XLNER_DATA, else the layout's)")
    parser.add_argument("--output", default=results_path("multitask_bwe"), help="records file (appended to)")
    parser.add_argument("--spaces", help="write each run's learned space (export_space) to "
                        "SPACES/<language>-d<d>-<regime>-seed<seed><variant>, <variant> -init-aligned and/or "
                        "-pretrain<N> when --init / --pretrain-pairs are set (see space_variant)")
    return parser.parse_args()


def iob2_sentences(path: str, text_encoding: str) -> List[Tuple[List[str], List[str]]]:
    return [(s.tokens, convert_iob(s.tags, "IOB2")) for s in read_conll_sentences(path, text_encoding)]


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


def space_variant(args: argparse.Namespace) -> str:
    """The suffix of a run's space directory that tells its start apart ("" for word2vec's)."""
    return ("-init-aligned" if args.init == "aligned" else "") + (f"-pretrain{args.pretrain_pairs}" if args.pretrain_pairs else "")


def aligned_vectors(language: str, args: argparse.Namespace) -> Dict[str, Tuple[List[str], np.ndarray]]:
    """English and ``language``'s fastText vectors of the data layout in one space: the artifact
    ``<language>-en`` under ``--alignment`` applied to each side (it must have passed its checks)."""
    directory = os.path.join(args.alignment, f"{language}-en")
    alignment = load_alignment(directory)
    alignment.require_passed(directory)
    spaces = {}
    for side_language in ("en", language):
        vectors = load_vectors(data_path(side_language, "vectors", args.data))
        spaces[side_language] = (vectors.words, alignment.apply(vectors.matrix, alignment.side_of(side_language, directory)))
    return spaces


def tag(model: MultitaskBwe, vocabulary: TaggedVocabulary, sentences, language: str, tag_names: Sequence[str]) -> List[List[str]]:
    """The model's tags for each of ``sentences`` ((tokens, tags) pairs) read as ``language``."""
    with torch.no_grad():
        device = model.embeddings.device
        return [[tag_names[i] for i in model.predict(torch.from_numpy(vocabulary.encode(tokens, language)).unsqueeze(0).to(device))[0].tolist()]
                for tokens, _ in sentences]


def recorded_keys(path: str) -> set:
    """The keys (as JSON) of the valid records of ``path`` measured at HEAD without uncommitted changes."""
    head = git_state()["commit"]
    return {json.dumps(r["key"], sort_keys=True) for r in read_records(path)
            if head and r["commit"] == head and not r.get("dirty") and "invalid" not in r}


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


def run(language: str, dim: int, regime: str, seed: int, args: argparse.Namespace, english, english_dev, tag_names) -> Dict[str, Any]:
    settings = MultitaskBweSettings(dim=dim, regime=regime, seed=seed, ner_model=args.ner_model)
    training = TrainingSettings(update_pairs=args.update_pairs, pretrain_pairs=args.pretrain_pairs)
    start = time.perf_counter()
    vocabulary, ner, corpus, pieces = prepare(language, settings, args, english, tag_names)
    model = MultitaskBwe(vocabulary, len(tag_names), settings).to(args.device)
    model.set_singletons(singleton_rows(vocabulary, (tokens for tokens, _ in english), "en"))
    if args.init == "aligned":
        model.set_rows(*initial_rows(vocabulary, aligned_vectors(language, args), dim))
    prepare_seconds = time.perf_counter() - start
    losses = train_multitask_bwe(model, ner, corpus, training, log=lambda m: print(f"  {m}", flush=True))
    dev = iob2_sentences(data_path(language, "dev", args.data), encoding(language, "dev"))
    predicted = tag(model, vocabulary, dev, language, tag_names)
    if args.spaces:
        export_space(model, os.path.join(args.spaces, f"{language}-d{dim}-{regime}-seed{seed}{space_variant(args)}"), language)
    gold = [tags for _, tags in dev]
    all_types = sorted({s.type for tags in gold for s in tags_to_spans(tags, "IOB2")})
    dev_oov = float(np.mean([i == vocabulary.oov(language) for tokens, _ in dev for i in vocabulary.encode(tokens, language)]))
    entity_oov = float(np.mean([i == vocabulary.oov(language) for tokens, tags in dev
                                for i, t in zip(vocabulary.encode(tokens, language), tags) if t != "O"]))
    english_predicted = tag(model, vocabulary, english_dev, "en", tag_names)
    return {
        "f1_per_loc_org": span_f1(gold, predicted, PAPER_TYPES)["f1"],
        "f1_all_types": span_f1(gold, predicted, all_types)["f1"],
        "scores_all_types": span_f1(gold, predicted, all_types),
        "vocabulary": {"en": int(vocabulary.language_mask("en").sum()), language: int(vocabulary.language_mask(language).sum())},
        "dev_oov_rate": dev_oov,
        "dev_entity_token_oov_rate": entity_oov,
        "english_dev_f1_all_types": span_f1([t for _, t in english_dev], english_predicted, all_types)["f1"],
        "document_pieces": pieces,
        "prepare_seconds": prepare_seconds,
        **losses,
        "wall_seconds": time.perf_counter() - start,
    }


def main() -> None:
    args = parse_args()
    recorder = Recorder("multitask_bwe", vars(args), args.output)
    torch.set_num_threads(1)
    english = iob2_sentences(data_path("en", "train", args.data), encoding("en", "train"))
    english_dev = iob2_sentences(data_path("en", "dev", args.data), encoding("en", "dev"))
    tag_names = sorted({t for _, tags in english for t in tags})
    done = recorded_keys(args.output)
    table: Dict[Tuple[str, int, str], List[Dict[str, Any]]] = defaultdict(list)
    for language in args.languages:
        for dim in args.dims:
            for seed in args.seeds:  # every regime of a seed before the next seed: a cut grid still compares them
                for regime in args.regimes:
                    key = {"language": language, **asdict(MultitaskBweSettings(dim=dim, regime=regime, seed=seed, ner_model=args.ner_model)),
                           **asdict(TrainingSettings(update_pairs=args.update_pairs, pretrain_pairs=args.pretrain_pairs))}
                    if not key["pretrain_pairs"]:
                        del key["pretrain_pairs"]  # the keys of runs without pretraining stay those they had
                    if args.init != "random":
                        key["init"] = f"{args.init}:{os.path.basename(os.path.normpath(args.alignment))}"
                    if json.dumps(key, sort_keys=True) in done:
                        print(f"skip {language} d={dim} {regime} seed {seed}: recorded for {recorder.git['commit'][:10]}")
                        continue
                    print(f"run {language} d={dim} {regime} seed {seed}", flush=True)
                    numbers = run(language, dim, regime, seed, args, english, english_dev, tag_names)
                    recorder.record(key, numbers)
                    table[(language, dim, regime)].append(numbers)
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
