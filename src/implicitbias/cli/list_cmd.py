"""``implicitbias list``: experiments and their presets, one line each."""

from __future__ import annotations

import argparse

from implicitbias.experiments import experiments


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "list",
        help="experiments and their presets",
        description="List the experiments and their presets, one line each.",
    )
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    registry = experiments()
    width = max(len(n) for n in registry)
    for name, exp in sorted(registry.items()):
        presets = ", ".join(exp.config_cls.presets())
        print(f"{name:<{width}}  presets: {presets:<30}  {exp.summary}")
    return 0
