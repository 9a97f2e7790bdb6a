"""Zero-shot cross-lingual NER benchmark: Source-Mono, Cross-Word, Cross-Shared, Cross-Augmented.

Trains each config on English CoNLL-2003 labels only and reports span F1 (mean ± std over seeds)
on the target dev sets (CoNLL testa; for French the WikiNEuRal ``dev.tsv`` half, disjoint from the
``unlabelled.tokens`` half that self-training reads), with training wall times, beside the published
Cross-Augmented numbers of Bari et al. (2020, test sets, Wikipedia-scale vectors).

The English-only configs are trained once per seed and evaluated on every target language by
plugging that language's vectors and alignment into the trained model through archive overrides
(the "one model, any aligned language" use) when the alignments leave English where it is, the same
for every target (``procrustes-refine``: the reference side is only normalized); a method that also
maps the reference side (``multistep`` re-weights both) puts English somewhere else for each target,
so the aligned English-only configs are then trained once per seed and target. Cross-Augmented
trains one model per language; ``cross_augmented_multi`` (per-language target encoders) and
``cross_augmented_multi_shared`` (one shared) train one Cross-Augmented model per seed on all
``--languages`` together (``training_config/cross_augmented.libsonnet``'s ``multi``), which needs
alignments that leave English alike, and record each language's F1 with that one run's wall time. ``--alignment-method`` picks the supervised method of every
``<language>-en`` artifact (built under ``--alignments/<method>/``) and is part of each record.
Each evaluation is appended as one record to ``benchmarks/results/ner_zero_shot.jsonl`` (see
``benchmarks/records.py``) as soon as it is measured; a (config, language, seed, dev set) that
already has a valid record with the same epochs, training cap and selection is skipped on a re-run.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ner_zero_shot.py --data ../shared/data --languages es nl de fr --seeds 13 42 7
"""
import argparse
import json
import os
import sys
import time
from typing import Any, Dict, Optional, Sequence, Set, Tuple

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.records import Recorder, read_records, results_path  # noqa: E402
from benchmarks.render_results import ner_alignment_method, ner_elmo_artifacts, ner_f1_table  # noqa: E402
from xlner_allennlp import data_layout  # noqa: E402
from benchmarks.alignment_bli import VARIANTS  # noqa: E402
from xlner_allennlp.alignment.methods import DEFAULT_SUPERVISED_METHOD, METHODS  # noqa: E402
from xlner_allennlp.file_utils import atomic_write_text  # noqa: E402

# One Cross-Augmented model for every target language, by its target encoders' setting.
ONE_MODEL = {"cross_augmented_multi": "per_language", "cross_augmented_multi_shared": "shared"}
# Cross-ELMo (training_config/cross_elmo.jsonnet, aligned ELMo layer 1): English-only, so one run per
# seed, evaluated on each language twice: with the language's per-layer anchor alignments
# (``cross_elmo``) and with its ELMo only divided by its mean token norms (``cross_elmo_unaligned``, the
# baseline that shows what alignment adds: the English side, hence the trained model, is the same).
ELMO_RECORDS = {"cross_elmo": "procrustes-refine", "cross_elmo_unaligned": "none"}
CONFIGS = ["source_mono", "cross_word", "cross_shared", "cross_augmented", *ONE_MODEL, "cross_elmo"]
ENGLISH_ONLY = {"source_mono", "cross_word", "cross_shared"}
ALIGNED = {"cross_word", "cross_shared", "cross_augmented", *ONE_MODEL}
TARGETS = ["es", "nl", "de", "fr"]
# The alignment settings of the <language>-en artifacts (names of benchmarks/alignment_bli.py's
# VARIANTS): three fitted on the MUSE training dictionary, and two without any bilingual dictionary
# (Bari et al.'s zero-resource setting: self-learning from its unsupervised start, or from the
# identical-strings seed, which uses the spellings the two vocabularies share).
ALIGNMENT_SETTINGS = ["procrustes-refine", "multistep", "procrustes", "self-learning", "self-learning+identical"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=CONFIGS, choices=CONFIGS)
    parser.add_argument("--languages", nargs="+", default=TARGETS, choices=TARGETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 42, 7])
    parser.add_argument("--epochs", type=int, default=None, help="trainer.num_epochs for every run (default: the config's)")
    parser.add_argument("--max-train", type=int, default=0, help="cap on English training sentences (0: all)")
    parser.add_argument("--selection", choices=["source", "target"], default="source")
    parser.add_argument("--data", default=data_layout.data_root(), help="data root (default: $XLNER_DATA, else the layout's)")
    parser.add_argument("--alignment-method", default=DEFAULT_SUPERVISED_METHOD, choices=ALIGNMENT_SETTINGS,
                        help="alignment setting of the <language>-en artifacts (default: %(default)s); "
                             "self-learning and self-learning+identical use no bilingual dictionary")
    parser.add_argument("--alignments", default=os.path.join(ROOT, "artifacts", "alignments"),
                        help="artifacts are built under DIR/<method>/<language>-en")
    parser.add_argument("--elmo-artifacts", default=os.path.join(ROOT, "artifacts"),
                        help="cross_elmo: DIR/elmo/<l> and DIR/anchors/<l> (`make elmo LANGUAGE=<l>`); the "
                             "layer alignments are made under DIR/elmo_alignments/<l>-en/layer<k> when missing")
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "ner_zero_shot"))
    parser.add_argument("--output", default=results_path("ner_zero_shot"), help="records file (appended to)")
    return parser.parse_args()


def alignment_root(args: argparse.Namespace) -> str:
    return os.path.join(args.alignments, args.alignment_method)


def ensure_alignment(language: str, args: argparse.Namespace) -> str:
    """The <language>-en artifact of the ``--alignment-method`` setting (on the MUSE training
    dictionary when its method requires one, else without any); an artifact that failed its own
    checks stays in place (inspect it, or delete it to refit) and raises ``ArtifactError``."""
    from xlner_allennlp.alignment import align_files, load_alignment

    directory = os.path.join(alignment_root(args), f"{language}-en")
    try:
        test_dictionary: Optional[str] = data_layout.dictionary(language, "en", "test", args.data)
    except data_layout.DataLayoutError:
        test_dictionary = None
    if not os.path.isfile(os.path.join(directory, "meta.json")):
        method, options = VARIANTS[args.alignment_method]
        supervised = METHODS[method].dictionary == "required"
        align_files(
            mapped_vectors=data_layout.path(language, "vectors", args.data),
            reference_vectors=data_layout.path("en", "vectors", args.data),
            method=method,
            dictionary=data_layout.dictionary(language, "en", "train", args.data) if supervised else None,
            evaluation_dictionary=test_dictionary,
            output=directory,
            **options,
        )
    load_alignment(directory).require_passed(directory)
    return directory


# The ELMo layers cross_elmo.jsonnet uses (its ``elmo_layers``): the ones whose alignments it needs.
ELMO_LAYERS = (1,)


def elmo_entry(language: str, args: argparse.Namespace, aligned: bool = True) -> Dict[str, str]:
    """``language``'s ``xlner_aligned_elmo`` settings (absolute paths): ELMo and anchors, and with
    ``aligned`` its layer alignments, made on the MUSE training dictionary first when missing.
    ``FileNotFoundError`` names the `make` target that builds a missing ELMo or anchors directory;
    an alignment that failed its own checks raises ``ArtifactError``."""
    from xlner_allennlp.alignment import align_files, load_alignment
    from xlner_allennlp.contextual import layer_file

    root = os.path.abspath(args.elmo_artifacts)
    entry = {"elmo": os.path.join(root, "elmo", language), "anchors": os.path.join(root, "anchors", language)}
    for needed in (os.path.join(entry["elmo"], "weights.hdf5"), os.path.join(entry["anchors"], "geometry.json")):
        if not os.path.isfile(needed):
            raise FileNotFoundError(f"{needed} is missing: make elmo LANGUAGE={language}")
    if language == "en" or not aligned:
        return entry
    alignments = os.path.join(root, "elmo_alignments", f"{language}-en")
    for layer in ELMO_LAYERS:
        directory = os.path.join(alignments, f"layer{layer}")
        if not os.path.isfile(os.path.join(directory, "meta.json")):
            elmo_entry("en", args)
            align_files(
                mapped_vectors=layer_file(entry["anchors"], layer),
                reference_vectors=layer_file(os.path.join(root, "anchors", "en"), layer),
                method=ELMO_RECORDS["cross_elmo"], dictionary=data_layout.dictionary(language, "en", "train", args.data),
                output=directory, normalization="none", mapped_language=language, reference_language="en",
            )
        load_alignment(directory).require_passed(directory)
    return {**entry, "alignment": alignments}


def evaluate_on(archive_path: str, config: str, language: str, args: argparse.Namespace) -> Dict[str, float]:
    """Span F1 of a trained archive on ``language``'s dev set, that language plugged in by overrides."""
    from xlner_allennlp.commands.evaluate_language import evaluate_language

    if config in ELMO_RECORDS:
        return evaluate_language(
            archive_path, language, data_layout.path(language, "dev", args.data),
            encoding=data_layout.encoding(language), elmo=elmo_entry(language, args, config == "cross_elmo"),
        )
    return evaluate_language(
        archive_path, language, data_layout.path(language, "dev", args.data),
        vectors=data_layout.path(language, "vectors", args.data),
        alignment=os.path.join(alignment_root(args), f"{language}-en") if config in ALIGNED else None,
        encoding=data_layout.encoding(language),
    )


def english_is_shared(languages: Sequence[str], args: argparse.Namespace) -> bool:
    """Whether every ``<language>-en`` artifact puts English vectors at the same place
    (``Alignment.reference_placement``, the test ``xlner_aligned_embedding`` applies)."""
    from xlner_allennlp.alignment import load_alignment

    placed = [load_alignment(os.path.join(alignment_root(args), f"{language}-en")).reference_placement()
              for language in languages]
    return all(np.array_equal(placed[0], other) for other in placed[1:])


def run_name(config: str, target: str, seed: int, args: argparse.Namespace) -> str:
    if config in ONE_MODEL:
        return f"{config}-{args.alignment_method}-{'+'.join(args.languages)}-{seed}"
    if config in ("source_mono", "cross_elmo"):
        return f"{config}-{seed}"
    if config in ENGLISH_ONLY and args.english_shared:
        return f"{config}-{args.alignment_method}-{seed}"
    return f"{config}-{args.alignment_method}-{target}-{seed}"


def config_file(config: str, directory: str, args: argparse.Namespace) -> str:
    """The jsonnet file of ``config``; for one model over ``--languages``, a file beside the run
    directory that calls ``cross_augmented.libsonnet``'s ``multi`` with them."""
    if config not in ONE_MODEL:
        return os.path.join(ROOT, "training_config", f"{config}.jsonnet")
    library = os.path.join(ROOT, "training_config", "cross_augmented.libsonnet")
    path = directory + ".jsonnet"
    text = f"(import {json.dumps(library)}).multi({json.dumps(args.languages)}, {json.dumps(ONE_MODEL[config])})\n"
    atomic_write_text(path, text)
    return path


def train(config: str, target: str, seed: int, args: argparse.Namespace) -> Dict[str, Any]:
    from allennlp.commands.train import train_model_from_file

    directory = os.path.join(args.runs, run_name(config, target, seed, args))
    archive = os.path.join(directory, "model.tar.gz")
    timing_file = os.path.join(directory, "wall_time.json")
    augmented = config == "cross_augmented" or config in ONE_MODEL
    if not os.path.isfile(archive):
        os.environ.update(XLNER_TARGET=target, XLNER_ALIGNMENTS=alignment_root(args), XLNER_DATA=args.data)
        overrides: Dict[str, Any] = {"random_seed": seed, "numpy_seed": seed, "pytorch_seed": seed}
        if augmented:
            overrides["trainer.callbacks.0.seed"] = seed
        if args.max_train > 0:
            reader = "dataset_reader.base_reader" if augmented else "dataset_reader"
            overrides[f"{reader}.max_instances"] = args.max_train
        if args.epochs is not None:
            overrides["trainer.num_epochs"] = args.epochs
        if args.selection == "target":
            overrides.update(data_layout.selection_overrides(target, args.data))
        if config == "cross_elmo":
            # Selected on English dev, the model never runs the target's ELMo in training: its entry
            # (unaligned here) is replaced by each evaluation's own.
            overrides["model.text_field_embedder.token_embedders.elmo.languages"] = {
                "en": {**elmo_entry("en", args), "side": "reference"},
                target: elmo_entry(target, args, aligned=args.selection == "target"),
            }
        start = time.perf_counter()
        train_model_from_file(
            config_file(config, directory, args), directory, overrides=json.dumps(overrides), force=True,
        )
        write_json(timing_file, {"wall_time_s": time.perf_counter() - start})
    with open(timing_file, encoding="utf-8") as handle:
        return {"archive": archive, "wall_time_s": json.load(handle)["wall_time_s"]}


def write_json(path: str, payload: Any) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True))


# Settings that change what a row measures: a valid record with other values does not count as done.
RESULT_SETTINGS = ("epochs", "max_train", "selection", "alignment_method")


def setting(record: Dict[str, Any], name: str) -> Any:
    if name == "alignment_method":
        return ner_alignment_method(record) if record["key"]["config"] in ALIGNED else None
    return record["settings"].get(name)


def dev_file(language: str, args: argparse.Namespace) -> str:
    """``language``'s dev set relative to the data root, as records name it (``ner/fr/wikineural/dev.tsv``)."""
    return os.path.relpath(data_layout.path(language, "dev", args.data), args.data)


def measured(path: str, args: argparse.Namespace) -> Set[Tuple[str, str, int, str]]:
    """(config, language, seed, dev file, ELMo artifacts or None) of the valid records of ``path`` made with these settings."""
    def wanted(record: Dict[str, Any]) -> bool:
        expected = {name: getattr(args, name) for name in RESULT_SETTINGS}
        if record["key"]["config"] not in ALIGNED:
            expected["alignment_method"] = None
        return all(setting(record, name) == value for name, value in expected.items())

    return {
        (r["key"]["config"], r["key"]["language"], r["key"]["seed"], r["key"]["dev"],
         ner_elmo_artifacts(r) if r["key"]["config"] in ELMO_RECORDS else None)
        for r in read_records(path) if "invalid" not in r and wanted(r)
    }


def elmo_label(args: argparse.Namespace) -> str:
    """How records name ``--elmo-artifacts``: relative to the project when inside it."""
    root = os.path.abspath(args.elmo_artifacts)
    return os.path.relpath(root, ROOT) if root.startswith(ROOT + os.sep) else root


def main() -> None:
    args = parse_args()
    if args.selection == "target" and any(config in ONE_MODEL for config in args.configs):
        sys.exit("one model for several targets selects on the English dev set only (--selection source)")
    recorder = Recorder("ner_zero_shot", vars(args), args.output)
    import xlner_allennlp.plugin  # noqa: F401  registers the components
    from xlner_allennlp.alignment import ArtifactError

    done = measured(args.output, args)
    if "cross_elmo" in args.configs:
        elmo_languages = []
        for language in args.languages:
            try:
                elmo_entry(language, args, aligned=False)
                elmo_languages.append(language)
            except FileNotFoundError as error:
                print(f"{language}: cross_elmo not evaluated: {error}", file=sys.stderr, flush=True)
        if not elmo_languages:
            sys.exit("cross_elmo: no language has its ELMo and anchors")
    if any(c in ALIGNED for c in args.configs):
        usable = []
        for language in args.languages:
            try:
                ensure_alignment(language, args)
                usable.append(language)
            except ArtifactError as error:  # stop before training over a useless map
                print(f"{language}: not trained or evaluated: {error}", file=sys.stderr, flush=True)
        if not usable:
            sys.exit("no language has a usable alignment")
        args.languages = usable
        args.english_shared = english_is_shared(args.languages, args)
    else:
        args.english_shared = True
    if not args.english_shared and any(config in ONE_MODEL for config in args.configs):
        print("one model for several targets: skipped, the alignments place English differently "
              "for each target", file=sys.stderr, flush=True)
        args.configs = [config for config in args.configs if config not in ONE_MODEL]
    for seed in args.seeds:
        for config in args.configs:
            if config == "cross_elmo":
                run_languages = elmo_languages
                shared = True
            else:
                run_languages = args.languages
                shared = config == "source_mono" or config in ONE_MODEL or (config in ENGLISH_ONLY and args.english_shared)
            measures = list(ELMO_RECORDS) if config == "cross_elmo" else [config]
            targets = [run_languages[0]] if shared else run_languages
            for target in targets:
                todo = [(m, l) for l in (run_languages if shared else [target]) for m in measures
                        if (m, l, seed, dev_file(l, args), elmo_label(args) if m in ELMO_RECORDS else None) not in done]
                if not todo:
                    continue
                run = train(config, target, seed, args)
                for measure, language in todo:
                    try:
                        metrics = evaluate_on(run["archive"], measure, language, args)
                    except ArtifactError as error:  # an alignment that failed its own checks: no row
                        print(f"{measure} seed={seed} {language}: not evaluated: {error}", file=sys.stderr, flush=True)
                        continue
                    f1 = 100 * metrics["f1-measure-overall"]
                    key = {"config": measure, "language": language, "seed": seed, "dev": dev_file(language, args)}
                    if measure in ELMO_RECORDS:
                        key.update(alignment=ELMO_RECORDS[measure], elmo=elmo_label(args))
                    elif config in ALIGNED:
                        key["alignment"] = args.alignment_method
                    recorder.record(
                        key,
                        {"f1": f1, "metrics": metrics, "wall_time_s": run["wall_time_s"], "run": run["archive"]},
                    )
                    print(f"{measure} seed={seed} {language}: F1 {f1:.2f}", flush=True)
    print(ner_f1_table(read_records(args.output)))


if __name__ == "__main__":
    main()
