"""``implicitbias profile OPT [OPT ...] [--level quick|full] [--seeds K] [--out DIR]``."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profile",
        help="the implicit-bias fingerprint of optimizers, side by side",
        description="Profile optimizers: which max margin (vectors, matrices), which "
        "interpolator, how sparse, what rank, how sharp, how flat (and, at the full level, "
        "how fast they grok). Each OPT is a registry name (`implicitbias list`), a spec "
        "with hyperparameters (`adam(b2=0.99)` or `adam:b1=0.9,b2=0.99`) or a factory "
        "`module:factory`. Writes one run folder with the table (results.json), a heatmap, "
        "one HTML card per optimizer (cards/) and the claims checked. Exit 0 when the "
        "profile ran, 2 on bad input (before any work).",
    )
    p.add_argument("optimizers", nargs="+", metavar="OPT", help="optimizers to profile")
    p.add_argument(
        "--level",
        default="quick",
        help="smoke (seconds), quick (minutes; default) or full (adds grokking)",
    )
    p.add_argument("--seeds", type=int, default=None, help="seeds per probe (default 5)")
    p.add_argument("--probes", nargs="+", default=[], metavar="PROBE", help="only these probes")
    p.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
    p.set_defaults(func=execute)


def _table(results):
    from rich.table import Table

    from implicitbias.experiments.profile.plots import cell_text, headline

    probes = results.scalars["probes"]
    table = Table(title=f"implicit-bias profile ({results.scalars['level']})")
    table.add_column("optimizer")
    for probe in probes.values():
        first = headline(next(iter(probe["optimizers"].values())))
        table.add_column(f"{probe['title']}\n[dim]{first['label']}[/]")
    for key, opt in results.scalars["optimizers"].items():
        cells = [
            cell_text(probe["optimizers"][key], no_fit="[yellow]no step fit[/]")
            for probe in probes.values()
        ]
        table.add_row(opt["label"], *cells)
    return table


def execute(args: argparse.Namespace) -> int:
    from implicitbias import lab
    from implicitbias.claims import Outcome
    from implicitbias.cli._display import claims_table, console, summary
    from implicitbias.errors import ConfigError

    if args.seeds is not None and not 1 <= args.seeds <= 64:
        raise ConfigError("--seeds", "an integer in [1, 64]", args.seeds)
    results = lab.profile(
        args.optimizers, args.level, seeds=args.seeds, probes=args.probes, out=args.out
    )
    out = console()
    out.print(_table(results))
    outcomes = [Outcome(**c) for c in results.claims]
    if outcomes:
        out.print(claims_table(outcomes, title="claims"))
        out.print(summary(outcomes))
    print(f"run folder: {results.path}")
    print(f"cards: {results.path / 'cards'}")
    return 0
