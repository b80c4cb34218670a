"""Regenerate the web server's load figures in ``docs/web.md`` from the benchmark's JSON.

Usage::

    python benchmarks/bench_web.py          # writes benchmarks/results/web.json
    python scripts/web_docs.py [benchmarks/results/web.json] [--check]

It rewrites the block between ``<!-- web-bench:start -->`` and ``<!-- web-bench:end -->``
in ``docs/web.md`` and nothing else; every number in it is read from the JSON. ``--check``
exits 1 when the file would change, without writing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "web.md"
START, END = "<!-- web-bench:start -->", "<!-- web-bench:end -->"
KINDS = (
    ("page", "pages and assets"),
    ("runs", "`GET /api/runs`"),
    ("max-margin", "max-margin solves"),
)


def render(bench: dict[str, Any]) -> str:
    """The Markdown block for one benchmark record."""
    lat = bench["latency"]
    env = bench.get("environment", {})
    server = bench.get("server", {})
    lines = [
        f"Measured by `python benchmarks/bench_web.py` ({bench['clients']} clients × "
        f"{bench['requests_per_client']} requests, each on a new connection, against "
        f"`implicitbias serve` in a subprocess; {bench['cpu_count']} CPUs, Python "
        f"{env.get('python', '?')}, `max_solves` = {server.get('max_solves', '?')}): "
        f"{bench['requests']} requests in {bench['wall_s']:.1f} s "
        f"({bench['requests_per_s']:.0f}/s), {bench['errors']} errors, "
        f"{bench['busy_503']} answered 503.",
        "",
        "| requests | n | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
        _row("all", lat),
    ]
    for key, label in KINDS:
        if key in bench.get("latency_by_kind", {}):
            lines.append(_row(label, bench["latency_by_kind"][key]))
    return "\n".join(lines)


def _row(label: str, lat: dict[str, Any]) -> str:
    cells = [f"{lat[k]:.0f} ms" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
    return f"| {label} | {lat['n']} | " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="?", default=str(ROOT / "benchmarks/results/web.json"))
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/web.md is stale")
    args = parser.parse_args(argv)
    try:
        bench = json.loads(Path(args.json).read_text())
    except (OSError, ValueError) as exc:
        print(f"web_docs: error: cannot read {args.json}: {exc}", file=sys.stderr)
        return 2
    text = DOC.read_text()
    if START not in text or END not in text:
        print(f"web_docs: error: {DOC} has no {START} … {END} block", file=sys.stderr)
        return 2
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{render(bench)}\n{END}{tail}"
    if args.check:
        return 0 if new == text else 1
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
