"""Loading a large word2vec text file: wall time and peak RSS of ``load_vectors``, each in a fresh
subprocess, for the compiled block parser, numpy's block parser, the default parser writing the
cache, a load served by that cache, and the per-line parser (the reference the speed-up is
measured against, in the same run).

The file is synthetic, in the shape and format of the published fastText ``cc.*.300.vec`` files:
a ``rows dim`` header, ``word v1 ... vd `` lines with 4-decimal values in (-1, 1) and a trailing
space (default 2,000,000 x 300, about 4.5 GB), written into ``--directory`` and deleted afterwards
unless ``--keep``. The cache goes to a temporary directory beside it, deleted likewise. Every
mode's matrix is hashed (after its RSS is read) to check the modes load the same numbers.
``compiled`` (the package's C parser, the default when it is built) and ``blocks`` (numpy's
``loadtxt``) parse with one process per usable core (the default), the ``*_one_process`` modes in
the loading process alone. Memory is the larger of the loading process's peak RSS and the peak, sampled
every 0.2 s, of the proportional set size summed over it and its parsing workers (shared pages
counted once).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/vector_loading.py               # 2M x 300
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/vector_loading.py --rows 50000  # a quick look

Appends one record per mode to ``benchmarks/results/vector_loading.jsonl``.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.records import Recorder, results_path  # noqa: E402  (first: it notes the starting environment)

import numpy as np  # noqa: E402

MODES = ("compiled", "compiled_one_process", "blocks", "blocks_one_process", "cache_write", "cache_hit", "lines")
# Each mode's (parser, cache, workers): workers 0 is one parsing process per usable core (the
# default). ``blocks`` keeps its name from before the compiled parser: numpy's block parser.
SETTINGS = {"compiled": ("blocks", "off", 0), "compiled_one_process": ("blocks", "off", 1),
            "blocks": ("numpy", "off", 0), "blocks_one_process": ("numpy", "off", 1),
            "cache_write": ("blocks", "CACHE", 0), "cache_hit": ("blocks", "CACHE", 0), "lines": ("lines", "off", 1)}
# The child: import the loader, load with one mode's settings, report wall time and RSS as JSON.
CHILD = r"""
import hashlib, json, resource, sys, time
from xlner_allennlp.alignment.vectors import TextLoading, load_vectors
path, parser, cache, workers = sys.argv[1:5]
imported_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
loading = TextLoading(parser=parser, cache=cache, cache_min_bytes=0, workers=int(workers))
start = time.perf_counter()
vectors = load_vectors(path, loading=loading)
wall = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
digest = hashlib.sha256(memoryview(vectors.matrix)).hexdigest()
print(json.dumps({"wall_s": wall, "peak_rss_kb": peak_kb, "import_rss_kb": imported_kb, "workers_rss_kb": workers_kb,
                  "processes": loading.processes if parser != "lines" else 1, "compiled": loading.compiled,
                  "rows": len(vectors), "dim": vectors.dim, "sha256": digest}))
"""
# How often the parent samples the memory of the loading process and its workers.
SAMPLE_SECONDS = 0.2


def _tree_pss_kb(pid: int) -> int:
    """Proportional set size of ``pid`` and its descendants (kB): shared pages (the matrix the
    workers fill) are split among the processes that map them, so the sum is the memory used."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack.extend(int(child) for child in handle.read().split())
        except (OSError, StopIteration):
            continue
    return total


def write_synthetic(path: str, rows: int, dim: int, seed: int = 0, block_rows: int = 20000) -> int:
    """Write a fastText-like text file (see the module docstring) with numpy alone (no per-value
    Python formatting); returns its size in bytes. Words are ``w0000000``, ``w0000001``, ..."""
    rng = np.random.default_rng(seed)
    filler = 0  # a byte that never occurs in the text: marks the sign slot of a positive value
    with open(path, "wb") as handle:
        handle.write(f"{rows} {dim}\n".encode())
        for start in range(0, rows, block_rows):
            n = min(block_rows, rows - start)
            values = rng.integers(-9999, 10000, size=(n, dim))
            digits = np.abs(values)
            field = np.empty((n, dim, 8), np.uint8)
            field[:, :, 0] = ord(" ")
            field[:, :, 1] = np.where(values < 0, ord("-"), filler)
            field[:, :, 2] = ord("0")
            field[:, :, 3] = ord(".")
            for place in range(4):
                field[:, :, 7 - place] = ord("0") + (digits // 10 ** place) % 10
            word = np.empty((n, 8), np.uint8)
            word[:, 0] = ord("w")
            index = np.arange(start, start + n)
            for place in range(7):
                word[:, 7 - place] = ord("0") + (index // 10 ** place) % 10
            end = np.tile(np.frombuffer(b" \n", np.uint8), (n, 1))
            line = np.concatenate([word, field.reshape(n, dim * 8), end], axis=1).ravel()
            handle.write(line[line != filler].tobytes())
    return os.path.getsize(path)


def measure(path: str, parser: str, cache: str, workers: int) -> Dict[str, Any]:
    """One load in a fresh interpreter (the package imported first, as a command would), its
    process tree's memory sampled every SAMPLE_SECONDS (``peak_pss_kb``)."""
    environment = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen([sys.executable, "-c", CHILD, path, parser, cache, str(workers)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    peak_pss = [0]

    def sample() -> None:
        while child.poll() is None:
            peak_pss[0] = max(peak_pss[0], _tree_pss_kb(child.pid))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"the {parser} load failed:\n{stderr[-2000:]}")
    return dict(json.loads(stdout.strip().splitlines()[-1]), peak_pss_kb=peak_pss[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--directory", default=tempfile.gettempdir(), help="where the synthetic file is written")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--keep", action="store_true", help="keep the synthetic file and the cache")
    parser.add_argument("--output", default=results_path("vector_loading"), help="records file (appended to)")
    args = parser.parse_args()
    recorder = Recorder("vector_loading", vars(args), args.output)
    work = tempfile.mkdtemp(prefix="xlner-vector-loading-", dir=args.directory)
    path = os.path.join(work, f"synthetic.{args.rows}x{args.dim}.vec")
    cache = os.path.join(work, "cache")
    try:
        start = time.perf_counter()
        size = write_synthetic(path, args.rows, args.dim)
        print(f"wrote {path}: {size / 1e9:.2f} GB in {time.perf_counter() - start:.0f} s", flush=True)
        settings = {mode: (parser, cache if where == "CACHE" else where, workers)
                    for mode, (parser, where, workers) in SETTINGS.items()}
        results = {}
        for mode in args.modes:
            if mode == "cache_hit" and "cache_write" not in results:
                measure(path, *settings["cache_write"])  # the cache must exist before it can be hit
            results[mode] = measure(path, *settings[mode])
            if mode.startswith("compiled") and not results[mode]["compiled"]:
                raise SystemExit("the compiled parser is not built (xlner_allennlp/alignment/_textparse.c): "
                                 "install a C compiler and reinstall the package (make install)")
            print(f"{mode}: {results[mode]['wall_s']:.1f} s, peak RSS {results[mode]['peak_rss_kb'] / 1e6:.2f} GB, "
                  f"peak PSS of its processes {results[mode]['peak_pss_kb'] / 1e6:.2f} GB", flush=True)
        matrix_gb = args.rows * args.dim * 4 / 1e9
        reference = results.get("lines")
        print(f"\n{'mode':<20} {'wall s':>8} {'x lines':>8} {'peak RSS GB':>12} {'/ matrix':>9} {'- import':>9}  same numbers")
        for mode, result in results.items():
            # The larger of the loading process's own peak RSS and its process tree's sampled PSS.
            peak = max(result["peak_rss_kb"], result["peak_pss_kb"]) / 1e6
            numbers = {
                "wall_s": round(result["wall_s"], 2),
                "processes": result["processes"],
                "compiled_parser": result["compiled"],
                "ns_per_value": round(result["wall_s"] * 1e9 / (args.rows * args.dim) * result["processes"], 1),
                "own_peak_rss_gb": round(result["peak_rss_kb"] / 1e6, 3),
                "workers_peak_rss_gb": round(result["workers_rss_kb"] / 1e6, 3),
                "peak_pss_gb": round(result["peak_pss_kb"] / 1e6, 3),
                "speedup_vs_lines": round(reference["wall_s"] / result["wall_s"], 2) if reference else None,
                "peak_rss_gb": round(peak, 3),
                "import_rss_gb": round(result["import_rss_kb"] / 1e6, 3),
                "matrix_gb": round(matrix_gb, 3),
                "peak_over_matrix": round(peak / matrix_gb, 2),
                "loaded_rss_over_matrix": round((peak - result["import_rss_kb"] / 1e6) / matrix_gb, 2),
                "file_gb": round(size / 1e9, 3),
                "same_as_first_mode": result["sha256"] == next(iter(results.values()))["sha256"],
            }
            recorder.record({"rows": args.rows, "dim": args.dim, "mode": mode}, numbers)
            speedup = f"{numbers['speedup_vs_lines']:.1f}" if reference else "-"
            print(f"{mode:<20} {numbers['wall_s']:>8.1f} {speedup:>8} {peak:>12.2f} "
                  f"{numbers['peak_over_matrix']:>9.2f} {numbers['loaded_rss_over_matrix']:>9.2f}  "
                  f"{numbers['same_as_first_mode']}")
        print(f"load average now: {os.getloadavg()}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
