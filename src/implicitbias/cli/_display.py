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
    colours = {
        "holds": "green",
        "does not hold": "yellow",
        "flips": "yellow",
        "error": "red",
        "not applicable": "dim",
    }
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


def measured_text(o: Outcome) -> str:
    """The measured number; over seeds, ``mean ± sd (n seeds)``."""
    if o.seeds > 1 and o.spread is not None:
        return f"{fmt(o.measured)} ± {fmt(o.spread)}\n[dim]{o.seeds} seeds, {o.held} hold[/]"
    return fmt(o.measured)


_STATUS = {"as expected": "green", "UNEXPECTED": "bold red", "not measured": "red"}


def verify_table(outcomes: Sequence[Outcome], title: str) -> Table:
    """One row per claim: measured, criterion, verdict, expected verdict, status."""
    table = Table(title=title, show_lines=False)
    table.add_column("claim", no_wrap=True)
    table.add_column("measured", justify="right")
    table.add_column("criterion")
    table.add_column("verdict")
    table.add_column("status")
    for o in outcomes:
        verdict = o.verdict
        if o.error:
            verdict += f"\n[red]{o.error}[/]"
        elif o.reason:
            verdict += f"\n[dim]{o.reason.removeprefix('not applicable: ')}[/]"
        status = f"[{_STATUS[o.status]}]{o.status}[/]"
        if o.status == "UNEXPECTED":
            status += f"\n[red]expected: {o.expected_verdict}[/]"
        elif o.refuted_because and o.status == "as expected":
            status += f"\n[dim]refuted: {o.refuted_because}[/]"
        table.add_row(o.id, measured_text(o), o.criterion, verdict, status)
    return table
