"""The claim record and its evaluation on a results object.

A claim is checked like any measurement: ``measure(results)`` returns a number and the
criterion says whether it holds. A claim whose setup does not show what its source says
is reported as *not holding*, with the measured number; only a claim that could not be
measured at all (an exception) counts as an error.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from implicitbias.runs.results import Results

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}


@dataclasses.dataclass(frozen=True)
class Criterion:
    """``measured OP threshold``, e.g. ``Criterion("<=", 1e-8)``."""

    op: str
    threshold: float

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"`op`: expected one of {list(_OPS)}, got {self.op!r}")

    def holds(self, value: float) -> bool:
        return math.isfinite(value) and _OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Claim:
    """One checkable statement, declared once, keyword-only.

    Attributes:
        id: short unique id, ``<experiment>/<name>``; the experiment is the part before
            the slash.
        statement: what the source says, in one sentence.
        source: a seed file name and section, or a paper citation.
        quantity: what ``measure`` returns, in words.
        measure: a results key (``"pinv.relative_distance"``, read with
            :meth:`Results.get`; the experiment declares it in its ``keys``) or a callable
            ``results -> number``.
        criterion: when the number means the statement holds.
        presets: ``verify`` level (``quick``/``full``) -> experiment preset to run. A claim
            is also measured on any run of one of these presets.
        also: further presets on which ``implicitbias run`` measures the claim (e.g.
            ``smoke``), without being part of ``verify``.
        applies: a predicate on the config; when it is false the claim is *not applicable*
            (its part is switched off, or its theory is for another optimizer), never an
            error.
        requires: in words, when the claim applies (``"optimizer is gd"``); shown as the
            reason of a *not applicable* verdict.
    """

    id: str
    statement: str
    source: str
    quantity: str
    measure: str | Callable[[Results], float]
    criterion: Criterion
    presets: Mapping[str, str]
    also: tuple[str, ...] = ()
    applies: Callable[[Any], bool] | None = None
    requires: str = ""

    def __post_init__(self) -> None:
        if "/" not in self.id:
            raise ValueError(f"`id`: expected '<experiment>/<name>', got {self.id!r}")
        if not (isinstance(self.measure, str) or callable(self.measure)):
            raise ValueError(f"`measure` of {self.id}: a results key or a callable")

    @property
    def experiment(self) -> str:
        return self.id.split("/", 1)[0]

    def applies_to(self, preset: str) -> bool:
        return preset in self.presets.values() or preset in self.also

    def applicable(self, config: Any) -> bool:
        """Whether the config runs what the claim measures (``True`` without a predicate)."""
        return self.applies is None or config is None or bool(self.applies(config))

    def value(self, results: Results) -> float:
        if isinstance(self.measure, str):
            return float(results.get(self.measure))
        return float(self.measure(results))


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A claim measured on one run (or found not applicable to it)."""

    id: str
    statement: str
    source: str
    quantity: str
    criterion: str
    measured: float | None
    holds: bool | None
    error: str | None = None
    run: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def applicable(self) -> bool:
        return self.reason is None

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "error"
        if self.reason is not None:
            return "not applicable"
        return "holds" if self.holds else "does not hold"


def evaluate(claim: Claim, results: Results, config: Any = None) -> Outcome:
    """Measure ``claim`` on ``results``; an exception becomes an ``error`` outcome.

    With ``config``, a claim whose ``applies`` predicate is false is *not applicable*
    (with ``reason``), and is not measured.
    """
    run = str(results.path) if results.path is not None else None
    common = dict(
        id=claim.id,
        statement=claim.statement,
        source=claim.source,
        quantity=claim.quantity,
        criterion=str(claim.criterion),
        run=run,
    )
    if not claim.applicable(config):
        why = f"applies only when {claim.requires}" if claim.requires else "switched off"
        return Outcome(**common, measured=None, holds=None, reason=f"not applicable: {why}")
    try:
        value = claim.value(results)
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return Outcome(**common, measured=None, holds=None, error=detail)
    return Outcome(**common, measured=value, holds=claim.criterion.holds(value))
