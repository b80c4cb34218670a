"""Sparsity probe: which interpolator a depth-2 diagonal linear network reaches.

The model is :math:`w = u\\odot u - v\\odot v` with :math:`u(0) = v(0) = \\alpha\\mathbf 1`
(the ``square`` form of :mod:`implicitbias.problems.diagonal`) trained on the mean squared
error of noiseless sparse regression with more features than examples
(:func:`implicitbias.datasets.sparse.sparse_regression`: ``n`` Gaussian examples, ``d > n``
features, a ``k``-sparse teacher of unit norm), one dataset per seed. Every grid step and
every dataset is one member of one batched :func:`~implicitbias.engine.train` call.

**Theory.** Woodworth et al. 2020 (COLT, "Kernel and rich regimes in overparametrized
models", Theorem 1): gradient flow from scale ``alpha`` reaches the interpolator minimizing
:math:`Q_\\alpha`, which tends to the min-l1 interpolator (basis pursuit) as
:math:`\\alpha\\to 0` (rich regime) and to the min-l2 one as :math:`\\alpha\\to\\infty` (kernel
regime). The probe runs at ``alpha = 1e-3``, where the min-:math:`Q_\\alpha` interpolator is
within about 1 % of the min-l1 one on the quick datasets, and reports how far the
optimizer's interpolator is from each reference. The references come from
:mod:`implicitbias.theory.diagonal` (cvxpy and NumPy, float64), per dataset, independently of
the training.

**Parameters.** The network's parameters are two *vectors* ``{"u", "v"}``, so a matrix method
sees what it sees on any vector: optax's ``muon`` updates non-2-D parameters with its
(Nesterov) AdamW fallback, and ``adafactor`` keeps an unfactored second moment.

**Step.** The shared rule (:func:`~implicitbias.experiments.profile.base.choose_step`): half
the largest grid step at which every dataset fits, fit meaning ``loss <= 1e-4 loss(w0)``
(a relative residual of about ``1e-2``: a sign method, whose step does not vanish at the
interpolator, reaches it on the grid, a tighter one it would not). The headline at every
grid step is kept in ``arrays["dist_l1_by_step"]``: it depends on the step for the adaptive
methods.

Measures (per dataset): the relative distance to the min-l1 interpolator (headline), to the
min-l2 interpolator and to gradient flow's own limit at this ``alpha``
(min-:math:`Q_\\alpha`); the ratio :math:`\\lVert w\\rVert_1 / \\lVert w_{\\ell_1}\\rVert_1`;
the relative residual.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np

from implicitbias import engine
from implicitbias.datasets.sparse import sparse_regression
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
from implicitbias.problems.diagonal import diagonal_loss
from implicitbias.theory import diagonal as theory

ALPHA = 1e-3
"""Init scale of each factor: the rich regime (min-Q_alpha within ~1 % of min-l1)."""
FIT = 1e-4
"""A run fits when its final loss is at most ``FIT * loss(w0)``."""


@dataclasses.dataclass(frozen=True)
class Setting:
    """Sizes of one level: examples, features, nonzeros, steps and the step grid."""

    n: int
    d: int
    k: int
    steps: int
    lr_low: float
    lr_high: float


SETTINGS = {
    "smoke": Setting(n=10, d=20, k=2, steps=3_000, lr_low=2**-10, lr_high=2**-1),
    "quick": Setting(n=20, d=40, k=3, steps=20_000, lr_low=2**-11, lr_high=2**0),
    "full": Setting(n=40, d=100, k=5, steps=100_000, lr_low=2**-13, lr_high=2**1),
}


def loss(params: dict[str, Any], data: tuple[Any, Any]) -> Any:
    """:math:`\\frac{1}{2n}\\lVert X(u\\odot u - v\\odot v) - y\\rVert^2`
    (:func:`~implicitbias.problems.diagonal.diagonal_loss` on the stacked vectors)."""
    return diagonal_loss(jnp.stack([params["u"], params["v"]]), data)


@dataclasses.dataclass(frozen=True)
class References:
    """The interpolators of one dataset (float64, independent of the training)."""

    l1: np.ndarray  # basis pursuit
    l2: np.ndarray  # pinv
    flow: np.ndarray  # min-Q_alpha: gradient flow's limit at this alpha


def references(X: np.ndarray, y: np.ndarray, alpha: float = ALPHA) -> References:
    """Basis pursuit (cvxpy), ``pinv`` and the min-:math:`Q_\\alpha` interpolator."""
    return References(
        theory.basis_pursuit(X, y),
        theory.min_l2_interpolator(X, y),
        theory.q_alpha_minimizer(X, y, alpha).w,
    )


def datasets(setting: Setting, seeds: int, seed: int) -> list[tuple[np.ndarray, ...]]:
    """``(X, y, w_star)`` for the datasets ``seed, seed + 1, ...``."""
    return [sparse_regression(setting.n, setting.d, setting.k, seed=seed + s) for s in range(seeds)]


def train_grid(
    spec: Any, grid: np.ndarray, draws: list, steps: int, description: str = "sparsity"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (grid step, dataset) from ``u = v = ALPHA`` in one engine call.

    Returns:
        ``(u, v, loss0, final)``: the ``(G, S, d)`` factors (NaN where a run diverged) and
        the ``(G, S)`` initial and final losses.
    """
    S = len(draws)
    lrs, member = grid_batch(grid, S)
    X = np.stack([draws[s][0] for s in member])
    y = np.stack([draws[s][1] for s in member])
    init = np.full((len(lrs), X.shape[2]), ALPHA)
    traj = engine.train(
        loss,
        {"u": init, "v": init.copy()},
        spec,
        steps=steps,
        data=(X, y),
        data_axis=0,
        hparams={"learning_rate": lrs},
        num_logs=8,
        description=description,
        on_divergence="continue",  # one diverging grid step must not stop the others
    )
    G = len(grid)
    u, v = (np.asarray(traj.params[k]).reshape(G, S, -1) for k in ("u", "v"))
    return u, v, traj.metrics["loss"][0].reshape(G, S), traj.final("loss").reshape(G, S)


def measure(cfg: Any, spec: Any, description: str = "sparsity") -> ProbeReport:
    """Train every (grid step, dataset) in one batch; measure at the chosen step."""
    setting = SETTINGS[cfg.level]
    draws = datasets(setting, int(cfg.seeds), int(cfg.seed))
    grid = lr_grid(setting.lr_low, setting.lr_high)
    u, v, loss0, final = train_grid(spec, grid, draws, setting.steps, description)
    with np.errstate(over="ignore", invalid="ignore"):
        w = u**2 - v**2  # the predictor, in NumPy (inf or NaN where a run diverged)
    fits = np.isfinite(final) & np.all(np.isfinite(w), axis=-1) & (final <= FIT * loss0)
    step = choose_step(grid, fits, final, fit_words=f"loss <= {FIT:g} loss(w0)")
    refs = [references(X, y) for X, y, _ in draws]
    dist_by_step = np.array(
        [[_dist(w[g, s], refs[s].l1) for s in range(len(draws))] for g in range(len(grid))]
    )
    report = _report(w[step.index], draws, refs, step)
    report.notes.extend(range_note("dist_l1", dist_by_step, fits, grid))
    report.arrays.update(
        grid=np.asarray(grid), fits=fits, final_loss=final, dist_l1_by_step=dist_by_step
    )
    if isinstance(spec, OptimizerSpec) and spec.named("muon"):
        report.notes.append("u and v are vectors: optax's muon runs its NAdamW fallback here")
    return report


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged run: inf or NaN
        return float(theory.relative_distance(a, b))


def _report(w, draws, refs, step: StepChoice) -> ProbeReport:
    pairs = list(zip(w, refs, strict=True))
    l1 = np.array([_dist(wi, r.l1) for wi, r in pairs])
    ratio = np.array([np.abs(wi).sum() / np.abs(r.l1).sum() for wi, r in pairs])
    residual = np.array(
        [
            np.linalg.norm(X @ wi - y) / np.linalg.norm(y)
            for wi, (X, y, _) in zip(w, draws, strict=True)
        ]
    )
    flow = f"value: gradient flow at alpha = {ALPHA:g} (min-Q_alpha, Woodworth et al. 2020)"
    measures = [
        Measure(
            "dist_l1",
            "relative distance to the min-l1 interpolator",
            l1,
            f"min-l1 interpolator (basis pursuit, cvxpy); {flow}",
            float(np.mean([_dist(r.flow, r.l1) for r in refs])),
        ),
        Measure(
            "dist_l2",
            "relative distance to the min-l2 interpolator",
            np.array([_dist(wi, r.l2) for wi, r in pairs]),
            f"min-l2 interpolator (pinv); {flow}",
            float(np.mean([_dist(r.flow, r.l2) for r in refs])),
        ),
        Measure(
            "dist_flow",
            "relative distance to gradient flow's limit (min-Q_alpha)",
            np.array([_dist(wi, r.flow) for wi, r in pairs]),
            "min-Q_alpha interpolator (cvxpy dual + Newton)",
            0.0,
        ),
        Measure(
            "l1_ratio",
            "||w||_1 / ||w_l1||_1",
            ratio,
            f"1 at the min-l1 interpolator; {flow}",
            float(np.mean([np.abs(r.flow).sum() / np.abs(r.l1).sum() for r in refs])),
        ),
        Measure("residual", "relative residual ||Xw - y|| / ||y||", residual, "interpolation", 0.0),
    ]
    notes = gap_note(step)
    if not step.fitted:
        notes.append(
            f"no grid step fits every dataset (loss <= {FIT:g} loss(w0)): these are the "
            f"distances of models that do not interpolate (residual up to "
            f"{np.nanmax(residual):.2g})"
        )
    return ProbeReport(
        measures, step=step, notes=notes, arrays={"w": w, "w_l1": np.stack([r.l1 for r in refs])}
    )


PROBE = ProbeDef(
    name="sparsity",
    title="sparsity (diagonal net)",
    levels=("smoke", "quick", "full"),
    rule=(
        "shared grid rule: half the stable step (the top of the first unbroken run of x2 grid "
        "steps) at which every dataset reaches "
        f"loss <= {FIT:g} loss(w0), from u = v = {ALPHA:g}"
    ),
    source=(
        "Woodworth et al. 2020 (COLT), 'Kernel and rich regimes in overparametrized "
        "models', Theorem 1: gradient flow reaches the min-Q_alpha interpolator, the min-l1 "
        "one as alpha -> 0"
    ),
    measure=measure,
)
