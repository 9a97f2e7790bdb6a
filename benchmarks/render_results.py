"""Render the results tables of ``docs/RESULTS.md`` and the README's headline from the benchmark
records (``benchmarks/results/*.jsonl``, see ``benchmarks/records.py``).

A document marks each generated block with a pair of comments::

    <!-- results:bli -->
    ...generated: replaced on every render...
    <!-- /results:bli -->

and everything outside the markers is prose kept as written. A table shows, for each row key,
the record appended last among those not marked ``invalid``, and lists the commands and commits
of the records it shows, so a table cannot drift from its records.

    .venv/bin/python benchmarks/render_results.py          # rewrite docs/RESULTS.md and README.md
    .venv/bin/python benchmarks/render_results.py --check  # exit 1 if either is not what the records give
"""
import argparse
import json
import os
import re
import statistics
import sys
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.records import RESULTS_DIRECTORY, read_records  # noqa: E402
from xlner_allennlp.data_layout import treebanks  # noqa: E402

DOCUMENTS = [os.path.join(ROOT, "docs", "RESULTS.md"), os.path.join(ROOT, "README.md")]
BENCHMARKS = ("alignment_bli", "ner_zero_shot", "crf_speed", "self_learning_optima", "english_ner",
              "bilm", "multitask_bwe", "parser", "vecmap_comparison", "alignment_scale", "vector_loading",
              "anchor_bli", "bilm_training", "failure_check", "multitask_neighbours")
NER_CONFIGS = {
    "source_mono": "Source-Mono", "cross_word": "Cross-Word",
    "cross_shared": "Cross-Shared", "cross_augmented": "Cross-Augmented",
    "cross_augmented_multi": "Cross-Augmented, one model (per-language target encoders)",
    "cross_augmented_multi_shared": "Cross-Augmented, one model (shared target encoder)",
    "cross_elmo": "Cross-ELMo (aligned ELMo layer 1, anchors)",
    "cross_elmo_unaligned": "Cross-ELMo, same model, target ELMo unaligned",
}
NER_LANGUAGES = ("es", "nl", "de", "fr")
# Bari et al. (2020), Table 2: test-set F1 with Wikipedia-scale vectors (no French row).
PAPER_TEST_F1 = {
    "cross_word": {"es": 72.66, "nl": 70.31, "de": 45.20},
    "cross_shared": {"es": 74.39, "nl": 71.02, "de": 58.91},
    "cross_augmented": {"es": 75.93, "nl": 74.61, "de": 65.24},
}
CRF_ROWS = (
    ("tagger_training", "whole tagger, training (fwd+bwd+step)"),
    ("tagger_decoding", "whole tagger, decoding"),
    ("crf_log_likelihood", "CRF log-likelihood fwd+bwd"),
    ("crf_decoding", "CRF Viterbi decoding"),
)
BLOCK = re.compile(r"(<!-- results:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /results:(?P=name) -->)", re.DOTALL)

Records = Dict[str, List[Dict[str, Any]]]


def load_records(directory: str = RESULTS_DIRECTORY) -> Records:
    """Every benchmark's records from ``directory`` (a benchmark without a file has none)."""
    return {name: read_records(os.path.join(directory, f"{name}.jsonl")) for name in BENCHMARKS}


def key_text(key: Mapping[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


def latest_valid(records: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """For each key, the record appended last among the valid ones, in the order keys first appear."""
    chosen: Dict[str, Dict[str, Any]] = {}
    for record in records:
        if "invalid" not in record:
            chosen[key_text(record["key"])] = record
    return list(chosen.values())


def invalid_now(records: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Invalid records whose key no valid record has replaced (what a table leaves out and must say so)."""
    valid_keys = {key_text(record["key"]) for record in records if "invalid" not in record}
    return [record for record in records if "invalid" in record and key_text(record["key"]) not in valid_keys]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def provenance(records: Sequence[Dict[str, Any]]) -> str:
    """The commands and commits of ``records`` (how many rows each), as a list under a table."""
    if not records:
        return ""
    commands: Dict[str, int] = {}
    commits: Dict[str, int] = {}
    for record in records:
        commands[record["command"]] = commands.get(record["command"], 0) + 1
        commit = (record["commit"] or "unknown")[:10]
        if record.get("dirty"):
            commit += " (uncommitted changes)"
        if record.get("migrated"):
            commit += " (migrated; measured at or before it)"
        commits[commit] = commits.get(commit, 0) + 1
    lines = ["Records shown: " + str(len(records)) + "; commands:"]
    lines += [f"- `{command}` ({count})" for command, count in commands.items()]
    lines.append("- commits: " + ", ".join(f"`{commit}` ({count})" for commit, count in commits.items()))
    return "\n".join(lines)


def with_provenance(table: str, records: Sequence[Dict[str, Any]]) -> str:
    return table + "\n\n" + provenance(records) if records else "(no records yet)"


def number(value: Optional[float], digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


# ---------------------------------------------------------------- bilingual lexicon induction

def bli_table(records: Records) -> str:
    """Pair × method: P@1 NN/CSLS, P@5/P@10 CSLS, coverage, status, fit time; best P@1 CSLS of a pair in bold."""
    shown = latest_valid(records["alignment_bli"])
    best: Dict[str, float] = {}
    for record in shown:
        pair = record["key"]["pair"]
        best[pair] = max(best.get(pair, 0.0), record["numbers"]["p1_csls"])
    rows = []
    for record in shown:
        key, values = record["key"], record["numbers"]
        csls = number(values["p1_csls"])
        if values["p1_csls"] == best[key["pair"]] and values["p1_csls"] > 0:
            csls = f"**{csls}**"
        pair = key["pair"] + (" †" if values["test"] == "heldout-train" else "")
        rows.append([pair, key["method"], number(values["p1_nn"]), csls, number(values["p5_csls"]),
                     number(values["p10_csls"]), number(values["coverage"]), values["status"], number(values["fit_s"])])
    table = markdown_table(
        ["pair", "method", "P@1 NN", "P@1 CSLS", "P@5 CSLS", "P@10 CSLS", "coverage", "status", "fit (s)"], rows
    )
    heldout = sorted({r["key"]["pair"] for r in shown if r["numbers"]["test"] == "heldout-train"})
    if heldout:
        table += (f"\n\n† {', '.join(heldout)}: no MUSE test split exists; the least frequent part of the training "
                  "split's source words was held out of training and used as test (`--heldout`).")
    return with_provenance(table, shown)


def anchor_bli_table(records: Records) -> str:
    """Anchors × pair × layer × method: P@1 NN/CSLS, P@10 CSLS, coverage, status, median gold rank, the two
    spaces' similarity correlation, and the static vectors' P@1 CSLS and similarity correlation for the same pair and method."""
    shown = latest_valid(records["anchor_bli"])
    static = {(r["key"]["pair"], r["key"]["method"]): r["numbers"] for r in latest_valid(records["alignment_bli"])}
    rows = []
    for record in shown:
        key, values = record["key"], record["numbers"]
        same = static.get((key["pair"], key["method"]))
        rows.append([f"`{key['anchors']}`", key["pair"], str(key["layer"]), key["method"], number(values["p1_nn"]),
                     number(values["p1_csls"]), number(values["p10_csls"]), number(values["coverage"]),
                     values["status"], number(values["median_rank"], 0), number(values["similarity_correlation"], 3),
                     number(same["p1_csls"]) if same else "–", number(values["static_similarity_correlation"], 3)])
    table = markdown_table(
        ["anchors", "pair", "layer", "method", "P@1 NN", "P@1 CSLS", "P@10 CSLS", "coverage", "status",
         "median gold rank", "similarity corr.", "static P@1 CSLS", "static similarity corr."], rows)
    table += ("\n\nMedian gold rank: rank of the best-ranked gold translation among all target anchors after "
              "mapping (cosine; 1 = found). Similarity corr.: Spearman correlation of the within-language cosine "
              "similarities of 1,000 training translation pairs, before any mapping (1 = isomorphic, 0 = unrelated); "
              "the static columns are the fastText vectors' values for the same pair and method.")
    return with_provenance(table, shown)


def bilm_training_table(records: Records) -> str:
    """Per full BiLM training: language, epochs, tokens, wall time, tokens/s, heldout perplexities, conditions."""
    shown = latest_valid(records["bilm_training"])
    rows = []
    for record in shown:
        values = record["numbers"]
        rows.append([record["key"]["language"], str(values["epochs"]), f"{values['train_tokens']:,}",
                     number(values["wall_s"] / 60), number(values["tokens_per_second"], 0),
                     number(values["heldout_forward_perplexity"]), number(values["heldout_backward_perplexity"]),
                     values["conditions"]])
    table = markdown_table(["language", "epochs", "training tokens", "wall (min)", "tok/s", "heldout fwd perplexity",
                            "heldout bwd perplexity", "conditions"], rows)
    return with_provenance(table, shown)


def vecmap_table(records: Records) -> str:
    """Pair × supervised method beside VecMap's own measured numbers: P@1 CSLS/NN, both coverages, wall time."""
    shown = latest_valid(records["vecmap_comparison"])
    rows = []
    for record in shown:
        key, values = record["key"], record["numbers"]
        pair = key["pair"] + (" †" if values["test"] == "heldout-train" else "")
        rows.append([pair, key["method"], number(values["p1_csls"]), number(values["p1_nn"]),
                     number(values["vecmap_p1_csls"]), number(values["coverage"]), number(values["src_coverage"]),
                     number(values["vecmap_src_coverage"]), number(values["total_s"], 0),
                     number(values["vecmap_s"], 0), f"{number(values['load_before'])}–{number(values['load_after'])}"])
    table = markdown_table(
        ["pair", "method", "P@1 CSLS", "P@1 NN", "VecMap P@1 CSLS", "coverage (pairs)", "source-word coverage",
         "VecMap source-word coverage", "load+fit+eval (s)", "VecMap (s)", "1-min load"], rows,
    )
    table += ("\n\nVecMap columns: its own code (`map_embeddings.py --supervised`, `eval_translation.py --retrieval "
              "csls`) run on this machine on the same vectors and dictionaries (`../shared/benchmarks/anchors.md`), "
              "not records of ours; its time includes reading and writing text files. Source-word coverage is "
              "VecMap's definition (distinct test source words with a pair in the vocabularies / distinct source "
              "words); coverage (pairs) is the package's (pairs kept / pairs read).")
    if any(r["numbers"]["test"] == "heldout-train" for r in shown):
        table += " † no MUSE test split: the held-out 20% of the training split's source words (as in the BLI table)."
    return with_provenance(table, shown)


# ---------------------------------------------------------------- zero-shot NER

def mean_sd(values: Sequence[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f} (n=1)"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def ner_columns(shown: Sequence[Dict[str, Any]]) -> List[Tuple[str, str]]:
    """(language, dev file) pairs in language order: a language reported on two dev files gets two columns."""
    columns = {(r["key"]["language"], r["key"]["dev"]) for r in shown}
    order = {language: index for index, language in enumerate(NER_LANGUAGES)}
    return sorted(columns, key=lambda column: (order.get(column[0], len(order)), column))


def column_title(column: Tuple[str, str]) -> str:
    return f"{column[0]} `{os.path.basename(column[1])}`"


# ner_zero_shot records made before its --alignment-method setting existed were all aligned with this.
NER_ALIGNMENT_BEFORE_THE_SETTING = "procrustes-refine"


def ner_alignment_method(record: Dict[str, Any]) -> str:
    """The supervised alignment method behind an ner_zero_shot record (its key names it)."""
    return record["key"].get("alignment", NER_ALIGNMENT_BEFORE_THE_SETTING)


def ner_elmo_artifacts(record: Dict[str, Any]) -> str:
    """The ELMo artifacts directory behind a cross_elmo record (records made before the key existed
    used the default, ``artifacts``)."""
    return record["key"].get("elmo", "artifacts")


def ner_row_groups(shown: Sequence[Dict[str, Any]]) -> List[Tuple[str, str, List[Dict[str, Any]]]]:
    """(config, row label, records) per config and alignment method, configs in table order; the
    label names the method only when the records hold more than one (Source-Mono has no alignment)."""
    methods = sorted({ner_alignment_method(r) for r in shown if r["key"]["config"] != "source_mono"})
    groups = []
    for config, name in NER_CONFIGS.items():
        mine = [r for r in shown if r["key"]["config"] == config]
        for method in ([None] if config == "source_mono" or len(methods) < 2 else methods):
            group = [r for r in mine if method is None or ner_alignment_method(r) == method]
            label = name if method is None else f"{name} ({method})"
            # ELMo rows of different ELMo artifacts (e.g. the anchored LM's) are rows of their own.
            elmos = list(dict.fromkeys(ner_elmo_artifacts(r) for r in group))
            for elmo in elmos:
                mine_elmo = [r for r in group if ner_elmo_artifacts(r) == elmo]
                groups.append((config, label if len(elmos) < 2 else f"{label}, ELMo `{elmo}`", mine_elmo))
    return groups


def ner_f1_table(records: Sequence[Dict[str, Any]]) -> str:
    """Config × (language, dev file): span F1 mean ± sample sd over seeds, and the mean training wall time."""
    shown = latest_valid(records)
    columns = ner_columns(shown)
    rows = []
    seeds = sorted({r["key"]["seed"] for r in shown})
    for config, name, mine in ner_row_groups(shown):
        cells = [name]
        for language, dev in columns:
            cells.append(mean_sd([r["numbers"]["f1"] for r in mine
                                  if (r["key"]["language"], r["key"]["dev"]) == (language, dev)]))
        walls = {r["numbers"]["run"]: r["numbers"]["wall_time_s"] for r in mine}
        cells.append(f"{statistics.mean(walls.values()) / 60:.1f}")
        rows.append(cells)
    for config, paper in PAPER_TEST_F1.items():
        rows.append([f"paper {NER_CONFIGS[config]} (test sets, Wikipedia-scale vectors)"]
                    + [number(paper.get(language), 2) for language, _ in columns] + ["–"])
    table = markdown_table(["config"] + [column_title(c) + " F1" for c in columns] + ["train wall (min)"], rows)
    table += f"\n\nMean ± sample standard deviation over seeds {', '.join(map(str, seeds))}" \
             " (n=1: one seed); the wall time is the mean over the distinct training runs" \
             " (an English-only model is trained once per seed and evaluated on every language)."
    return table


def ner_runs_table(records: Sequence[Dict[str, Any]]) -> str:
    """One row per config and seed: F1 per (language, dev file) and the training wall time(s) in minutes."""
    shown = latest_valid(records)
    columns = ner_columns(shown)
    rows = []
    for config, name, group in ner_row_groups(shown):
        for seed in dict.fromkeys(r["key"]["seed"] for r in group):
            mine = [r for r in group if r["key"]["seed"] == seed]
            cells = [name, str(seed)]
            for language, dev in columns:
                f1 = [r["numbers"]["f1"] for r in mine if (r["key"]["language"], r["key"]["dev"]) == (language, dev)]
                cells.append(f"{f1[0]:.2f}" if f1 else "–")
            walls = dict.fromkeys(f"{r['numbers']['wall_time_s'] / 60:.1f}" for r in mine)
            cells.append(" / ".join(walls))
            rows.append(cells)
    return markdown_table(["config", "seed"] + [column_title(c) for c in columns]
                          + ["train wall (min), one per distinct run in column order"], rows)


def invalid_list(records: Sequence[Dict[str, Any]]) -> str:
    """The invalid records no valid one replaces, grouped by config, language, dev file and reason."""
    groups: Dict[Tuple[str, str, str, str], List[str]] = {}
    for record in invalid_now(records):
        key = record["key"]
        group = (key["config"], key["language"], key["dev"], record["invalid"])
        groups.setdefault(group, []).append(str(key["seed"]))
    lines = [f"- {NER_CONFIGS.get(config, config)} {language} (`{dev}`), seeds {', '.join(seeds)}: {reason}"
             for (config, language, dev, reason), seeds in groups.items()]
    return ("Not shown (records marked invalid):\n" + "\n".join(lines)) if lines else ""


def ner_block(records: Records) -> str:
    ner = records["ner_zero_shot"]
    shown = latest_valid(ner)
    if not shown:
        return "(no records yet)"
    parts = [ner_f1_table(ner), "Every run:", ner_runs_table(ner), invalid_list(ner), provenance(shown)]
    return "\n\n".join(part for part in parts if part)


# ---------------------------------------------------------------- CRF speed, self-learning optima, English NER

def latest_single(records: Sequence[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    shown = latest_valid(records)
    return shown[-1] if shown else None


def crf_table(records: Records) -> str:
    """Tokens per second of the tagger with allennlp's parts and with ours (latest valid run), speed-up, and the
    equality check."""
    record = latest_single(records["crf_speed"])
    if record is None:
        return "(no records yet)"
    values = record["numbers"]
    rows = []
    for key, label in CRF_ROWS:
        speed = values[key]["tokens_per_second"]
        rows.append([label, number(speed["allennlp"], 0), number(speed["fast"], 0),
                     f"{values[key]['speedup']:.2f}×", f"{values[key]['median_batch_speedup']:.2f}×"])
    table = markdown_table(["measurement", "allennlp parts tok/s", "ours tok/s", "speed-up", "median per batch"], rows)
    setup, check, machine = values["setup"], values["check"], record["machine"]
    same = setup["sentences"] - check["sentences_with_different_paths"]
    load = values["load_before"], machine["load"]
    table += (
        f"\n\n{setup['sentences']:,} sentences ({setup['tokens']:,} tokens) of eng.train in {setup['batches']} batches of "
        f"{setup['batch_size']}, {setup['num_tags']} {setup['label_encoding']} tags, {setup['threads']} torch thread(s), "
        f"{machine['cores']} cores, 1-minute load {number(load[0][0] if load[0] else None)} before and "
        f"{number(load[1][0] if load[1] else None)} after. Same Viterbi paths on {same:,} of "
        f"{setup['sentences']:,} sentences; largest relative log-likelihood difference "
        f"{check['largest_relative_log_likelihood_difference']:.1e}."
    )
    return with_provenance(table, [record])


def optima_table(records: Records) -> str:
    """Every mapping of the latest valid self_learning_optima run: objective, criterion, P@1."""
    record = latest_single(records["self_learning_optima"])
    if record is None:
        return "(no records yet)"
    values = record["numbers"]
    rows = [[run["start"], f"{run['cutoff']:,}", str(run["seed"]), run["refinement"], f"{run['objective']:.4f}",
             f"{run['criterion']:.4f}", number(run["p1_nn"]), number(run["p1_csls"]), str(run["iterations"]),
             number(run["fit_s"])] for run in values["runs"]]
    table = markdown_table(["start", "vocabulary", "seed", "refinement", "objective", "criterion", "P@1 NN",
                            "P@1 CSLS", "iterations", "fit (s)"], rows)
    initial = values["initial_dictionary"]
    table += (f"\n\nPair {record['key']['pair']}. Unsupervised initial dictionary: {initial['correct']} correct of "
              f"{initial['judged']:,} judged pairs ({initial['correct'] / initial['judged']:.1%}; "
              f"{initial['pairs']:,} pairs, judged where the source word is in the training dictionary).")
    return with_provenance(table, [record])


def english_ner_table(records: Records) -> str:
    """English CoNLL-2003 dev and test F1 of the latest valid Source-Mono run."""
    record = latest_single(records["english_ner"])
    if record is None:
        return "(no records yet)"
    values = record["numbers"]
    per_type = ", ".join(f"{label} {value:.1f}" for label, value in values["test_f1_per_type"].items())
    table = markdown_table(
        ["model", "eng.testa (dev) F1", "eng.testb (test) F1", "test P / R", "test F1 per type", "training wall (min)"],
        [[f"`{record['key']['config']}`, {record['settings']['epochs']} epochs", f"{values['dev_f1']:.2f}",
          f"**{values['test_f1']:.2f}**", f"{values['test_precision']:.2f} / {values['test_recall']:.2f}", per_type,
          f"{values['wall_time_s'] / 60:.1f}"]],
    )
    return with_provenance(table, [record])


# ---------------------------------------------------------------- alignment at scale

SCALE_COMMANDS = (("procrustes", "xlner-align --method procrustes"),
                  ("refine", "xlner-align --method procrustes-refine, 1 refinement"),
                  ("bli", "xlner-bli --retrieval nn"))


def alignment_scale_table(records: Records) -> str:
    """The latest CSLS k-NN run against its sgemm limit, and each command's wall time and peak memory."""
    shown = latest_valid(records["alignment_scale"])
    by_part = {record["key"]["part"]: record for record in shown}
    parts = []
    csls = by_part.get("csls_knn")
    if csls is not None:
        values = csls["numbers"]
        parts.append(markdown_table(
            ["CSLS k-NN (n × m × d)", "k / csls_k", "TFLOP", "sgemm limit (GFLOP/s)", "limit (s)", "wall (s)",
             "wall / limit", "wall / own sgemm time", "queries recomputed", "P@1", "1-min load"],
            [[values["shape"], f"{values['k']} / {values['csls_k']}", f"{values['tflop']:.1f}",
              number(values["sgemm_gflops_best"], 0), number(values["limit_s"], 0), number(values["wall_s"], 0),
              f"**{values['wall_over_limit']:.2f}×**",
              f"{values['wall_over_sgemm_in_run']:.2f}×" if "wall_over_sgemm_in_run" in values else "–",
              f"{values['uncertified_queries']:,}", f"{values['p_at_1']:.3f}", number(values["load_before"][0], 2)]],
        ) + "\n\nThe limit is the FLOPs over the best tile-shaped float32 sgemm rate (numpy or torch) timed "
            "before and after the run; \"own sgemm time\" is the time the run's matmuls took under the load "
            "it met, so their ratio is the cost of everything but the arithmetic.")
    rows = []
    for part, label in SCALE_COMMANDS:
        record = by_part.get(part)
        if record is None:
            continue
        values = record["numbers"]
        rows.append([label, values["rows"], number(values["wall_s"], 0), number(values["peak_rss_gb"], 2),
                     f"**{values['peak_rss_over_copy']:.2f}×**", number(values["peak_anon_gb"], 2),
                     f"{values['peak_anon_over_copy']:.2f}×", number(values["load_before"][0], 2)])
    if rows:
        parts.append(markdown_table(
            ["command (fresh process)", "mapped × reference × d", "wall (s)", "peak RSS (GB)",
             "peak RSS / one float32 copy", "peak anonymous (GB)", "anonymous / copy", "1-min load"], rows,
        ) + "\n\nOne float32 copy: the mapped side's kept rows (2M × 300 × 4 bytes = 2.4 GB at full scale). "
            "Peak RSS (`ru_maxrss`) counts the pages of memory-mapped input files too; peak anonymous memory "
            "(`RssAnon`, sampled every 50 ms) is the arrays and the interpreter alone.")
    if not parts:
        return "(no records yet)"
    return with_provenance("\n\n".join(parts), shown)


# ---------------------------------------------------------------- BiLM speed, multi-task BWE, zero-shot parsing

def one_minute_load(record: Mapping[str, Any]) -> Optional[float]:
    """The 1-minute load average of a record's machine (older records kept it as a single number)."""
    load = record["machine"].get("load")
    return load[0] if isinstance(load, list) and load else load


def bilm_table(records: Records) -> str:
    """Per run: language, sentences, training tokens/s (step loop and model alone), heldout perplexities."""
    shown = latest_valid(records["bilm"])
    rows = []
    for record in shown:
        key, values = record["key"], record["numbers"]
        rows.append([key["language"], f"{values['train_sentences_seen']:,} of {key['train_sentences']:,}",
                     f"{key['heldout_sentences']:,}", number(key["seconds_budget"], 0), str(values["train_steps"]),
                     number(values["train_tokens_per_second"]), number(values["model_tokens_per_second"]),
                     number(values["heldout_forward_perplexity"]), number(values["heldout_backward_perplexity"]),
                     number(values["projected_minutes_per_epoch_of_4M_tokens"]), number(one_minute_load(record))])
    table = markdown_table(
        ["language", "training sentences seen", "heldout sentences", "budget (s)", "steps", "tok/s (step loop)",
         "tok/s (model)", "heldout fwd perplexity", "heldout bwd perplexity",
         "projected min per 4M-token epoch", "1-min load"], rows)
    table += ("\n\nThe projection divides 4M tokens (one `text/<language>.train.txt.gz`) by the measured "
              "step-loop tokens/s; no 4M-token epoch was run.")
    return with_provenance(table, shown)


def multitask_table(records: Records) -> str:
    """Language × d × regime × Ln model (× update pairs, × Lm update size): dev span F1 mean ± sd
    over seeds, English dev F1, the dev entity tokens without a row, wall time per run."""
    shown = latest_valid(records["multitask_bwe"])
    groups: Dict[str, List[Dict[str, Any]]] = {}
    for record in shown:
        settings = {name: value for name, value in record["key"].items() if name != "seed"}
        groups.setdefault(key_text(settings), []).append(record)
    rows = []
    for mine in groups.values():
        key = mine[0]["key"]
        sgd_pairs = key.get("sgd_pairs")
        optional = [[r["numbers"][name] for r in mine if name in r["numbers"]]
                    for name in ("english_dev_f1_all_types", "dev_entity_token_oov_rate")]
        rows.append([key["language"], str(key["dim"]), key["regime"], key.get("ner_model", "unigram"), key.get("init", "random") + (f", then {key['pretrain_pairs']:,} Lm-only pairs" if key.get("pretrain_pairs") else ""),
                     f"{key['update_pairs']:,}", f"{sgd_pairs} pairs" if sgd_pairs else "whole document",
                     mean_sd([r["numbers"]["f1_per_loc_org"] for r in mine]),
                     mean_sd([r["numbers"]["f1_all_types"] for r in mine]),
                     mean_sd(optional[0]), number(100 * statistics.mean(optional[1])) if optional[1] else "–",
                     ", ".join(str(r["key"]["seed"]) for r in mine),
                     number(statistics.mean(r["numbers"]["wall_seconds"] for r in mine) / 60)])
    table = markdown_table(["language", "d", "regime", "Ln model", "V init", "update pairs", "Lm SGD update",
                            "dev F1 PER/LOC/ORG", "dev F1 all types", "English dev F1 all types",
                            "dev entity tokens without a row (%)", "seeds", "wall per run (min)"], rows)
    table += ("\n\nMean ± sample standard deviation over the seeds listed (n=1: one seed). V init `aligned:<method>`: "
              "V started from the aligned fastText vectors (that alignment method's artifacts) by one joint PCA to d.")
    return with_provenance(table, shown)


def start_name(variant: str) -> str:
    """How V started, from a space directory's suffix (``multitask_bwe.py``'s ``space_variant``)."""
    parts = ["aligned fastText" if "-init-aligned" in variant else "random"]
    pretrain = re.search(r"-pretrain(\d+)", variant)
    if pretrain:
        parts.append(f"then {int(pretrain.group(1)):,} Lm-only pairs")
    return ", ".join(parts)


def multitask_neighbours_table(records: Records) -> str:
    """Their Table 3: share of the k English nearest neighbours of the target dev entity words that
    have the word's type, per type (mean ± sd over seeds), then the neighbours of a few words."""
    shown = latest_valid(records["multitask_neighbours"])
    if not shown:
        return "(no records yet)"
    groups: Dict[Tuple[str, int, str, str, int], List[Dict[str, Any]]] = {}
    for record in shown:
        key = record["key"]
        start = start_name(key.get("variant", ""))
        groups.setdefault((key["language"], key["dim"], key["regime"], start, key["k"]), []).append(record)
    types = ("PER", "LOC", "ORG", "MISC", "all")
    rows = []
    for (language, dim, regime, start, k), mine in groups.items():
        rows.append([language, str(dim), regime, start, str(k)]
                    + [mean_sd([100 * r["numbers"]["shares"][t] for r in mine if t in r["numbers"]["shares"]]) for t in types]
                    + [f"{mine[0]['numbers']['dev_entity_words_with_a_row']:,} of {mine[0]['numbers']['dev_entity_words']:,}",
                       ", ".join(str(r["key"]["seed"]) for r in mine)])
    table = markdown_table(["language", "d", "regime", "V start", "k"] + [f"same type, {t} (%)" for t in types]
                           + ["dev entity words with a row (first seed)", "seeds"], rows)
    examples = []
    for record in shown:
        key = record["key"]
        if key["seed"] != shown[0]["key"]["seed"]:
            continue
        for word, entry in record["numbers"]["shown"].items():
            neighbours = ", ".join(f"{w} ({t})" for w, t in zip(entry["neighbours"][:5], entry["neighbour_types"][:5]))
            examples.append([key["language"], str(key["dim"]), key["regime"], start_name(key.get("variant", "")),
                             f"{word} ({entry['type']})", neighbours])
    table += ("\n\nThe five nearest English words (their majority label in English train) of the most frequent "
              f"dev entity words of each type, seed {shown[0]['key']['seed']}:\n\n")
    table += markdown_table(["language", "d", "regime", "V start", "dev word (type)", "nearest English words"], examples)
    return with_provenance(table, shown)


def parser_table(records: Records) -> str:
    """Config × dev set: UAS / LAS without punctuation, then CoNLL 2018 UAS / LAS (means ± sd over
    the row's seeds), one row per config, selection and training size; and the MST speed."""
    shown = latest_valid(records["parser"])
    runs = [r for r in shown if r["key"]["kind"] == "zero_shot_parsing"]
    order = {name: index for index, name in enumerate(treebanks())}
    dev_sets = sorted({name for r in runs for name in r["numbers"]["dev"]},
                      key=lambda name: (order.get(name, len(order)), name))
    noted = {name for r in runs for name, score in r["numbers"]["dev"].items() if "note" in score}
    # Models selected on each target treebank's dev set (one per treebank) form one row per config.
    groups: Dict[Tuple[str, bool, int], List[Dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["key"]["config"], "selected_on" in r["key"], r["numbers"]["max_train"]), []).append(r)
    tables = {"punctuation excluded": ("UAS", "LAS"), "CoNLL 2018 (every word, universal relations)":
              ("conll18_UAS", "conll18_LAS")}
    rows: Dict[str, List[List[str]]] = {title: [] for title in tables}
    skipped = []
    for (config, target_selected, max_train), mine in groups.items():
        epochs = ", ".join(dict.fromkeys(str(r["numbers"]["epochs"]) for r in mine))
        training = f"{epochs} epoch(s), " + (f"{max_train:,} sentences" if max_train else "all of EWT train")
        per_epoch = [r["numbers"]["train_wall_s"] / r["numbers"]["epochs"] / 60 for r in mine
                     if not r["numbers"].get("resumed")]
        seeds = ", ".join(dict.fromkeys(str(r["key"]["seed"]) for r in mine))
        for title, (unlabelled, labelled) in tables.items():
            cells = [f"`{config}`" + (" (target-dev selection)" if target_selected else "")]
            for dev_set in dev_sets:
                measured = [r["numbers"]["dev"][dev_set] for r in mine
                            if "skipped" not in r["numbers"]["dev"].get(dev_set, {"skipped": ""})]
                cells.append(" / ".join(mean_sd([m[metric] for m in measured]).replace(" (n=1)", "")
                                        for metric in (unlabelled, labelled)) if measured else "–")
            rows[title].append(cells + [seeds, training, number(statistics.mean(per_epoch)) if per_epoch else "–"])
        skipped += [f"- {config} {name}: {score['skipped']}" for r in mine
                    for name, score in r["numbers"]["dev"].items() if "skipped" in score]
    parts = []
    if runs:
        header = ["config"] + [name + (" ‡" if name in noted else "") for name in dev_sets] + [
            "seeds", "training", "min / epoch"]
        for title in tables:
            parts.append(f"UAS / LAS, {title}:\n\n" + markdown_table(header, rows[title]))
        notes = dict.fromkeys(score["note"] for r in runs for score in r["numbers"]["dev"].values() if "note" in score)
        if notes:
            parts.append("‡ " + "; ".join(notes) + ".")
        if skipped:
            parts.append("Not evaluated:\n" + "\n".join(dict.fromkeys(skipped)))
    mst = [r for r in shown if r["key"]["kind"] == "mst_speed"]
    if mst:
        values = mst[-1]["numbers"]
        parts.append(f"MST decoding of {values['sentences']:,} random score matrices of the English dev sentence "
                     f"lengths: ours {values['xlner_decode_mst_s']:.1f} s, allennlp's `decode_mst` "
                     f"{values['allennlp_decode_mst_s']:.1f} s (1-minute load {number(one_minute_load(mst[-1]))})"
                     + (f"; ours are single-rooted, allennlp's had several root arcs in "
                        f"{values['allennlp_multi_root_trees']:,} of them" if "allennlp_multi_root_trees" in values else "")
                     + ".")
    return with_provenance("\n\n".join(parts), runs + mst[-1:]) if parts else "(no records yet)"


def parser_breakdown_table(records: Records) -> str:
    """Per target treebank: UAS / LAS (punctuation excluded) of each config by the dependent's gold
    UPOS (tags of at least 1% of the scored words, by their share), means over the seeds; and each
    lexical config's share of words without a vector."""
    shown = [r for r in latest_valid(records["parser"]) if r["key"]["kind"] == "breakdown"
             and "skipped" not in r["numbers"]]
    parts = []
    for dev_set in dict.fromkeys(r["key"]["treebank"] for r in shown):
        mine = [r for r in shown if r["key"]["treebank"] == dev_set]
        configs = list(dict.fromkeys(r["key"]["config"] for r in mine))
        by_config = {config: [r["numbers"]["by_upos"] for r in mine if r["key"]["config"] == config] for config in configs}
        first = by_config[configs[0]][0]
        tags = ["all"] + sorted((tag for tag in first if tag != "all" and first[tag]["share"] >= 1.0),
                                key=lambda tag: -first[tag]["share"])
        rows = []
        for tag in tags:
            cells = [tag, number(first[tag]["share"])]
            for config in configs:
                runs = [scores[tag] for scores in by_config[config] if tag in scores]
                cells.append(" / ".join(number(statistics.mean(s[metric] for s in runs)) if runs else "–"
                                        for metric in ("UAS", "LAS", "label_given_head")))
            rows.append(cells)
        seeds = {config: ", ".join(dict.fromkeys(str(r["key"]["seed"]) for r in mine if r["key"]["config"] == config))
                 for config in configs}
        header = ["dependent's UPOS", "% of words"] + [f"`{config}` UAS / LAS / label if head right (seeds {seeds[config]})"
                                                        for config in configs]
        oov = [f"`{config}` {number(statistics.mean(r['numbers']['oov_share'] for r in mine if r['key']['config'] == config))}%"
               for config in configs if any("oov_share" in r["numbers"] for r in mine if r["key"]["config"] == config)]
        parts.append(f"{dev_set} dev:\n\n" + markdown_table(header, rows)
                     + (f"\n\nWords without a vector (the OOV row): {', '.join(oov)}." if oov else ""))
    return with_provenance("\n\n".join(parts), shown) if parts else "(no records yet)"


def failure_check_table(records: Records) -> str:
    """One row per checked mapping (latest record): the criterion and the nearest-neighbour
    standout beside their chance levels, the identical-strings agreement and the status."""
    shown = latest_valid(records["failure_check"])
    rows = []
    for r in shown:
        n = r["numbers"]
        agreement = f"{100 * n['identical_agreement']:.1f}% of {n['n_identical']:,}" if n["n_identical"] else "none shared"
        status = n["status"] + (f" (stored: {n['stored_status']})" if n.get("stored_status") else "")
        rows.append([r["key"]["mapping"], f"{n['criterion']:.3f} / {n['criterion_chance']:.3f}",
                     f"{n['standout']:.4f} / {n['standout_chance']:.4f}", f"{n['standout_ratio']:.2f}", agreement,
                     status, number(n.get("fit_s"))])
    header = ["mapping", "criterion / chance", "standout / chance", "standout ratio", "identical strings kept",
              "status", "fit (s)"]
    return with_provenance(markdown_table(header, rows), shown) if rows else "(no records yet)"


# ---------------------------------------------------------------- README headline

# The alignment setting of the README's headline rows (NER and BLI).
HEADLINE_ALIGNMENT = "procrustes-refine"


def headline(records: Records) -> str:
    """Per target language: zero-shot NER dev F1 (mean over seeds) of the aligned configs and en→X BLI."""
    ner = [r for r in latest_valid(records["ner_zero_shot"]) if ner_alignment_method(r) == HEADLINE_ALIGNMENT]
    bli = {(r["key"]["pair"], r["key"]["method"]): r["numbers"] for r in latest_valid(records["alignment_bli"])}
    configs = ["cross_word", "cross_shared", "cross_augmented"]
    rows = []
    for language, dev in ner_columns(ner):
        cells = [language, f"`{os.path.basename(dev)}`"]
        for config in configs:
            f1 = [r["numbers"]["f1"] for r in ner
                  if (r["key"]["config"], r["key"]["language"], r["key"]["dev"]) == (config, language, dev)]
            cells.append(f"{statistics.mean(f1):.1f}" if f1 else "pending")
        alignment = bli.get((f"en-{language}", HEADLINE_ALIGNMENT))
        cells.append(number(alignment["p1_csls"]) if alignment else "–")
        rows.append(cells)
    return markdown_table(
        ["language", "NER dev set", "Cross-Word F1", "Cross-Shared F1", "Cross-Augmented F1",
         f"BLI en→X P@1 CSLS ({HEADLINE_ALIGNMENT})"], rows,
    ) + (f"\n\nNER: trained on English labels only, over {HEADLINE_ALIGNMENT} alignments (MUSE training dictionary), "
         "mean over seeds; \"pending\": no valid record (docs/RESULTS.md has every alignment setting).")


VECTOR_LOADING_MODES = (
    ("compiled", "compiled block parser (the default), no cache"),
    ("compiled_one_process", "compiled block parser in the loading process alone, no cache"),
    ("blocks", "numpy's block parser (`loadtxt`), no cache"),
    ("blocks_one_process", "numpy's block parser in the loading process alone, no cache"),
    ("cache_write", "default parser, writing the cache (first load)"),
    ("cache_hit", "served by the cache (memory map)"),
    ("lines", "per-line Python parser (the reference)"),
)


def vector_loading_table(records: Records) -> str:
    """Per file shape × mode: wall time, speed-up over the per-line parser of the same run, peak RSS."""
    shown = latest_valid(records["vector_loading"])
    order = {mode: i for i, (mode, _) in enumerate(VECTOR_LOADING_MODES)}
    labels = dict(VECTOR_LOADING_MODES)
    shown.sort(key=lambda r: (-r["key"]["rows"], r["key"]["dim"], order.get(r["key"]["mode"], len(order))))
    rows = []
    for record in shown:
        key, values = record["key"], record["numbers"]
        speedup = values.get("speedup_vs_lines")
        rows.append([f"{key['rows']:,} × {key['dim']}", labels.get(key["mode"], key["mode"]),
                     str(values.get("processes", 1)),
                     number(values["wall_s"]), "–" if speedup is None else f"{speedup:.1f}×",
                     number(values["peak_rss_gb"], 2), number(values["import_rss_gb"], 2),
                     f"{values['loaded_rss_over_matrix']:.2f}", "yes" if values["same_as_first_mode"] else "**no**",
                     number(one_minute_load(record))])
    table = markdown_table(
        ["file (rows × dim)", "mode", "parsing processes", "wall (s)", "× per-line", "peak memory (GB)",
         "RSS after import (GB)",
         "(peak − import) / float32 matrix", "same numbers", "1-min load"], rows)
    table += ("\n\nEach load runs in a fresh interpreter that first imports the package (the RSS after "
              "import is torch, faiss and the rest); the synthetic file has fastText's `cc.*.vec` format. "
              "Peak memory is the loading process's peak RSS, or, when larger, the sampled peak of the "
              "proportional set size of it and its parsing workers together (records before the workers: RSS). "
              "A cache hit maps the matrix lazily: its pages are read when used, not in the wall time shown. "
              "× per-line divides the per-line load of the record's own run (rows of one shape may come from "
              "different runs, whose load differed), not the per-line row shown.")
    return with_provenance(table, shown)


BLOCKS: Dict[str, Callable[[Records], str]] = {
    "headline": headline,
    "english_ner": english_ner_table,
    "crf_speed": crf_table,
    "bli": bli_table,
    "vecmap_comparison": vecmap_table,
    "self_learning_optima": optima_table,
    "ner_zero_shot": ner_block,
    "bilm": bilm_table,
    "bilm_training": bilm_training_table,
    "anchor_bli": anchor_bli_table,
    "multitask_bwe": multitask_table,
    "multitask_neighbours": multitask_neighbours_table,
    "parser": parser_table,
    "parser_breakdown": parser_breakdown_table,
    "failure_check": failure_check_table,
    "alignment_scale": alignment_scale_table,
    "vector_loading": vector_loading_table,
}


def render(text: str, records: Records, source: str = "document") -> str:
    """``text`` with every marked block replaced by what ``BLOCKS`` renders from ``records``."""
    unknown = [m.group("name") for m in BLOCK.finditer(text) if m.group("name") not in BLOCKS]
    if unknown:
        raise ValueError(f"{source}: unknown results block(s) {', '.join(unknown)}; known: {', '.join(BLOCKS)}")
    opened = len(re.findall(r"<!-- results:[a-z_]+ -->", text))
    if opened != len(BLOCK.findall(text)):
        raise ValueError(f"{source}: a <!-- results:NAME --> marker has no matching <!-- /results:NAME -->")
    return BLOCK.sub(lambda m: m.group(1) + BLOCKS[m.group("name")](records) + "\n" + m.group(4), text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report documents that differ from the records")
    parser.add_argument("--results", default=RESULTS_DIRECTORY, help="directory of the *.jsonl records")
    args = parser.parse_args()
    from xlner_allennlp.file_utils import atomic_write_text

    records = load_records(args.results)
    stale = []
    for path in DOCUMENTS:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        rendered = render(text, records, path)
        if rendered != text:
            stale.append(os.path.relpath(path, ROOT))
            if not args.check:
                atomic_write_text(path, rendered)
    if args.check and stale:
        sys.exit(f"render_results: {', '.join(stale)} differ from the records; run `make results`")
    print(("rewrote " + ", ".join(stale)) if stale else "documents match the records")


if __name__ == "__main__":
    main()
