"""Tables printed by the commands (rich)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from implicitbias.claims import Outcome


def console(stderr: bool = False) -> Console:
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal else 120  # pipes and CI logs get a readable width
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if value != value:  # NaN
        return "nan"
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    return f"{value:.3e}"


def claims_table(outcomes: Sequence[Outcome], title: str = "claims") -> Table:
    table = Table(title=title, show_lines=False)
    columns = (
        ("claim", {"no_wrap": True}),
        ("source", {"max_width": 30}),
        ("measured", {"justify": "right"}),
        ("criterion", {}),
        ("holds?", {}),
    )
    for name, kw in columns:
        table.add_column(name, **kw)
    colours = {"holds": "green", "does not hold": "yellow", "error": "red", "not applicable": "dim"}
    for o in outcomes:
        verdict = o.verdict
        text = f"[{colours[verdict]}]{verdict}[/]"
        if o.error:
            text += f"\n[red]{o.error}[/]"
        elif o.reason:
            text += f"\n[dim]{o.reason.removeprefix('not applicable: ')}[/]"
        table.add_row(o.id, o.source, fmt(o.measured), o.criterion, text)
    return table


def summary(outcomes: Sequence[Outcome]) -> str:
    holds = sum(o.verdict == "holds" for o in outcomes)
    fails = sum(o.verdict == "does not hold" for o in outcomes)
    errors = sum(o.verdict == "error" for o in outcomes)
    skipped = sum(o.verdict == "not applicable" for o in outcomes)
    text = (
        f"{len(outcomes)} claims: {holds} hold, {fails} do not hold, {errors} could not be measured"
    )
    return text + (f", {skipped} not applicable" if skipped else "")
