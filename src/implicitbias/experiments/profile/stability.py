"""Stability probe: the sharpness an optimizer trains at, against 2/eta (edge of stability).

Setting: the edge-of-stability experiment's problem (:mod:`implicitbias.experiments.
edge_of_stability`: its data and loss by import) at a size the profile's budget allows: a
tanh MLP ``d-h-h-c`` (PyTorch's ``nn.Linear`` init) trained full batch on the square loss
:math:`\\frac1{2n}\\sum_i\\lVert f(x_i)-y_i\\rVert^2` of one-hot targets, Gaussian inputs
labelled by a random tanh teacher (:func:`~implicitbias.experiments.edge_of_stability.data.
synthetic_task`); seed ``s`` draws its own data and init. :data:`SETTINGS` per level
(quick: n = 64, 8-16-16-3, 467 parameters, 800 steps; smoke: 32 examples, 155 parameters,
60 steps; full: 128 examples, 1540 parameters, 2000 steps). Every grid step x seed is a
member of ONE :func:`implicitbias.engine.train` call (13 x 5 = 65 members).

Measurement. The engine keeps the parameters at the ``window`` logged steps, ``every``
apart, that end the run; at the chosen step, one compiled program (:func:`curvature`)
estimates at each of them, by Lanczos (:mod:`implicitbias.diagnostics.preconditioned`,
:func:`implicitbias.diagnostics.lanczos`),

* the sharpness :math:`S = \\lambda_{\\max}(\\nabla^2 L)`;
* for an optimizer whose state holds an Adam second moment over every parameter (an
  ``optax.ScaleByAdamState``, found by type: adam, adamw, ...), the preconditioned
  sharpness :math:`\\lambda_1(P^{-1}H)`, :math:`P` frozen at the latest update's
  :math:`(1-\\beta_1^t)\\operatorname{diag}(\\sqrt{\\hat\\nu_t}+\\epsilon)` (Cohen et al.
  2022). The engine's probes see the parameters, not the optimizer state, so the
  optimizer runs wrapped by :func:`~implicitbias.diagnostics.preconditioned.
  export_adam_state`, which copies ``nu`` and ``count`` into parameter leaves that the
  loss does not read; the network's updates are the optimizer's own, bit for bit.

The curvature runs after training rather than in an engine probe because its program
depends on no optimizer and is compiled once for the whole profile: inside the training
program it was compiled again for every optimizer (3.7-9 s instead of 0.5-2 s at smoke).

Measures (median over the window, per seed, at the chosen step): ``sharpness_ratio``
:math:`S\\eta/2` (headline), ``threshold_ratio`` :math:`S` over the optimizer's own
quadratic threshold where one exists (gd :math:`2/\\eta`, heavy ball
:math:`2(1+\\beta)/\\eta`, Nesterov; :mod:`implicitbias.theory.stability`; NaN otherwise),
``precond_ratio`` :math:`\\lambda_1(P^{-1}H)` over :math:`(2+2\\beta_1)/((1-\\beta_1)\\eta)`
(38/eta at :math:`\\beta_1 = 0.9`; NaN without an Adam state), and the raw sharpness.

Theory. Cohen, Kaur, Li, Kolter & Talwalkar 2021 (ICLR): full-batch GD's sharpness rises
(progressive sharpening) to :math:`2/\\eta` and hovers just above it, so
``sharpness_ratio`` ~ 1 (the edge-of-stability experiment measures 1.014-1.018), for
heavy ball ``threshold_ratio`` ~ 1. Cohen et al. 2022 (arXiv 2207.14484): full-batch Adam's
preconditioned sharpness equilibrates at :math:`38/\\eta`, so ``precond_ratio`` ~ 1, while
its raw sharpness is not bound by :math:`2/\\eta`. Sign descent, Lion, Muon and Adafactor
have no such threshold in terms of the Hessian alone: their ratios to :math:`2/\\eta` are
reported as measured, for comparison.

Step-size rule (:data:`RULE`): the shared log grid, but measured at the *largest* grid step
at which every seed fits, not at its half: the sharpness reaches :math:`2/\\eta` sooner the
larger the step, and the shared rule halves precisely to stay away from that edge. Every
optimizer gets the same grid, so each is measured at its own largest workable step,
whatever its natural scale; :math:`S\\eta/2` then compares the sharpness with GD's
threshold at that optimizer's own step, which is theory only for GD. The grid's factor 2
puts the chosen step up to 2x below the largest stable one.

Expected outcome (quick, 5 seeds, measured on 2 idle cores: 13.8 s for the seven default
optimizers, 1.1-2.8 s each after the first, 4 s for the first with the one-time compile of
:func:`curvature`): gd :math:`S\\eta/2` = 1.004 +- 0.003 at eta 1 (at the edge, as Cohen
et al.); adam ``precond_ratio`` 0.995 +- 0.012 at eta 0.5 (at 38/eta), with a raw
:math:`S\\eta/2` of 2.0 +- 0.4; heavy ball (beta 0.9) at eta 0.5 is at 0.69 +- 0.10 of its
:math:`2(1+\\beta)/\\eta` (it converges, loss ~ 0, before reaching its edge; eta 1
diverges); sign_gd 0.08, lion 0.10, muon 0.29, adafactor 0.68 of :math:`2/\\eta`. Full
(2000 steps, 7-9 s per optimizer): gd 1.014 +- 0.008, adam ``precond_ratio`` 1.010 +- 0.004,
heavy ball 0.86 +- 0.12 of its threshold. The Lanczos estimates agree with the dense
Hessian's top eigenvalue to 2e-4 (quick, 24 steps; full, 40 steps).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from implicitbias import engine
from implicitbias.diagnostics.preconditioned import (
    COUNT,
    NET,
    NU,
    adam_preconditioner,
    adam_states,
    adam_threshold,
    export_adam_state,
    export_params,
    has_full_adam_state,
    preconditioned_sharpness,
)
from implicitbias.experiments.edge_of_stability.data import synthetic_task
from implicitbias.experiments.edge_of_stability.probes import mse
from implicitbias.experiments.profile.base import (
    Measure,
    ProbeDef,
    ProbeReport,
    StepChoice,
    choose_step,
    gap_note,
    grid_batch,
    lr_grid,
)
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.mlp import init_mlp
from implicitbias.theory.stability import stability_threshold

FIT = 0.5
"""A run fits when its median loss over the window is at most ``FIT`` times its initial
loss (and every logged loss is finite)."""
GRID = (2.0**-10, 2.0**2)
"""The step grid, powers of two: wide enough for sign descent's small and GD's large steps."""


@dataclasses.dataclass(frozen=True)
class Setting:
    """The size of the problem and of the measurement at one profile level."""

    n: int
    input_dim: int
    classes: int
    hidden: tuple[int, ...]
    steps: int
    window: int  # sharpness estimates at the end, ``every`` steps apart
    every: int
    lanczos_iters: int


SETTINGS = {
    "smoke": Setting(32, 6, 3, (8, 8), 60, 3, 5, 20),
    "quick": Setting(64, 8, 3, (16, 16), 800, 6, 20, 24),
    "full": Setting(128, 10, 4, (32, 32), 2000, 10, 20, 40),
}

RULE = (
    "largest step on the grid {lo:.3g}..{hi:.3g} (x2) at which every seed fits (median "
    f"window loss <= {FIT:g} x initial loss), the top of the first run of fitting steps; "
    "not halved: the sharpness equilibrium needs a large step to be reached within the "
    "budget. The same grid for every optimizer, so each is measured at its own largest "
    "workable step, whatever its natural scale (sign descent's is 16x below GD's here); "
    "S eta/2 compares with GD's threshold 2/eta at that step"
)


# ----------------------------------------------------------------------------- optimizer
def adam_hparams(spec: OptimizerSpec) -> tuple[float, float, float] | None:
    """``(b1, b2, eps)`` of ``spec``: set in it, else its factory's defaults; ``None`` when
    the factory does not name all three."""
    values = [spec.hyperparameter(k) for k in ("b1", "b2", "eps")]
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        return None
    return tuple(float(v) for v in values)  # type: ignore[return-value]


def exporting(learning_rate: Any, *, optimizer: Any, export: bool) -> optax.GradientTransformation:
    """The factory the engine builds: ``optimizer`` on the network, Adam's ``nu`` and
    ``count`` copied into parameters when ``export`` (:func:`export_adam_state`)."""
    inner = OptimizerSpec.coerce(optimizer).build(learning_rate=learning_rate)
    return export_adam_state(inner, export)


def engine_optimizer(spec: OptimizerSpec, export: bool) -> Any:
    """``spec`` wrapped by :func:`exporting`, as a value (a spec or a partial)."""
    if spec.fn is None:
        name = f"{__name__}:exporting"
        return OptimizerSpec(name, (("optimizer", str(spec)), ("export", bool(export))))
    return functools.partial(exporting, optimizer=spec, export=bool(export))


# ----------------------------------------------------------------------------- problem
def loss(params: Any, data: Any) -> jax.Array:
    """The square loss of the network part of the trained parameters."""
    return mse(params[NET], data, activation="tanh")


@functools.partial(jax.jit, static_argnames=("iters",))
def curvature(
    nets: Any,
    nus: Any,
    counts: jax.Array,
    adam: jax.Array,
    data: Any,
    key: jax.Array,
    *,
    iters: int,
) -> tuple[jax.Array, jax.Array]:
    """``(W, S)`` sharpness and preconditioned sharpness at the window steps of each seed.

    ``nets``, ``nus`` (Adam's ``nu``, like the network) and ``counts`` carry leading axes
    ``(W, S)``; ``adam = [use, b1, b2, eps]`` (the second result is meaningless when
    ``use`` is 0); ``data = (X, Y)`` has a leading seed axis. Every estimate is
    :func:`~implicitbias.diagnostics.preconditioned.preconditioned_sharpness` (``iters``
    Lanczos steps from a random start; with ``P = 1`` the sharpness itself), all ``2 W S``
    of them vmapped in one program that depends on no optimizer: compiled once per shapes
    for the whole profile.
    """
    W, S = counts.shape
    flat = jax.tree.map(lambda a: a.reshape(W * S, *a.shape[2:]), (nets, nus))
    nets, nus = flat
    t = counts.reshape(W * S)
    P = jax.vmap(lambda nu, c: adam_preconditioner(nu, c, b1=adam[1], b2=adam[2], eps=adam[3]))(
        nus, jnp.maximum(t, 1)
    )
    P = jax.tree.map(lambda p: jnp.where(adam[0] > 0, p, jnp.ones_like(p)), P)
    ones = jax.tree.map(jnp.ones_like, P)
    X, Y = data
    seed = jnp.tile(jnp.arange(S), 2 * W)

    def one(net, precond, s, k):
        def f(p):
            return mse(p, (X[s], Y[s]), activation="tanh")

        return preconditioned_sharpness(f, net, precond, key=k, num_iters=iters).eigenvalues[0]

    both = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), ones, P)
    twice = jax.tree.map(lambda a: jnp.concatenate([a, a]), nets)
    eig = jax.vmap(one)(twice, both, seed, jax.random.split(key, 2 * W * S))
    eig = eig.reshape(2, W, S)
    return eig[0], eig[1]


def log_at(setting: Setting) -> np.ndarray:
    """Log-spaced steps for the loss curve, and the ``window`` steps ``every`` apart that
    end the run (where the curvature is measured)."""
    return np.union1d(engine.log_points(setting.steps, 12, "log"), window_steps(setting))


def window_steps(setting: Setting) -> np.ndarray:
    """The last ``window`` steps, ``every`` apart, ending at ``steps``."""
    return setting.steps - setting.every * np.arange(setting.window)[::-1]


def problem(setting: Setting, seeds: int, seed: int) -> tuple[Any, Any]:
    """``(params, (X, Y))`` of every seed (host arrays with a leading seed axis): seed ``s``
    draws its data and init from ``seed + s``."""
    xs, ys, ps = [], [], []
    sizes = (setting.input_dim, *setting.hidden, setting.classes)
    for s in range(seeds):
        X, labels = synthetic_task(setting.n, setting.input_dim, setting.classes, seed + s)
        xs.append(X)
        ys.append(np.eye(setting.classes)[labels])
        p = init_mlp(jax.random.PRNGKey(seed + s), sizes, activation="tanh")
        ps.append(jax.tree.map(np.asarray, p))
    params = jax.tree.map(lambda *a: np.stack(a), *ps)
    return params, (np.stack(xs), np.stack(ys))


# ----------------------------------------------------------------------------- measure
def adam_of(spec: OptimizerSpec, params: Any) -> tuple[tuple[float, float, float] | None, str]:
    """``((b1, b2, eps) or None, note)``: Adam's hyperparameters when ``spec``'s state holds
    an Adam second moment over every parameter (found by type, from shapes only)."""
    tx = spec.build(learning_rate=1e-3)
    if not has_full_adam_state(tx, params):
        partial = bool(adam_states(jax.eval_shape(tx.init, params)))
        return None, (
            f"{spec.label}: its Adam state covers only some parameters (Muon: the "
            "non-matrix ones); no diagonal preconditioner for the rest: precond_ratio is NaN"
            if partial
            else f"{spec.label} keeps no Adam second moment (no optax.ScaleByAdamState): "
            "precond_ratio is NaN"
        )
    adam = adam_hparams(spec)
    if adam is None:
        return None, (
            f"{spec.label} has an Adam state but its factory does not name b1, b2 and eps: "
            "precond_ratio is NaN"
        )
    return adam, ""


def measure(cfg: Any, spec: OptimizerSpec, description: str = "stability") -> ProbeReport:
    """Train the grid x seeds in one program; measure at the largest step that fits."""
    setting = SETTINGS[cfg.level]
    S = int(cfg.seeds)
    grid = lr_grid(*GRID)
    lrs, seed_index = grid_batch(grid, S)
    params, data = problem(setting, S, int(cfg.seed))
    adam, note = adam_of(spec, jax.tree.map(lambda a: a[0], params))
    notes = [note] if note else []
    export = adam is not None
    members = export_params(
        jax.tree.map(lambda a: a[seed_index], params), export, batch_shape=(len(lrs),)
    )
    traj = engine.train(
        loss,
        members,
        engine_optimizer(spec, export),
        steps=setting.steps,
        data=jax.tree.map(lambda a: a[seed_index], data),
        data_axis=0,
        hparams={"learning_rate": lrs},
        log_at=log_at(setting),
        keep_params=True,
        description=description,
        on_divergence="continue",
    )
    steps = np.asarray(traj.steps)
    window = np.isin(steps, window_steps(setting))
    loss_all = np.asarray(traj.metrics["loss"], np.float64)
    late = _window_median(loss_all, window)
    fits = (np.all(np.isfinite(loss_all), axis=0) & (late <= FIT * loss_all[0])).reshape(-1, S)
    step = _choose(grid, fits, late.reshape(-1, S))
    cols = np.arange(step.index * S, (step.index + 1) * S)
    snaps = jax.tree.map(lambda a: np.asarray(a)[window][:, cols], traj.snapshots)
    nets = snaps[NET]
    nus = snaps[NU] if export else jax.tree.map(np.zeros_like, nets)
    counts = snaps[COUNT] if export else np.zeros((setting.window, S))
    hp = np.asarray([1.0, *adam] if export else [0.0, 0.9, 0.999, 1e-8])
    sharp, pre = curvature(
        nets, nus, counts, hp, data, jax.random.PRNGKey(cfg.seed), iters=setting.lanczos_iters
    )
    sharp = np.asarray(sharp, np.float64)
    pre = np.asarray(pre, np.float64) if export else np.full_like(sharp, np.nan)
    return _report(spec, step, sharp, pre, adam, notes, steps, loss_all[:, cols], fits)


def _window_median(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(B,)`` median over the window rows (NaN where any is NaN: a diverged member)."""
    w = values[rows]
    return np.where(np.all(np.isfinite(w), axis=0), np.median(w, axis=0), np.nan)


def _report(spec, step, sharp_w, pre_w, adam, notes, steps, loss, fits) -> ProbeReport:
    eta = step.learning_rate
    S = sharp_w.shape[1]
    rows = np.ones(sharp_w.shape[0], bool)
    sharp = _window_median(sharp_w, rows)
    own = stability_threshold(spec, eta)
    if own is None:
        notes.append(
            f"{spec.label}: no quadratic stability threshold in terms of H alone "
            "(theory.stability covers gd, heavy_ball, nesterov): threshold_ratio is NaN"
        )
    if adam is not None:
        thr = adam_threshold(eta, adam[0])
        precond = _window_median(pre_w, rows) / thr
        ref = f"(2+2 b1)/((1-b1) eta) = {thr * eta:.4g}/eta (Cohen et al. 2022)"
    else:
        precond = np.full(S, np.nan)
        ref = "(2+2 b1)/((1-b1) eta) (Cohen et al. 2022; Adam only)"
    if not step.fitted:
        notes.append("no grid step fits in every seed: measured at the lowest-loss step")
    notes += gap_note(step)
    measures = [
        Measure(
            "sharpness_ratio",
            "sharpness x eta / 2 (late-window median)",
            sharp * eta / 2,
            "2/eta (GD at the edge of stability, Cohen et al. 2021)",
            1.0,
        ),
        Measure(
            "threshold_ratio",
            "sharpness / the optimizer's own stability threshold",
            sharp / own if own is not None else np.full(S, np.nan),
            "2/eta (gd), 2(1+beta)/eta (heavy ball), (2+2beta)/((1+2beta)eta) (nesterov)",
            1.0,
        ),
        Measure("precond_ratio", "lambda_1(P^-1 H) / Adam's threshold", precond, ref, 1.0),
        Measure("sharpness", "sharpness lambda_max(H) (late-window median)", sharp),
    ]
    arrays = {
        "steps": steps,
        "loss": loss,
        "sharpness": sharp_w,
        "precond_sharpness": pre_w,
        "fits": fits,
    }
    return ProbeReport(measures=measures, step=step, notes=notes, arrays=arrays)


def largest_fitting(all_fit: np.ndarray) -> int | None:
    """Index of the top of the first run of consecutive fitting grid steps (``None`` when
    none fits): a larger step that fits again after one that did not is not trusted."""
    hits = np.flatnonzero(all_fit)
    if not hits.size:
        return None
    top = int(hits[0])
    while top + 1 < len(all_fit) and all_fit[top + 1]:
        top += 1
    return top


def _choose(grid: np.ndarray, fits: np.ndarray, late: np.ndarray) -> StepChoice:
    """The step of :data:`RULE` (:func:`largest_fitting`); when none fits, the shared
    fallback of :func:`choose_step` (lowest mean loss, ``fitted = False``)."""
    all_fit = np.all(fits, axis=1)
    fit_words = f"window loss <= {FIT:g} x initial loss"
    if len(grid) == 1:  # a step the user fixed (base.fixed_step): the shared rule says so
        return choose_step(grid, fits, late, fit_words=fit_words)
    rule = RULE.format(lo=grid[0], hi=grid[-1])
    top = largest_fitting(all_fit)
    if top is None:
        fallback = choose_step(grid, fits, late, fit_words=fit_words)
        return dataclasses.replace(fallback, rule=rule + ". " + fallback.rule)
    return StepChoice(top, float(grid[top]), True, rule, grid, all_fit)


PROBE = ProbeDef(
    name="stability",
    title="stability (edge of stability)",
    levels=("smoke", "quick", "full"),
    rule=RULE.format(lo=GRID[0], hi=GRID[1]),
    source=(
        "Cohen, Kaur, Li, Kolter & Talwalkar 2021 (ICLR), sec. 3 (GD: sharpness hovers at "
        "2/eta); Cohen et al. 2022, arXiv 2207.14484 (Adam: lambda_1(P^-1 H) at 38/eta)"
    ),
    measure=measure,
)
