"""``implicitbias verify [--preset quick|full] [--only EXPERIMENT ...]``."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="measure every claim and write an HTML report",
        description="Run the claim registry: each claim's experiment runs once per preset, "
        "the claims are measured, a table is printed and a self-contained HTML "
        "report is written. Exit 0 when every claim was measured (whether it "
        "holds or not); 1 if a claim could not be measured.",
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
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    from implicitbias import lab
    from implicitbias.cli._display import claims_table, console, summary

    out = console()
    err = console(stderr=True)

    def announce(name: str, preset: str) -> None:
        err.print(f"[bold]running[/] {name} --preset {preset}")

    report = lab.verify(args.preset, args.only, out=args.out, on_group=announce)
    out.print(claims_table(report.outcomes, title=f"implicitbias verify --preset {args.preset}"))
    out.print(summary(report.outcomes))
    print(f"report: {report.report}")
    return 1 if report.errors else 0
