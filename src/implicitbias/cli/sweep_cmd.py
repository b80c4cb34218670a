"""``implicitbias sweep EXPERIMENT --grid KEY=VALUES ... [--seeds K]`` and ``--resume DIR``.

Runs one experiment on every cell of a grid on Dask distributed (a local cluster by
default, ``--scheduler tcp://HOST:PORT`` for an existing one) and writes
``sweeps/<experiment>-<time>-<id>/`` with a run folder per cell, ``manifest.json`` and
``table.csv``/``table.json``. An axis over a field that the experiment trains as members
of one batched program (``--grid learning_rates=0.25,0.4,0.6,0.8`` for
``edge-of-stability``) is folded into every cell and recorded in ``sweep.json``'s
``batched_axes``; ``--no-batch`` makes one cell per value instead. Exit 0 when every cell
finished (done, diverged or failed), 2 on bad input (before any work), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys

from implicitbias.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="run an experiment over a grid of configs on Dask (local by default)",
        description="Run one experiment on every cell of a grid (the product of the --grid "
        "axes and --seeds), one Dask task per cell, and write "
        "sweeps/<experiment>-<time>-<id>/ with a run folder per cell and table.csv/json.",
    )
    p.add_argument("experiment", nargs="?", help="experiment name (see `implicitbias list`)")
    p.add_argument(
        "--preset",
        default="default",
        help="preset of every cell (default: default); with no --grid, a literature sweep "
        "preset EXPERIMENT/PRESET if there is one (e.g. `grokking --preset phase`)",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=VALUES",
        help="an axis: KEY=V1,V2,... or KEY=LO:HI:N (linspace) or KEY=LO:HI:N:log; repeatable",
    )
    p.add_argument("--seeds", type=int, default=1, help="K > 1 adds the axis seed=0..K-1")
    p.add_argument(
        "--no-batch",
        action="store_true",
        help="one cell per value of every axis, also of a field that the experiment batches "
        "in one program (by default such an axis, e.g. edge-of-stability's learning_rates "
        "with scalar values, is folded into every cell: one vmapped run, a table row per value)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local worker processes (default: CPUs)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler")
    p.add_argument(
        "--retries", type=int, default=2, help="reschedules of a cell whose worker died (2)"
    )
    p.add_argument("--max-cells", type=int, default=1000, help="refuse more cells (1000)")
    p.add_argument("--yes", action="store_true", help="run more than --max-cells cells")
    p.add_argument("--out", default="sweeps", help="folder for sweep folders (default: sweeps)")
    p.add_argument("--resume", metavar="SWEEP_DIR", help="run the unfinished cells of a sweep")
    p.set_defaults(func=execute, parser=p)


def execute(args: argparse.Namespace) -> int:
    from implicitbias.sweep import resume_sweep, run_sweep
    from implicitbias.sweep.presets import PRESETS

    folder = args.resume
    try:
        if args.resume:
            if (
                args.experiment
                or args.grid
                or args.seeds != 1
                or args.preset != "default"
                or args.no_batch
            ):
                raise ConfigError(
                    "--resume", "a sweep folder alone (its sweep.json is complete)", args.resume
                )
            result = resume_sweep(args.resume, workers=args.workers, scheduler=args.scheduler)
        else:
            if not args.experiment:
                raise ConfigError(
                    "experiment", "an experiment name (see `implicitbias list`)", None
                )
            experiment, preset, grid, seeds = args.experiment, args.preset, args.grid, args.seeds
            literature = PRESETS.get(f"{experiment}/{preset}")
            if not grid and literature is not None:
                preset, grid = literature.preset, literature.run_grid()
                seeds = seeds if seeds != 1 else literature.seeds
                print(f"sweep preset {experiment}/{args.preset}: {literature.shows}")
            result = run_sweep(
                experiment,
                preset,
                grid=grid,
                seeds=seeds,
                workers=args.workers,
                scheduler=args.scheduler,
                retries=args.retries,
                out=args.out,
                max_cells=args.max_cells,
                yes=args.yes,
                batch=not args.no_batch,
            )
    except KeyboardInterrupt as exc:
        shown = getattr(exc, "sweep_folder", None) or folder
        if shown is None:
            print(
                "interrupted before the sweep folder was made: nothing to resume", file=sys.stderr
            )
        else:
            print(
                f"interrupted: resume with `implicitbias sweep --resume {shown}`", file=sys.stderr
            )
        return 130
    counts = result.counts
    print(
        f"{len(result.cells)} cells: {counts['done']} done, {counts['diverged']} diverged, "
        f"{counts['failed']} failed"
        + (f", {counts['pending']} not run" if counts["pending"] else "")
    )
    for cell in result.cells:
        if cell["status"] in ("failed", "diverged"):
            print(f"  {cell['id']} {cell['status']}: {cell['error']}")
    print(f"sweep folder: {result.path}")
    return 0 if result.finished else 1
