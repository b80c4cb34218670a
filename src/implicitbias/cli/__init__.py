"""The ``implicitbias`` command line. It parses and dispatches; the work is in the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from implicitbias.cli import (
    compare_cmd,
    env_cmd,
    list_cmd,
    profile_cmd,
    report_cmd,
    run_cmd,
    serve_cmd,
    sweep_cmd,
    verify_cmd,
)
from implicitbias.errors import ImplicitBiasError

_COMMANDS = (
    list_cmd,
    run_cmd,
    sweep_cmd,
    profile_cmd,
    verify_cmd,
    compare_cmd,
    report_cmd,
    serve_cmd,
    env_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="implicitbias",
        description="A lab for the implicit bias of optimizers: run a phenomenon, compare it "
        "with theory, see it in a figure.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``implicitbias`` script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ImplicitBiasError as exc:
        print(f"implicitbias {args.command}: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except BrokenPipeError:  # e.g. `implicitbias run X --help | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(
            "interrupted: finish the run with `implicitbias run --resume RUN_DIR` "
            "(the folder named at its start)",
            file=sys.stderr,
        )
        return 130


def entry() -> None:
    sys.exit(main())
