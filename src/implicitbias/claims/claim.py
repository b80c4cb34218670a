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


@dataclasses.dataclass(frozen=True)
class Claim:
    """One checkable statement.

    Attributes:
        id: short unique id, ``<experiment>/<name>``.
        statement: what the source says, in one sentence.
        source: a seed file name and section, or a paper citation.
        experiment: the experiment that measures it.
        presets: ``verify`` level (``quick``/``full``) -> experiment preset to run. A claim
            is also measured on any run of one of these presets.
        quantity: what ``measure`` returns, in words.
        measure: results -> number.
        criterion: when the number means the statement holds.
        also: further presets on which the claim is measured by ``implicitbias run``
            (e.g. ``smoke``), without being part of ``verify``.
    """

    id: str
    statement: str
    source: str
    experiment: str
    presets: Mapping[str, str]
    quantity: str
    measure: Callable[[Results], float]
    criterion: Criterion
    also: tuple[str, ...] = ()

    def applies_to(self, preset: str) -> bool:
        return preset in self.presets.values() or preset in self.also


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A claim measured on one run."""

    id: str
    statement: str
    source: str
    quantity: str
    criterion: str
    measured: float | None
    holds: bool | None
    error: str | None = None
    run: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "error"
        return "holds" if self.holds else "does not hold"


def evaluate(claim: Claim, results: Results) -> Outcome:
    """Measure ``claim`` on ``results``; an exception becomes an ``error`` outcome."""
    run = str(results.path) if results.path is not None else None
    common = dict(
        id=claim.id,
        statement=claim.statement,
        source=claim.source,
        quantity=claim.quantity,
        criterion=str(claim.criterion),
        run=run,
    )
    try:
        value = float(claim.measure(results))
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return Outcome(**common, measured=None, holds=None, error=detail)
    return Outcome(**common, measured=value, holds=claim.criterion.holds(value))
