"""``implicitbias verify [--preset quick|full] [--only EXPERIMENT ...] [--jobs N]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

_EPILOG = """\
exit status:
  0  every claim gave the verdict the lab expects (it holds, or it is refuted as expected)
  1  at least one claim is UNEXPECTED: it holds where the lab expects it refuted, fails
     where the lab expects it to hold, or flips between seeds
  2  bad input (nothing was run)
  3  at least one claim could not be measured (its run failed)
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="measure every claim against the verdict the lab expects",
        description="Run the claim registry: each claim's experiment runs once per preset "
        "(and once per seed for a claim that depends on a random draw), the claims are "
        "measured, and each verdict is compared with the one the lab expects. Prints a "
        "table, and writes a verify folder with claims.json, verify.json and a "
        "self-contained report.html.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--preset",
        default="quick",
        choices=None,
        help="quick (minutes on a laptop) or full (default: quick)",
    )
    p.add_argument(
        "--only",
        nargs="+",
        default=[],
        metavar="EXPERIMENT",
        help="only the claims of these experiments",
    )
    p.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
    p.add_argument(
        "--jobs",
        default="1",
        metavar="N",
        help="runs in N parallel processes (default: 1, one after another)",
    )
    p.add_argument("--json", metavar="FILE", help="also write the outcomes as JSON to FILE")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML to FILE (for CI)")
    p.set_defaults(func=execute)


def _jobs(text: str) -> int:
    from implicitbias.errors import ConfigError

    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if not 1 <= jobs <= 64:
        raise ConfigError("--jobs", "an integer from 1 to 64", text)
    return jobs


def _output_file(flag: str, value: str | None) -> Path | None:
    """Check before any work that FILE's folder exists and can be written."""
    from implicitbias.errors import ConfigError

    if value is None:
        return None
    path = Path(value)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(flag, "a file path", f"{value} (a folder)")
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise ConfigError(flag, "a file in an existing, writable folder", value)
    return path


def _progress_printer(err):
    """A callback that prints runs and claims done, the running runs and an ETA."""
    from implicitbias.claims.verify import Progress

    def show(p: Progress) -> None:
        eta = "ETA —" if p.eta is None else f"ETA {_clock(p.eta)}"
        running = "; ".join(p.running) if p.running else "done"
        line = (
            f"[{p.claims_done}/{p.claims_total} claims, {p.runs_done}/{p.runs_total} runs, "
            f"{_clock(p.elapsed)} elapsed, {eta}] {running}"
        )
        err.print(line, soft_wrap=True)

    return show


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def execute(args: argparse.Namespace) -> int:
    from implicitbias import lab
    from implicitbias.claims.junit import junit_xml
    from implicitbias.cli._display import console, verify_table
    from implicitbias.runs.atomic import write_json, write_text

    jobs = _jobs(args.jobs)
    json_file = _output_file("--json", args.json)
    junit_file = _output_file("--junit", args.junit)
    lab.verify_plan(args.preset, args.only)  # bad --preset / --only: exit 2 before any work
    out = console()
    err = console(stderr=True)
    report = lab.verify(
        args.preset, args.only, out=args.out, jobs=jobs, on_progress=_progress_printer(err)
    )
    title = f"implicitbias verify --preset {args.preset}"
    findings = [o for o in report.outcomes if o.kind != "self-check"]
    checks = [o for o in report.outcomes if o.kind == "self-check"]
    out.print(verify_table(findings, title=title + ": findings"))
    if checks:
        out.print(verify_table(checks, title="self-checks (identities and implementation)"))
    summary = report.summary
    out.print(f"{len(report.outcomes)} claims: {summary.line()}")
    for o in report.unexpected:
        out.print(f"[bold red]UNEXPECTED[/] {o.id}: expected {o.expected_verdict}, got {o.verdict}")
    if json_file is not None:
        write_json(json_file, report.to_dict())
    if junit_file is not None:
        write_text(junit_file, junit_xml(report.outcomes, name=title, seconds=report.wall_seconds))
    print(f"report: {report.report}")
    print(f"wall time: {_clock(report.wall_seconds)} ({args.preset}, --jobs {jobs})")
    sys.stdout.flush()
    return summary.exit_code
