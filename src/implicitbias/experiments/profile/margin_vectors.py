"""Probe ``margin-vectors``: which max-margin direction a linear classifier trained by the
optimizer converges to: l1, l2 or l_inf.

Setting: a linear classifier :math:`w \\in \\mathbb R^8` from :math:`w_0 = 0`, exponential
loss :math:`L(w) = \\frac1n \\sum_i e^{-y_i w^\\top x_i}` (float64), on ``cfg.seeds``
separable sets of 10 points whose l1, l2 and l_inf max-margin directions are unique and
pairwise at least 20 degrees apart (:func:`~implicitbias.datasets.profile_margins.vector_set`;
references from cvxpy, :func:`~implicitbias.theory.max_margin`). Theory: steepest descent
w.r.t. a norm converges in direction to that norm's max margin (Gunasekar et al. 2018, ICML,
section 4): GD -> l2 (Soudry et al. 2018, JMLR), greedy coordinate descent -> l1, sign GD ->
l_inf (normalized steps with a decaying step: Nacson et al. 2019, AISTATS); Adam without its
stability constant and with a decaying step -> l_inf (Zhang et al. 2024, NeurIPS); GD with
momentum -> l2 (Wang et al. 2022, NeurIPS). Adam's default ``eps = 1e-8`` is outside Zhang
et al.'s theorem: once the gradients fall below ``eps`` its steps become GD's.

Measured: the angle of the final :math:`w` to each reference, the nearest reference per
dataset, (the headline) the angle to the nearest one, and the angle of :math:`w_1` (after one
step from 0) to each reference: the baseline that a run converging to a reference must beat
(the first step of GD is along :math:`\\sum_i y_i x_i`, already near some references).

**Step rule** (:data:`RULE`; the same for every optimizer, and for ``margin-matrices``).
Every base step of the grid, every dataset and, when the factory takes ``schedule`` and
``offset`` keywords (every registry optimizer), two schedules train in one batched
:func:`~implicitbias.engine.train` call: the decaying :math:`\\eta_t = \\eta/\\sqrt{t+1}` of
the theorems on normalized and adaptive steps, and a constant step (the decaying members run
``schedule="inverse_sqrt"`` with ``offset = 1``, the constant ones ``offset = 1e12``). A run
*fits* when its first step moves no margin by more than 1 (a larger first step from
:math:`w_0 = 0` jumps along the first gradient, after which the exponential loss is tiny and
the direction barely moves: outside the regime of every theorem above), it classifies every
point, and :math:`0 < L(w_T) \\le 10^{-2} L(w_0)` (a loss that underflowed to 0 has stopped
training). The shared rule (:func:`~implicitbias.experiments.profile.base.choose_step`) is
applied to the decaying members, and to the constant ones when no decaying step fits.

Why two schedules, measured at quick (30 000 steps, 5 datasets): with the decay no grid
step of GD or coordinate descent fits (their margins grow with :math:`\\sum_t \\eta_t`,
which the decay cuts to about :math:`2\\eta\\sqrt T`); at a constant step they end 6-12
degrees from l2 and l1. Adam at a constant step ends nearest l_inf on 3 datasets and l2 on 2
(10-24 degrees away; with ``eps = 0`` too), with the decay nearest l_inf on all 5 (5-15
degrees). Sign GD would end closer at a constant step (0.1-0.2 degrees from l_inf)
than with the decay (0.3-6.6 degrees); the rule does not pick per optimizer.

Measured at quick (5 datasets, seed 0), nearest reference and angle to it: GD l2 on 5 of 5
(5.9-11.5 degrees), heavy ball l2 5/5 (6.9-14.0), coordinate descent l1 5/5 (6.1-12.2),
sign GD and Lion l_inf 5/5 (0.3-6.6), Adam l_inf 5/5 (5.1-14.6), Muon (optax's NAdam on this
vector parameter) l_inf 5/5 (5.2-14.7), Adafactor l_inf 4/5 and l2 1/5 (11-25). About 1 s
per optimizer on 2 CPU cores, most of it compilation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np

from implicitbias import engine
from implicitbias.datasets.profile_margins import MIN_ANGLE_VECTORS, vector_sets
from implicitbias.experiments.profile.base import (
    Measure,
    ProbeDef,
    ProbeReport,
    StepChoice,
    choose_step,
    gap_note,
    grid_batch,
    lr_grid,
    range_note,
)
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.classification import exponential_mean, reference_angles
from implicitbias.problems.margin_references import REFS

NAME = "margin-vectors"
STEPS = {"smoke": 2000, "quick": 30_000, "full": 200_000}
"""Optimizer steps per level."""
GRID = (2.0**-5, 2.0**2)
"""Lowest and highest base learning rate tried (x2, :func:`lr_grid`); every dataset has
``max ||x_i||_2 = 1``."""
FIT = 1e-2
"""A run fits when (besides the first-step test) ``0 < L(w_T) <= FIT * L(w_0)``."""
FIRST_MOVE = 1.0
"""Largest change of any margin in the first step for a run to fit."""
NUM_LOGS = 24
SCHEDULES = ("decaying", "constant")
OFFSETS = {"decaying": 1.0, "constant": 1e12}
"""``offset`` of ``schedule="inverse_sqrt"``: ``eta sqrt(offset / (offset + t))``."""
LABELS = {"l1": "l1", "l2": "l2", "linf": "l_inf"}

FIT_WORDS = (
    f"first step moves no margin by more than {FIRST_MOVE:g}, 100% training accuracy and "
    f"0 < loss <= {FIT:g} loss(w0)"
)
SCHEDULE_WORDS = (
    "eta_t = eta / sqrt(t + 1) (schedule='inverse_sqrt'), or a constant step when no grid "
    "step fits with the decay or the factory takes no schedule and offset"
)
RULE = (
    f"half the largest step of the first unbroken run of base steps on the grid "
    f"{GRID[0]:g}..{GRID[1]:g} (x2) at which every dataset fits ({FIT_WORDS}); {SCHEDULE_WORDS}"
)


# ------------------------------------------------------------------ shared with margin-matrices


def schedule_members(spec: OptimizerSpec) -> tuple[OptimizerSpec, tuple[str, ...]]:
    """The spec to run and the schedules its members take (:data:`SCHEDULES` or one).

    Both schedules when the factory's signature names ``schedule`` and ``offset`` and the
    spec sets neither; else the spec as it is, labelled ``"constant"`` (or by its own
    schedule). A factory taking ``**kwargs`` is not guessed at.
    """
    own = spec.kwargs.get("schedule")
    if own is not None or "offset" in spec.kwargs:
        return spec, (str(own or "constant"),)
    defaults = spec.factory_defaults()
    if defaults is None or not {"schedule", "offset"} <= set(defaults):
        return spec, ("constant",)
    return spec.replace(schedule="inverse_sqrt"), SCHEDULES


def batch_hparams(
    grid: np.ndarray, seeds: int, schedules: tuple[str, ...]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Hyperparameters of every member, ``(schedule, grid step, seed)``-major, and the seed
    index of each member (``K * G * S`` of them)."""
    lrs, seed = grid_batch(grid, seeds)
    K = len(schedules)
    hparams = {"learning_rate": np.tile(lrs, K)}
    if schedules == SCHEDULES:
        hparams["offset"] = np.repeat([OFFSETS[s] for s in schedules], lrs.size)
    return hparams, np.tile(seed, K)


def choose_schedule_step(
    grid: np.ndarray,
    fits: np.ndarray,
    final_loss: np.ndarray,
    schedules: tuple[str, ...],
    fit_words: str,
) -> tuple[int, StepChoice]:
    """The shared rule on the first schedule at which some grid step fits in every seed,
    else the last schedule's fallback. ``fits`` and ``final_loss`` are ``(K, G, S)``.

    Returns ``(schedule index, step)``; the step's rule names the schedule.
    """
    choices = [
        choose_step(grid, f, loss, fit_words=fit_words)
        for f, loss in zip(fits, final_loss, strict=True)
    ]
    k = next((i for i, c in enumerate(choices) if c.fitted), len(choices) - 1)
    name = schedules[k]
    words = "eta_t = eta / sqrt(t + 1)" if name == "decaying" else f"{name} step"
    if k > 0:
        words += f" ({schedules[0]} step: no grid step fits every seed)"
    return k, dataclasses.replace(choices[k], rule=f"{words}; {choices[k].rule}")


def nearest_names(angles: np.ndarray, names: tuple[str, ...]) -> list[str]:
    """The name of the smallest angle in each row of ``angles`` (``(S, R)``); ``"none"``
    where a row has no finite angle."""
    out = []
    for row in np.asarray(angles, np.float64):
        finite = np.isfinite(row)
        out.append(names[int(np.argmin(np.where(finite, row, np.inf)))] if finite.any() else "none")
    return out


def fit_mask(
    final_loss: np.ndarray, min_margin: np.ndarray, first_move: np.ndarray, initial_loss: float
) -> np.ndarray:
    """The fit test of :data:`RULE`: a first step that moves no margin by more than
    :data:`FIRST_MOVE`, every point classified, and ``0 < loss <= FIT * initial_loss``."""
    loss, margin = np.asarray(final_loss, np.float64), np.asarray(min_margin, np.float64)
    move = np.asarray(first_move, np.float64)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(loss) & np.isfinite(margin) & (margin > 0) & (move <= FIRST_MOVE)
        return ok & (loss > 0) & (loss <= FIT * initial_loss)


def schedule_note(schedules: tuple[str, ...]) -> str:
    if schedules == SCHEDULES:
        return "decaying and constant steps trained side by side"
    return f"one schedule ({schedules[0]}): the factory takes no schedule and offset keywords"


# ------------------------------------------------------------------ this probe


def _metrics(w, data, aux) -> dict:
    """Angles to the references, and the largest |margin| (its value at step 1, from
    ``w_0 = 0``, is how far the first step moved the margins)."""
    out = reference_angles(w, data, aux)
    X, y = data
    out["max_abs_margin"] = jnp.max(jnp.abs(X @ w))
    return out


def _train(spec: OptimizerSpec, grid: np.ndarray, sets, steps: int, description: str):
    run_spec, schedules = schedule_members(spec)
    hparams, member = batch_hparams(grid, len(sets), schedules)
    X = np.stack([s.X for s in sets])[member]
    y = np.stack([s.y for s in sets])[member]
    traj = engine.train(
        exponential_mean,
        jnp.zeros((X.shape[0], X.shape[2])),
        run_spec,
        steps=steps,
        data=(X, y),
        data_axis=0,
        aux={"refs": np.stack([s.refs for s in sets])[member]},
        aux_axis=0,
        hparams=hparams,
        metrics=_metrics,
        num_logs=NUM_LOGS,
        description=description,
        on_divergence="continue",  # a diverging grid step must not stop the others
    )
    margins = np.einsum("bnd,bd->bn", X, np.asarray(traj.params)) * y
    return traj, margins, schedules


def measure(cfg: Any, spec: OptimizerSpec, description: str = NAME) -> ProbeReport:
    """Train on every (schedule, grid step, dataset) in one batch; report the angles at the
    chosen step (see the module docstring)."""
    sets = vector_sets(cfg.seed, cfg.seeds)
    grid = lr_grid(*GRID)
    S, G = len(sets), len(grid)
    traj, margins, schedules = _train(spec, grid, sets, STEPS[cfg.level], description)
    K = len(schedules)
    with np.errstate(over="ignore", invalid="ignore"):
        loss = np.mean(np.exp(-margins), axis=1)
    first = traj.metrics["max_abs_margin"][int(np.flatnonzero(traj.steps == 1)[0])]
    fits = fit_mask(loss, margins.min(axis=1), first, 1.0)  # L(w0 = 0) = 1
    k, step = choose_schedule_step(
        grid, fits.reshape(K, G, S), loss.reshape(K, G, S), schedules, FIT_WORDS
    )
    start = (k * G + step.index) * S
    pick = slice(start, start + S)
    angles = np.stack([traj.metrics[f"angle_{r}"][:, pick] for r in REFS], axis=-1)  # (L,S,3)
    final = angles[-1]
    first_step = angles[int(np.flatnonzero(traj.steps == 1)[0])]  # (S, 3): after one step
    every = np.stack([traj.metrics[f"angle_{r}"][-1] for r in REFS], axis=-1)  # (K*G*S, 3)
    with np.errstate(invalid="ignore"):
        nearest_angle = np.min(final, axis=1)
        by_step = np.min(every, axis=1).reshape(K, G, S)[k]
    measures = [
        Measure(
            "angle_nearest",
            "angle to the nearest of the l1, l2, l_inf max-margin directions (deg)",
            nearest_angle,
            "l1, l2 and l_inf max margins (cvxpy)",
        ),
        *(
            Measure(
                f"angle_{r}",
                f"angle to the {LABELS[r]} max-margin direction (deg)",
                final[:, i],
                f"{LABELS[r]} max margin (cvxpy)",
            )
            for i, r in enumerate(REFS)
        ),
        *(
            Measure(
                f"first_angle_{r}",
                f"angle to the {LABELS[r]} max-margin direction after the first step (deg)",
                first_step[:, i],
                f"{LABELS[r]} max margin (cvxpy); the baseline a converging run must beat",
            )
            for i, r in enumerate(REFS)
        ),
    ]
    notes = [
        f"{S} datasets (n=10, d=8), references pairwise >= {MIN_ANGLE_VECTORS:g} deg apart "
        f"(smallest {min(s.min_angle for s in sets):.1f} deg); {schedule_note(schedules)}",
    ]
    notes += gap_note(step)
    notes += range_note("angle_nearest", by_step, fits.reshape(K, G, S)[k], grid)
    if not step.fitted:
        notes.append("no grid step fit every dataset: measured at the lowest mean final loss")
    return ProbeReport(
        measures=measures,
        step=step,
        nearest=nearest_names(final, REFS),
        references=REFS,
        notes=notes,
        arrays={
            "steps": np.asarray(traj.steps),
            "angles": angles,
            "loss": np.asarray(traj.metrics["loss"][:, pick]),
            "grid_loss": loss.reshape(K, G, S),
        },
    )


PROBE = ProbeDef(
    name=NAME,
    title="margin geometry (vectors)",
    levels=("smoke", "quick", "full"),
    rule=RULE,
    source=(
        "Gunasekar et al. 2018 (ICML), 'Characterizing Implicit Bias in Terms of Optimization "
        "Geometry', section 4: steepest descent -> its norm's max margin; Soudry et al. 2018 "
        "(JMLR): GD -> l2; Nacson et al. 2019 (AISTATS): normalized steps; Zhang et al. 2024 "
        "(NeurIPS): Adam (eps = 0) -> l_inf; Wang et al. 2022 (NeurIPS): momentum -> l2"
    ),
    measure=measure,
)
