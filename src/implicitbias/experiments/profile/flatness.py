"""Flatness probe: which of two equally deep minima, one flat and one sharp, walkers end in.

The landscape is the lab's 1-D one (:class:`implicitbias.problems.landscapes.Landscape`):
a sharp minimum at ``x = -1`` (curvature ``k_sharp = 20``) and a flat one at ``x = +1``
(``k_flat = 2``), both at loss 0, separated by one barrier at ``x_b = -0.187``. Each seed
draws ``walkers`` starts uniformly in ``[-2, 2]``; every (grid step, seed, walker) is one
member of one batched :func:`~implicitbias.engine.train` call.

**References** (closed forms and a root search, independent of the training):

* gradient flow never crosses the barrier (the landscape is 1-D and ``L' = 0`` there), so
  it ends in the flat basin exactly from the starts with ``x > x_b``: that fraction, per
  seed, is the reference of the headline (``(2 - x_b) / 4 = 0.547`` in expectation);
* GD with step ``eta`` is linearly stable at a minimum iff ``eta < 2 / curvature``: ``0.1``
  at the sharp minimum, ``1`` at the flat one. Between the two, GD cannot settle at the
  sharp minimum and its walkers end flat (Wu, Ma & E 2018, NeurIPS, "How SGD selects the
  global minima in over-parameterized learning": dynamical stability selects flat minima).
  The probe reports the chosen step in units of ``2 / k_sharp``.

**Step.** The shared rule (:func:`~implicitbias.experiments.profile.base.choose_step`), a
seed fitting when every one of its walkers ends within ``0.05`` of a minimum (how "ends at a
minimum" is read for an optimizer whose step does not vanish there, like sign descent's
``+-eta``). Each optimizer is judged at half its own largest workable step, the step that
decides which minima it can stay in. A fixed step for every optimizer (say a fraction of
``2 / k_sharp``) would not be comparable: a sign method moves by ``eta`` whatever the
curvature, GD by ``eta`` times the gradient. The set of steps that fit need not be an
interval: GD just above ``2 / k_sharp`` is caught in period-2 orbits around the sharp
minimum (it does not fit), while a little higher its walkers leave the sharp basin and
settle in the flat one (it fits again); the rule takes the largest fitting step wherever it
is, and a note says when it lies above a failing one. The flat fraction at every grid step
is kept in ``arrays["flat_fraction_by_step"]``.

Measures (per seed): the fraction ending in the flat basin (headline); its excess over the
starts in the flat basin; the fraction of sharp-basin starts that end flat and of flat-basin
starts that end sharp; the fraction settled within ``0.05`` of a minimum; the step over
``2 / k_sharp``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from implicitbias import engine
from implicitbias.experiments.profile.base import (
    Measure,
    ProbeDef,
    ProbeReport,
    StepChoice,
    choose_step,
    gap_note,
    lr_grid,
    range_note,
)
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.landscapes import X_FLAT, X_SHARP, Landscape

LANDSCAPE = Landscape(dim=1)
"""``k_sharp = 20``, ``k_flat = 2``, width 0.5 (the lab's defaults)."""
LOW, HIGH = -2.0, 2.0
"""Walkers start uniformly in ``[LOW, HIGH]``."""
SETTLED = 0.05
"""A walker is at a minimum when it ends within this distance of ``-1`` or ``+1``."""


@dataclasses.dataclass(frozen=True)
class Setting:
    """Sizes of one level: walkers per seed, steps and the step grid."""

    walkers: int
    steps: int
    lr_low: float
    lr_high: float


SETTINGS = {
    "smoke": Setting(walkers=16, steps=1_000, lr_low=2**-8, lr_high=2**1),
    "quick": Setting(walkers=128, steps=2_000, lr_low=2**-9, lr_high=2**1),
    "full": Setting(walkers=256, steps=10_000, lr_low=2**-12, lr_high=2**2),
}


def starts(walkers: int, seeds: int, seed: int) -> np.ndarray:
    """``(seeds, walkers)`` starting ``x``, uniform in ``[LOW, HIGH]``, one draw per seed."""
    return np.stack(
        [np.random.RandomState([seed, s]).uniform(LOW, HIGH, walkers) for s in range(seeds)]
    )


def run_walkers(spec: Any, lrs: np.ndarray, x0: np.ndarray, steps: int, description: str = ""):
    """Final ``x`` of every walker ``x0 (W,)`` at every step of ``lrs (G,)``: ``(G, W)``
    (NaN where a walker diverged), from one batched engine call."""
    G, W = len(lrs), len(x0)
    traj = engine.train(
        LANDSCAPE,
        np.tile(np.asarray(x0, np.float64), G)[:, None],
        spec,
        steps=steps,
        hparams={"learning_rate": np.repeat(np.asarray(lrs, np.float64), W)},
        num_logs=4,
        description=description or "flatness",
        on_divergence="continue",
    )
    x = np.asarray(traj.params)[:, 0].reshape(G, W)
    return np.where(np.isfinite(x), x, np.nan)


def measure(cfg: Any, spec: Any, description: str = "flatness") -> ProbeReport:
    """Train every (grid step, seed, walker) in one batch; measure at the chosen step."""
    setting = SETTINGS[cfg.level]
    S, W = int(cfg.seeds), setting.walkers
    x0 = starts(W, S, int(cfg.seed))
    grid = lr_grid(setting.lr_low, setting.lr_high)
    x = run_walkers(spec, grid, x0.ravel(), setting.steps, description).reshape(len(grid), S, W)
    dist = np.minimum(np.abs(x - X_SHARP), np.abs(x - X_FLAT))
    settled = np.isfinite(x) & (dist <= SETTLED)
    fits = settled.all(axis=2)
    unsettled = np.where(np.isfinite(x), dist, np.inf).mean(axis=2)  # fallback ranking
    step = choose_step(
        grid, fits, unsettled, fit_words=f"every walker ends within {SETTLED:g} of a minimum"
    )
    report = _report(x[step.index], x0, settled[step.index], step)
    by_step = (np.isfinite(x) & (x > LANDSCAPE.barrier())).mean(axis=2)  # (G, S)
    report.notes.extend(range_note("flat fraction", by_step, fits, grid))
    report.arrays.update(grid=np.asarray(grid), fits=fits, flat_fraction_by_step=by_step)
    if isinstance(spec, OptimizerSpec) and spec.named("muon"):
        report.notes.append("x is a scalar: optax's muon runs its NAdamW fallback here")
    return report


def _report(x, x0, settled, step: StepChoice) -> ProbeReport:
    barrier = LANDSCAPE.barrier()
    start_flat = x0 > barrier
    end_flat = np.isfinite(x) & (x > barrier)
    end_sharp = np.isfinite(x) & (x <= barrier)
    flat = end_flat.mean(axis=1)
    flow = start_flat.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        escaped = (end_flat & ~start_flat).sum(axis=1) / (~start_flat).sum(axis=1)
        left = (end_sharp & start_flat).sum(axis=1) / start_flat.sum(axis=1)
    thresholds = LANDSCAPE.stability_thresholds()
    ratio = np.full(len(x), step.learning_rate / thresholds["sharp"])
    flow_words = "gradient flow: the fraction of starts with x > x_b (never crosses x_b)"
    measures = [
        Measure(
            "flat_fraction",
            "fraction of walkers ending in the flat basin",
            flat,
            flow_words,
            float(flow.mean()),
        ),
        Measure("excess", "flat fraction minus flow's", flat - flow, flow_words, 0.0),
        Measure(
            "sharp_to_flat",
            "fraction of sharp-basin starts ending flat",
            escaped,
            "gradient flow",
            0.0,
        ),
        Measure(
            "flat_to_sharp",
            "fraction of flat-basin starts ending sharp",
            left,
            "gradient flow",
            0.0,
        ),
        Measure(
            "settled",
            f"fraction of walkers within {SETTLED:g} of a minimum",
            settled.mean(axis=1),
            "gradient flow",
            1.0,
        ),
        Measure(
            "step_over_sharp",
            "step / (2 / k_sharp)",
            ratio,
            f"GD is linearly unstable at the sharp minimum above 1 (2/k_sharp = "
            f"{thresholds['sharp']:g}) and at the flat one above "
            f"{thresholds['flat'] / thresholds['sharp']:g} (2/k_flat = {thresholds['flat']:g})",
            1.0,
        ),
    ]
    notes = gap_note(step)
    if not step.fitted:
        notes.append(
            f"at no grid step did every walker end within {SETTLED:g} of a minimum; "
            f"{100 * (1 - settled.mean()):.0f} % of the walkers measured had not settled"
        )
    return ProbeReport(measures, step=step, notes=notes, arrays={"x0": x0, "x": x})


PROBE = ProbeDef(
    name="flatness",
    title="flatness (flat vs sharp basin)",
    levels=("smoke", "quick", "full"),
    rule=(
        "shared grid rule: half the stable step (the top of the first unbroken run of x2 grid "
        "steps) at which every walker of every "
        f"seed ends within {SETTLED:g} of a minimum, so that each optimizer is judged at its "
        "own workable step (one fixed step is not comparable: a sign method moves by eta "
        "whatever the curvature); GD's thresholds 2/k_sharp = 0.1 and 2/k_flat = 1 are "
        "reported beside it"
    ),
    source=(
        "Wu, Ma & E 2018 (NeurIPS), 'How SGD selects the global minima in "
        "over-parameterized learning': GD is stable at a minimum only if eta < "
        "2/curvature; gradient flow ends in the basin it starts in"
    ),
    measure=measure,
)
