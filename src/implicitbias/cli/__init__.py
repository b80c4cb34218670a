"""The ``implicitbias`` command line. It parses and dispatches; the work is in the library."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
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
from implicitbias.errors import ConfigError, ImplicitBiasError

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
    argv = sys.argv[1:] if argv is None else list(argv)
    commands = [m.__name__.rsplit(".", 1)[1].removesuffix("_cmd") for m in _COMMANDS]
    if argv and not argv[0].startswith("-") and argv[0] not in commands:
        error = ConfigError("COMMAND", "one of " + ", ".join(commands), argv[0], choices=commands)
        print(f"implicitbias: error: {error}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    previous = _treat_sigterm_as_interrupt()
    try:
        from implicitbias import _compile_cache

        _compile_cache.enable()
        return int(args.func(args) or 0)
    except ImplicitBiasError as exc:
        print(f"implicitbias {args.command}: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except BrokenPipeError:  # e.g. `implicitbias run X --help | head`
        sys.stderr.close()
        return 0
    except MemoryError:
        print(
            f"implicitbias {args.command}: error: out of memory; use smaller sizes "
            "(see `implicitbias run EXPERIMENT --help` for each field's bounds)",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:  # a full disk, a vanished folder: the environment, not the input
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"implicitbias {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback on request
        if os.environ.get("IMPLICITBIAS_DEBUG"):
            raise
        print(
            f"implicitbias {args.command}: internal error: {type(exc).__name__}: "
            f"{(str(exc).splitlines() or [''])[0][:300]} "
            "(a bug: please report it; IMPLICITBIAS_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted: finish a run with `implicitbias run --resume RUN_DIR` "
            "(the folder printed at its start)",
            file=sys.stderr,
        )
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _treat_sigterm_as_interrupt():
    """SIGTERM (``kill``, a batch system's time limit) stops a command like Ctrl-C: the run
    folder keeps its checkpoints and says how to resume. Returns the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_interrupt)


def entry() -> None:
    sys.exit(main())
