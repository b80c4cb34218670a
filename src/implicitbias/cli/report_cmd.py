"""``implicitbias report RUN_DIR ...`` or ``implicitbias report SWEEP_DIR``: an HTML report.

For run folders: claims, numbers and figures of each run, in a new file beside the first.
For a sweep folder (one with ``sweep.json``): phase diagrams, line plots, the table and the
manifest summary, in ``SWEEP_DIR/report.html`` (:mod:`implicitbias.sweep.report`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from implicitbias.errors import ConfigError

_SWEEP_ONLY = ("value", "x", "y")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="HTML report for existing run folders or a sweep folder",
        description="Write a self-contained HTML report (claims, numbers, "
        "figures) for one or more run folders, or for one sweep folder (phase diagrams, "
        "line plots over an axis, the table, the manifest summary).",
    )
    p.add_argument(
        "runs", nargs="+", metavar="RUN_DIR", help="run folders, or one sweep folder (SWEEP_DIR)"
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        help="report file (default: report-<time>.html beside the first run; "
        "SWEEP_DIR/report.html for a sweep, replaced if there)",
    )
    p.add_argument(
        "--value",
        metavar="KEY",
        action="append",
        help="sweep: the quantity to draw, a scalar key or claim id of the table "
        "(e.g. main.ratio, claim:grokking/norm-falls; a * matches one column per row); "
        "repeat for several (default: every claim, then the first scalars)",
    )
    p.add_argument("--x", metavar="AXIS", help="sweep: the axis across (default: the first)")
    p.add_argument("--y", metavar="AXIS", help="sweep: the axis up (default: the second)")
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    sweeps = [p for p in args.runs if Path(p, "sweep.json").is_file()]
    if sweeps:
        if len(args.runs) > 1:
            raise ConfigError("SWEEP_DIR", "one sweep folder on its own", args.runs)
        return _sweep_report(args)
    for name in _SWEEP_ONLY:
        if getattr(args, name) is not None:
            raise ConfigError(
                f"--{name}", "a sweep folder (with sweep.json) to go with it", args.runs[0]
            )
    return _run_report(args)


def _sweep_report(args: argparse.Namespace) -> int:
    from implicitbias.sweep.report import write_sweep_report

    path = write_sweep_report(args.runs[0], value=args.value, x=args.x, y=args.y, out=args.out)
    print(f"report: {path}")
    return 0


def _run_report(args: argparse.Namespace) -> int:
    from implicitbias.claims import Outcome
    from implicitbias.report import write_report
    from implicitbias.runs import load
    from implicitbias.runs.store import utc_stamp

    runs = []
    for path in args.runs:
        if not Path(path, "config.json").is_file():
            raise ConfigError(
                "RUN_DIR",
                "a run folder (with config.json) or a sweep folder (with sweep.json)",
                path,
            )
        runs.append(load(path))
    target = (
        Path(args.out)
        if args.out
        else (Path(args.runs[0]).resolve().parent / f"report-{utc_stamp()}.html")
    )
    if target.exists():
        raise ConfigError(
            "--out", "a file that does not exist yet (reports are never overwritten)", str(target)
        )
    outcomes = [Outcome(**c) for r in runs for c in r.claims]
    write_report(target, title="implicitbias report", outcomes=outcomes, runs=runs)
    print(f"report: {target}")
    return 0
