"""What every profile probe returns, and the step-size rule they share.

A *probe* measures one implicit-bias property of one optimizer (its margin geometry, the
interpolator it picks, the sharpness it trains at...) over several seeds or datasets, run as
one batch, and compares it with a theory reference computed independently of the training.

A probe module defines ``PROBE = ProbeDef(...)`` whose ``measure(cfg, spec)`` returns a
:class:`ProbeReport`. The profile experiment runs every probe of the level on every
optimizer and writes ``ProbeReport.to_scalars()`` under ``probes.<probe>.<optimizer key>``.

**The step-size rule** (:func:`choose_step`). A user's optimizer is not judged on an untuned
step: a probe trains on a log grid of learning rates (:func:`lr_grid`, factor 2), every grid
point and every seed in one batched program (:func:`grid_batch`), and measures at *half the
largest grid step whose runs all fit* (every seed finite and at ``loss <= fit * loss(w0)``,
or the probe's own fit test) *with every smaller grid step down to the smallest one that
fits*: the top of the first unbroken run of fitting steps is the stable step. A step above
one that fails is past the edge of stability; a run that fits there was thrown about first
(a catapult) and is not what the optimizer does at a stable step, so it is not used
(:func:`gap_note` tells the card where such steps are). Halving keeps away from the edge,
where a run that fits can still oscillate. When no grid step fits, the entry is measured at the step
with the lowest mean final loss and marked ``fitted = False``; the report and the card say
so. A probe with a reason to fix the step (the stability probe reads the sharpness
against ``2/eta``) documents its own rule in ``ProbeDef.rule``.

**A step the user fixes.** ``implicitbias profile "adam:learning_rate=1e-3"`` measures every
probe that uses the grid at that one step instead (:func:`fixed_step` makes
:func:`lr_grid` return it alone, and :func:`choose_step` says so in the rule).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Measure:
    """One measured quantity of one probe for one optimizer, over seeds.

    Attributes:
        quantity: short key (``angle_l2``), unique within the probe.
        label: words with unit (``angle to the l2 max margin (deg)``).
        values: one number per seed or dataset (NaN where it could not be measured).
        reference: what it is compared with (``l2 max margin (cvxpy)``), or ``""``.
        reference_value: the reference's own value where it is a number (the nuclear norm
            of the nuclear-norm minimizer), else ``None``.
    """

    quantity: str
    label: str
    values: np.ndarray
    reference: str = ""
    reference_value: float | None = None

    def to_scalars(self) -> dict[str, Any]:
        v = np.asarray(self.values, dtype=np.float64).ravel()
        finite = v[np.isfinite(v)]
        return {
            "label": self.label,
            "values": [float(x) for x in v],
            "mean": float(np.mean(finite)) if finite.size else float("nan"),
            "spread": float(np.std(finite, ddof=1)) if finite.size > 1 else float("nan"),
            "min": float(np.min(finite)) if finite.size else float("nan"),
            "max": float(np.max(finite)) if finite.size else float("nan"),
            "n": int(finite.size),
            "reference": self.reference,
            "reference_value": None
            if self.reference_value is None
            else float(self.reference_value),
        }


@dataclasses.dataclass(frozen=True)
class StepChoice:
    """The learning rate a probe measured at, and why (see :func:`choose_step`)."""

    index: int
    learning_rate: float
    fitted: bool
    rule: str
    grid: np.ndarray
    fits: np.ndarray  # (G,) bool: every seed at this grid step fit

    def to_scalars(self) -> dict[str, Any]:
        return {
            "learning_rate": float(self.learning_rate),
            "fitted": bool(self.fitted),
            "rule": self.rule,
            "grid": [float(x) for x in self.grid],
            "fits": [bool(x) for x in self.fits],
        }


@dataclasses.dataclass
class ProbeReport:
    """What a probe measured for one optimizer.

    Attributes:
        measures: the quantities, the first being the *headline* (the table and heatmap
            entry).
        step: the step-size choice (or ``None`` for a probe that fixes its step; then
            ``learning_rate`` and ``rule`` say what ran).
        learning_rate: the step the entry was measured at (copied from ``step`` if set).
        rule: the step rule, in words, as the card shows it.
        nearest: for a probe that names the nearest of several references, the name per
            seed (``["linf", "linf", "l2", ...]``); else ``None``.
        references: the names ``nearest`` chooses from, in display order.
        notes: short remarks the card shows (an assumption that failed, a run that did not
            fit).
        arrays: arrays for the figures (``results.arrays["<probe>/<key>/<name>"]``).
    """

    measures: list[Measure]
    step: StepChoice | None = None
    learning_rate: float = float("nan")
    rule: str = ""
    nearest: list[str] | None = None
    references: tuple[str, ...] = ()
    notes: list[str] = dataclasses.field(default_factory=list)
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.measures:
            raise ValueError("a probe report needs at least one measure")
        if self.step is not None:
            self.learning_rate = self.step.learning_rate
            self.rule = self.rule or self.step.rule

    def to_scalars(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "headline": self.measures[0].quantity,
            "learning_rate": float(self.learning_rate),
            "rule": self.rule,
            "fitted": True if self.step is None else bool(self.step.fitted),
            "measures": {m.quantity: m.to_scalars() for m in self.measures},
            "notes": list(self.notes),
        }
        if self.step is not None:
            out["step"] = self.step.to_scalars()
        if self.nearest is not None:
            names = list(self.nearest)
            counts = {r: names.count(r) for r in (self.references or sorted(set(names)))}
            mode = max(counts, key=lambda r: counts[r]) if names else ""
            out["nearest"] = {
                "values": names,
                "mode": mode,
                "agree": counts.get(mode, 0),
                "n": len(names),
                "counts": counts,
            }
        return out


@dataclasses.dataclass(frozen=True)
class ProbeDef:
    """A probe: name, title, levels it runs at, its step rule, and its measurement.

    Attributes:
        name: results key and ``--set probes=`` name (``margin-vectors``).
        title: column title in the table (``margin geometry (vectors)``).
        levels: profile levels that run it (``("smoke", "quick", "full")``).
        rule: the step-size rule, in words (shown on the cards and in the docs).
        source: the theory the reference comes from (paper, section).
        measure: ``measure(cfg, spec, description) -> ProbeReport``; ``cfg`` is the
            :class:`~implicitbias.experiments.profile.config.ProfileConfig` (``cfg.level``,
            ``cfg.seeds``), ``description`` labels the progress bar.
    """

    name: str
    title: str
    levels: tuple[str, ...]
    rule: str
    source: str
    measure: Callable[..., ProbeReport]


_FIXED: contextvars.ContextVar[float | None] = contextvars.ContextVar("fixed_step", default=None)


@contextlib.contextmanager
def fixed_step(learning_rate: float | None) -> Iterator[None]:
    """Within the block, :func:`lr_grid` is the one step ``learning_rate`` (``None``: the
    probes' grids)."""
    token = _FIXED.set(None if learning_rate is None else float(learning_rate))
    try:
        yield
    finally:
        _FIXED.reset(token)


def lr_grid(low: float, high: float) -> np.ndarray:
    """Powers of two from ``low`` to ``high`` (both rounded to a power of two), ascending;
    the user's step alone inside :func:`fixed_step`."""
    fixed = _FIXED.get()
    if fixed is not None:
        return np.array([fixed], dtype=np.float64)
    lo, hi = int(np.round(np.log2(low))), int(np.round(np.log2(high)))
    if hi < lo:
        raise ValueError(f"lr_grid: high={high} below low={low}")
    return 2.0 ** np.arange(lo, hi + 1, dtype=np.float64)


def grid_batch(grid: np.ndarray, seeds: int) -> tuple[np.ndarray, np.ndarray]:
    """Batch members for every (grid step, seed): ``(learning_rates, seed_index)``, both
    ``(G * S,)``, grid-major, so that ``x.reshape(G, S)`` regroups a per-member result."""
    G = len(grid)
    return np.repeat(np.asarray(grid, np.float64), seeds), np.tile(np.arange(seeds), G)


def choose_step(
    grid: np.ndarray,
    fits: np.ndarray,
    final_loss: np.ndarray,
    *,
    fit_words: str,
) -> StepChoice:
    """Half the stable step: the top of the first unbroken run of grid steps whose runs all
    fit (see the module docstring).

    Args:
        grid: ``(G,)`` ascending learning rates.
        fits: ``(G, S)`` bool, seed ``s`` fit at grid step ``g`` (finite and fitted).
        final_loss: ``(G, S)`` final training losses (for the fallback when none fits).
        fit_words: what "fit" means for this probe, for the rule text
            (``"loss <= 1e-3 loss(w0)"``).
    """
    grid = np.asarray(grid, np.float64)
    all_fit = np.all(np.asarray(fits, bool), axis=1)
    fixed = _FIXED.get()
    if fixed is not None and len(grid) == 1:
        verdict = "every seed fits" if all_fit[0] else "NOT every seed fits"
        rule = f"fixed by the user: learning_rate = {fixed:g} ({verdict}: {fit_words})"
        return StepChoice(0, float(grid[0]), bool(all_fit[0]), rule, grid, all_fit)
    span = f"grid {grid[0]:.3g}..{grid[-1]:.3g} (x2)"
    if all_fit.any():
        first = int(np.flatnonzero(all_fit)[0])
        top = first
        while top + 1 < len(grid) and all_fit[top + 1]:
            top += 1
        index = top - 1 if top > first else top
        how = "half the largest" if index == top - 1 else "the only"
        rule = (
            f"{how} step of the first unbroken run of grid steps at which every seed fits "
            f"({fit_words}; {span})"
        )
        return StepChoice(index, float(grid[index]), True, rule, grid, all_fit)
    loss = np.where(np.isfinite(final_loss), final_loss, np.inf)
    index = int(np.argmin(np.mean(loss, axis=1)))
    rule = (
        f"no step on the {span} fits in every seed ({fit_words}); measured at the step "
        "with the lowest mean final loss"
    )
    return StepChoice(index, float(grid[index]), False, rule, grid, all_fit)


def gap_note(step: StepChoice) -> list[str]:
    """A note when some grid step above the stable run fits again (not used by the rule)."""
    fits = np.asarray(step.fits, bool)
    if not step.fitted or fits.size == 0:
        return []
    top = step.index + (1 if step.index + 1 < fits.size and fits[step.index + 1] else 0)
    if not fits[top + 1 :].any():
        return []
    marks = "".join("x" if f else "." for f in fits)
    return [
        f"some steps above the stable run fit again and are not used (x fits, . fails, from "
        f"{step.grid[0]:.3g} up: {marks})"
    ]


def range_note(quantity: str, by_step: np.ndarray, fits: np.ndarray, grid: np.ndarray) -> list:
    """The spread of the headline's seed mean over the grid steps that fit (``by_step`` and
    ``fits`` are ``(G, S)``): how much the answer depends on the step."""
    ok = np.flatnonzero(np.all(fits, axis=1))
    if ok.size < 2:
        return []
    mean = np.nanmean(by_step[ok], axis=1)
    lo, hi = int(np.nanargmin(mean)), int(np.nanargmax(mean))
    if mean[hi] - mean[lo] <= 1e-9 * max(abs(mean[hi]), 1.0):
        return [f"mean {quantity} is {mean[lo]:.3g} at each of the {ok.size} grid steps that fit"]
    return [
        f"over the {ok.size} grid steps that fit, mean {quantity} runs from {mean[lo]:.3g} "
        f"(step {grid[ok[lo]]:.3g}) to {mean[hi]:.3g} (step {grid[ok[hi]]:.3g})"
    ]
