"""A self-contained HTML report of claim outcomes and runs.

The page is one file: inline CSS, figures embedded as ``data:image/png;base64`` URIs, and
no scripts, fonts or links to anything outside it, so it can be mailed or archived as is.
Every piece of text taken from claims, runs or configs is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from implicitbias.claims.claim import Outcome
from implicitbias.claims.verify import Summary
from implicitbias.runs.atomic import write_text
from implicitbias.runs.results import Results
from implicitbias.runs.store import figure_files

#: Lists of at most this many numbers are shown inline; longer ones as "list of N".
MAX_INLINE_LIST = 8
#: Shown where a number is missing.
MISSING = "\u2014"

_VERDICT_CLASS = {
    "holds": "holds",
    "does not hold": "fails",
    "flips": "fails",
    "error": "error",
    "not applicable": "na",
}

_STATUS_CLASS = {"as expected": "st-ok", "UNEXPECTED": "st-bad", "not measured": "st-na"}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 2em auto; max-width: 72em; padding: 0 1em; color: #1a1a1a; line-height: 1.4; }
h1 { margin-bottom: 0.2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
h3 { margin-top: 1.5em; }
.meta-line { color: #555; margin: 0.2em 0; }
.summary { font-size: 1.1em; margin: 0.8em 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: nowrap; }
code, .path { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.92em; }
td.holds { background: #d9f2d9; color: #14521a; font-weight: 600; }
td.fails { background: #fde8c4; color: #7a4a00; font-weight: 600; }
td.error { background: #f9d0d0; color: #8a1010; font-weight: 600; }
td.na { background: #eeeeee; color: #555555; }
td.st-ok { background: #d9f2d9; color: #14521a; }
td.st-bad { background: #f9d0d0; color: #8a1010; font-weight: 700; }
td.st-na { background: #eeeeee; color: #555555; }
.error-text { display: block; font-weight: normal; font-family: ui-monospace, Menlo, monospace;
              font-size: 0.85em; white-space: pre-wrap; margin-top: 0.3em; }
.status-ok { color: #14521a; font-weight: 600; }
.status-bad { color: #8a1010; font-weight: 600; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-family: ui-monospace, Menlo, monospace; font-size: 0.85em; color: #555; }
"""


def _esc(value: Any) -> str:
    """Escape any value's text for HTML (quotes included)."""
    return html.escape(str(value), quote=True)


def _is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (bools excluded)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def format_number(value: float | None) -> str:
    """Format a number with 4 significant digits.

    Scientific notation is used when ``|x| < 1e-3`` or ``|x| >= 1e4`` (zero excepted);
    integers are shown exactly; ``None`` becomes an em dash.

    Args:
        value: the number, or None.

    Returns:
        The text, e.g. ``"1.234e-09"``, ``"0.5"``, ``"12.35"``, ``"—"``.
    """
    if value is None:
        return MISSING
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    x = float(value)
    if not math.isfinite(x):
        return str(x)
    if x == 0.0:
        return "0"
    if abs(x) < 1e-3 or abs(x) >= 1e4:
        return f"{x:.3e}"
    text = f"{x:.4g}"
    return f"{x:.3e}" if "e" in text else text  # 9999.5 rounds up to 1e+04


def format_value(value: Any) -> str:
    """Format one scalar entry: a number, a short list of numbers, or anything else.

    Args:
        value: a number, bool, string, list/tuple/array or other value.

    Returns:
        Plain (unescaped) text for a table cell.
    """
    if hasattr(value, "tolist") and not _is_number(value):
        value = value.tolist()
    if isinstance(value, bool) or value is None:
        return str(value)
    if _is_number(value):
        return format_number(value)
    if isinstance(value, list | tuple):
        if len(value) <= MAX_INLINE_LIST and all(_is_number(v) for v in value):
            return "[" + ", ".join(format_number(v) for v in value) + "]"
        return f"list of {len(value)}"
    return str(value)


def flatten(scalars: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted.key, value)`` for every leaf of a nested dict, in insertion order.

    Args:
        scalars: a nested dict.
        prefix: the dotted path of ``scalars`` itself.

    Yields:
        Dotted key and leaf value pairs; an empty sub-dict is a leaf.
    """
    for key, value in scalars.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            yield from flatten(value, name)
        else:
            yield name, value


def _as_outcome(outcome: Outcome | Mapping[str, Any]) -> Outcome:
    """Normalise an outcome dict (as stored in ``results.json``) to :class:`Outcome`."""
    if isinstance(outcome, Outcome):
        return outcome
    return Outcome.from_dict(outcome)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """An HTML table; header texts are escaped, row cells must already be HTML."""
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _td(text: Any, cls: str = "") -> str:
    """A table cell holding escaped ``text``."""
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{_esc(text)}</td>"


def _verdict_cell(outcome: Outcome) -> str:
    """The coloured verdict cell, with the error text under an ``error`` verdict."""
    verdict = outcome.verdict
    inner = _esc(verdict)
    if outcome.error is not None:
        inner += f'<span class="error-text">{_esc(outcome.error)}</span>'
    elif outcome.reason:
        inner += f'<span class="error-text">{_esc(outcome.reason)}</span>'
    return f'<td class="{_VERDICT_CLASS[verdict]}">{inner}</td>'


def summary_line(outcomes: Sequence[Outcome]) -> str:
    """``"N claims — X hold, Y do not hold, Z errors"`` (plain text).

    Args:
        outcomes: normalised outcomes.

    Returns:
        The summary text.
    """
    verdicts = [o.verdict for o in outcomes]
    n = len(verdicts)
    noun = "claim" if n == 1 else "claims"
    n_err = verdicts.count("error")
    errors = "error" if n_err == 1 else "errors"
    text = (
        f"{n} {noun} \u2014 {verdicts.count('holds')} hold, "
        f"{verdicts.count('does not hold')} do not hold, {n_err} {errors}"
    )
    n_na = verdicts.count("not applicable")
    return text + (f", {n_na} not applicable" if n_na else "")


def _measured_cell(outcome: Outcome) -> str:
    """The measured number; over several seeds, mean ± sd with the seed count."""
    text = _esc(format_number(outcome.measured))
    if outcome.seeds > 1 and outcome.spread is not None:
        text += (
            f" \u00b1 {_esc(format_number(outcome.spread))}"
            f'<span class="error-text">{outcome.seeds} seeds, {outcome.held} hold</span>'
        )
    return f'<td class="num">{text}</td>'


def _status_cell(outcome: Outcome) -> str:
    """As expected / UNEXPECTED / not measured, with the expected verdict and its reason."""
    status = outcome.status
    inner = _esc(status)
    detail = f"expected: {outcome.expected_verdict}"
    if outcome.refuted_because:
        detail += f" ({outcome.refuted_because})"
    inner += f'<span class="error-text">{_esc(detail)}</span>'
    return f'<td class="{_STATUS_CLASS[status]}">{inner}</td>'


def _claims_table(outcomes: Sequence[Outcome]) -> str:
    header = [
        "id",
        "statement",
        "source",
        "quantity measured",
        "measured",
        "criterion",
        "verdict",
        "status",
    ]
    rows = [
        [
            _td(o.id, "path"),
            _td(o.statement),
            _td(o.source),
            _td(o.quantity),
            _measured_cell(o),
            _td(o.criterion, "num"),
            _verdict_cell(o),
            _status_cell(o),
        ]
        for o in outcomes
    ]
    return _table(header, rows, "claims")


def _claims_section(outcomes: Sequence[Outcome]) -> str:
    """The findings table and the self-checks table (or a line saying there are none)."""
    if not outcomes:
        return "<h2>Claims</h2>\n<p>No claims were checked.</p>"
    note = (
        '<p class="meta-line">\u201cdoes not hold\u201d means the claim was measured and '
        "the number failed its criterion; \u201cflips\u201d that it held in some seeds "
        "only; \u201cerror\u201d that it could not be measured. The status compares the "
        "verdict with the one the lab expects: a claim the lab established does not hold "
        "is \u201crefuted\u201d, with the reason.</p>"
    )
    findings = [o for o in outcomes if o.kind != "self-check"]
    checks = [o for o in outcomes if o.kind == "self-check"]
    parts = ["<h2>Claims</h2>", note]
    if findings:
        parts.append(_claims_table(findings))
    if checks:
        parts += [
            "<h2>Self-checks</h2>",
            '<p class="meta-line">Algebraic identities and implementation checks: they test '
            "the lab's code, not a finding.</p>",
            _claims_table(checks),
        ]
    return "\n".join(parts)


def _meta_rows(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The meta entries worth showing: versions, backend, devices, wall time."""
    rows: list[tuple[str, str]] = []
    versions = meta.get("versions")
    if isinstance(versions, Mapping):
        for name in ("implicitbias", "jax"):
            if versions.get(name) is not None:
                rows.append((f"{name} version", str(versions[name])))
    if meta.get("backend") is not None:
        rows.append(("backend", str(meta["backend"])))
    devices = meta.get("devices")
    if devices:
        text = ", ".join(map(str, devices)) if isinstance(devices, list | tuple) else devices
        rows.append(("devices", str(text)))
    if meta.get("git_commit"):
        rows.append(("git commit", str(meta["git_commit"])))
    if _is_number(meta.get("wall_seconds")):
        rows.append(("wall time", f"{format_number(meta['wall_seconds'])} s"))
    return rows


def _figure(path: Path) -> str:
    """One PNG embedded as a base64 data URI, captioned with its file name."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(path.name)}">'
        f"<figcaption>{_esc(path.name)}</figcaption></figure>"
    )


def _run_section(run: Results, index: int) -> str:
    """One run: header, folder, status, scalars, meta and figures."""
    parts = [f"<h2>Run {index}: {_esc(run.experiment)} / {_esc(run.preset)}</h2>"]
    folder = _esc(run.path) if run.path is not None else "(not saved)"
    parts.append(f'<p class="meta-line">folder: <span class="path">{folder}</span></p>')
    ok = run.status == "ok"
    status = f'<span class="{"status-ok" if ok else "status-bad"}">{_esc(run.status)}</span>'
    if not ok and run.message:
        status += f" \u2014 {_esc(run.message)}"
    parts.append(f'<p class="meta-line">status: {status}</p>')
    scalars = list(flatten(run.scalars))
    if scalars:
        rows = [[_td(k, "path"), _td(format_value(v), "num")] for k, v in scalars]
        parts.append("<h3>Scalars</h3>\n" + _table(["quantity", "value"], rows, "scalars"))
    meta = _meta_rows(run.meta)
    if meta:
        rows = [[_td(k), _td(v)] for k, v in meta]
        parts.append("<h3>Environment</h3>\n" + _table(["item", "value"], rows, "meta"))
    figures = figure_files(run.path) if run.path is not None else []
    if figures:
        parts.append("<h3>Figures</h3>\n" + "\n".join(_figure(p) for p in figures))
    return '<section class="run">\n' + "\n".join(parts) + "\n</section>"


def render_report(
    *, title: str, outcomes: Sequence[Outcome | Mapping[str, Any]], runs: Sequence[Results]
) -> str:
    """Render the report as one self-contained HTML page.

    Args:
        title: the page title.
        outcomes: claim outcomes, as :class:`Outcome` objects or their dicts.
        runs: the runs to show, each with its scalars, meta and figures.

    Returns:
        The HTML text.
    """
    normalised = [_as_outcome(o) for o in outcomes]
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    body = [
        f"<h1>{_esc(title)}</h1>",
        f'<p class="meta-line">generated {_esc(now)}</p>',
        f'<p class="summary">{_esc(summary_line(normalised))}</p>',
        f'<p class="summary">{_esc(Summary.of(normalised).line())}</p>',
        _claims_section(normalised),
        *(_run_section(run, i) for i, run in enumerate(runs, start=1)),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def write_report(
    path: str | Path,
    *,
    title: str,
    outcomes: Sequence[Outcome | Mapping[str, Any]],
    runs: Sequence[Results],
) -> Path:
    """Render the report and write it atomically to ``path``.

    Args:
        path: the HTML file to write; missing parent folders are created.
        title: the page title.
        outcomes: claim outcomes, as :class:`Outcome` objects or their dicts.
        runs: the runs to show.

    Returns:
        The written path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, render_report(title=title, outcomes=outcomes, runs=runs))


#: The report's style sheet and building blocks, for other self-contained pages (the
#: profile's optimizer cards).
CSS = _CSS
escape = _esc
embed_figure = _figure
claims_section = _claims_section
