"""The claim record and its evaluation on a results object.

A claim is checked like any measurement: ``measure(results)`` returns a number and the
criterion says whether it holds. A claim whose setup does not show what its source says
is reported as *not holding*, with the measured number; only a claim that could not be
measured at all (an exception) counts as an error.

Every claim also carries the verdict the lab *expects* (``holds``, or ``refuted`` with the
reason the lab established), so that ``verify`` can say whether a machine reproduces the
lab's findings: a verdict equal to the expected one is *as expected*, any other is
*UNEXPECTED*. A measure may return one number per seed (a batched run); the verdict is
then ``holds`` only when every seed holds, ``does not hold`` when none does, and
``flips`` otherwise, reported with the count.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import statistics
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from implicitbias.runs.results import Results

EXPECTATIONS = ("holds", "refuted", "flips")
KINDS = ("finding", "self-check")
EXPECTED_VERDICT = {"holds": "holds", "refuted": "does not hold", "flips": "flips"}

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
        expect: the verdict the lab expects on its presets: ``"holds"``, ``"refuted"`` for
            a statement the lab measured not to hold, or ``"flips"`` for a claim measured on
            several draws (``seeded``, or a measure that returns one value per draw) that the
            lab measured to hold on some draws and not on others (a refutation of the
            statement for every draw, kept apart so that a change in either direction, to
            all seeds holding or to none, is UNEXPECTED).
        refuted_because: for ``expect="refuted"`` or ``"flips"``, the reason the lab
            established, in one line (required then, empty otherwise).
        kind: ``"finding"`` (an empirical statement from a source) or ``"self-check"`` (an
            algebraic identity or an implementation check, reported in its own section).
        seeded: the measurement depends on a random draw (data, init, SGD noise) and the
            run holds a single draw; ``verify`` then runs the preset once per seed
            (``seed`` = base+1 .. base+SEEDS-1 besides the preset's own) and combines the
            verdicts. A measure that already
            returns one value per seed (a batched run) leaves this ``False``.
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
    expect: str = "holds"
    refuted_because: str = ""
    kind: str = "finding"
    seeded: bool = False

    def __post_init__(self) -> None:
        if "/" not in self.id:
            raise ValueError(f"`id`: expected '<experiment>/<name>', got {self.id!r}")
        if not (isinstance(self.measure, str) or callable(self.measure)):
            raise ValueError(f"`measure` of {self.id}: a results key or a callable")
        if self.expect not in EXPECTATIONS:
            raise ValueError(f"`expect` of {self.id}: one of {EXPECTATIONS}, got {self.expect!r}")
        if (self.expect != "holds") != bool(self.refuted_because):
            raise ValueError(
                f"`refuted_because` of {self.id}: required exactly when expect is "
                "'refuted' or 'flips'"
            )
        if self.kind not in KINDS:
            raise ValueError(f"`kind` of {self.id}: one of {KINDS}, got {self.kind!r}")

    @property
    def experiment(self) -> str:
        return self.id.split("/", 1)[0]

    def applies_to(self, preset: str) -> bool:
        return preset in self.presets.values() or preset in self.also

    def applicable(self, config: Any) -> bool:
        """Whether the config runs what the claim measures (``True`` without a predicate)."""
        return self.applies is None or config is None or bool(self.applies(config))

    def values(self, results: Results) -> list[float]:
        """The measured number, or one number per seed when the measure returns several."""
        raw = results.get(self.measure) if isinstance(self.measure, str) else self.measure(results)
        array = np.asarray(raw, dtype=float).reshape(-1)
        if array.size == 0:
            raise ValueError(f"{self.id}: the measure returned no value")
        return [float(v) for v in array]

    def value(self, results: Results) -> float:
        """The measured number (the mean over seeds for a per-seed measure)."""
        return float(statistics.fmean(self.values(results)))


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
    expect: str = "holds"
    refuted_because: str = ""
    kind: str = "finding"
    values: list[float] | None = None
    held: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        """An outcome from its stored dict; extra keys (``verdict``, ``status``) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def unmeasured(cls, claim: Claim, *, run: str | None = None, **fields: Any) -> Outcome:
        """An outcome of ``claim`` with no number yet: ``fields`` say why (error, reason)."""
        base = dict(
            id=claim.id,
            statement=claim.statement,
            source=claim.source,
            quantity=claim.quantity,
            criterion=str(claim.criterion),
            run=run,
            expect=claim.expect,
            refuted_because=claim.refuted_because,
            kind=claim.kind,
            measured=None,
            holds=None,
        )
        return cls(**{**base, **fields})

    @property
    def applicable(self) -> bool:
        return self.reason is None

    @property
    def seeds(self) -> int:
        """How many seeds (draws) the verdict rests on (1 for a single measurement)."""
        return len(self.values) if self.values else (0 if self.measured is None else 1)

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return "error"
        if self.reason is not None:
            return "not applicable"
        if self.held is not None and 0 < self.held < self.seeds:
            return "flips"
        return "holds" if self.holds else "does not hold"

    @property
    def expected_verdict(self) -> str:
        return EXPECTED_VERDICT.get(self.expect, "holds")

    @property
    def status(self) -> str:
        """``as expected``, ``UNEXPECTED`` or ``not measured`` (error or not applicable)."""
        if self.verdict in ("error", "not applicable"):
            return "not measured"
        return "as expected" if self.verdict == self.expected_verdict else "UNEXPECTED"

    @property
    def spread(self) -> float | None:
        """The sample standard deviation over seeds (``None`` with fewer than two)."""
        if not self.values or len(self.values) < 2:
            return None
        return float(statistics.stdev(self.values))

    @property
    def rule(self) -> str:
        """The rule behind the verdict, in words."""
        n = self.seeds
        if n <= 1:
            return "one measurement"
        return f"holds in every seed; held in {self.held} of {n}"


def combine(parts: list[Outcome]) -> Outcome:
    """One outcome from the same claim measured on several runs (one per seed).

    The values are pooled; the claim holds when it holds in every seed. An error or a
    *not applicable* part decides the whole.
    """
    if not parts:
        raise ValueError("combine: no outcomes")
    for part in parts:
        if part.error is not None or part.reason is not None:
            return part
    values = [v for p in parts for v in (p.values or [p.measured])]
    held = sum(p.held if p.held is not None else int(bool(p.holds)) for p in parts)
    return dataclasses.replace(
        parts[0],
        measured=float(statistics.fmean(values)),
        holds=held == len(values),
        values=values,
        held=held,
        run=";".join(p.run for p in parts if p.run),
    )


def evaluate(claim: Claim, results: Results, config: Any = None) -> Outcome:
    """Measure ``claim`` on ``results``; an exception becomes an ``error`` outcome.

    With ``config``, a claim whose ``applies`` predicate is false is *not applicable*
    (with ``reason``), and is not measured.
    """
    run = str(results.path) if results.path is not None else None
    if not claim.applicable(config):
        why = f"applies only when {claim.requires}" if claim.requires else "switched off"
        return Outcome.unmeasured(claim, run=run, reason=f"not applicable: {why}")
    try:
        values = claim.values(results)
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return Outcome.unmeasured(claim, run=run, error=detail)
    if not any(math.isfinite(v) for v in values):
        what = "nan" if any(v != v for v in values) else "not finite"
        error = f"measured {what}: no number to judge (the run may have diverged)"
        return Outcome.unmeasured(claim, run=run, values=values, error=error)
    held = sum(claim.criterion.holds(v) for v in values)
    return Outcome.unmeasured(
        claim,
        run=run,
        measured=float(statistics.fmean(values)),
        holds=held == len(values),
        values=values,
        held=held,
    )
