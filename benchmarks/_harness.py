"""Small timing helpers shared by the benchmarks (not part of the package).

Timings are wall-clock (``time.perf_counter``). Every function handed to :func:`timeit` or
:func:`interleave` must wait for its own result (``.block_until_ready()`` on JAX arrays, or
``np.asarray``), otherwise JAX's asynchronous dispatch makes it look free.

The machines these run on are small, shared and noisy, so benchmarks compare medians of
repeats measured side by side in one process (:func:`interleave` alternates the contenders
so that a slow patch of the machine hits both).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def timeit(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``fn()``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def interleave(
    fns: Mapping[str, Callable[[], Any]], repeats: int = 5, warmup: int = 1
) -> dict[str, list[float]]:
    """Like :func:`timeit` for several functions, called in turn within each repeat."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    return float(statistics.median(values))


def environment() -> dict[str, Any]:
    """What the figures were measured on: Python, NumPy, JAX, backend, devices, CPUs."""
    import jax
    import numpy as np

    try:
        cpus_usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus_usable = os.cpu_count()
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": cpus_usable,
        "numpy": np.__version__,
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "x64": bool(jax.config.jax_enable_x64),
    }


def write_json(name: str, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` to ``benchmarks/results/<name>.json`` and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(value: Any) -> Any:
    """NumPy scalars and arrays, paths and the like, for ``json.dumps``."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def print_table(
    rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None, file=None
) -> None:
    """Print rows as aligned columns (text left-aligned, numbers right-aligned)."""
    table = [[_cell(c) for c in row] for row in rows]
    if header is not None:
        table.insert(0, [str(h) for h in header])
    if not table:
        return
    ncols = max(len(r) for r in table)
    table = [r + [""] * (ncols - len(r)) for r in table]
    widths = [max(len(r[i]) for r in table) for i in range(ncols)]
    numeric = [
        all(_is_number(r[i]) or not r[i] for r in table[1 if header else 0 :]) for i in range(ncols)
    ]

    def line(row: list[str]) -> str:
        cells = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(row, widths, numeric, strict=True)
        ]
        return "  ".join(cells).rstrip()

    out = file or sys.stdout
    for i, row in enumerate(table):
        print(line(row), file=out)
        if header is not None and i == 0:
            print("  ".join("-" * w for w in widths), file=out)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("x"))
    except ValueError:
        return False
    return True
