"""The sweep engine: a sweep on 2 local Dask workers against the same cells run in turn.

Three measurements, side by side in one process:

(a) **sweep vs sequential.** ``min-norm`` on its ``smoke`` preset over a grid of
    ``init_scale`` (4 values) x ``seed`` (8; ``--quick``: 2), i.e. 32 cells (8): the whole
    :func:`implicitbias.sweep.run_sweep` call on 2 local workers (local cluster start,
    scheduling, one run folder per cell, manifest, table), against the same 32 configs as
    sequential ``lab.run`` calls in this process (each saving its run folder too). The axis
    keeps the shapes, so the sequential route compiles once and reuses its programs; each
    worker of the sweep compiles its own. Wall time and CPU time (this process plus its
    children: the local cluster's worker processes, counted once they have exited).

(b) **overhead per cell** beyond the cell's own compile and run: the worker-seconds the
    sweep spent per cell (wall x workers / cells) minus the mean time of the experiment's
    own work (``meta.json``'s ``wall_seconds``: ``experiment.run``, compile and run), split
    into the part inside the cell's task (claims, figures, saving: the manifest's
    ``wall_seconds`` minus the run's own) and the part outside it (cluster start, scheduling,
    transfers, manifest and table, workers idle at the tail). The same in-cell part of a
    sequential ``lab.run`` (figures, saving) is shown beside it: that is paid with or without
    the sweep. Target: < 0.5 s per cell for the sweep's own part.

(c) **a vmapped learning-rate axis vs one task per learning rate.** ``edge-of-stability``
    (``smoke`` preset, no gradient flow, no momentum members) has a list-of-step-sizes field,
    ``learning_rates``, trained as members of ONE vmapped program. The same 4 step sizes as
    one cell (``learning_rates=(0.25, 0.4, 0.6, 0.8)``) against 4 cells of one step size
    each; both as sweeps on the same 2 workers, and both as ``lab.run`` calls in this
    process (the pure compute, no Dask): first calls (compile included), then warm calls.

Run: ``python benchmarks/bench_sweep.py [--quick]`` (the full run takes a few minutes on 2
cores). Writes ``benchmarks/results/sweep.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import environment, print_table, write_json

NAME = "sweep"
WORKERS = 2
SCALES = (0.5, 1.0, 2.0, 4.0)
SEEDS, QUICK_SEEDS = 8, 2
LRS = (0.25, 0.4, 0.6, 0.8)
EOS_FIXED = {"flow": (False,), "momentum_learning_rates": ((),)}
TARGET_OVERHEAD_S = 0.5


def _cpu() -> float:
    """CPU seconds of this process and of its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn) -> tuple[Any, float, float]:
    c0, t0 = _cpu(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, _cpu() - c0


def _own_seconds(sweep_folder: Path, cell: dict[str, Any]) -> float | None:
    """``wall_seconds`` of the cell's run (``meta.json``): the experiment's own work."""
    if not cell.get("run"):
        return None
    meta = sweep_folder / cell["run"] / "meta.json"
    return json.loads(meta.read_text()).get("wall_seconds") if meta.is_file() else None


def sweep_vs_sequential(seeds: int, root: Path) -> dict[str, Any]:
    """(a) and (b): the sweep, then the same configs as sequential lab.run calls."""
    from implicitbias import lab
    from implicitbias.sweep import run_sweep

    grid = {"init_scale": SCALES}
    result, sweep_wall, sweep_cpu = _timed(
        lambda: run_sweep(
            "min-norm",
            "smoke",
            grid,
            seeds=seeds,
            workers=WORKERS,
            out=root / "sweeps",
            progress=False,
        )
    )
    cells = result.cells
    n = len(cells)
    own = [_own_seconds(result.path, c) for c in cells]
    in_task = [c["wall_seconds"] for c in cells if c.get("wall_seconds") is not None]
    configs = [c["overrides"] for c in cells]

    def sequential():
        runs = []
        for overrides in configs:
            t0 = time.perf_counter()
            r = lab.run("min-norm", "smoke", overrides, out=root / "runs")
            runs.append((time.perf_counter() - t0, r.meta["wall_seconds"]))
        return runs

    runs, seq_wall, seq_cpu = _timed(sequential)
    own_mean = sum(o for o in own if o is not None) / max(1, sum(o is not None for o in own))
    worker_s_per_cell = sweep_wall * WORKERS / n
    in_task_mean = sum(in_task) / len(in_task)
    seq_in_cell = sum(w - o for w, o in runs) / len(runs)
    seq_warm = [w - o for w, o in runs[1:]] or [w - o for w, o in runs]
    # Cells after the first on their worker: the worker's imports and first figures paid.
    seen: set[str] = set()
    warm = []
    for c, o in zip(cells, own, strict=True):
        if c.get("worker") in seen and o is not None and c.get("wall_seconds") is not None:
            warm.append(c["wall_seconds"] - o)
        seen.add(c.get("worker"))
    overhead = worker_s_per_cell - own_mean
    return {
        "cells": n,
        "statuses": result.counts,
        "workers": WORKERS,
        "sweep_wall_s": sweep_wall,
        "sweep_cpu_s": sweep_cpu,
        "sequential_wall_s": seq_wall,
        "sequential_cpu_s": seq_cpu,
        "ratio_wall_sequential_over_sweep": seq_wall / sweep_wall,
        "ratio_cpu_sweep_over_sequential": sweep_cpu / seq_cpu,
        "sweep_own_run_s": own,
        "sweep_task_s": in_task,
        "sequential_call_s": [w for w, _ in runs],
        "sequential_own_run_s": [o for _, o in runs],
        "sweep_own_run_mean_s": own_mean,
        "sequential_own_run_mean_s": sum(o for _, o in runs) / len(runs),
        "worker_seconds_per_cell": worker_s_per_cell,
        "overhead_per_cell_s": overhead,
        "overhead_in_task_per_cell_s": in_task_mean - own_mean,
        "overhead_outside_task_per_cell_s": worker_s_per_cell - in_task_mean,
        "sequential_in_call_overhead_per_cell_s": seq_in_cell,
        "overhead_in_task_warm_cells_s": sum(warm) / len(warm) if warm else float("nan"),
        "sequential_in_call_overhead_warm_s": sum(seq_warm) / len(seq_warm),
        "sweep_own_overhead_per_cell_s": overhead - seq_in_cell,
        "sweep_folder": str(result.path),
    }


def batched_vs_split(root: Path) -> dict[str, Any]:
    """(c): one cell with 4 step sizes (vmapped) vs 4 cells of one step size."""
    from implicitbias import lab
    from implicitbias.sweep import run_sweep

    one = {"learning_rates": (LRS,), **EOS_FIXED}
    split = {"learning_rates": tuple((lr,) for lr in LRS), **EOS_FIXED}
    kw = dict(seeds=1, workers=WORKERS, out=root / "sweeps", progress=False)
    r_one, one_wall, one_cpu = _timed(lambda: run_sweep("edge-of-stability", "smoke", one, **kw))
    r_split, split_wall, split_cpu = _timed(
        lambda: run_sweep("edge-of-stability", "smoke", split, **kw)
    )
    fixed = {"flow": False, "momentum_learning_rates": ()}

    def in_process(groups):
        return [
            lab.run("edge-of-stability", "smoke", {**fixed, "learning_rates": g}, out=None)
            for g in groups
        ]

    # First calls (compile included), then warm calls of the same programs.
    _, lab_one_cold, _ = _timed(lambda: in_process([LRS]))
    _, lab_split_cold, _ = _timed(lambda: in_process([(lr,) for lr in LRS]))
    _, lab_one_wall, lab_one_cpu = _timed(lambda: in_process([LRS]))
    _, lab_split_wall, lab_split_cpu = _timed(lambda: in_process([(lr,) for lr in LRS]))
    return {
        "learning_rates": LRS,
        "statuses_one_cell": r_one.counts,
        "statuses_split": r_split.counts,
        "sweep_one_cell_wall_s": one_wall,
        "sweep_split_wall_s": split_wall,
        "sweep_one_cell_cpu_s": one_cpu,
        "sweep_split_cpu_s": split_cpu,
        "ratio_sweep_wall_split_over_one": split_wall / one_wall,
        "lab_one_call_first_wall_s": lab_one_cold,
        "lab_split_calls_first_wall_s": lab_split_cold,
        "lab_one_call_wall_s": lab_one_wall,
        "lab_split_calls_wall_s": lab_split_wall,
        "lab_one_call_cpu_s": lab_one_cpu,
        "lab_split_calls_cpu_s": lab_split_cpu,
        "ratio_lab_wall_split_over_one": lab_split_wall / lab_one_wall,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{len(SCALES) * QUICK_SEEDS} cells instead of 32"
    )
    parser.add_argument("--keep", action="store_true", help="keep the sweep and run folders")
    args = parser.parse_args(argv)
    os.environ["IMPLICITBIAS_PROGRESS"] = "0"
    seeds = QUICK_SEEDS if args.quick else SEEDS
    root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    print(
        f"{NAME}: min-norm smoke, {len(SCALES)} init scales x {seeds} seeds on {WORKERS} "
        f"local workers vs sequential lab.run; edge-of-stability smoke, {len(LRS)} step "
        f"sizes batched vs split  (folders under {root})"
    )
    a = sweep_vs_sequential(seeds, root)
    c = batched_vs_split(root)
    env = environment()
    print_table(
        [
            [
                "(a) wall [s]",
                a["sweep_wall_s"],
                a["sequential_wall_s"],
                f"{a['ratio_wall_sequential_over_sweep']:.2f}x",
            ],
            [
                "(a) CPU [s]",
                a["sweep_cpu_s"],
                a["sequential_cpu_s"],
                f"{a['ratio_cpu_sweep_over_sequential']:.2f}x",
            ],
            [
                "experiment's own time per cell [s]",
                a["sweep_own_run_mean_s"],
                a["sequential_own_run_mean_s"],
                "-",
            ],
        ],
        header=[
            "measurement",
            f"sweep ({a['cells']} cells, {WORKERS} workers)",
            "sequential",
            "ratio",
        ],
    )
    print()
    print_table(
        [
            ["worker-seconds per cell", a["worker_seconds_per_cell"]],
            ["overhead per cell beyond compile + run", a["overhead_per_cell_s"]],
            ["  in the task (claims, figures, saving)", a["overhead_in_task_per_cell_s"]],
            [
                "  outside (cluster, scheduling, manifest, tail)",
                a["overhead_outside_task_per_cell_s"],
            ],
            [
                "  same in-call part of a sequential lab.run",
                a["sequential_in_call_overhead_per_cell_s"],
            ],
            ["(b) the sweep's own overhead per cell", a["sweep_own_overhead_per_cell_s"]],
            [
                "  in the task, cells after a worker's first",
                a["overhead_in_task_warm_cells_s"],
            ],
            [
                "  same for sequential lab.run after the first",
                a["sequential_in_call_overhead_warm_s"],
            ],
        ],
        header=["(b) per cell", "seconds"],
    )
    met = a["sweep_own_overhead_per_cell_s"] < TARGET_OVERHEAD_S
    print(
        f"target: the sweep's own overhead < {TARGET_OVERHEAD_S} s per cell: "
        f"{'met' if met else 'NOT met'}"
    )
    print()
    print_table(
        [
            [
                "sweep on 2 workers, wall [s]",
                c["sweep_one_cell_wall_s"],
                c["sweep_split_wall_s"],
                f"{c['ratio_sweep_wall_split_over_one']:.2f}x",
            ],
            [
                "lab.run in process, first calls [s]",
                c["lab_one_call_first_wall_s"],
                c["lab_split_calls_first_wall_s"],
                "-",
            ],
            [
                "lab.run in process, warm, wall [s]",
                c["lab_one_call_wall_s"],
                c["lab_split_calls_wall_s"],
                f"{c['ratio_lab_wall_split_over_one']:.2f}x",
            ],
            [
                "lab.run in process, CPU [s]",
                c["lab_one_call_cpu_s"],
                c["lab_split_calls_cpu_s"],
                "-",
            ],
        ],
        header=["(c) 4 step sizes", "1 cell, vmapped", "4 cells", "ratio"],
    )
    payload = {
        "name": NAME,
        "command": " ".join([sys.executable, *sys.argv]),
        "quick": args.quick,
        "sweep_vs_sequential": a,
        "batched_vs_split": c,
        "target_overhead_per_cell_s": TARGET_OVERHEAD_S,
        "target_met": met,
        "environment": env,
    }
    path = write_json(NAME, payload)
    print(f"results: {path}")
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
