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

A cell of a batched axis (``sweep.json``'s ``batched_axes``: one cell runs all the axis's
values as members of one program) gives one row per member, in the order of the values:
the axis column holds the member's value; the member's scalars, found under the axis's
results prefix (``members.<i>.`` for ``"members.{i}"``), are re-keyed to
``scalar:member.<rest>``; every other scalar of the cell (its shared scalars, other
experiments' members, aggregates) and its claims are repeated in each member's row. So a
report draws a batched axis as an ordinary one; ``cell`` is the same in the member rows of
one cell.
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


def _subtree(node: Any, dotted: str) -> Any:
    """The node of a scalars tree at a dotted key (list items by index), or ``None``."""
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def member_rows(
    row: dict[str, Any], results: dict[str, Any] | None, name: str, values: Sequence, prefix: str
) -> list[dict[str, Any]]:
    """One row per member of a batched axis ``name`` (see the module doc)."""
    scalars = (results or {}).get("scalars", {})
    prefixes = [prefix.format(i=i) for i in range(len(values))]
    shared = {
        k: v
        for k, v in row.items()
        if not (k.startswith("scalar:") and any(k[7:].startswith(p + ".") for p in prefixes))
    }
    rows = []
    for value, member_prefix in zip(values, prefixes, strict=True):
        out = {**shared, name: value}
        if results is not None:
            for key, number in scalar_leaves(_subtree(scalars, member_prefix)).items():
                out[f"scalar:member.{key}"] = number
        rows.append(out)
    return rows


def cell_rows(
    sweep_folder: Path, cell: dict[str, Any], axes: Sequence[str], batched: Sequence[dict]
) -> list[dict[str, Any]]:
    """The rows of one cell: one, or one per member of its batched axis."""
    row = cell_row(sweep_folder, cell, axes)
    if not batched:
        return [row]
    axis = batched[0]  # grid.py folds at most one axis
    values = cell["overrides"].get(axis["name"])
    if not isinstance(values, list | tuple):
        return [row]
    results_file = sweep_folder / cell["run"] / "results.json" if cell["run"] else None
    results = read_json(results_file) if results_file and results_file.is_file() else None
    return member_rows(row, results, axis["name"], list(values), axis["prefix"])


def write_table(sweep_folder: Path, record: dict[str, Any], cells: Sequence[dict]) -> list[dict]:
    """Write ``table.csv`` and ``table.json``; return the rows (one per cell, one per
    member for the cells of a batched axis)."""
    axes = [a["name"] for a in record["axes"]]
    batched = list(record.get("batched_axes") or [])
    rows = [
        r
        for c in sorted(cells, key=lambda c: c["index"])
        for r in cell_rows(sweep_folder, c, axes, batched)
    ]
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
