"""The sweep's table: ``table.csv`` and ``table.json``, one row per cell.

Columns: ``cell``, ``status``, ``run``, each axis (by its name), then every numeric scalar
leaf of the cell's ``results.json`` as ``scalar:<dotted key>`` (lists of at most
:data:`MAX_LIST` numbers give ``scalar:<key>.<i>``; longer lists are skipped; booleans
are kept as true/false), then per claim ``claim:<id>`` (holds / does not hold / not
applicable / error) and ``measured:<id>``. ``table.json`` is
``{"version": 1, "experiment", "preset", "axes": [names], "columns": [...],
"rows": [{column: value}]}`` with NaN and infinities written as the strings ``"nan"``,
``"inf"``, ``"-inf"`` (as in ``results.json``); a cell without a value for a column has no
key in its row (an empty field in the CSV).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from implicitbias.claims import Outcome
from implicitbias.runs.atomic import read_json, write_json, write_text

MAX_LIST = 8
NON_FINITE = ("nan", "inf", "-inf")


def _number(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and value in NON_FINITE:
        return float(value)
    return None


def scalar_leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{dotted key: number}`` of a scalars tree (short lists by index)."""
    out: dict[str, Any] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            out.update(scalar_leaves(value, f"{prefix}{key}."))
    elif isinstance(node, list):
        if len(node) <= MAX_LIST:
            for i, value in enumerate(node):
                out.update(scalar_leaves(value, f"{prefix}{i}."))
    else:
        value = _number(node)
        if value is not None:
            out[prefix[:-1]] = value
    return out


def cell_row(sweep_folder: Path, cell: dict[str, Any], axes: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"cell": cell["id"], "status": cell["status"], "run": cell["run"]}
    for name in axes:
        row[name] = cell["overrides"].get(name)
    results_file = sweep_folder / cell["run"] / "results.json" if cell["run"] else None
    if results_file is None or not results_file.is_file():
        return row
    results = read_json(results_file)
    for key, value in scalar_leaves(results.get("scalars", {})).items():
        row[f"scalar:{key}"] = value
    for claim in results.get("claims", []):
        try:
            verdict = Outcome(**claim).verdict
        except TypeError:
            verdict = "error"
        row[f"claim:{claim['id']}"] = verdict
        row[f"measured:{claim['id']}"] = _number(claim.get("measured"))
    return row


def write_table(sweep_folder: Path, record: dict[str, Any], cells: Sequence[dict]) -> list[dict]:
    """Write ``table.csv`` and ``table.json``; return the rows."""
    axes = [a["name"] for a in record["axes"]]
    rows = [cell_row(sweep_folder, c, axes) for c in sorted(cells, key=lambda c: c["index"])]
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    fixed = ["cell", "status", "run", *axes]
    rest = [c for c in columns if c not in fixed]
    order = {"scalar": 0, "claim": 1, "measured": 1}
    rest.sort(key=lambda c: order.get(c.split(":")[0], 2))  # stable within each group
    columns = fixed + rest
    write_json(
        sweep_folder / "table.json",
        {
            "version": 1,
            "experiment": record["experiment"],
            "preset": record["preset"],
            "axes": axes,
            "columns": columns,
            "rows": rows,
        },
    )
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv(row.get(c)) for c in columns])
    write_text(sweep_folder / "table.csv", buf.getvalue())
    return rows


def _csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)
