"""The comparison of two machines as one self-contained HTML page.

Inline CSS (the report's, plus a few rules), no scripts, fonts or links; every text taken
from the claims or the environments is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from implicitbias.claims.claim import Outcome
from implicitbias.report.compare import (
    ClaimDiff,
    Comparison,
    EnvItem,
    Side,
    criterion_text,
    env_text,
    format_relative,
)
from implicitbias.report.html import _STATUS_CLASS, _VERDICT_CLASS, CSS, escape, format_number

_EXTRA_CSS = """
tr.changed td.mark { background: #f9d0d0; color: #8a1010; font-weight: 700; }
tr.one-side td { color: #555555; }
tr.env-differs td { background: #fff4d6; }
td.mark { white-space: nowrap; }
.small { display: block; color: #555; font-size: 0.85em; }
"""


def _td(text: object, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{escape(text)}</td>"


def _measured(o: Outcome | None) -> str:
    if o is None:
        return _td("\u2014", "num")
    text = escape(format_number(o.measured))
    if o.seeds > 1 and o.spread is not None:
        text += f" \u00b1 {escape(format_number(o.spread))}"
        text += f'<span class="small">{o.seeds} seeds, {escape(o.held)} hold</span>'
    return f'<td class="num">{text}</td>'


def _verdict(o: Outcome | None) -> str:
    if o is None:
        return _td("absent", "na")
    inner = escape(o.verdict)
    detail = o.error if o.error is not None else o.reason
    if detail:
        inner += f'<span class="small">{escape(detail)}</span>'
    return f'<td class="{_VERDICT_CLASS[o.verdict]}">{inner}</td>'


def _status(o: Outcome | None) -> str:
    if o is None:
        return _td("\u2014", "st-na")
    return _td(o.status, _STATUS_CLASS[o.status])


def _mark(c: ClaimDiff) -> str:
    if c.verdict_changed:
        return "verdict changed"
    if c.presence != "both":
        return c.presence
    return "status changed" if c.status_changed else "same"


def _difference(c: ClaimDiff) -> str:
    if c.difference is None:
        return _td("\u2014", "num")
    if c.difference == 0.0:
        return _td("0", "num")
    text = f"{escape(format_number(c.difference))}<br>{escape(format_relative(c.relative))}"
    if c.within_spread is not None:
        note = "within seed spread" if c.within_spread else "beyond seed spread"
        text += f'<span class="small">{note}</span>'
    return f'<td class="num">{text}</td>'


def _claim_row(c: ClaimDiff) -> str:
    cls = "changed" if c.verdict_changed else ("one-side" if c.presence != "both" else "")
    cells = [
        _td(_mark(c), "mark"),
        f'<td><span class="path">{escape(c.id)}</span>'
        f'<span class="small">{escape(c.statement)}</span></td>',
        _td(criterion_text(c), "num"),
        _measured(c.a),
        _measured(c.b),
        _difference(c),
        _verdict(c.a),
        _verdict(c.b),
        _status(c.a),
        _status(c.b),
    ]
    attr = f' class="{cls}"' if cls else ""
    return f"<tr{attr}>" + "".join(cells) + "</tr>"


def _table(header: Sequence[str], rows: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "\n".join(rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _env_row(e: EnvItem) -> str:
    attr = ' class="env-differs"' if e.differs else ""
    mark = "differs" if e.differs else "same"
    return (
        f"<tr{attr}>{_td(e.name, 'path')}{_td(env_text(e.a))}{_td(env_text(e.b))}{_td(mark)}</tr>"
    )


def _side_line(name: str, side: Side) -> str:
    return (
        f'<p class="meta-line">{name}: {escape(side.label)} \u2014 '
        f'<span class="path">{escape(side.path)}</span> ({len(side.outcomes)} claims)</p>'
    )


def render_comparison(comparison: Comparison, title: str = "implicitbias compare") -> str:
    """The page: both sides, the summary, the claims table and the environment table."""
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    header = [
        "change",
        "claim",
        "criterion",
        "A measured",
        "B measured",
        "B \u2212 A (relative)",
        "A verdict",
        "B verdict",
        "A status",
        "B status",
    ]
    claims = (
        _table(header, [_claim_row(c) for c in comparison.claims])
        if comparison.claims
        else "<p>Neither side has any claim.</p>"
    )
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta-line">generated {escape(now)}</p>',
        _side_line("A", comparison.a),
        _side_line("B", comparison.b),
        f'<p class="summary">{escape(comparison.summary_line())}</p>',
        f'<p class="summary">{escape(comparison.environment_line())}</p>',
        "<h2>Claims</h2>",
        '<p class="meta-line">Changed verdicts first. The relative difference is '
        "(B \u2212 A) / |A|; \u201cwithin seed spread\u201d means |B \u2212 A| is at most "
        "the sum of the two standard deviations over seeds.</p>",
        claims,
        "<h2>Environment</h2>",
        _table(["item", "A", "B", ""], [_env_row(e) for e in comparison.environment]),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}{_EXTRA_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
