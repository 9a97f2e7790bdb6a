import os

import pytest

from benchmarks import render_results
from benchmarks.records import append_records


def record(benchmark, key, numbers, command="python benchmarks/b.py", commit="a" * 40, **extra):
    return {"benchmark": benchmark, "key": key, "numbers": numbers, "settings": {}, "command": command,
            "commit": commit, "dirty": False, "machine": {"cores": 2, "load": [1.0, 1.0, 1.0]},
            "date": "2026-12-01T00:00:00+00:00", **extra}


def ner(config, language, seed, f1, wall=600.0, dev=None, **extra):
    dev = dev or f"ner/{language}/dev.txt"
    return record("ner_zero_shot", {"config": config, "language": language, "seed": seed, "dev": dev},
                  {"f1": f1, "wall_time_s": wall, "run": f"runs/{config}-{language}-{seed}"}, **extra)


def bli(pair, method, p1_csls, test="muse-test", **extra):
    return record("alignment_bli", {"pair": pair, "method": method},
                  {"test": test, "p1_nn": 1.0, "p1_csls": p1_csls, "p5_csls": 2.0, "p10_csls": 3.0,
                   "coverage": 50.0, "status": "ok", "fit_s": 12.3}, **extra)


@pytest.fixture
def synthetic(tmp_path):
    append_records(str(tmp_path / "ner_zero_shot.jsonl"), [
        ner("cross_word", "es", 1, 50.0), ner("cross_word", "es", 2, 54.0),
        ner("cross_augmented", "es", 1, 10.0),  # replaced below: the latest record of a key is shown
        ner("cross_augmented", "es", 1, 60.0, command="python benchmarks/b.py --again", commit="b" * 40),
        ner("cross_augmented", "fr", 1, 99.0, invalid="self-trained on the evaluation text"),
    ])
    append_records(str(tmp_path / "alignment_bli.jsonl"), [
        bli("en-es", "procrustes", 30.2), bli("en-es", "procrustes-refine", 36.6),
        bli("en-de", "procrustes-refine", 21.8, test="heldout-train"),
    ])
    return render_results.load_records(str(tmp_path))


def test_ner_table_means_latest_valid_records_and_says_what_it_left_out(synthetic):
    block = render_results.ner_block(synthetic)
    assert "| Cross-Word | 52.00 ± 2.83 | 10.0 |" in block
    assert "| Cross-Augmented | 60.00 (n=1) | 10.0 |" in block
    assert "99.0" not in block and "fr `dev.txt`" not in block
    assert "- Cross-Augmented fr (`ner/fr/dev.txt`), seeds 1: self-trained on the evaluation text" in block
    assert "`python benchmarks/b.py` (2)" in block and "`python benchmarks/b.py --again` (1)" in block
    assert "`aaaaaaaaaa` (2)" in block and "`bbbbbbbbbb` (1)" in block


def test_bli_table_marks_best_per_pair_and_heldout_pairs(synthetic):
    table = render_results.bli_table(synthetic)
    assert "| en-es | procrustes | 1.0 | 30.2 |" in table
    assert "| en-es | procrustes-refine | 1.0 | **36.6** |" in table
    assert "| en-de † | procrustes-refine | 1.0 | **21.8** |" in table
    assert "Records shown: 3" in table


def test_headline_marks_languages_without_valid_records_pending(synthetic):
    table = render_results.headline(synthetic)
    assert "| es | `dev.txt` | 52.0 | pending | 60.0 | 36.6 |" in table
    assert "| fr" not in table


def test_render_replaces_only_marked_blocks(synthetic):
    text = "prose 1\n<!-- results:bli -->\nhand-typed 99.9\n<!-- /results:bli -->\nprose 2\n"
    rendered = render_results.render(text, synthetic)
    assert rendered.startswith("prose 1\n<!-- results:bli -->\n| pair |")
    assert rendered.endswith("<!-- /results:bli -->\nprose 2\n")
    assert "99.9" not in rendered
    assert render_results.render(rendered, synthetic) == rendered
    with pytest.raises(ValueError, match="unknown results block"):
        render_results.render("<!-- results:nope -->\n<!-- /results:nope -->", synthetic)
    with pytest.raises(ValueError, match="no matching"):
        render_results.render("<!-- results:bli -->\nno end\n", synthetic)


@pytest.mark.parametrize("document", render_results.DOCUMENTS, ids=os.path.basename)
def test_committed_documents_are_what_the_committed_records_render(document):
    with open(document, encoding="utf-8") as handle:
        text = handle.read()
    assert "<!-- results:" in text
    assert render_results.render(text, render_results.load_records(), document) == text, (
        f"{document} differs from what benchmarks/results/*.jsonl render: run `make results`"
    )


def benchmark_recipes(makefile):
    """Each ``benchmark-*`` target's recipe lines, with the Makefile's defaults substituted."""
    recipes, target = {}, None
    with open(makefile, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("benchmark-"):
                target = line.split(":")[0]
                recipes[target] = []
            elif line.startswith("\t") and target:
                recipes[target].append(
                    line.strip().replace("$(PY)", ".venv/bin/python").replace("$(DATA_ARG)", "--data ../shared/data")
                )
            else:
                target = None
    return recipes


def test_docs_print_exactly_the_commands_the_makefile_benchmark_targets_run():
    recipes = benchmark_recipes(os.path.join(render_results.ROOT, "Makefile"))
    assert {"benchmark-crf", "benchmark-bli", "benchmark-optima", "benchmark-ner"} <= set(recipes)
    with open(render_results.DOCUMENTS[0], encoding="utf-8") as handle:
        results = handle.read()
    for target, commands in recipes.items():
        assert f"`make {target}` runs" in results, target
        for command in commands:
            assert f"`{command}`" in results, f"{target}: docs/RESULTS.md does not print `{command}`"


def test_committed_records_report_no_french_run_self_trained_on_its_evaluation_text():
    records = render_results.load_records()
    assert all(records[name] for name in render_results.BENCHMARKS), "every benchmark has records"
    self_trained_on_val = [r for r in records["ner_zero_shot"]
                           if r["key"]["config"] == "cross_augmented" and r["key"]["dev"].endswith("fr/wikineural/val.tsv")]
    assert self_trained_on_val and all("invalid" in r for r in self_trained_on_val)
    assert all(r.get("migrated") or r["commit"] for name in records for r in records[name])


def bilm(language, tokens_per_second, forward=900.0, **extra):
    key = {"language": language, "train_sentences": 200, "heldout_sentences": 50, "seconds_budget": 30.0,
           "overrides": {}}
    return record("bilm", key, {"train_sentences_seen": 120, "train_steps": 4, "train_tokens_per_second": tokens_per_second,
                                "model_tokens_per_second": tokens_per_second + 10, "heldout_forward_perplexity": forward,
                                "heldout_backward_perplexity": 950.0, "projected_minutes_per_epoch_of_4M_tokens": 12.5},
                  **extra)


def multitask(regime, seed, f1, wall=120.0, **extra):
    return record("multitask_bwe", {"language": "es", "dim": 64, "regime": regime, "seed": seed, "update_pairs": 250},
                  {"f1_per_loc_org": f1, "f1_all_types": f1 - 1, "wall_seconds": wall}, **extra)


def parsed(config, seed, dev, selected_on=None, **extra):
    key = {"kind": "zero_shot_parsing", "config": config, "seed": seed}
    if selected_on:
        key["selected_on"] = selected_on
    return record("parser", key, {"dev": dev, "epochs": 1, "max_train": 300, "train_wall_s": 60.0}, **extra)


def scores(uas, note=None):
    values = {"UAS": uas, "LAS": uas / 2, "conll18_UAS": uas + 1, "conll18_LAS": uas / 2 + 1, "eval_wall_s": 1.0}
    return dict(values, note=note) if note else values


@pytest.fixture
def new_benchmarks(tmp_path):
    append_records(str(tmp_path / "bilm.jsonl"), [
        bilm("en", 100.0), bilm("en", 205.9, forward=1342.31, commit="c" * 40),
    ])
    append_records(str(tmp_path / "multitask_bwe.jsonl"), [
        multitask("fj", 13, 10.0), multitask("fj", 42, 14.0, wall=240.0), multitask("hfj", 13, 50.0, invalid="bug"),
        record("multitask_bwe", {"language": "es", "dim": 64, "regime": "fj", "seed": 13, "update_pairs": 250,
                                 "sgd_pairs": 64, "ner_model": "bilstm_crf"},
               {"f1_per_loc_org": 20.0, "f1_all_types": 19.0, "wall_seconds": 120.0,
                "english_dev_f1_all_types": 80.0, "dev_entity_token_oov_rate": 0.7}),
    ])
    append_records(str(tmp_path / "parser.jsonl"), [
        record("parser", {"kind": "mst_speed"}, {"sentences": 8, "xlner_decode_mst_s": 1.3, "allennlp_decode_mst_s": 2.5}),
        parsed("parser_word", 13, {"nl_alpino": scores(30.0, note="nl vectors saw UD Dutch"), "en_ewt": scores(80.0),
                                   "de_gsd": {"skipped": "no alignment artifact de-en"}}),
        parsed("parser_word", 42, {"en_ewt": scores(84.0), "nl_alpino": scores(34.0, note="nl vectors saw UD Dutch")}),
        parsed("parser_word", 13, {"de_gsd": scores(40.0)}, selected_on="de_gsd"),
        parsed("parser_word", 13, {"nl_alpino": scores(36.0, note="nl vectors saw UD Dutch")}, selected_on="nl_alpino"),
    ])
    return render_results.load_records(str(tmp_path))


def test_bilm_table_shows_the_latest_run_of_a_key(new_benchmarks):
    table = render_results.bilm_table(new_benchmarks)
    assert "| en | 120 of 200 | 50 | 30 | 4 | 205.9 | 215.9 | 1,342.3 | 950.0 | 12.5 | 1.0 |" in table
    assert "100.0" not in table
    assert "Records shown: 1" in table and "`cccccccccc` (1)" in table


def test_multitask_table_means_seeds_per_language_dim_and_regime(new_benchmarks):
    table = render_results.multitask_table(new_benchmarks)
    assert "| es | 64 | fj | unigram | random | 250 | whole document | 12.00 ± 2.83 | 11.00 ± 2.83 | – | – | 13, 42 | 3.0 |" in table
    assert "| es | 64 | fj | bilstm_crf | random | 250 | 64 pairs | 20.00 (n=1) | 19.00 (n=1) | 80.00 (n=1) | 70.0 | 13 | 2.0 |" in table
    assert "hfj" not in table and "Records shown: 3" in table


def test_multitask_neighbours_table_means_shares_over_seeds_and_shows_the_first_seed(tmp_path):
    def neighbours(regime, seed, per, variant=""):
        key = {"language": "es", "dim": 64, "regime": regime, "seed": seed, "k": 10, **({"variant": variant} if variant else {})}
        return record("multitask_neighbours", key, {
            "shares": {"PER": per, "LOC": 0.1, "all": 0.2}, "dev_entity_words": 300, "dev_entity_words_with_a_row": 90,
            "shown": {"madrid": {"type": "LOC", "neighbours": ["paris", "the"], "neighbour_types": ["LOC", "O"]}},
        })
    append_records(str(tmp_path / "multitask_neighbours.jsonl"),
                   [neighbours("hfj", 13, 0.3), neighbours("hfj", 42, 0.5), neighbours("baseline", 13, 0.1),
                    neighbours("hfj", 13, 0.9, variant="-pretrain10000")])
    table = render_results.multitask_neighbours_table(render_results.load_records(str(tmp_path)))
    assert "| es | 64 | hfj | random | 10 | 40.00 ± 14.14 | 10.00 ± 0.00 | – | – | 20.00 ± 0.00 | 90 of 300 | 13, 42 |" in table
    assert "| es | 64 | hfj | random, then 10,000 Lm-only pairs | 10 | 90.00 (n=1) |" in table
    assert "| es | 64 | baseline | random | madrid (LOC) | paris (LOC), the (O) |" in table
    assert table.count("madrid (LOC)") == 3  # seed 13 of each regime and start only


def test_parser_table_orders_dev_sets_by_the_layout_and_flags_notes_skips_and_mst(new_benchmarks):
    table = render_results.parser_table(new_benchmarks)
    header = "| config | en_ewt | de_gsd | nl_alpino ‡ | seeds | training | min / epoch |"
    row = "| `parser_word` | 82.00 ± 2.83 / 41.00 ± 1.41 | – | 32.00 ± 2.83 / 16.00 ± 1.41 | 13, 42 | 1 epoch(s), 300 sentences | 1.0 |"
    conll18 = "| `parser_word` | 83.00 ± 2.83 / 42.00 ± 1.41 | – | 33.00 ± 2.83 / 17.00 ± 1.41 | 13, 42 |"
    assert header in table and row in table and conll18 in table and table.index(row) < table.index(conll18)
    assert "‡ nl vectors saw UD Dutch." in table
    assert "- parser_word de_gsd: no alignment artifact de-en" in table
    assert "ours 1.3 s, allennlp's `decode_mst` 2.5 s" in table
    selected = "| `parser_word` (target-dev selection) | – | 40.00 / 20.00 | 36.00 / 18.00 | 13 | 1 epoch(s), 300 sentences | 1.0 |"
    assert selected in table
    assert "Records shown: 5" in table


def test_parser_breakdown_orders_tags_by_share_and_means_seeds(tmp_path):
    def scored(share, uas, las):
        return {"words": 10, "share": share, "UAS": uas, "LAS": las, "label_given_head": 100 * las / uas}

    def broken_down(config, seed, uas, oov=None):
        numbers = {"by_upos": {"all": scored(100.0, uas, uas / 2), "NOUN": scored(30.0, uas + 10, uas / 2),
                               "ADP": scored(50.0, uas - 10, uas / 4), "X": scored(0.5, 1.0, 1.0)}, "max_train": 0}
        if oov is not None:
            numbers["oov_share"] = oov
        return record("parser", {"kind": "breakdown", "config": config, "seed": seed, "treebank": "es_gsd"}, numbers)

    append_records(str(tmp_path / "parser.jsonl"), [
        broken_down("parser_word", 13, 50.0, oov=4.0), broken_down("parser_word", 42, 60.0, oov=4.0),
        broken_down("parser_delex", 13, 70.0),
    ])
    table = render_results.parser_breakdown_table(render_results.load_records(str(tmp_path)))
    assert "| dependent's UPOS | % of words | `parser_word` UAS / LAS / label if head right (seeds 13, 42) |" in table
    assert "| all | 100.0 | 55.0 / 27.5 / 50.0 | 70.0 / 35.0 / 50.0 |" in table
    assert table.index("| ADP |") < table.index("| NOUN |") and "| X |" not in table
    assert "Words without a vector (the OOV row): `parser_word` 4.0%." in table and "Records shown: 3" in table


def test_failure_check_table_shows_both_checks_and_the_stored_status(tmp_path):
    numbers = {"criterion": 0.4763, "criterion_chance": 0.2085, "standout": 0.0918, "standout_chance": 0.0298,
               "standout_ratio": 3.08, "identical_agreement": 0.296, "n_identical": 749, "status": "ok",
               "stored_status": "ok"}
    append_records(str(tmp_path / "failure_check.jsonl"), [
        record("failure_check", {"mapping": "artifacts/es-en"}, numbers),
        record("failure_check", {"mapping": "synthetic: random rotation"},
               dict(numbers, n_identical=0, status="failed", stored_status=None, standout_ratio=1.0)),
    ])
    table = render_results.failure_check_table(render_results.load_records(str(tmp_path)))
    assert "| artifacts/es-en | 0.476 / 0.208 | 0.0918 / 0.0298 | 3.08 | 29.6% of 749 | ok (stored: ok) | – |" in table
    assert "| synthetic: random rotation | 0.476 / 0.208 | 0.0918 / 0.0298 | 1.00 | none shared | failed | – |" in table


def test_new_blocks_render_no_records_yet_without_records(tmp_path):
    empty = render_results.load_records(str(tmp_path))
    assert render_results.bilm_table(empty) == "(no records yet)"
    assert render_results.multitask_table(empty) == "(no records yet)"
    assert render_results.multitask_neighbours_table(empty) == "(no records yet)"
    assert render_results.parser_table(empty) == "(no records yet)"


def test_alignment_scale_table_shows_the_latest_csls_run_and_each_command(tmp_path):
    assert render_results.alignment_scale_table(render_results.load_records(str(tmp_path))) == "(no records yet)"
    csls = {"shape": "200000x200000x300", "k": 10, "csls_k": 10, "tflop": 24.0, "sgemm_gflops_best": 100.0,
            "limit_s": 240.0, "wall_s": 360.0, "wall_over_limit": 1.5, "wall_over_sgemm_in_run": 1.25,
            "uncertified_queries": 7, "p_at_1": 0.99, "load_before": [1.2, 1.0, 1.0]}
    command = {"rows": "2000000x200000x300", "wall_s": 90.0, "peak_rss_gb": 4.8, "peak_rss_over_copy": 2.0,
               "peak_anon_gb": 3.6, "peak_anon_over_copy": 1.5, "load_before": [2.0, 1.0, 1.0]}
    append_records(str(tmp_path / "alignment_scale.jsonl"), [
        record("alignment_scale", {"part": "csls_knn", "threads": 1}, dict(csls, wall_over_limit=9.0)),
        record("alignment_scale", {"part": "csls_knn", "threads": 1}, csls),
        record("alignment_scale", {"part": "procrustes", "threads": 1}, command),
    ])
    table = render_results.alignment_scale_table(render_results.load_records(str(tmp_path)))
    assert ("| 200000x200000x300 | 10 / 10 | 24.0 | 100 | 240 | 360 | **1.50×** | 1.25× | 7 | 0.990 | 1.20 |"
            in table) and "9.00×" not in table
    assert "| xlner-align --method procrustes | 2000000x200000x300 | 90 | 4.80 | **2.00×** | 3.60 | 1.50× | 2.00 |" in table
    assert "procrustes-refine" not in table and "Records shown: 2" in table


def test_vecmap_table_shows_both_coverages_beside_vecmap(tmp_path):
    append_records(str(tmp_path / "vecmap_comparison.jsonl"), [
        record("vecmap_comparison", {"pair": "en-nl", "method": "multistep"},
               {"test": "muse-test", "p1_csls": 13.7, "p1_nn": 10.6, "vecmap_p1_csls": 12.4, "coverage": 60.7,
                "src_coverage": 67.3, "vecmap_src_coverage": 67.3, "total_s": 61.2, "vecmap_s": 154,
                "load_before": 1.0, "load_after": 1.5}),
        record("vecmap_comparison", {"pair": "en-de", "method": "multistep"},
               {"test": "heldout-train", "p1_csls": 20.0, "p1_nn": 15.0, "vecmap_p1_csls": None, "coverage": 60.2,
                "src_coverage": 70.0, "vecmap_src_coverage": None, "total_s": 50.0, "vecmap_s": None,
                "load_before": 1.0, "load_after": 1.0}),
    ])
    table = render_results.vecmap_table(render_results.load_records(str(tmp_path)))
    assert "| en-nl | multistep | 13.7 | 10.6 | 12.4 | 60.7 | 67.3 | 67.3 | 61 | 154 | 1.0–1.5 |" in table
    assert "| en-de † | multistep | 20.0 | 15.0 | – | 60.2 | 70.0 | – | 50 | – | 1.0–1.0 |" in table
    assert "Records shown: 2" in table


def loading(mode, wall, speedup, same=True):
    return record("vector_loading", {"rows": 2000, "dim": 300, "mode": mode},
                  {"wall_s": wall, "speedup_vs_lines": speedup, "peak_rss_gb": 3.1, "import_rss_gb": 0.7,
                   "matrix_gb": 2.4, "peak_over_matrix": 1.29, "loaded_rss_over_matrix": 1.0, "file_gb": 4.5,
                   "same_as_first_mode": same})


def test_vector_loading_table_orders_modes_and_flags_different_numbers():
    records = {"vector_loading": [loading("lines", 300.0, 1.0), loading("cache_hit", 0.5, 600.0),
                                  loading("blocks", 150.0, 2.0, same=False), loading("compiled", 30.0, 10.0)]}
    table = render_results.vector_loading_table(records)
    blocks = "| 2,000 × 300 | numpy's block parser (`loadtxt`), no cache | 1 | 150.0 | 2.0× | 3.10 | 0.70 | 1.00 | **no** | 1.0 |"
    assert blocks in table and "| 600.0× |" in table
    assert (table.index("compiled block parser (the default)") < table.index(blocks) < table.index("served by the cache")
            < table.index("per-line Python parser"))
    assert "Records shown: 4" in table


def test_ner_rows_are_split_by_alignment_method_only_when_records_hold_several(tmp_path):
    def aligned(config, seed, f1, method=None):
        made = ner(config, "es", seed, f1)
        if method is not None:
            made["key"]["alignment"] = method
        return made

    append_records(str(tmp_path / "ner_zero_shot.jsonl"), [
        ner("source_mono", "es", 1, 20.0),
        aligned("cross_word", 1, 50.0), aligned("cross_word", 2, 54.0, "procrustes-refine"),
    ])
    one_method = render_results.ner_block(render_results.load_records(str(tmp_path)))
    assert "| Cross-Word | 52.00 ± 2.83 | 10.0 |" in one_method  # an older record without the key counts as procrustes-refine
    append_records(str(tmp_path / "ner_zero_shot.jsonl"), [aligned("cross_word", 1, 40.0, "multistep")])
    two_methods = render_results.ner_block(render_results.load_records(str(tmp_path)))
    assert "| Cross-Word (procrustes-refine) | 52.00 ± 2.83 | 10.0 |" in two_methods
    assert "| Cross-Word (multistep) | 40.00 (n=1) | 10.0 |" in two_methods
    assert "| Source-Mono | 20.00 (n=1) | 10.0 |" in two_methods
