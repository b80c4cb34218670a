"""``compare A B``: the same claims measured on two machines, set side by side.

Each side is a verify folder (``verify.json``, or ``claims.json`` alone), a run folder
(``results.json`` and ``meta.json``), or one of those JSON files. For every claim on
either side the comparison holds both measured values (mean and spread over seeds), their
difference, both verdicts and statuses, and whether the verdict changed; a claim on one
side only is listed as such. The environments (versions, backend, devices, x64, git
commit) are compared item by item. It answers: does a GPU, float32 or another JAX version
reproduce the lab's findings?

The *relative difference* of a claim is ``(B - A) / |A|``, signed, with A the reference;
it is undefined (``None``) when A is zero and B is not, or when either is not finite.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from implicitbias.claims.claim import Outcome
from implicitbias.errors import ConfigError
from implicitbias.report.compare_load import ALLOWED, Side, load_side
from implicitbias.runs.atomic import write_json, write_text
from implicitbias.runs.store import new_run_dir

#: The environment items compared first, in this order (versions, then machine).
ENV_VERSIONS = ("jax", "jaxlib", "numpy", "python", "platform")
ENV_MACHINE = ("git_commit", "backend", "devices", "x64")


@dataclasses.dataclass(frozen=True)
class ClaimDiff:
    """One claim on both sides (or on one only: the other is ``None``)."""

    id: str
    a: Outcome | None
    b: Outcome | None

    @property
    def statement(self) -> str:
        return (self.a or self.b).statement  # type: ignore[union-attr]

    @property
    def presence(self) -> str:
        """``both``, ``only A`` or ``only B``."""
        if self.a is not None and self.b is not None:
            return "both"
        return "only A" if self.b is None else "only B"

    @property
    def difference(self) -> float | None:
        """``B - A`` of the measured values (mean over seeds); ``None`` if either is missing."""
        a, b = _finite(self.a), _finite(self.b)
        return None if a is None or b is None else b - a

    @property
    def relative(self) -> float | None:
        """``(B - A) / |A|``; 0 when both are 0, ``None`` when A is 0 and B is not."""
        a, diff = _finite(self.a), self.difference
        if a is None or diff is None:
            return None
        if a == 0.0:
            return 0.0 if diff == 0.0 else None
        return diff / abs(a)

    @property
    def within_spread(self) -> bool | None:
        """Whether ``|B - A|`` is at most the sum of the seed spreads (``None`` without one)."""
        diff = self.difference
        spreads = [o.spread for o in (self.a, self.b) if o is not None and o.spread is not None]
        if diff is None or not spreads:
            return None
        return abs(diff) <= sum(spreads)

    @property
    def verdict_changed(self) -> bool:
        return self.presence == "both" and self.a.verdict != self.b.verdict  # type: ignore[union-attr]

    @property
    def status_changed(self) -> bool:
        return self.presence == "both" and self.a.status != self.b.status  # type: ignore[union-attr]

    def to_dict(self) -> dict[str, Any]:
        def side(o: Outcome | None) -> dict[str, Any] | None:
            if o is None:
                return None
            return {
                "measured": o.measured,
                "spread": o.spread,
                "seeds": o.seeds,
                "values": o.values,
                "held": o.held,
                "criterion": o.criterion,
                "verdict": o.verdict,
                "status": o.status,
                "error": o.error,
                "reason": o.reason,
            }

        return {
            "id": self.id,
            "statement": self.statement,
            "presence": self.presence,
            "a": side(self.a),
            "b": side(self.b),
            "difference": self.difference,
            "relative_difference": self.relative,
            "within_spread": self.within_spread,
            "verdict_changed": self.verdict_changed,
            "status_changed": self.status_changed,
        }


@dataclasses.dataclass(frozen=True)
class EnvItem:
    """One environment item (``jax``, ``backend``, ...) on both sides."""

    name: str
    a: Any
    b: Any

    @property
    def differs(self) -> bool:
        return self.a != self.b


@dataclasses.dataclass
class Comparison:
    """Two sides, their claims (changed verdicts first) and their environments."""

    a: Side
    b: Side
    claims: list[ClaimDiff]
    environment: list[EnvItem]

    @property
    def compared(self) -> list[ClaimDiff]:
        return [c for c in self.claims if c.presence == "both"]

    @property
    def changed(self) -> list[ClaimDiff]:
        return [c for c in self.claims if c.verdict_changed]

    @property
    def only_a(self) -> list[ClaimDiff]:
        return [c for c in self.claims if c.presence == "only A"]

    @property
    def only_b(self) -> list[ClaimDiff]:
        return [c for c in self.claims if c.presence == "only B"]

    @property
    def env_differences(self) -> list[EnvItem]:
        return [e for e in self.environment if e.differs]

    @property
    def largest_relative(self) -> ClaimDiff | None:
        """The compared claim with the largest ``|relative difference|`` (``None`` if none)."""
        scored = [c for c in self.compared if c.relative is not None]
        return max(scored, key=lambda c: abs(c.relative), default=None)  # type: ignore[arg-type]

    @property
    def exit_code(self) -> int:
        """0 when no verdict changed, 1 when any did."""
        return 1 if self.changed else 0

    def summary_line(self) -> str:
        n, v = len(self.compared), len(self.changed)
        noun = "claim" if n == 1 else "claims"
        verdicts = "verdict" if v == 1 else "verdicts"
        text = f"{n} {noun} compared: {v} {verdicts} changed, {n - v} same"
        top = self.largest_relative
        unbounded = [c for c in self.compared if c.relative is None and c.difference]
        if unbounded:  # A is 0 and B is not: larger than any finite ratio
            text += f"; largest relative difference unbounded at {unbounded[0].id} (0 on A)"
        elif top is None:
            text += "; no relative difference could be computed"
        elif top.relative == 0.0:
            text += "; every measured value is the same on both sides"
        else:
            text += f"; largest relative difference {format_relative(top.relative)} at {top.id}"
        extra = [f"{len(x)} only in {s}" for x, s in ((self.only_a, "A"), (self.only_b, "B")) if x]
        return text + ("; " + ", ".join(extra) if extra else "")

    def environment_line(self) -> str:
        """``environment: backend cpu -> gpu, x64 True -> False`` (or ``... the same``)."""
        diffs = self.env_differences
        if not diffs:
            return "environment: the same (" + ", ".join(e.name for e in self.environment) + ")"
        parts = [f"{e.name} {env_text(e.a)} -> {env_text(e.b)}" for e in diffs]
        return "environment differs: " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        top = self.largest_relative
        return {
            "a": {"path": str(self.a.path), "kind": self.a.kind, "label": self.a.label},
            "b": {"path": str(self.b.path), "kind": self.b.kind, "label": self.b.label},
            "summary": {
                "compared": len(self.compared),
                "verdicts_changed": len(self.changed),
                "same": len(self.compared) - len(self.changed),
                "only_a": [c.id for c in self.only_a],
                "only_b": [c.id for c in self.only_b],
                "largest_relative_difference": None if top is None else top.relative,
                "largest_relative_difference_claim": None if top is None else top.id,
                "line": self.summary_line(),
            },
            "exit_code": self.exit_code,
            "environment": [
                {"name": e.name, "a": e.a, "b": e.b, "differs": e.differs} for e in self.environment
            ],
            "claims": [c.to_dict() for c in self.claims],
        }


def format_relative(value: float | None) -> str:
    """``+12.35%``, ``-3.000e+05%`` or an em dash."""
    if value is None:
        return "\u2014"
    pct = value * 100.0
    text = f"{pct:+.4g}" if pct == 0 or 1e-3 <= abs(pct) < 1e4 else f"{pct:+.3e}"
    return text + "%"


def criterion_text(c: ClaimDiff) -> str:
    """The criterion; ``A-criterion | B-criterion`` when the two sides disagree."""
    texts = [o.criterion for o in (c.a, c.b) if o is not None]
    return texts[0] if len(set(texts)) == 1 else " | ".join(texts)


def env_text(value: Any) -> str:
    """An environment value as text (devices joined by commas; missing as ``?``)."""
    if value is None:
        return "?"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


def _finite(o: Outcome | None) -> float | None:
    if o is None or o.measured is None:
        return None
    x = float(o.measured)
    return x if math.isfinite(x) else None


def _env_value(env: Mapping[str, Any], name: str) -> Any:
    versions = env.get("versions")
    versions = versions if isinstance(versions, Mapping) else {}
    return versions.get(name) if name not in ENV_MACHINE else env.get(name)


def environment_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[EnvItem]:
    """The named items, then any other version that differs (e.g. ``optax``)."""
    items = [EnvItem(n, _env_value(a, n), _env_value(b, n)) for n in ENV_VERSIONS + ENV_MACHINE]
    others: list[str] = []
    for env in (a, b):
        versions = env.get("versions")
        if isinstance(versions, Mapping):
            others += [str(k) for k in versions if k not in ENV_VERSIONS and k not in others]
    for name in others:
        item = EnvItem(name, _env_value(a, name), _env_value(b, name))
        if item.differs:
            items.append(item)
    return items


def compare_sides(a: Side, b: Side) -> Comparison:
    """The comparison of two loaded sides: changed verdicts first, then same, then one-sided."""
    ids = list(a.outcomes) + [i for i in b.outcomes if i not in a.outcomes]
    diffs = [ClaimDiff(i, a.outcomes.get(i), b.outcomes.get(i)) for i in ids]
    rank = {"both": 1, "only A": 2, "only B": 3}
    diffs.sort(key=lambda d: 0 if d.verdict_changed else rank[d.presence])
    return Comparison(a, b, diffs, environment_diff(a.environment, b.environment))


def compare(a: str | Path, b: str | Path) -> Comparison:
    """Compare two verify folders or run folders (or their JSON files); see the module doc.

    Raises:
        ConfigError: (``A`` or ``B``) a missing path, a folder of neither kind, corrupt JSON.
    """
    return compare_sides(load_side(a, "A"), load_side(b, "B"))


def check_html_target(html: str | Path | None) -> Path | None:
    """``--html FILE``: a new file in an existing folder (checked before any work)."""
    if html is None:
        return None
    path = Path(html)
    parent = path.parent if str(path.parent) else Path(".")
    if path.exists():
        raise ConfigError("--html", "a file that does not exist yet (never overwritten)", html)
    if not parent.is_dir():
        raise ConfigError("--html", "a file in an existing folder", html)
    return path


def write_comparison(
    comparison: Comparison, out: str | Path = "runs", html: str | Path | None = None
) -> tuple[Path, Path, Path]:
    """Write ``compare.json`` and the HTML page into a new ``compare-ab-<time>-<id>`` folder.

    Args:
        comparison: what :func:`compare` returned.
        out: the folder under which the new folder is created.
        html: the HTML file (default: ``compare.html`` in the new folder); never overwritten.

    Returns:
        The new folder, the HTML file and the JSON file.
    """
    from implicitbias.report.compare_html import render_comparison

    target = check_html_target(html)
    folder = new_run_dir(out, "compare", "ab")
    json_file = write_json(folder / "compare.json", comparison.to_dict())
    page = target or folder / "compare.html"
    write_text(page, render_comparison(comparison))
    return folder, page, json_file


__all__: Sequence[str] = [
    "ALLOWED",
    "ClaimDiff",
    "Comparison",
    "EnvItem",
    "Side",
    "compare",
    "compare_sides",
    "load_side",
    "write_comparison",
]
