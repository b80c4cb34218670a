"""``implicitbias compare A B``: the same claims on two machines (or two runs), side by side."""

from __future__ import annotations

import argparse

_EPILOG = """\
A and B are each a verify folder (runs/verify-...), a run folder, or their verify.json /
claims.json / results.json. A verify folder and a run folder compare the claims they share.
The relative difference is (B - A) / |A|.

exit status:
  0  no verdict changed between A and B
  1  at least one claim's verdict changed (e.g. holds on A, does not hold on B)
  2  bad input: a missing path, a folder of neither kind, corrupt JSON
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare the claims of two verify or run folders (e.g. two machines)",
        description="Set two verify folders (or two run folders) side by side: for each "
        "claim both measured values (mean ± spread over seeds), their difference, both "
        "verdicts and statuses and whether the verdict changed; and which versions, "
        "backend, devices and x64 differ. Does a GPU, float32 or another JAX version "
        "reproduce the lab's findings? Prints a table and writes compare.json and a "
        "self-contained compare.html into a new folder compare-ab-<time>-<id> under --out.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("a", metavar="A", help="the reference: a verify folder or a run folder")
    p.add_argument("b", metavar="B", help="the other: a verify folder or a run folder")
    p.add_argument(
        "--out", default="runs", help="folder under which the compare folder is made (runs)"
    )
    p.add_argument(
        "--html",
        metavar="FILE",
        help="write the HTML page here instead (a new file; default: compare.html in the "
        "compare folder)",
    )
    p.set_defaults(func=execute)


_STATUS = {"as expected": "green", "UNEXPECTED": "bold red", "not measured": "red"}
_VERDICT = {
    "holds": "green",
    "does not hold": "yellow",
    "flips": "yellow",
    "error": "red",
    "not applicable": "dim",
}


def _measured(o) -> str:
    from implicitbias.cli._display import fmt

    if o is None:
        return "[dim]absent[/]"
    if o.seeds > 1 and o.spread is not None:
        return f"{fmt(o.measured)} ± {fmt(o.spread)}\n[dim]{o.seeds} seeds, {o.held} hold[/]"
    return fmt(o.measured)


def _pair(a, b, colours: dict[str, str]) -> str:
    """``A -> B`` of a verdict or status, coloured; one value when they agree."""
    texts = [f"[{colours[x]}]{x}[/]" for x in (a, b) if x is not None]
    return texts[0] if a == b or len(texts) == 1 else f"{texts[0]} →\n{texts[1]}"


def claims_table(comparison):
    """One row per claim, changed verdicts first and marked."""
    from rich.markup import escape
    from rich.table import Table

    from implicitbias.cli._display import fmt
    from implicitbias.report.compare import format_relative

    table = Table(title=f"A: {escape(comparison.a.label)}   B: {escape(comparison.b.label)}")
    table.add_column("", no_wrap=True)
    table.add_column("claim", no_wrap=True)
    table.add_column("A measured", justify="right")
    table.add_column("B measured", justify="right")
    table.add_column("B − A (rel.)", justify="right")
    table.add_column("verdict A → B")
    table.add_column("status A → B")
    for c in comparison.claims:
        if c.verdict_changed:
            mark = "[bold red]CHANGED[/]"
        elif c.presence != "both":
            mark = f"[dim]{c.presence}[/]"
        else:
            mark = "[yellow]status[/]" if c.status_changed else "[dim]same[/]"
        diff = "—"
        if c.difference == 0.0:
            diff = "0"
        elif c.difference is not None:
            diff = f"{fmt(c.difference)}\n{format_relative(c.relative)}"
            if c.within_spread is not None:
                diff += "\n[dim]within spread[/]" if c.within_spread else "\n[dim]beyond spread[/]"
        verdicts = [o.verdict if o is not None else None for o in (c.a, c.b)]
        statuses = [o.status if o is not None else None for o in (c.a, c.b)]
        table.add_row(
            mark,
            escape(c.id),
            _measured(c.a),
            _measured(c.b),
            diff,
            _pair(*verdicts, _VERDICT),
            _pair(*statuses, _STATUS),
        )
    return table


def environment_table(comparison):
    """The environment items on both sides; differing ones in bold."""
    from rich.markup import escape
    from rich.table import Table

    from implicitbias.report.compare import env_text

    table = Table(title="environment")
    for name in ("item", "A", "B", ""):
        table.add_column(name)
    for e in comparison.environment:
        style = "[bold yellow]" if e.differs else ""
        end = "[/]" if e.differs else ""
        table.add_row(
            e.name,
            style + escape(env_text(e.a)) + end,
            style + escape(env_text(e.b)) + end,
            "[bold yellow]differs[/]" if e.differs else "[dim]same[/]",
        )
    return table


def execute(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from implicitbias.cli._display import console
    from implicitbias.report.compare import check_html_target, compare, write_comparison
    from implicitbias.runs.store import check_writable

    check_html_target(args.html)
    comparison = compare(args.a, args.b)
    check_writable(args.out)  # a bad --out: exit 2 before anything is printed
    out = console()
    out.print(claims_table(comparison))
    out.print(environment_table(comparison))
    for c in comparison.changed:
        a, b = c.a.verdict, c.b.verdict  # type: ignore[union-attr]
        out.print(f"[bold red]CHANGED[/] {escape(c.id)}: {a} on A, {b} on B", soft_wrap=True)
    out.print(escape(comparison.environment_line()), soft_wrap=True)
    out.print(escape(comparison.summary_line()), soft_wrap=True)
    folder, page, json_file = write_comparison(comparison, args.out, args.html)
    print(f"report: {page}")
    print(f"json: {json_file}")
    return comparison.exit_code
