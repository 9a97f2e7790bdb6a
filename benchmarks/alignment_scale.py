"""Alignment at real scale on synthetic vectors: CSLS k-NN against the machine's sgemm limit, and
wall time and peak memory of ``xlner-align`` / ``xlner-bli`` with a 2M-row mapped side.

The vectors are synthetic and written as ``.npy`` + ``.vocab`` (under ``--workdir``, never in the
repository), so loading text is not what is measured. The reference side is ``R`` anisotropic
Gaussian rows with an offset; the first ``R`` rows of the mapped side are a shuffled copy of them
under a known rotation plus noise, the rest extra words of the same distribution, so the true
translations are known and BLI is meaningful. Parts:

* ``csls``: the FLOP limit is the best float32 sgemm rate (numpy and torch, tile-shaped products,
  timed before and after) and the limit ``2 n m d / rate``; then ``csls_knn`` of ``n`` queries
  (the mapped rows under the true rotation) against ``m`` keys, its wall time over the limit and
  over the time its own sgemm calls took (which shares the run's load), how many queries the
  certification left to the exact second pass, and P@1 against the truth.
* ``procrustes``, ``refine`` (procrustes-refine, 1 refinement iteration), ``bli`` (``xlner-bli``
  with NN retrieval: CSLS over a 2M-row mapped side would cost 2M × 200k × 300 × 2 ≈ 240 TFLOP
  for the reference words' neighbourhoods): each command in a fresh process, its wall time, peak
  RSS (``ru_maxrss``, which counts the pages of memory-mapped files too) and peak anonymous
  memory (``RssAnon`` sampled every 50 ms: the arrays themselves), relative to one float32 copy
  of the mapped side's kept rows.

Prints a table with the load average and appends one record per part to
``benchmarks/results/alignment_scale.jsonl``. ``--threads 2`` is used only when the 1-minute load
is below 1.5 at the start; otherwise the run falls back to 1 thread for everything.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/alignment_scale.py
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.records import Recorder, results_path  # noqa: E402

PARTS = ("csls", "procrustes", "refine", "bli")
QUIET_LOAD = 1.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="/tmp/xlner-alignment-scale", help="where the synthetic files go")
    parser.add_argument("--mapped-rows", type=int, default=2_000_000)
    parser.add_argument("--reference-rows", type=int, default=200_000)
    parser.add_argument("--csls-rows", type=int, default=200_000, help="queries and keys of the CSLS part")
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--k", type=int, default=10, help="CSLS neighbours returned per query")
    parser.add_argument("--csls-k", type=int, default=10)
    parser.add_argument("--noise", type=float, default=0.3, help="noise added to the rotated rows (per dimension)")
    parser.add_argument("--train-pairs", type=int, default=5000)
    parser.add_argument("--test-pairs", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=1, choices=(1, 2))
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--output", default=results_path("alignment_scale"), help="records file (appended to)")
    return parser.parse_args()


def load_average() -> List[float]:
    return [round(value, 2) for value in os.getloadavg()]


def synthetic_spaces(rows: int, dim: int, noise: float, seed: int) -> Tuple[Any, Any, Any, Any]:
    """``(reference, mapped, rotation, order)``: ``rows`` reference rows and their shuffled, rotated,
    noisy copies (mapped row ``i`` translates reference row ``order[i]``), float32."""
    import numpy as np

    rng = np.random.default_rng(seed)
    scale = np.linspace(2.0, 0.5, dim, dtype=np.float32)
    reference = rng.standard_normal((rows, dim), dtype=np.float32) * scale + 0.3
    rotation = np.linalg.qr(rng.standard_normal((dim, dim)))[0].astype(np.float32)
    order = rng.permutation(rows)
    mapped = reference[order] @ rotation.T
    mapped += noise * rng.standard_normal((rows, dim), dtype=np.float32)
    return reference, mapped, rotation, order


def write_files(args: argparse.Namespace) -> Dict[str, str]:
    """The synthetic ``es`` (mapped, ``--mapped-rows``) and ``en`` (reference) files and the train
    and test dictionaries, written once per setting (reused when the stamp matches)."""
    import numpy as np

    os.makedirs(args.workdir, exist_ok=True)
    paths = {name: os.path.join(args.workdir, name) for name in
             ("es.npy", "es.vocab", "en.npy", "en.vocab", "train.txt", "test.txt", "stamp.json")}
    stamp = {name: getattr(args, name) for name in
             ("mapped_rows", "reference_rows", "dim", "noise", "train_pairs", "test_pairs", "seed")}
    if os.path.isfile(paths["stamp.json"]):
        with open(paths["stamp.json"], encoding="utf-8") as handle:
            if json.load(handle) == stamp:
                return paths
    reference, mapped, _, order = synthetic_spaces(args.reference_rows, args.dim, args.noise, args.seed)
    np.save(paths["en.npy"], reference)
    with open(paths["en.vocab"], "w", encoding="utf-8") as handle:
        handle.writelines(f"e{i}\n" for i in range(args.reference_rows))
    out = np.lib.format.open_memmap(paths["es.npy"], mode="w+", dtype=np.float32,
                                    shape=(args.mapped_rows, args.dim))
    out[: args.reference_rows] = mapped
    rng = np.random.default_rng(args.seed + 1)
    scale = np.linspace(2.0, 0.5, args.dim, dtype=np.float32)
    block = 200_000
    for start in range(args.reference_rows, args.mapped_rows, block):
        stop = min(args.mapped_rows, start + block)
        out[start:stop] = rng.standard_normal((stop - start, args.dim), dtype=np.float32) * scale + 0.3
    out.flush()
    del out
    with open(paths["es.vocab"], "w", encoding="utf-8") as handle:
        handle.writelines(f"s{i}\n" for i in range(args.mapped_rows))
    chosen = rng.permutation(args.reference_rows)[: args.train_pairs + args.test_pairs]
    for name, rows in (("train.txt", chosen[: args.train_pairs]), ("test.txt", chosen[args.train_pairs:])):
        with open(paths[name], "w", encoding="utf-8") as handle:
            handle.writelines(f"s{i} e{order[i]}\n" for i in rows)
    with open(paths["stamp.json"], "w", encoding="utf-8") as handle:
        json.dump(stamp, handle)
    return paths


def sgemm_rate(dim: int, repeats: int = 5) -> Dict[str, float]:
    """Best GFLOP/s of a tile-shaped float32 product (QUERY_TILE × dim by dim × KEY_TILE), numpy and torch."""
    import numpy as np
    import torch

    from xlner_allennlp.alignment.retrieval import KEY_TILE, QUERY_TILE

    rng = np.random.default_rng(0)
    a = rng.standard_normal((QUERY_TILE, dim), dtype=np.float32)
    b = rng.standard_normal((KEY_TILE, dim), dtype=np.float32)
    out = np.empty((QUERY_TILE, KEY_TILE), np.float32)
    flops = 2.0 * QUERY_TILE * KEY_TILE * dim
    rates = {}
    for name, product in (("numpy", lambda: np.matmul(a, b.T, out=out)),
                          ("torch", lambda: torch.matmul(torch.from_numpy(a), torch.from_numpy(b).T,
                                                         out=torch.from_numpy(out)))):
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            product()
            best = min(best, time.perf_counter() - start)
        rates[name] = flops / best / 1e9
    return rates


class TimedMatmul:
    """Stands for the ``torch`` module inside the retrieval code and adds up the time of its
    matmuls, so the run's own sgemm time (under whatever load the run met) is known."""

    def __init__(self, module: Any) -> None:
        self.module, self.seconds = module, 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    def matmul(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = self.module.matmul(*args, **kwargs)
        self.seconds += time.perf_counter() - start
        return result


def measure_csls(args: argparse.Namespace) -> Dict[str, Any]:
    import numpy as np

    from xlner_allennlp.alignment import retrieval
    from xlner_allennlp.alignment.align import DEFAULT_NORMALIZATION
    from xlner_allennlp.alignment.normalization import Normalization

    reference, mapped, rotation, order = synthetic_spaces(args.csls_rows, args.dim, args.noise, args.seed)
    # Both sides normalized as xlner-align does, the queries mapped by the true rotation.
    keys = Normalization.fit(reference, DEFAULT_NORMALIZATION).apply(reference, in_place=True)
    mapped = mapped @ rotation
    queries = Normalization.fit(mapped, DEFAULT_NORMALIZATION).apply(mapped, in_place=True)
    n, m, d = queries.shape[0], keys.shape[0], args.dim
    flops = 2.0 * n * m * d
    before = sgemm_rate(d)
    passes: List[int] = []
    scan, library_torch = retrieval._blocked_topk, retrieval.torch
    timed = TimedMatmul(library_torch)

    def counted(*call_args: Any, **kwargs: Any) -> Any:
        passes.append(call_args[0].shape[0])
        return scan(*call_args, **kwargs)

    retrieval._blocked_topk, retrieval.torch = counted, timed
    load_before = load_average()
    start = time.perf_counter()
    try:
        _, indices = retrieval.csls_knn(queries, keys, args.k, args.csls_k, normalize=False)
    finally:
        retrieval._blocked_topk, retrieval.torch = scan, library_torch
    wall = time.perf_counter() - start
    after = sgemm_rate(d)
    rate = max(*before.values(), *after.values())
    limit = flops / (rate * 1e9)
    return {
        "shape": f"{n}x{m}x{d}", "k": args.k, "csls_k": args.csls_k, "tflop": flops / 1e12,
        "sgemm_gflops_before": before, "sgemm_gflops_after": after, "sgemm_gflops_best": rate,
        "limit_s": limit, "wall_s": wall, "wall_over_limit": wall / limit,
        "sgemm_s_in_run": timed.seconds, "wall_over_sgemm_in_run": wall / timed.seconds,
        "uncertified_queries": passes[1] if len(passes) > 1 else 0,
        "p_at_1": float((indices[:, 0] == order).mean()), "load_before": load_before, "load_after": load_average(),
    }


def peak_anonymous(pid: int, result: Dict[str, int], done: threading.Event) -> None:
    """Sample ``RssAnon`` of process ``pid`` every 50 ms until ``done``; keep the largest (bytes)."""
    while not done.is_set():
        try:
            with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith("RssAnon:"):
                        result["peak"] = max(result["peak"], int(line.split()[1]) * 1024)
        except OSError:
            return
        done.wait(0.05)


def run_command(command: List[str], threads: int) -> Dict[str, Any]:
    """Run ``command`` in a fresh process: wall seconds, peak RSS and peak anonymous memory (bytes), status."""
    environment = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": str(threads),
                   "MKL_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampled = {"peak": 0}
    done = threading.Event()
    sampler = threading.Thread(target=peak_anonymous, args=(process.pid, sampled, done), daemon=True)
    sampler.start()
    output = []
    readers = [threading.Thread(target=lambda s=s: output.append(s.read()), daemon=True)
               for s in (process.stdout, process.stderr)]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    text = b"".join(output).decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}:\n{text[-3000:]}")
    return {"wall_s": wall, "peak_rss_bytes": usage.ru_maxrss * 1024, "peak_anon_bytes": sampled["peak"],
            "output_tail": text[-600:]}


def measure_command(args: argparse.Namespace, part: str, paths: Dict[str, str]) -> Dict[str, Any]:
    allennlp = [sys.executable, "-m", "allennlp"]
    artifact = os.path.join(args.workdir, f"es-en-{part if part != 'bli' else 'procrustes'}")
    if part == "bli":
        command = allennlp + ["xlner-bli", artifact, "--dictionary", paths["test.txt"], "--retrieval", "nn"]
    else:
        method = "procrustes" if part == "procrustes" else "procrustes-refine"
        command = allennlp + ["xlner-align", "--mapped-vectors", paths["es.npy"], "--reference-vectors",
                              paths["en.npy"], "--method", method, "--dictionary", paths["train.txt"],
                              "--output", artifact]
        if part == "refine":
            command += ["--set", "refinement_iterations=1"]
    load_before = load_average()
    measured = run_command(command, args.threads)
    one_copy = 4.0 * args.mapped_rows * args.dim
    both_sides = 4.0 * (args.mapped_rows + args.reference_rows) * args.dim
    numbers = {
        "rows": f"{args.mapped_rows}x{args.reference_rows}x{args.dim}",
        "command": " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in command[1:]),
        "wall_s": measured["wall_s"],
        "peak_rss_gb": measured["peak_rss_bytes"] / 1e9, "peak_anon_gb": measured["peak_anon_bytes"] / 1e9,
        "float32_copy_gb": one_copy / 1e9,
        "peak_rss_over_copy": measured["peak_rss_bytes"] / one_copy,
        "peak_anon_over_copy": measured["peak_anon_bytes"] / one_copy,
        "peak_rss_over_both_sides": measured["peak_rss_bytes"] / both_sides,
        "load_before": load_before, "load_after": load_average(),
    }
    if part == "bli":
        printed = measured["output_tail"]
        numbers["bli"] = json.loads(printed[printed.index("{"): printed.rindex("}") + 1])
    else:
        with open(os.path.join(artifact, "meta.json"), encoding="utf-8") as handle:
            evaluation = json.load(handle)["evaluation"]
        numbers["status"] = evaluation.get("status")
        numbers["criterion"] = evaluation.get("criterion")
    return numbers


def main() -> None:
    args = parse_args()
    load = load_average()
    if args.threads == 2 and load[0] >= QUIET_LOAD:
        print(f"load {load[0]} >= {QUIET_LOAD}: measuring with 1 thread", file=sys.stderr)
        args.threads = 1
    import torch

    torch.set_num_threads(args.threads)
    recorder = Recorder("alignment_scale", {**vars(args)}, path=args.output)
    rows = []
    if "csls" in args.parts:
        numbers = measure_csls(args)
        recorder.record({"part": "csls_knn", "threads": args.threads}, numbers)
        rows.append(("csls_knn " + numbers["shape"], f"{numbers['wall_s']:.0f} s",
                     f"limit {numbers['limit_s']:.0f} s ({numbers['sgemm_gflops_best']:.0f} GFLOP/s): "
                     f"{numbers['wall_over_limit']:.2f}x (own sgemm time {numbers['sgemm_s_in_run']:.0f} s: "
                     f"{numbers['wall_over_sgemm_in_run']:.2f}x); {numbers['uncertified_queries']} queries recomputed; "
                     f"P@1 {numbers['p_at_1']:.3f}", numbers["load_before"]))
    commands = [part for part in ("procrustes", "refine", "bli") if part in args.parts]
    if commands:
        paths = write_files(args)
        for part in commands:
            numbers = measure_command(args, part, paths)
            recorder.record({"part": part, "threads": args.threads}, numbers)
            detail = (f"peak RSS {numbers['peak_rss_gb']:.2f} GB ({numbers['peak_rss_over_copy']:.2f}x), "
                      f"anonymous {numbers['peak_anon_gb']:.2f} GB ({numbers['peak_anon_over_copy']:.2f}x) "
                      f"of {numbers['float32_copy_gb']:.2f} GB")
            if part == "bli":
                detail += f"; P@1 NN {numbers['bli']['precision_at_1_nn']:.3f}"
            rows.append((f"{part} {numbers['rows']}", f"{numbers['wall_s']:.0f} s", detail, numbers["load_before"]))
    print(f"{'measurement':<34} {'wall':>7}  detail  [load before]")
    for name, wall, detail, load_before in rows:
        print(f"{name:<34} {wall:>7}  {detail}  {load_before}")


if __name__ == "__main__":
    main()
