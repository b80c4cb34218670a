"""Run every ``benchmarks/bench_*.py`` module's ``main`` and print a summary.

Usage: ``python benchmarks/run_all.py [--quick] [-k SUBSTRING]`` (``make bench``).
``--quick`` is passed on to each benchmark. Exits non-zero if any benchmark raises or
returns a non-zero status; a missed speed target is reported by the benchmark itself and is
not an error.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(pattern: str = "bench_*.py") -> list[Path]:
    """The benchmark scripts next to this file, sorted by name."""
    return sorted(HERE.glob(pattern))


def load(path: Path):
    """Import a benchmark script by path (as module ``benchmarks.<stem>``)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks.{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every benchmarks/bench_*.py.")
    parser.add_argument("--quick", action="store_true", help="pass --quick to each benchmark")
    parser.add_argument(
        "-k", dest="select", default="", help="only run benchmarks whose file name contains this"
    )
    args = parser.parse_args(argv)

    os.environ["IMPLICITBIAS_PROGRESS"] = "0"
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))  # for `import _harness` in the benchmarks
    paths = [p for p in discover() if args.select in p.name]
    if not paths:
        print(f"no benchmark matches {args.select!r} in {HERE}", file=sys.stderr)
        return 2
    bench_argv = ["--quick"] if args.quick else []

    summary = []
    for path in paths:
        print(f"=== {path.name} {' '.join(bench_argv)}".rstrip(), flush=True)
        t0 = time.perf_counter()
        try:
            status = load(path).main(bench_argv)
            outcome = "ok" if not status else f"exit status {status}"
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: report every failure, keep going
            traceback.print_exc()
            outcome = f"FAILED: {type(exc).__name__}: {exc}"
        summary.append((path.name, f"{time.perf_counter() - t0:.1f} s", outcome))
        print(flush=True)

    print("=== summary")
    width = max(len(name) for name, _, _ in summary)
    for name, took, outcome in summary:
        print(f"{name.ljust(width)}  {took:>8}  {outcome}")
    failed = sum(outcome != "ok" for _, _, outcome in summary)
    print(f"{len(summary) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
