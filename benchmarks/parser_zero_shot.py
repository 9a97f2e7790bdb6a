"""Zero-shot dependency parsing benchmark: a biaffine parser trained on English UD EWT only,
evaluated on English dev and on every target dev set (es GSD, es AnCora, fr GSD, de GSD,
nl Alpino, nl LassySmall).

Configs: `parser_word` (aligned fastText), `parser_word_upos` (the same with 50-d gold UPOS),
`parser_word_unaligned` (each language's own fastText vectors, not mapped: the no-alignment
baseline of `parser_word`), `parser_delex` (gold UPOS only) and `parser_elmo` (ELMo layer 1, from
`--elmo-artifacts`; one English run recorded twice: `parser_elmo` with each target's ELMo mapped by
its layer alignment, skipped where that alignment failed its checks, and `parser_elmo_unaligned`
with it only divided by its anchors' mean token norm). One model per config and seed; the target languages' vectors and
alignments are plugged into it by archive overrides (`evaluate_language`). Setting of every number:
single-source (English only), zero-shot, gold UPOS where the config reads it, UD dev sets; the
Dutch fastText vectors were trained on text that includes the UD Dutch dev/test sentences
(unlabelled), which each Dutch record flags. Also measures MST decoding against allennlp's
`decode_mst` on the English dev sentence lengths.

Each run appends records (``benchmarks/records.py``) to benchmarks/results/parser.jsonl: one for
the MST speed (key ``{"kind": "mst_speed"}``) and one per (config, seed) (key ``{"kind":
"zero_shot_parsing", "config", "seed"}``, and ``"selected_on"``: the treebank under `--selection
target`) with the train wall time, epochs, and per dev set UAS/LAS (punctuation excluded) and CoNLL
2018 UAS/LAS, with evaluation times. The treebanks are the data
layout's (``xlner_allennlp/data_layout.json``, ``treebanks``).

    OMP_NUM_THREADS=1 python benchmarks/parser_zero_shot.py --configs parser_word --seeds 13 --epochs 1
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.ner_zero_shot import elmo_entry  # noqa: E402
from benchmarks.records import Recorder, results_path  # noqa: E402
from xlner_allennlp.file_utils import atomic_write_text  # noqa: E402
from xlner_allennlp.data_layout import (  # noqa: E402
    data_root, path, treebank, treebank_language, treebank_selection_overrides, treebanks,
)

CONFIGS = {
    "parser_word": ("parser_word", {}),
    "parser_word_upos": ("parser_word", {"model.upos_embedding_dim": 50, "model.encoder.input_size": 350}),
    "parser_word_unaligned": ("parser_word_unaligned", {}),
    "parser_delex": ("parser_delex", {}),
    "parser_elmo": ("parser_elmo", {}),
}
# The records of one parser_elmo run: aligned ELMo of each target, and the unaligned baseline.
ELMO_RECORDS = {"parser_elmo": True, "parser_elmo_unaligned": False}
LEXICAL = {"parser_word", "parser_word_upos", "parser_word_unaligned"}
UNALIGNED = {"parser_word_unaligned"}
DUTCH_NOTE = "the nl fastText vectors were trained on text including the UD Dutch dev/test sentences (unlabelled)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 42, 7])
    parser.add_argument("--epochs", type=int, default=None, help="trainer.num_epochs (default: the config's)")
    parser.add_argument("--max-train", type=int, default=0, help="cap on English training sentences (0: all)")
    parser.add_argument("--dev-sets", nargs="+", default=treebanks(), choices=treebanks(),
                        help="UD treebanks of the data layout whose dev set is evaluated")
    parser.add_argument("--data", default=data_root(), help="data root (default: $XLNER_DATA, else the layout's)")
    parser.add_argument("--alignments", default=os.path.join(ROOT, "artifacts", "alignments", "procrustes-refine"),
                        help="directory of the <lang>-en artifacts; they must place English alike (not multistep's)")
    parser.add_argument("--elmo-artifacts", default=os.path.join(ROOT, "artifacts"),
                        help="parser_elmo: DIR/elmo/<l>, DIR/anchors/<l> (`make elmo LANGUAGE=<l>`) and "
                             "DIR/elmo_alignments/<l>-en (made when missing)")
    parser.add_argument("--selection", choices=["source", "target"], default="source",
                        help="model selection on English dev (one model per config and seed, evaluated on every "
                             "dev set) or on each target treebank's dev set (one model per target treebank, "
                             "evaluated on it)")
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "parser_zero_shot"))
    parser.add_argument("--output", default=results_path("parser"), help="records file (appended to)")
    parser.add_argument("--mst-only", action="store_true", help="only measure MST decoding speed")
    parser.add_argument("--breakdown", action="store_true",
                        help="train nothing: score the finished English-dev-selected runs of --configs and --seeds "
                             "on --dev-sets by the dependents' gold UPOS (records keyed kind 'breakdown')")
    return parser.parse_args()


def measure_mst(args: argparse.Namespace) -> Dict[str, Any]:
    """Seconds to decode the English dev sentence lengths with random log-softmax scores (ours
    single-rooted, as UD requires; allennlp's `decode_mst` is not, so its trees with several root
    arcs are counted)."""
    import numpy as np
    import torch
    from allennlp.nn.chu_liu_edmonds import decode_mst as allennlp_decode_mst

    from xlner_allennlp.data.dataset_readers import read_conllu_sentences
    from xlner_allennlp.parsing import decode_mst

    lengths = [len(s.words) for s in read_conllu_sentences(treebank("en_ewt", "dev", args.data))]
    rng = np.random.default_rng(0)
    matrices = [torch.log_softmax(torch.from_numpy(rng.standard_normal((n + 1, n + 1)) * 3), dim=0).numpy()
                for n in lengths]
    start = time.perf_counter()
    for scores in matrices:
        decode_mst(scores)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    theirs_trees = [allennlp_decode_mst(scores, n + 1, has_labels=False)[0] for scores, n in zip(matrices, lengths)]
    theirs = time.perf_counter() - start
    multi_root = sum(int(np.count_nonzero(heads[1:] == 0) > 1) for heads in theirs_trees)
    return {"sentences": len(lengths), "xlner_decode_mst_s": round(ours, 3), "allennlp_decode_mst_s": round(theirs, 3),
            "allennlp_multi_root_trees": multi_root}


def plan(name: str, seed: int, selected_on: Optional[str], args: argparse.Namespace) -> Tuple[str, Dict[str, Any], str]:
    """(run directory, config overrides, XLNER_TARGET) of the run of config `name` with `seed`,
    selected on English dev (`selected_on` None: the model holds Spanish vectors, replaced by each
    evaluation's own language) or on the dev set of the treebank `selected_on` (the model holds its
    language's vectors or ELMo)."""
    config, overrides = CONFIGS[name]
    overrides = dict(overrides, random_seed=seed, numpy_seed=seed, pytorch_seed=seed)
    if args.epochs is not None:
        overrides["trainer.num_epochs"] = args.epochs
    if args.max_train:
        overrides["dataset_reader.max_instances"] = args.max_train
    target = "es" if selected_on is None else treebank_language(selected_on)
    if selected_on is not None:
        overrides.update(treebank_selection_overrides(selected_on, args.data))
    if name == "parser_elmo":
        # Selected on English dev, the model never runs the target's ELMo in training: its entry
        # (unaligned) is replaced by each evaluation's own. Selected on a target, it runs it aligned.
        overrides["model.text_field_embedder.token_embedders.elmo.languages"] = {
            "en": {**elmo_entry("en", args), "side": "reference"},
            target: elmo_entry(target, args, aligned=selected_on is not None),
        }
    directory = f"{name}-seed{seed}" if selected_on is None else f"{name}-{selected_on}-seed{seed}"
    return os.path.join(args.runs, directory), overrides, target


def previous_run(serialization: str, overrides: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """What `train` wrote of the run in `serialization` (`benchmark_run.json`: its overrides, and
    once finished its archive and times), or None if there is none with these `overrides`."""
    run_file = os.path.join(serialization, "benchmark_run.json")
    if not os.path.isfile(run_file):
        return None
    with open(run_file, encoding="utf-8") as handle:
        previous = json.load(handle)
    return previous if previous.get("overrides") == overrides else None


def train(name: str, seed: int, selected_on: Optional[str], args: argparse.Namespace) -> Dict[str, Any]:
    """Trains the run `plan` describes, or reuses it: a finished one (same overrides) is not
    retrained, an interrupted one resumes with `--recover` (the run's time is then only that of the
    resumed part, flagged `resumed`)."""
    serialization, overrides, target = plan(name, seed, selected_on, args)
    archive = os.path.join(serialization, "model.tar.gz")
    run_file = os.path.join(serialization, "benchmark_run.json")
    previous = previous_run(serialization, overrides)
    if previous is not None and "train_wall_s" in previous and os.path.isfile(archive):
        return dict(previous, reused=True)
    resume = previous is not None and os.path.isfile(os.path.join(serialization, "config.json"))
    command = [
        os.path.join(os.path.dirname(sys.executable), "allennlp"), "train",
        os.path.join(ROOT, "training_config", f"{CONFIGS[name][0]}.jsonnet"), "-s", serialization,
        "--recover" if resume else "--force",
        "-o", json.dumps(overrides), "--include-package", "xlner_allennlp",
    ]
    if not resume:
        os.makedirs(serialization, exist_ok=True)
        atomic_write_text(run_file, json.dumps({"overrides": overrides}))
    env = dict(os.environ, XLNER_DATA=args.data, XLNER_ALIGNMENTS=args.alignments, XLNER_TARGET=target)
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    with open(os.path.join(serialization, "metrics.json"), encoding="utf-8") as handle:
        metrics = json.load(handle)
    epochs = metrics["training_epochs"] + 1 if "training_epochs" in metrics else metrics["epoch"] + 1
    run = {
        "archive": archive,
        "train_command": " ".join(shlex.quote(part) for part in command),
        "overrides": overrides,
        "train_wall_s": round(wall, 1),
        "resumed": resume,
        "epochs": epochs,
        "training_duration": metrics.get("training_duration"),
        "best_epoch": metrics.get("best_epoch"),
    }
    atomic_write_text(run_file, json.dumps(run))
    return run


class Skipped(Exception):
    """A dev set a run cannot be scored on (a missing or failed artifact): the record says why."""


def plug_in(name: str, language: str, args: argparse.Namespace) -> Dict[str, Any]:
    """The `evaluate_language` arguments that plug `language` into a run of config `name` (or for
    the ELMo parser a record name of `ELMO_RECORDS`): its vectors and alignment, or its ELMo entry;
    none for English or a delexicalised parser. `Skipped` if an artifact is missing or failed."""
    from xlner_allennlp.alignment.artifact import ArtifactError

    if language == "en":
        return {}
    if name in ELMO_RECORDS:
        try:
            return {"elmo": elmo_entry(language, args, aligned=ELMO_RECORDS[name])}
        except (FileNotFoundError, ArtifactError) as error:
            raise Skipped(str(error)) from error
    if name not in LEXICAL:
        return {}
    vectors = path(language, "vectors", args.data)
    if name in UNALIGNED:
        return {"vectors": vectors}
    alignment = os.path.join(args.alignments, f"{language}-en")
    if not os.path.isfile(os.path.join(alignment, "meta.json")):
        raise Skipped(f"no alignment artifact {alignment} (build it with `make {alignment}/meta.json`)")
    return {"vectors": vectors, "alignment": alignment}


def evaluate(archive: str, name: str, dev_set: str, args: argparse.Namespace) -> Dict[str, Any]:
    """UAS/LAS of `archive` (a run of config `name`, or for the ELMo parser a record name of
    `ELMO_RECORDS`) on `dev_set`, or why it was skipped."""
    from xlner_allennlp.commands.evaluate_language import evaluate_language

    language = treebank_language(dev_set)
    try:
        plugged = plug_in(name, language, args)
    except Skipped as skipped:
        return {"skipped": str(skipped)}
    start = time.perf_counter()
    metrics = evaluate_language(archive, language, treebank(dev_set, "dev", args.data), **plugged)
    result = {key: round(100 * metrics[key], 2) for key in ("UAS", "LAS", "conll18_UAS", "conll18_LAS")}
    result["eval_wall_s"] = round(time.perf_counter() - start, 1)
    if language == "nl" and name in LEXICAL:
        result["note"] = DUTCH_NOTE
    return result


def breakdown(archive: str, name: str, dev_set: str, args: argparse.Namespace) -> Dict[str, Any]:
    """Per gold UPOS tag of the dependent (`attachment_by_upos`, punctuation left out): UAS, LAS
    and the relation accuracy where the head is right of `archive` on `dev_set`, in percent; and
    for a lexical config the share of the treebank's scored words without a vector (the OOV row)."""
    from xlner_allennlp.analysis import attachment_by_upos, predicted_trees
    from xlner_allennlp.commands.evaluate_language import load_with_language
    from xlner_allennlp.language_vectors import lookup_row, word_index
    from xlner_allennlp.models.biaffine_parser import PUNCTUATION_UPOS

    language = treebank_language(dev_set)
    try:
        plugged = plug_in(name, language, args)
    except Skipped as skipped:
        return {"skipped": str(skipped)}
    model, reader = load_with_language(archive, language, **plugged)
    instances = list(reader.read(treebank(dev_set, "dev", args.data)))
    trees = predicted_trees(model, instances)
    gold = [(i["metadata"]["upos"], i["heads"].labels, i["relations"].labels) for i in instances]
    scores = attachment_by_upos([(*g, heads, relations) for g, (heads, relations) in zip(gold, trees)])
    result: Dict[str, Any] = {"by_upos": {
        tag: {key: (value if key == "words" else round(100 * value, 2)) for key, value in values.items()}
        for tag, values in scores.items()
    }}
    if name in LEXICAL:
        index = word_index(path(language, "vectors", args.data))
        words = [word for i in instances for word, tag in zip(i["metadata"]["words"], i["metadata"]["upos"])
                 if tag not in PUNCTUATION_UPOS]
        result["oov_share"] = round(100 * sum(lookup_row(word, index) is None for word in words) / len(words), 2)
    return result


def check_alignments(args: argparse.Namespace) -> None:
    """Exit before any training if the aligned configs' artifacts cannot share one model: each
    target's artifact must exist, have passed its checks and place English as the others do (the
    test of `xlner_aligned_embedding`, whose refusal would otherwise come after training)."""
    import numpy as np

    from xlner_allennlp.alignment.artifact import load_alignment

    placed = {}
    for language in sorted({treebank_language(name) for name in args.dev_sets} - {"en"}):
        directory = os.path.join(args.alignments, f"{language}-en")
        if not os.path.isfile(os.path.join(directory, "meta.json")):
            continue  # recorded as skipped by `evaluate`
        alignment = load_alignment(directory)
        alignment.require_passed(directory)
        placed[directory] = alignment.reference_placement()
    first = next(iter(placed), None)
    for directory, english in placed.items():
        if not np.array_equal(english, placed[first]):
            sys.exit(f"{directory} places English differently from {first}: one parser cannot use both; "
                     "use artifacts of a method that only normalizes English (procrustes-refine, self-learning)")


def main() -> None:
    args = parse_args()
    if any(name in LEXICAL and name not in UNALIGNED for name in args.configs):
        check_alignments(args)
    recorder = Recorder("parser", vars(args), args.output)
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if args.breakdown:
        record_breakdowns(recorder, args)
        return
    mst = measure_mst(args)
    recorder.record({"kind": "mst_speed"}, mst)
    print(json.dumps(mst))
    if args.mst_only:
        return
    for name in args.configs:
        for seed in args.seeds:
            for selected_on, dev_sets in selections(args):
                run = train(name, seed, selected_on, args)
                for measure in ELMO_RECORDS if name == "parser_elmo" else [name]:
                    dev = {dev_set: evaluate(run["archive"], measure, dev_set, args) for dev_set in dev_sets}
                    setting = "single-source English EWT, zero-shot, UD dev sets" + (
                        ", gold UPOS" if name in ("parser_word_upos", "parser_delex") else ", no POS") + (
                        f", selected on the {selected_on} dev set" if selected_on else ", selected on English dev")
                    key = {"kind": "zero_shot_parsing", "config": measure, "seed": seed}
                    if selected_on is not None:
                        key["selected_on"] = selected_on
                    record = recorder.record(key, dict(run, dev=dev, max_train=args.max_train, setting=setting))
                    print(json.dumps(record, indent=1))


def record_breakdowns(recorder: Recorder, args: argparse.Namespace) -> None:
    """A `breakdown` record per finished run (config, seed) and dev set; a run not trained yet is
    named on stderr and skipped."""
    for name in args.configs:
        for seed in args.seeds:
            directory, overrides, _ = plan(name, seed, None, args)
            run = previous_run(directory, overrides) or {}
            if "train_wall_s" not in run or not os.path.isfile(run["archive"]):
                print(f"{name} seed {seed}: no finished run in {directory}: train it first", file=sys.stderr)
                continue
            for measure in ELMO_RECORDS if name == "parser_elmo" else [name]:
                for dev_set in args.dev_sets:
                    numbers = breakdown(run["archive"], measure, dev_set, args)
                    recorder.record({"kind": "breakdown", "config": measure, "seed": seed, "treebank": dev_set},
                                    dict(numbers, max_train=args.max_train))
                    print(measure, seed, dev_set, json.dumps(numbers.get("by_upos", numbers).get("all", numbers)))


def selections(args: argparse.Namespace) -> List[Tuple[Optional[str], List[str]]]:
    """(treebank selecting the model or None for English dev, dev sets it is evaluated on) of each
    model one config and seed train: one selected on English dev and evaluated on every dev set, or
    one per target treebank, selected and evaluated on its dev set."""
    if args.selection == "source":
        return [(None, list(args.dev_sets))]
    return [(name, [name]) for name in args.dev_sets if treebank_language(name) != "en"]


if __name__ == "__main__":
    main()
