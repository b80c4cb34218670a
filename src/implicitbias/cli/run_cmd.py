"""``implicitbias run EXPERIMENT [--preset P] [--set K=V ...] [--out DIR] [--from CONFIG]``."""

from __future__ import annotations

import argparse
import sys
import textwrap

from implicitbias.claims import Outcome
from implicitbias.cli._display import claims_table, console, summary
from implicitbias.errors import ConfigError, DivergenceError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        add_help=False,
        help="run one experiment and write a run folder",
        description="Run one experiment: train, measure, compare with theory, and write "
        "runs/<experiment>-<preset>-<time>-<id>/ with figures and numbers. "
        "`implicitbias run EXPERIMENT --help` lists every config field.",
    )
    p.add_argument("experiment", nargs="?", help="experiment name (see `implicitbias list`)")
    p.add_argument("--preset", default="default", help="preset (default: default)")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one config field; repeatable",
    )
    p.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
    p.add_argument(
        "--from",
        dest="from_config",
        metavar="CONFIG",
        help="re-run a run folder's config.json (reproduces its numbers)",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="finish an interrupted run in its own folder, from its checkpoints",
    )
    p.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    p.set_defaults(func=execute, parser=p)


def _started(folder) -> None:
    print(
        f"run folder: {folder} (if interrupted: implicitbias run --resume {folder})",
        file=sys.stderr,
        flush=True,
    )


def parse_sets(items: list[str]) -> dict[str, str]:
    """``["steps=100", "lr=0.1"]`` -> ``{"steps": "100", "lr": "0.1"}``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError("--set", "KEY=VALUE", item)
        key = key.strip()
        if key in out and out[key] != value.strip():
            print(
                f"implicitbias: warning: --set {key} is given twice ({key}={out[key]} and "
                f"{key}={value.strip()}); the last one is used",
                file=sys.stderr,
            )
        out[key] = value.strip()
    return out


def experiment_help(name: str) -> str:
    from implicitbias.experiments import get_experiment

    exp = get_experiment(name)
    lines = [
        f"implicitbias run {name} [--preset P] [--set KEY=VALUE ...] [--out DIR]",
        "",
        exp.summary,
        "",
        textwrap.dedent(exp.doc).strip(),
        "",
        "presets: " + ", ".join(exp.config_cls.presets()),
        "",
        "config fields (--set):",
    ]
    for field, type_, default, doc in exp.config_cls.describe():
        lines.append(f"  {field:<20} {doc}")
        lines.append(f"  {'':<20} type: {type_}; default: {default}")
    return "\n".join(lines)


def execute(args: argparse.Namespace) -> int:
    from implicitbias import lab

    if args.help:
        print(experiment_help(args.experiment) if args.experiment else args.parser.format_help())
        return 0
    if args.resume:
        if args.sets or args.preset != "default" or args.from_config or args.experiment:
            raise ConfigError(
                "--resume", "a run folder alone (its config.json is complete)", args.resume
            )
        run = lambda: lab.resume(args.resume, on_start=_started)  # noqa: E731
    elif args.from_config:
        if args.sets or args.preset != "default":
            raise ConfigError(
                "--from",
                "no --preset or --set beside it (the stored config is complete)",
                args.from_config,
            )
        run = lambda: lab.run_from(args.from_config, out=args.out, on_start=_started)  # noqa: E731
    else:
        if not args.experiment:
            raise ConfigError("experiment", "an experiment name (see `implicitbias list`)", None)
        overrides = parse_sets(args.sets)
        lab.make_config(args.experiment, args.preset, overrides)  # validate before any work
        run = lambda: lab.run(  # noqa: E731
            args.experiment, args.preset, overrides, out=args.out, on_start=_started
        )
    try:
        results = run()
    except DivergenceError as exc:
        print(f"implicitbias run: {exc}", file=sys.stderr)
        print(f"what was kept: {getattr(exc, 'path', None)}", file=sys.stderr)
        return 1
    if results.status == "diverged":
        print(f"implicitbias run: {results.message}", file=sys.stderr)
        print(f"what was kept: {results.path}", file=sys.stderr)
        return 1
    if results.message:
        print(f"warning: {results.message}", file=sys.stderr)
    out = console()
    outcomes = [Outcome(**c) for c in results.claims]
    if outcomes:
        out.print(claims_table(outcomes, title=f"{results.experiment} ({results.preset})"))
        out.print(summary(outcomes))
    print(f"run folder: {results.path}")
    return 0
