"""``implicitbias report RUN_DIR ...``: an HTML report for existing run folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from implicitbias.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="HTML report for existing run folders",
        description="Write a self-contained HTML report (claims, numbers, "
        "figures) for one or more run folders.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="report file (default: report-<time>.html beside the first run)",
    )
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    from implicitbias.claims import Outcome
    from implicitbias.report import write_report
    from implicitbias.runs import load
    from implicitbias.runs.store import utc_stamp

    runs = []
    for path in args.runs:
        if not Path(path, "config.json").is_file():
            raise ConfigError("RUN_DIR", "a run folder (with config.json)", path)
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
