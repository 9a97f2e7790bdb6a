"""Benchmark records: every benchmark run appends what it measured to
``benchmarks/results/<benchmark>.jsonl``, one JSON object per line, and never rewrites the file.

A record is one measured row (or one whole run, for benchmarks that measure a single thing) with
its provenance::

    {"benchmark": "alignment_bli",
     "key": {"pair": "en-es", "method": "procrustes"},      # what the row is about
     "numbers": {"p1_csls": 30.2, ...},                      # what was measured
     "settings": {...},                                       # the run's options (argparse values)
     "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/alignment_bli.py --pairs en-es",
     "commit": "<sha>", "dirty": false,                       # git HEAD, uncommitted changes or not
     "machine": {"cores": 2, "load": [1.2, 0.9, 0.8], "cpu_model": ..., "python": ..., "torch": ...},
     "date": "2026-12-02T05:30:00+00:00"}

Optional fields: ``"migrated": true`` for rows converted from the results files kept before
records existed (``provenance`` says where their commit and command come from) and
``"invalid": "<reason>"`` for rows that must not be reported (``docs/RESULTS.md`` says why).
``benchmarks/render_results.py`` renders the docs' tables from these files.

Plain Python (standard library only), so a benchmark can record without importing the package.
"""
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
from typing import Any, Dict, Iterable, List, Mapping, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIRECTORY = os.path.join(ROOT, "benchmarks", "results")
REQUIRED_FIELDS = ("benchmark", "key", "numbers", "settings", "command", "commit", "machine", "date")
# Environment variables that change what a benchmark measures; a command line records them as a prefix.
RECORDED_ENVIRONMENT_PREFIXES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "XLNER_")
# The environment the process started with, before any import or the benchmark itself sets variables
# (a benchmark imports this module first).
STARTING_ENVIRONMENT = {name: value for name, value in os.environ.items() if name.startswith(RECORDED_ENVIRONMENT_PREFIXES)}


class RecordError(ValueError):
    """A records file that cannot be read: names the file and the line."""


def results_path(benchmark: str) -> str:
    """Where ``benchmark``'s records live: ``benchmarks/results/<benchmark>.jsonl``."""
    return os.path.join(RESULTS_DIRECTORY, f"{benchmark}.jsonl")


def git_state(root: str = ROOT) -> Dict[str, Any]:
    """``{"commit": HEAD's sha or None, "dirty": whether tracked or untracked files differ from HEAD}``.

    Changes under ``benchmarks/results/`` do not count: appending records there must not make the
    next run look dirty. Both are None outside a git checkout."""
    try:
        commit = subprocess.run(
            ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", ".", ":(exclude)benchmarks/results"],
            capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def cpu_model() -> Optional[str]:
    """The first ``model name`` of ``/proc/cpuinfo`` (Linux), else ``platform.processor()`` or None."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def package_version(name: str) -> Optional[str]:
    """An installed distribution's version, read from its metadata (the package is not imported)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine() -> Dict[str, Any]:
    """The machine now: cores, 1/5/15-minute load average, CPU model, platform, Python and torch versions."""
    return {
        "cores": os.cpu_count(),
        "load": [round(value, 2) for value in os.getloadavg()],
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": package_version("torch"),
    }


def command_line(argv: Optional[List[str]] = None, environ: Optional[Mapping[str, str]] = None) -> str:
    """The command as it could be typed again: the recorded environment variables that were set when
    the process started, the interpreter (relative to the repository when inside it) and the
    arguments, shell-quoted."""
    argv = sys.argv if argv is None else argv
    environ = STARTING_ENVIRONMENT if environ is None else environ
    prefix = [f"{name}={value}" for name, value in sorted(environ.items())
              if name.startswith(RECORDED_ENVIRONMENT_PREFIXES)]
    interpreter = sys.executable
    if os.path.abspath(interpreter).startswith(ROOT + os.sep):
        interpreter = os.path.relpath(interpreter, ROOT)
    return " ".join(prefix + [shlex.quote(interpreter)] + [shlex.quote(arg) for arg in argv])


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


class Recorder:
    """Appends ``benchmark``'s records to ``path`` (default ``results_path(benchmark)``).

    The commit, the command line and the settings are taken once, when the run starts (a run
    measures the code it started with); the machine's load and the date are taken per record."""

    def __init__(self, benchmark: str, settings: Mapping[str, Any], path: Optional[str] = None) -> None:
        self.benchmark = benchmark
        self.path = path or results_path(benchmark)
        self.settings = dict(settings)
        self.command = command_line()
        self.git = git_state()

    def record(self, key: Mapping[str, Any], numbers: Mapping[str, Any]) -> Dict[str, Any]:
        """Append one record for the row ``key`` with its measured ``numbers``; returns it."""
        entry = {
            "benchmark": self.benchmark, "key": dict(key), "numbers": dict(numbers),
            "settings": self.settings, "command": self.command, **self.git,
            "machine": machine(), "date": now(),
        }
        append_records(self.path, [entry])
        return entry


def append_records(path: str, records: Iterable[Mapping[str, Any]]) -> None:
    """Append ``records`` to ``path`` as JSON lines in one ``O_APPEND`` write, then fsync: earlier
    lines are never rewritten, and a crash leaves at most the last write incomplete."""
    data = "".join(json.dumps(record, sort_keys=True, default=float) + "\n" for record in records)
    if not data:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        payload = data.encode("utf-8")
        written = os.write(fd, payload)
        if written != len(payload):
            raise OSError(f"{path}: short append ({written} of {len(payload)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_records(path: str) -> List[Dict[str, Any]]:
    """Every record of ``path`` in the order appended ([] if the file does not exist); raises
    ``RecordError`` naming the file and line of a line that is not a record."""
    if not os.path.isfile(path):
        return []
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise RecordError(f"{path}:{number}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise RecordError(f"{path}:{number}: a record must be a JSON object")
            missing = [field for field in REQUIRED_FIELDS if field not in record]
            if missing:
                raise RecordError(f"{path}:{number}: record lacks {', '.join(missing)}")
            records.append(record)
    return records
