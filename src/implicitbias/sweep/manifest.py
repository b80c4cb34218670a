"""The sweep folder: ``sweeps/<experiment>-<UTC time>-<6 hex>/``.

Contents::

    sweep.json      {"version": 1, "id", "experiment", "preset", "axes": [{"name", "values"}],
                     "seeds", "retries", "created",
                     "batched_axes": [{"name", "values", "prefix"}]}
    manifest.json   {"cells": [{"id", "index", "overrides", "status", "tries", "worker",
                                "wall_seconds", "error", "run"}]}
    cells/<id>/<run folder>/   one run folder per cell (``runs/store.py``'s layout)
    table.csv, table.json      one row per cell (``table.py``)

``batched_axes`` lists the axes folded into every cell (``grid.py``: a declared batch field
of the experiment with scalar values): each cell's override is the tuple of all ``values``,
run as one batched program, and ``prefix`` is the experiment's template of member ``i``'s
results prefix (``"members.{i}"``); ``[]`` when no axis is folded. A folded axis is also in
``axes`` (name and values), so a report draws it as an ordinary axis.

A folder is created with ``exist_ok=False`` (never reused); every file is written atomically.
``status`` is ``pending``, ``running``, ``done``, ``diverged`` or ``failed``; ``run`` is the
run folder relative to the sweep folder (``cells/c0000/<name>``) or ``null``.
"""

from __future__ import annotations

import datetime as _dt
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from implicitbias.errors import ConfigError, ImplicitBiasError
from implicitbias.runs.atomic import read_json, write_json
from implicitbias.runs.store import utc_stamp
from implicitbias.sweep.grid import Axis, Cell

VERSION = 1
SWEEP_FILE = "sweep.json"
MANIFEST_FILE = "manifest.json"
CELLS = "cells"
STATUSES = ("pending", "running", "done", "diverged", "failed")
FINISHED = ("done", "diverged", "failed")


def new_sweep_dir(root: str | Path, experiment: str) -> Path:
    """Create and return a fresh, empty sweep folder under ``root``; never reuses one."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        path = root / f"{experiment}-{utc_stamp()}-{secrets.token_hex(3)}"
        try:
            path.mkdir(exist_ok=False)
            return path.resolve()
        except FileExistsError:
            continue
    raise ImplicitBiasError(f"could not create a new sweep folder under {root}")


def sweep_record(
    folder: Path, experiment: str, preset: str, axes: Sequence[Axis], seeds: int, retries: int
) -> dict[str, Any]:
    return {
        "version": VERSION,
        "id": f"{folder.name}-{secrets.token_hex(4)}",
        "experiment": experiment,
        "preset": preset,
        "axes": [a.to_dict() for a in axes],
        "seeds": seeds,
        "retries": retries,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "batched_axes": [
            {"name": a.name, "values": list(a.values), "prefix": a.batch} for a in axes if a.batch
        ],
    }


def new_cell_record(cell: Cell) -> dict[str, Any]:
    return {
        "id": cell.id,
        "index": cell.index,
        "overrides": dict(cell.overrides),
        "status": "pending",
        "tries": 0,
        "worker": None,
        "wall_seconds": None,
        "error": None,
        "run": None,
    }


def write_sweep(folder: Path, record: dict[str, Any]) -> None:
    write_json(folder / SWEEP_FILE, record)


def write_manifest(folder: Path, cells: Sequence[dict[str, Any]]) -> None:
    write_json(folder / MANIFEST_FILE, {"cells": list(cells)})


def read_sweep(folder: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``sweep.json`` and the manifest's cells; :class:`ConfigError` if not a sweep folder."""
    folder = Path(folder)
    if not (folder / SWEEP_FILE).is_file() or not (folder / MANIFEST_FILE).is_file():
        raise ConfigError(
            "--resume", "a sweep folder (with sweep.json and manifest.json)", str(folder)
        )
    record = read_json(folder / SWEEP_FILE)
    if not isinstance(record, dict) or record.get("version") != VERSION:
        raise ConfigError("--resume", f"a sweep folder of version {VERSION}", str(folder))
    return record, list(read_json(folder / MANIFEST_FILE)["cells"])
