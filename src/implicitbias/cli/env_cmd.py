"""``implicitbias env``: versions, backend and devices."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "env",
        help="versions, backend and devices",
        description="Print package versions, the JAX backend and devices.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    from implicitbias.runs.meta import environment

    env = environment()
    if args.json:
        print(json.dumps(env, indent=2))
        return 0
    for name, version in env["versions"].items():
        print(f"{name:<14}{version}")
    print(f"{'git commit':<14}{env['git_commit']}")
    print(f"{'backend':<14}{env['backend']}")
    print(f"{'devices':<14}{', '.join(env['devices'])}")
    return 0
