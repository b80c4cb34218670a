"""The HTML report of a sweep folder: phase diagrams, line plots, the table, the manifest.

Reads what the sweep engine writes (``sweep.json``, ``manifest.json``, ``table.json``) and
draws from the table only: every number on the page is a table entry, a mean or a min/max
over the seed axis (claims count as 1 where they hold, 0 where they do not hold, so their
mean is the fraction of seeds where the claim holds). Cells that failed, diverged or did not
run are never dropped: their rows are in the table, and every heatmap square or line point
says how many of its cells were not done. The page is self-contained like the run report
(:mod:`implicitbias.report.html`): inline CSS, figures as base64 PNG, every text escaped.

Command::

    implicitbias report sweeps/grokking-20260101T000000Z-ab12      # -> <folder>/report.html
    implicitbias report SWEEP --value main.ratio --x train_fraction --y optimizer.weight_decay
"""

from __future__ import annotations

import base64
import datetime as _dt
import fnmatch
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from implicitbias.errors import ConfigError
from implicitbias.report.html import CSS, MISSING, escape, format_number
from implicitbias.runs.atomic import read_json, write_text

SEED_AXIS = "seed"
#: Scalar columns drawn by default (after every claim column): the first that vary.
DEFAULT_SCALARS = 4
#: At most this many slices (values of the axes other than x and y) are drawn per quantity.
MAX_SLICES = 4
#: At most this many lines (values of y) in one line plot.
MAX_LINES = 8
#: At most this many rows in the HTML table (the whole table is in table.csv).
MAX_TABLE_ROWS = 2000
#: At most this many value columns in the HTML table.
MAX_TABLE_VALUES = 8

_VERDICT_VALUE = {"holds": 1.0, "does not hold": 0.0}
_STATUS_CLASS = {
    "done": "holds",
    "diverged": "fails",
    "failed": "error",
    "pending": "na",
    "running": "na",
}
_EXTRA_CSS = """
td.grid { text-align: right; font-family: ui-monospace, Menlo, Consolas, monospace; }
td.grid .note { display: block; color: #8a1010; font-size: 0.8em; }
.notes li { margin: 0.2em 0; }
"""


# ---- loading -----------------------------------------------------------------------------
@dataclass
class Sweep:
    """A sweep folder as read from disk."""

    folder: Path
    spec: dict[str, Any]
    cells: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    axes: list[tuple[str, list[Any]]] = field(default_factory=list)

    @property
    def axis_names(self) -> list[str]:
        return [name for name, _ in self.axes]

    @property
    def sweep_axes(self) -> list[str]:
        """The axes other than the seed axis, in the order of ``sweep.json``."""
        return [name for name in self.axis_names if name != SEED_AXIS]

    def values_of(self, axis: str) -> list[Any]:
        return dict(self.axes)[axis]

    @property
    def columns(self) -> list[str]:
        """Every ``scalar:`` and ``claim:`` column, in the order of first appearance."""
        seen: dict[str, None] = {}
        for row in self.rows:
            for key in row:
                if key.startswith(("scalar:", "claim:")):
                    seen.setdefault(key, None)
        return list(seen)


def load_sweep(folder: str | Path) -> Sweep:
    """Read ``sweep.json``, ``manifest.json`` and ``table.json`` of a sweep folder.

    Without ``table.json`` (a sweep still running) the rows are built from the manifest:
    the cell, its status and its axis values, no numbers.

    Raises:
        ConfigError: ``folder`` has no ``sweep.json``.
    """
    folder = Path(folder)
    if not (folder / "sweep.json").is_file():
        raise ConfigError("SWEEP_DIR", "a sweep folder (with sweep.json)", str(folder))
    spec = read_json(folder / "sweep.json")
    axes = [(str(a["name"]), list(a["values"])) for a in spec.get("axes", [])]
    manifest = folder / "manifest.json"
    cells = list(read_json(manifest).get("cells", [])) if manifest.is_file() else []
    table = folder / "table.json"
    if table.is_file():
        data = read_json(table)  # {"rows": [...], ...} (the engine) or a bare list of rows
        rows = [dict(r) for r in (data.get("rows", []) if isinstance(data, dict) else data)]
    else:
        rows = [
            {"cell": c.get("id"), "status": c.get("status"), **dict(c.get("overrides", {}))}
            for c in cells
        ]
    by_id: dict[Any, list[dict]] = {}
    for r in rows:  # a cell of a batched axis has one row per member
        by_id.setdefault(r.get("cell"), []).append(r)
    for c in cells:  # the manifest is the newer word on a status (the table: the last write)
        if c.get("id") in by_id:
            for r in by_id[c.get("id")]:
                r["status"] = c.get("status")
        else:  # a cell the table does not have yet is still shown
            rows.append({"cell": c.get("id"), "status": c.get("status"), **c.get("overrides", {})})
    return Sweep(folder=folder, spec=spec, cells=cells, rows=rows, axes=axes)


# ---- the numbers -------------------------------------------------------------------------
def _key(value: Any) -> str:
    """A hashable, order-independent identity of an axis value (JSON text; 1 == 1.0)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = float(value)
    return json.dumps(value, sort_keys=True, default=str)


def _as_float(value: Any) -> float | None:
    """A table entry as a float: numbers, "nan"/"inf" strings, claim verdicts; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in _VERDICT_VALUE:
            return _VERDICT_VALUE[value]
        try:
            return float(value)
        except ValueError:
            return None
    return None


def resolve_column(sweep: Sweep, name: str) -> str:
    """The table column meant by ``name``: a full column (``scalar:a.b``, ``claim:x/y``),
    a scalar key or claim id without the prefix, or a glob (``*``) matching one column per
    row, e.g. ``summary.by_count.*.depth_*.relative_error``.

    Raises:
        ConfigError: no column matches.
    """
    columns = sweep.columns
    candidates = [name, f"scalar:{name}", f"claim:{name}"]
    for cand in candidates:
        if cand in columns:
            return cand
        if "*" in cand and any(fnmatch.fnmatchcase(c, cand) for c in columns):
            return cand
    raise ConfigError(
        "--value",
        "a scalar key or claim id of the table (" + ", ".join(columns[:12]) + ")",
        name,
        choices=[c.split(":", 1)[1] for c in columns] + columns,
    )


def cell_value(row: Mapping[str, Any], column: str) -> float | None:
    """The number of ``column`` in one row (a glob takes the row's only matching column)."""
    if "*" not in column:
        return _as_float(row.get(column))
    values = [_as_float(v) for k, v in row.items() if fnmatch.fnmatchcase(k, column)]
    values = [v for v in values if v is not None]
    return values[0] if len(values) == 1 else None


@dataclass
class Stat:
    """The rows of one point of a diagram (all seeds): their numbers and their statuses."""

    values: list[float]
    statuses: list[str]
    verdicts: list[str]

    @property
    def finite(self) -> list[float]:
        return [v for v in self.values if math.isfinite(v)]

    @property
    def mean(self) -> float:
        return float(np.mean(self.finite)) if self.finite else float("nan")

    @property
    def low(self) -> float:
        return float(np.min(self.finite)) if self.finite else float("nan")

    @property
    def high(self) -> float:
        return float(np.max(self.finite)) if self.finite else float("nan")

    @property
    def not_done(self) -> dict[str, int]:
        """Counts of the rows whose cell is not done, by status."""
        out: dict[str, int] = {}
        for s in self.statuses:
            if s != "done":
                out[s] = out.get(s, 0) + 1
        return out

    def note(self) -> str:
        """``"1 failed, 2 diverged"``; also verdicts that are no number (n/a, error)."""
        parts = [f"{n} {s}" for s, n in sorted(self.not_done.items())]
        n_bad = len(self.values) - len(self.finite)
        if n_bad:  # NaN or inf in a done cell (e.g. "not reached"): left out of the mean
            parts.append(f"{n_bad} not finite")
        for verdict in ("error", "not applicable"):
            n = self.verdicts.count(verdict)
            if n:
                parts.append(f"{n} {'n/a' if verdict == 'not applicable' else verdict}")
        return ", ".join(parts)

    def label(self) -> str:
        """What the diagram writes in the square: the mean, or why there is none."""
        if self.finite:
            return format_number(self.mean)
        if self.not_done:
            return "/".join(sorted(self.not_done))
        if self.values:
            return "/".join(sorted({str(v) for v in self.values}))
        if self.verdicts:
            return "n/a" if "not applicable" in self.verdicts else self.verdicts[0]
        return MISSING


def collect(rows: Sequence[Mapping[str, Any]], column: str) -> Stat:
    """The :class:`Stat` of ``column`` over ``rows``; only done cells give numbers."""
    values, statuses, verdicts = [], [], []
    for row in rows:
        status = str(row.get("status", "done"))
        statuses.append(status)
        raw = row.get(column)
        if isinstance(raw, str) and raw not in _VERDICT_VALUE and _as_float(raw) is None:
            verdicts.append(raw)
        value = cell_value(row, column)
        if status == "done" and value is not None:
            values.append(value)
    return Stat(values, statuses, verdicts)


def _select(rows: Sequence[Mapping[str, Any]], fixed: Mapping[str, Any]) -> list[Mapping]:
    keys = {a: _key(v) for a, v in fixed.items()}
    return [r for r in rows if all(_key(r.get(a)) == k for a, k in keys.items())]


def grid(
    sweep: Sweep, column: str, x: str, y: str, fixed: Mapping[str, Any] | None = None
) -> list[list[Stat]]:
    """``out[i][j]``: the rows at ``y = values(y)[i]``, ``x = values(x)[j]`` (and ``fixed``)."""
    groups = _groups(_select(sweep.rows, fixed or {}), (x, y))
    return [
        [collect(groups.get((_key(xv), _key(yv)), []), column) for xv in sweep.values_of(x)]
        for yv in sweep.values_of(y)
    ]


def _groups(rows: Sequence[Mapping[str, Any]], axes: Sequence[str]) -> dict[tuple, list]:
    """The rows by their values of ``axes`` (one pass, for large sweeps)."""
    out: dict[tuple, list] = {}
    for r in rows:
        out.setdefault(tuple(_key(r.get(a)) for a in axes), []).append(r)
    return out


def slices(sweep: Sweep, used: Sequence[str]) -> list[dict[str, Any]]:
    """Every combination of the values of the sweep axes not in ``used`` (seed excluded)."""
    rest = [a for a in sweep.sweep_axes if a not in used]
    combos: list[dict[str, Any]] = [{}]
    for axis in rest:
        combos = [{**c, axis: v} for c in combos for v in sweep.values_of(axis)]
    return combos


# ---- figures -----------------------------------------------------------------------------
def _mpl(text: Any) -> str:
    """Text for matplotlib: ``$`` would start mathtext (and may fail to parse)."""
    return str(text).replace("$", r"\$")


def axis_label(value: Any) -> str:
    """An axis value as a tick label: numbers formatted, a one-element list as its item."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return str(value)


def _numeric(values: Sequence[Any]) -> list[float] | None:
    """Axis values as numbers (one-element lists unwrapped), or None if any is not one."""
    out = []
    for v in values:
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        if isinstance(v, str):  # the command-line text of a tuple field, e.g. "0.25"
            try:
                v = float(v.strip("()[], "))
            except ValueError:
                return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            return None
        out.append(float(v))
    return out


def _title(column: str, fixed: Mapping[str, Any]) -> str:
    text = column
    if fixed:
        text += "\n" + ", ".join(f"{k}={axis_label(v)}" for k, v in fixed.items())
    return text


def heatmap_figure(
    sweep: Sweep, column: str, x: str, y: str, fixed: Mapping[str, Any] | None = None
) -> Any:
    """The phase diagram of ``column`` over ``x`` and ``y``: the mean over seeds in colour
    and written in each square, with the count of cells not done under it."""
    import matplotlib
    from matplotlib.colors import LogNorm, Normalize

    from implicitbias.plotting import figure

    stats = grid(sweep, column, x, y, fixed)
    means = np.array([[s.mean for s in row] for row in stats], dtype=float)
    xs, ys = sweep.values_of(x), sweep.values_of(y)
    fig, ax = figure(size=(1.2 + 1.1 * max(len(xs), 3), 1.4 + 0.7 * max(len(ys), 2)))
    finite = means[np.isfinite(means)]
    if column.startswith("claim:"):
        norm, cmap = Normalize(0.0, 1.0), "RdYlGn"
    elif finite.size and finite.min() > 0 and finite.max() / finite.min() > 100:
        norm, cmap = LogNorm(finite.min(), finite.max()), "viridis"
    else:
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        norm, cmap = Normalize(lo, hi if hi > lo else lo + 1.0), "viridis"
    shown = np.ma.masked_invalid(means)
    colors = matplotlib.colormaps[cmap].with_extremes(bad="0.85")
    image = ax.imshow(shown, cmap=colors, norm=norm, aspect="auto", origin="lower")
    for i, row in enumerate(stats):
        for j, stat in enumerate(row):
            text = stat.label()
            if stat.note():
                text += "\n" + stat.note()
            dark = np.isfinite(means[i, j]) and norm(means[i, j]) < 0.5 and cmap == "viridis"
            ax.text(
                j,
                i,
                _mpl(text),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )
    ax.set_xticks(range(len(xs)), [_mpl(axis_label(v)) for v in xs])
    ax.set_yticks(range(len(ys)), [_mpl(axis_label(v)) for v in ys])
    ax.set_xlabel(_mpl(x))
    ax.set_ylabel(_mpl(y))
    ax.set_title(_mpl(_title(column, fixed or {})), fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.9)
    return fig


def line_figure(
    sweep: Sweep, column: str, x: str, y: str | None, fixed: Mapping[str, Any] | None = None
) -> Any:
    """``column`` against ``x``: the mean over seeds, a band from min to max over seeds, one
    line per value of ``y``; a point with cells not done, or values not finite or not
    applicable, is marked with a red cross."""
    from implicitbias.plotting import figure

    fig, ax = figure(size=(6.0, 3.8))
    xs = sweep.values_of(x)
    numeric = _numeric(xs)
    positions = numeric if numeric is not None else list(range(len(xs)))
    lines = sweep.values_of(y)[:MAX_LINES] if y else [None]
    for k, yv in enumerate(lines):
        chosen = {**(fixed or {}), **({y: yv} if y else {})}
        groups = _groups(_select(sweep.rows, chosen), (x,))
        stats = [collect(groups.get((_key(xv),), []), column) for xv in xs]
        mean = np.array([s.mean for s in stats])
        color = f"C{k % 10}"
        label = f"{y}={axis_label(yv)}" if y else None
        ax.plot(positions, mean, "o-", color=color, label=_mpl(label) if label else None)
        ax.fill_between(
            positions,
            [s.low for s in stats],
            [s.high for s in stats],
            color=color,
            alpha=0.2,
            linewidth=0,
        )
        floor = float(np.nanmin(mean)) if np.isfinite(mean).any() else 0.0
        for p, s in zip(positions, stats, strict=True):
            if s.note():  # not done, not finite, n/a: at its mean, or the line's lowest point
                ax.plot([p], [s.mean if s.finite else floor], "x", color="red", ms=9)
    if numeric is not None and min(numeric) > 0 and max(numeric) / min(numeric) >= 20:
        ax.set_xscale("log")
    if numeric is None:
        ax.set_xticks(positions, [_mpl(axis_label(v)) for v in xs])
    ax.set_xlabel(_mpl(x))
    ax.set_ylabel(_mpl(column.split(":", 1)[-1]))
    if column.startswith("claim:"):
        ax.set_ylim(-0.05, 1.05)
    ax.set_title(_mpl(_title(column, fixed or {})), fontsize=9)
    if y:
        ax.legend(fontsize=7)
    return fig


def _embed(fig: Any, caption: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


# ---- HTML --------------------------------------------------------------------------------
def _table(header: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _td(text: Any, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{escape(text)}</td>"


def _grid_table(sweep: Sweep, column: str, x: str, y: str, fixed: Mapping[str, Any]) -> str:
    """The numbers of a phase diagram as an HTML table (rows: y, columns: x)."""
    stats = grid(sweep, column, x, y, fixed)
    header = [f"{y} \\ {x}", *(axis_label(v) for v in sweep.values_of(x))]
    rows = []
    for yv, row in zip(sweep.values_of(y), stats, strict=True):
        cells = [_td(axis_label(yv), "path")]
        for s in row:
            note = f'<span class="note">{escape(s.note())}</span>' if s.note() else ""
            n = len(s.finite)
            cells.append(
                f'<td class="grid" data-mean="{escape(repr(s.mean))}" data-n="{n}">'
                f"{escape(s.label())}{note}</td>"
            )
        rows.append(cells)
    return _table(header, rows, "phase")


def _choose_columns(sweep: Sweep, value: str | Sequence[str] | None) -> list[str]:
    if value is not None:
        names = [value] if isinstance(value, str) else list(value)
        return [resolve_column(sweep, n) for n in names]
    claims = [c for c in sweep.columns if c.startswith("claim:")]
    claims = [c for c in claims if any(cell_value(r, c) is not None for r in sweep.rows)]
    scalars = []
    for c in sweep.columns:
        if not c.startswith("scalar:"):
            continue
        values = {v for r in sweep.rows if (v := cell_value(r, c)) is not None}
        if len({v for v in values if math.isfinite(v)}) > 1:  # constants tell nothing
            scalars.append(c)
    return claims + scalars[:DEFAULT_SCALARS]


def _choose_axes(sweep: Sweep, x: str | None, y: str | None) -> tuple[str | None, str | None]:
    axes = sweep.sweep_axes
    for flag, name in (("--x", x), ("--y", y)):
        if name is not None and name not in axes:
            raise ConfigError(
                flag, "an axis of the sweep (" + ", ".join(axes) + ")", name, choices=axes
            )
    if x is not None and x == y:
        raise ConfigError("--y", f"an axis other than --x (={x})", y)
    varying = [a for a in axes if len(sweep.values_of(a)) > 1]  # one value: a fixed setting
    if x is None:
        x = next((a for a in varying if a != y), None)
    if y is None:
        y = next((a for a in varying if a != x), None)
    return x, y


def _header(sweep: Sweep) -> str:
    spec = sweep.spec
    title = f"Sweep: {spec.get('experiment', '?')} / {spec.get('preset', '?')}"
    lines = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta-line">folder: <span class="path">{escape(sweep.folder)}</span></p>',
        f'<p class="meta-line">created {escape(spec.get("created", MISSING))}; report '
        f"{escape(_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M:%S UTC'))}</p>",
    ]
    rows = [[_td(n, "path"), _td(", ".join(axis_label(v) for v in vs))] for n, vs in sweep.axes]
    lines.append(_table(["axis", "values"], rows, "axes"))
    extra = {k: spec[k] for k in ("seeds", "retries", "batched_axes") if k in spec}
    if extra:
        text = "; ".join(f"{k}: {v}" for k, v in extra.items())
        lines.append(f'<p class="meta-line">{escape(text)}</p>')
    return "\n".join(lines)


def _manifest_section(sweep: Sweep) -> str:
    cells = sweep.cells or [{"id": r.get("cell"), "status": r.get("status")} for r in sweep.rows]
    counts: dict[str, int] = {}
    for c in cells:
        counts[str(c.get("status"))] = counts.get(str(c.get("status")), 0) + 1
    tries = [int(c.get("tries") or 0) for c in cells]
    walls = [
        float(c["wall_seconds"]) for c in cells if _as_float(c.get("wall_seconds")) is not None
    ]
    workers = {c.get("worker") for c in cells if c.get("worker")}
    summary = f"{len(cells)} cells \u2014 " + ", ".join(
        f"{n} {s}" for s, n in sorted(counts.items())
    )
    rows = [
        [_td("cells"), _td(len(cells), "num")],
        *([_td(s), _td(n, "num")] for s, n in sorted(counts.items())),
        [_td("tries (all cells)"), _td(sum(tries), "num")],
        [_td("cells retried"), _td(sum(t > 1 for t in tries), "num")],
        [_td("workers"), _td(len(workers), "num")],
        [_td("wall time, sum over cells"), _td(f"{format_number(sum(walls))} s", "num")],
    ]
    if walls:
        rows.append(
            [
                _td("wall time per cell, median"),
                _td(f"{format_number(float(np.median(walls)))} s", "num"),
            ]
        )
        rows.append([_td("wall time per cell, max"), _td(f"{format_number(max(walls))} s", "num")])
    parts = ["<h2>Manifest</h2>", f'<p class="summary">{escape(summary)}</p>']
    parts.append(_table(["item", "value"], rows, "manifest"))
    errors = [c for c in cells if c.get("error")]
    if errors:
        err_rows = [
            [_td(c.get("id"), "path"), _td(c.get("status")), _td(c.get("error"), "error")]
            for c in errors[:50]
        ]
        parts.append("<h3>Errors</h3>\n" + _table(["cell", "status", "error"], err_rows))
    return "\n".join(parts)


def _table_section(sweep: Sweep, columns: Sequence[str]) -> str:
    shown = list(columns)[:MAX_TABLE_VALUES]
    by_id = {c.get("id"): c for c in sweep.cells}
    header = ["cell", "status", *sweep.axis_names, *shown, "tries", "wall s", "run"]
    rows = []
    for row in sweep.rows[:MAX_TABLE_ROWS]:
        status = str(row.get("status"))
        cell = by_id.get(row.get("cell"), {})
        cells = [_td(row.get("cell"), "path"), _td(status, _STATUS_CLASS.get(status, "error"))]
        cells += [_td(axis_label(row.get(a, MISSING))) for a in sweep.axis_names]
        for c in shown:
            raw = row.get(c) if "*" not in c else cell_value(row, c)
            if isinstance(raw, str) and c.startswith("claim:"):
                cls = {"holds": "holds", "does not hold": "fails", "error": "error"}
                cells.append(_td(raw, cls.get(raw, "na")))
            else:
                v = _as_float(raw)
                cells.append(_td(format_number(v) if v is not None else MISSING, "num"))
        wall = _as_float(cell.get("wall_seconds"))
        cells += [
            _td(cell.get("tries", MISSING), "num"),
            _td(format_number(wall) if wall is not None else MISSING, "num"),
            _td(cell.get("run") or MISSING, "path"),
        ]
        rows.append(cells)
    parts = ["<h2>Table</h2>"]
    if len(sweep.rows) > MAX_TABLE_ROWS:
        parts.append(
            f'<p class="meta-line">the first {MAX_TABLE_ROWS} of {len(sweep.rows)} rows; '
            "every row is in table.csv</p>"
        )
    if len(columns) > len(shown):
        parts.append(f'<p class="meta-line">{len(shown)} of {len(columns)} value columns</p>')
    parts.append(_table(header, rows, "sweep-table"))
    return "\n".join(parts)


def _phase_section(sweep: Sweep, columns: Sequence[str], x: str, y: str) -> str:
    parts = [
        "<h2>Phase diagrams</h2>",
        f'<p class="meta-line">x: {escape(x)}, y: {escape(y)}; each square: the mean over '
        "seeds of the done cells (claims: the fraction of seeds where the claim holds), "
        "with the number of cells that failed, diverged or did not run under it.</p>",
    ]
    combos = slices(sweep, (x, y))
    for column in columns:
        for fixed in combos[:MAX_SLICES]:
            fig = heatmap_figure(sweep, column, x, y, fixed)
            parts.append(f"<h3>{escape(_title(column, fixed))}</h3>")
            parts.append(_embed(fig, f"{column} over {x} x {y}"))
            parts.append(_grid_table(sweep, column, x, y, fixed))
        if len(combos) > MAX_SLICES:
            parts.append(
                f'<p class="meta-line">{len(combos) - MAX_SLICES} more slices of '
                f"{escape(column)} not drawn (choose --x/--y)</p>"
            )
    return "\n".join(parts)


def _lines_section(sweep: Sweep, columns: Sequence[str], x: str, y: str | None) -> str:
    parts = [
        "<h2>Line plots</h2>",
        f'<p class="meta-line">against {escape(x)}: the mean over seeds of the done cells, '
        "the band from their min to their max; a red cross marks a point with cells that "
        "failed, diverged or did not run, or values that are not finite or not applicable "
        "(the table under the diagram or the plot says which).</p>",
    ]
    combos = slices(sweep, [a for a in (x, y) if a])
    for column in columns:
        for fixed in combos[:MAX_SLICES]:
            fig = line_figure(sweep, column, x, y, fixed)
            parts.append(_embed(fig, f"{column} against {x}"))
            if y is None:  # no phase diagram: the points' numbers here
                parts.append(_points_table(sweep, column, x, fixed))
    return "\n".join(parts)


def _points_table(sweep: Sweep, column: str, x: str, fixed: Mapping[str, Any]) -> str:
    """The numbers of a one-axis line plot: mean, min, max over seeds, and the notes."""
    rows = []
    groups = _groups(_select(sweep.rows, fixed), (x,))
    for xv in sweep.values_of(x):
        s = collect(groups.get((_key(xv),), []), column)
        cells = [_td(axis_label(xv), "path")]
        cells += [
            _td(format_number(v) if s.finite else s.label(), "num") for v in (s.mean, s.low, s.high)
        ]
        cells += [_td(len(s.finite), "num"), _td(s.note())]
        rows.append(cells)
    return _table([x, "mean", "min", "max", "n", "not in the mean"], rows, "points")


def render_sweep_report(
    folder: str | Path,
    *,
    value: str | Sequence[str] | None = None,
    x: str | None = None,
    y: str | None = None,
) -> str:
    """The report of a sweep folder as one self-contained HTML page.

    Args:
        folder: the sweep folder (with ``sweep.json``; ``table.json`` once cells finish).
        value: the table column(s) to draw: ``scalar:KEY`` or ``claim:ID``, or the key or
            id alone, or a glob matching one column per row. Default: every claim measured
            somewhere, then the first :data:`DEFAULT_SCALARS` scalars that vary across cells.
        x: the axis across (default: the first axis with more than one value, other
            than ``seed`` and ``y``; an axis of one value is a fixed setting).
        y: the axis up the phase diagram (default: the next such axis); also one line per
            value of ``y`` in the line plots.

    Returns:
        The HTML text.

    Raises:
        ConfigError: not a sweep folder, or an unknown column or axis.
    """
    sweep = load_sweep(folder)
    columns = _choose_columns(sweep, value)
    x, y = _choose_axes(sweep, x, y)
    body = [_header(sweep)]
    notes = []
    if not columns:
        notes.append("No numbers to draw yet (no done cell with a scalar or a measured claim).")
    elif x is None:
        notes.append("The sweep has no axis other than seed: no diagram, the table only.")
    elif y is None:
        notes.append(f"One axis ({x}): line plots only; a phase diagram needs two.")
    if notes:
        body.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes))
        body[-1] += "</ul>"
    if columns and x is not None and y is not None:
        body.append(_phase_section(sweep, columns, x, y))
    if columns and x is not None:
        body.append(_lines_section(sweep, columns, x, y))
    body.append(_manifest_section(sweep))
    body.append(_table_section(sweep, columns))
    title = f"sweep {sweep.spec.get('experiment', '')} {sweep.folder.name}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}{_EXTRA_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def write_sweep_report(
    folder: str | Path,
    *,
    value: str | Sequence[str] | None = None,
    x: str | None = None,
    y: str | None = None,
    out: str | Path | None = None,
) -> Path:
    """Render the report and write it atomically to ``out`` (default
    ``<folder>/report.html``, replaced if there: the sweep may have moved on).

    Returns:
        The written path.
    """
    text = render_sweep_report(folder, value=value, x=x, y=y)
    target = Path(out) if out is not None else Path(folder) / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_text(target, text)
