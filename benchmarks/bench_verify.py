"""verify's full level: wall and CPU time with one process and with ``--jobs 2``.

Targets (issue: verify as a reproducibility oracle): ``verify --preset full`` under 30
minutes on 2 CPU cores, and under 20 minutes with ``--jobs 2``. Each level runs as the
command a user types (``implicitbias verify --preset LEVEL --jobs N --json FILE``), in a
fresh process, one after the other (never side by side: they would share the cores). CPU
time is the children's user + system time from ``resource.getrusage``.

``--quick`` times the quick level instead (minutes, not half an hour). The verify folders
are kept under ``benchmarks/results/verify-runs/`` so that ``scripts/verify_docs.py`` can
put the numbers in the README.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _harness import RESULTS_DIR, environment, print_table, write_json

NAME = "verify"
TARGETS = {("full", 1): 30 * 60, ("full", 2): 20 * 60}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_verify(level: str, jobs: int, out: Path) -> dict:
    record = out / f"verify-{level}-jobs{jobs}.json"
    command = [
        str(Path(sys.executable).with_name("implicitbias")),
        "verify",
        "--preset",
        level,
        "--jobs",
        str(jobs),
        "--out",
        str(out),
        "--json",
        str(record),
    ]
    env = {**os.environ, "IMPLICITBIAS_PROGRESS": "0"}
    cpu0, t0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    data = json.loads(record.read_text())
    return {
        "level": level,
        "jobs": jobs,
        "command": " ".join(command[1:]),
        "wall_s": wall,
        "cpu_s": cpu,
        "verify_wall_s": data["wall_seconds"],
        "peak_rss_mb": data.get("peak_rss_mb"),
        "exit_code": done.returncode,
        "summary": data["summary"]["line"],
        "claims": len(data["outcomes"]),
        "folder": data["folder"],
        "target_s": TARGETS.get((level, jobs)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="time the quick level instead")
    parser.add_argument(
        "--jobs", type=int, nargs="+", default=[1, 2], help="job counts to time (default 1 2)"
    )
    args = parser.parse_args(argv)
    level = "quick" if args.quick else "full"
    out = RESULTS_DIR / "verify-runs"
    out.mkdir(parents=True, exist_ok=True)
    print(f"{NAME}: implicitbias verify --preset {level} with --jobs {args.jobs} ({out})")
    rows, timings = [], []
    for jobs in args.jobs:
        t = time_verify(level, jobs, out)
        timings.append(t)
        target = t["target_s"]
        verdict = "—" if target is None else ("met" if t["wall_s"] <= target else "MISSED")
        rows.append([f"--jobs {jobs}", t["wall_s"] / 60, t["cpu_s"] / 60, t["summary"], verdict])
    print_table(rows, ["run", "wall [min]", "CPU [min]", "summary", "target"])
    if len(timings) == 2:
        ratio = timings[0]["wall_s"] / timings[1]["wall_s"]
        print(
            f"--jobs {args.jobs[1]} is {ratio:.2f}x faster by wall time than --jobs {args.jobs[0]}"
        )
    write_json(NAME, {"level": level, "environment": environment(), "timings": timings})
    return 0


if __name__ == "__main__":
    sys.exit(main())
