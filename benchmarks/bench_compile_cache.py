"""The persistent compilation cache: compile time of a second CLI run in a new process.

Target: a second ``implicitbias run EXPERIMENT --preset smoke`` in a new process compiles
in at most 20 % of the first run's compile time. Each run is the command a user types, in
a fresh process, with a fresh cache folder for the first run of each experiment; the
compile time is the sum of ``compile_seconds`` over the run's training calls, as the run
folder's ``meta.json`` lists them (tracing, lowering and XLA compilation: the cache saves
the last only). Wall time of the whole command is reported beside it.

Run: ``python benchmarks/bench_compile_cache.py [--quick] [--experiments A B ...]``
(``--quick``: min-norm only).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import environment, print_table, write_json

NAME = "compile_cache"
TARGET = 0.20
DEFAULT = ("min-norm", "max-margin", "diagonal-net", "edge-of-stability", "grokking")


def one_run(experiment: str, cache: Path, out: Path) -> dict:
    env = {
        **os.environ,
        "IMPLICITBIAS_PROGRESS": "0",
        "IMPLICITBIAS_CACHE_DIR": str(cache),
        "IMPLICITBIAS_COMPILATION_CACHE": "1",
    }
    command = [sys.executable, "-m", "implicitbias", "run", experiment, "--preset", "smoke"]
    t0 = time.perf_counter()
    done = subprocess.run(
        [*command, "--out", str(out)], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-800:]}")
    folder = max(out.iterdir(), key=lambda p: p.stat().st_mtime)
    meta = json.loads((folder / "meta.json").read_text())
    return {
        "compile_s": sum(c["compile_seconds"] for c in meta["engine"]),
        "calls": len(meta["engine"]),
        "wall_s": wall,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="min-norm only")
    parser.add_argument("--experiments", nargs="+", default=None)
    args = parser.parse_args(argv)
    experiments = args.experiments or (["min-norm"] if args.quick else list(DEFAULT))
    rows, records = [], []
    for experiment in experiments:
        work = Path(tempfile.mkdtemp(prefix="bench-cache-"))
        try:
            first = one_run(experiment, work / "cache", work / "runs")
            second = one_run(experiment, work / "cache", work / "runs")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        ratio = second["compile_s"] / first["compile_s"]
        records.append({"experiment": experiment, "first": first, "second": second, "ratio": ratio})
        verdict = "met" if ratio <= TARGET else "MISSED"
        rows.append(
            [
                experiment,
                first["calls"],
                first["compile_s"],
                second["compile_s"],
                ratio,
                first["wall_s"],
                second["wall_s"],
                f"<= {TARGET:.2f}: {verdict}",
            ]
        )
    print_table(
        rows,
        [
            "experiment (smoke)",
            "calls",
            "compile 1st [s]",
            "compile 2nd [s]",
            "ratio",
            "wall 1st [s]",
            "wall 2nd [s]",
            "target",
        ],
    )
    write_json(NAME, {"target": TARGET, "environment": environment(), "runs": records})
    return 0


if __name__ == "__main__":
    sys.exit(main())
