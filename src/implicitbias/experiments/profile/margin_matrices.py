"""Probe ``margin-matrices``: which max-margin classifier a matrix-valued linear model
trained by the optimizer converges to: spectral, Frobenius or max-norm.

Setting: a multiclass linear classifier :math:`W \\in \\mathbb R^{4\\times 6}` (one 2-D
parameter, so Muon and other spectral methods see a matrix), from :math:`W_0 = 0`,
cross-entropy loss :math:`L(W) = \\frac1n\\sum_i \\log\\big(1 + \\sum_{c \\ne y_i}
e^{-(W_{y_i} - W_c)^\\top x_i}\\big)` (float64; written with the pair margins so that it stays
accurate down to :math:`e^{-700}`), on ``cfg.seeds`` separable sets of 24 points in
:math:`\\mathbb R^6`, 4 classes (:func:`~implicitbias.datasets.profile_margins.matrix_set`),
each of whose three references is at least 20 degrees from the other two solution sets.

Theory: Fan, Schmidt & Thrampoulidis 2025 (arXiv:2502.04664), "Implicit Bias of Spectral
Descent and Muon on Multiclass Separable Data": p-norm normalized steepest descent and
normalized momentum descent (decaying steps) converge to the max margin of their norm;
Spectral Descent and Muon to the spectral-norm max margin; Adam to the max-norm one (as do
sign GD and Adam in their "Implicit Bias of SignGD and Adam on Multiclass Separable Data").
GD goes to the Frobenius one (the vector l2 result of Soudry et al. 2018 on
:math:`\\operatorname{vec} W`).

Measured: the Frobenius angle between the final :math:`W` and the *set* of max-margin
classifiers of each norm (:class:`~implicitbias.theory.matrix_margins.MaxMarginSet`: the
spectral and max-norm solutions are often not unique, if only because adding one row to
every class changes no margin), the nearest set per dataset, the angle to it (the
headline), the angle of :math:`W_1` (after one step from 0) to each set (the baseline a
converging run must beat), and each norm's normalized margin as a fraction of its maximum,
:math:`\\min_{i, c\\ne y_i} (W_{y_i} - W_c)^\\top x_i / (\\lVert W\\rVert\\,\\gamma^*)`
(1 exactly on the set; the quantity the theorems bound).

Step rule: that of ``margin-vectors``
(:data:`~implicitbias.experiments.profile.margin_vectors.RULE`), with the pair margins and
:math:`L(W_0) = \\log k`.

Measured at quick (5 datasets, seed 0, 8000 steps), nearest set and angle to it: GD and
heavy ball Frobenius on 5 of 5 (8-23 and 8-18 degrees); sign GD, Lion and Adam max-norm
5/5 (5-21, 5-21, 13-28); ``spectral_gd`` spectral 5/5 (7-15); Muon spectral 4/5 (5-17) and
Frobenius on one dataset, where it is 12.4 degrees from the Frobenius set and 16.0 from the
spectral one (run on at the same step, it is 13.5 and 11.3 degrees from the spectral set at
20 000 and 50 000 steps and 12.3 from the Frobenius one: spectral becomes nearest between
the two); Adafactor mixed. 1.3-1.5 s per optimizer on 2 CPU cores, 3.5 s for Muon and
``spectral_gd``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from implicitbias import engine
from implicitbias.datasets.profile_margins import MIN_ANGLE_MATRICES, matrix_sets
from implicitbias.experiments.profile.base import (
    Measure,
    ProbeDef,
    ProbeReport,
    gap_note,
    lr_grid,
)
from implicitbias.experiments.profile.margin_vectors import (
    FIT_WORDS,
    GRID,
    NUM_LOGS,
    RULE,
    batch_hparams,
    choose_schedule_step,
    fit_mask,
    nearest_names,
    schedule_members,
    schedule_note,
)
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.theory.matrix_margins import (
    MATRIX_NORMS,
    matrix_angle,
    matrix_norm,
    pair_margins,
)

NAME = "margin-matrices"
STEPS = {"smoke": 2000, "quick": 8000, "full": 100_000}
"""Optimizer steps per level."""
LABELS = {"spectral": "spectral", "fro": "Frobenius", "max": "max-norm"}


def _pair_margins(W: jax.Array, data) -> tuple[jax.Array, jax.Array]:
    """``(n, k)`` margins :math:`(W_{y_i} - W_c)^\\top x_i` (0 at ``c = y_i``) and the mask
    of ``c != y_i``."""
    X, y = data
    scores = X @ W.T
    own = jnp.take_along_axis(scores, y[:, None], axis=1)
    return own - scores, jnp.arange(W.shape[0])[None, :] != y[:, None]


def cross_entropy(W: jax.Array, data) -> jax.Array:
    """Mean cross-entropy :math:`\\log(1 + \\sum_{c\\ne y} e^{-m_c})` of a linear classifier
    ``W`` (``(k, d)``) on ``data = (X (n, d), y (n,) int)``."""
    margins, other = _pair_margins(W, data)
    terms = jnp.where(other, jnp.exp(-margins), 0.0)
    return jnp.mean(jnp.log1p(jnp.sum(terms, axis=1)))


def _metrics(W, data, aux) -> dict:
    """The largest |pair margin|: at step 1, from ``W_0 = 0``, how far the first step moved
    the margins."""
    margins, other = _pair_margins(W, data)
    return {"max_abs_margin": jnp.max(jnp.where(other, jnp.abs(margins), 0.0))}


def margin_ratios(W: np.ndarray, X: np.ndarray, y: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Each norm's normalized margin over its maximum ``gamma`` (order of ``MATRIX_NORMS``):
    :math:`\\min_{i, c \\ne y_i} (W_{y_i} - W_c)^\\top x_i / (\\lVert W\\rVert \\gamma^*)`."""
    if not np.all(np.isfinite(W)):
        return np.full(len(MATRIX_NORMS), np.nan)
    smallest = np.min(pair_margins(W, X, y))
    return np.array(
        [smallest / (matrix_norm(W, n) * g) for n, g in zip(MATRIX_NORMS, gamma, strict=True)]
    )


def _train(spec: OptimizerSpec, grid: np.ndarray, sets, steps: int, description: str):
    run_spec, schedules = schedule_members(spec)
    hparams, member = batch_hparams(grid, len(sets), schedules)
    X = np.stack([s.X for s in sets])[member]
    y = np.stack([s.y for s in sets])[member]
    k = sets[0].k
    traj = engine.train(
        cross_entropy,
        jnp.zeros((X.shape[0], k, X.shape[2])),
        run_spec,
        steps=steps,
        data=(X, y),
        data_axis=0,
        hparams=hparams,
        metrics=_metrics,
        num_logs=NUM_LOGS,
        description=description,
        on_divergence="continue",  # a diverging grid step must not stop the others
        keep_params=True,  # W after the first step: the baseline of the claims
    )
    W = np.asarray(traj.params)
    scores = np.einsum("bnd,bkd->bnk", X, W)
    own = np.take_along_axis(scores, y[:, :, None], axis=2)
    margins = np.where(np.arange(k) != y[:, :, None], own - scores, np.inf)  # (B, n, k)
    return traj, W, margins, schedules


def measure(cfg: Any, spec: OptimizerSpec, description: str = NAME) -> ProbeReport:
    """Train on every (schedule, grid step, dataset) in one batch; report the angles to the
    three solution sets at the chosen step (see the module docstring)."""
    sets = matrix_sets(cfg.seed, cfg.seeds)
    grid = lr_grid(*GRID)
    S, G, k = len(sets), len(grid), sets[0].k
    traj, W, margins, schedules = _train(spec, grid, sets, STEPS[cfg.level], description)
    K = len(schedules)
    with np.errstate(over="ignore", invalid="ignore"):
        loss = np.mean(np.log1p(np.sum(np.exp(-margins), axis=2)), axis=1)
    first = traj.metrics["max_abs_margin"][int(np.flatnonzero(traj.steps == 1)[0])]
    fits = fit_mask(loss, margins.min(axis=(1, 2)), first, float(np.log(k)))
    kk, step = choose_schedule_step(
        grid, fits.reshape(K, G, S), loss.reshape(K, G, S), schedules, FIT_WORDS
    )
    start = (kk * G + step.index) * S
    final = W[start : start + S]
    one = int(np.flatnonzero(traj.steps == 1)[0])
    first_W = np.asarray(traj.snapshots)[one, start : start + S]
    first_angles = np.array(
        [[m.angle(w) for m in s.sets] for w, s in zip(first_W, sets, strict=True)]
    )
    angles = np.array([[m.angle(w) for m in s.sets] for w, s in zip(final, sets, strict=True)])
    points = np.array(
        [[matrix_angle(w, m.solution.W) for m in s.sets] for w, s in zip(final, sets, strict=True)]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.array(
            [
                margin_ratios(w, s.X, s.y, [m.solution.margin for m in s.sets])
                for w, s in zip(final, sets, strict=True)
            ]
        )
    with np.errstate(invalid="ignore"):
        nearest_angle = np.min(angles, axis=1)
    measures = [
        Measure(
            "angle_nearest",
            "angle to the nearest of the spectral, Frobenius, max-norm max-margin sets (deg)",
            nearest_angle,
            "spectral, Frobenius and max-norm max margins (cvxpy)",
        ),
        *(
            Measure(
                f"angle_{n}",
                f"angle to the {LABELS[n]} max-margin set (deg)",
                angles[:, i],
                f"{LABELS[n]} max margin (cvxpy)",
            )
            for i, n in enumerate(MATRIX_NORMS)
        ),
        *(
            Measure(
                f"first_angle_{n}",
                f"angle to the {LABELS[n]} max-margin set after the first step (deg)",
                first_angles[:, i],
                f"{LABELS[n]} max margin (cvxpy); the baseline a converging run must beat",
            )
            for i, n in enumerate(MATRIX_NORMS)
        ),
        *(
            Measure(
                f"margin_{n}",
                f"{LABELS[n]} normalized margin / its maximum",
                ratios[:, i],
                f"{LABELS[n]} max margin (cvxpy)",
                1.0,
            )
            for i, n in enumerate(MATRIX_NORMS)
        ),
    ]
    notes = [
        f"{S} datasets (n=24, d=6, k={k}); each reference >= {MIN_ANGLE_MATRICES:g} deg from "
        f"the other two sets (smallest {min(s.min_angle for s in sets):.1f} deg); "
        f"{schedule_note(schedules)}",
    ]
    notes += gap_note(step)
    if not step.fitted:
        notes.append("no grid step fit every dataset: measured at the lowest mean final loss")
    return ProbeReport(
        measures=measures,
        step=step,
        nearest=nearest_names(angles, MATRIX_NORMS),
        references=MATRIX_NORMS,
        notes=notes,
        arrays={
            "steps": np.asarray(traj.steps),
            "point_angles": points,
            "loss": np.asarray(traj.metrics["loss"][:, start : start + S]),
            "grid_loss": loss.reshape(K, G, S),
        },
    )


PROBE = ProbeDef(
    name=NAME,
    title="margin geometry (matrices)",
    levels=("smoke", "quick", "full"),
    rule=RULE,
    source=(
        "Fan, Schmidt & Thrampoulidis 2025 (arXiv:2502.04664), 'Implicit Bias of Spectral "
        "Descent and Muon on Multiclass Separable Data': normalized steepest descent -> its "
        "norm's max margin; Spectral Descent and Muon -> spectral norm; Adam -> max norm; "
        "GD -> Frobenius (Soudry et al. 2018, JMLR)"
    ),
    measure=measure,
)
