"""Minimum-norm least squares: gradient descent picks the interpolator closest to its init.

Command::

    implicitbias run min-norm               # about ten seconds on 2 CPU cores
    implicitbias run min-norm --set optimizer=adam --set optimizer.b2=0.99

Setting: overparameterized least squares (``n < p``), loss :math:`\\frac{1}{2n}\\lVert Xw-y
\\rVert^2`, in float64. Every GD step adds a vector of the row space of ``X``, so GD from
``w0`` converges to :math:`w_0 + X^+(y - Xw_0)`, the interpolator closest to ``w0``, and from
zero to the pseudo-inverse solution :math:`X^+y`, the limit of ridge regression as
:math:`\\lambda \\to 0` (seed 000, sections 1-2; e.g. Gunasekar et al. 2018, ICML).

Expected outcome on the default preset: relative distance of GD to :math:`X^+y` near
1e-15; every init reaches its own closest interpolator; a random interpolator has the same
residual and a larger norm; the error decays at the rate :math:`1-\\eta\\lambda_{\\min}^+`;
minibatch SGD from zero stays in the row space and reaches the same limit.

Any optimizer (``--set optimizer=...``) runs the main batch, the minibatch part and the
plane picture. The claims about the limit hold for methods whose updates stay in the span
of past gradients (GD, SGD, heavy ball, Nesterov: Gunasekar et al. 2018, ICML, section 2);
for other optimizers they are *not applicable* and the distances are still reported. The
rate claims are for plain constant-step GD. Seed 000's second snippet is its exact GD code.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np

from implicitbias import engine, theory
from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, optimizer_param, param
from implicitbias.datasets.synthetic import gaussian_regression
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment, register
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.linear import interpolation_metrics, least_squares
from implicitbias.runs.results import Results

NAME = "min-norm"
SEED1 = "seed 000, section 1"
SEED2 = "seed 000, section 2"
POLYAK = "Polyak 1987, Introduction to Optimization (GD on quadratics)"
ZHANG = "Zhang et al. 2017 (ICLR), section 5"
GRADIENT_SPAN = ("gd", "sgd", "heavy_ball", "nesterov")
"""Optimizers whose updates lie in the span of past gradients (limit claims apply)."""


@dataclasses.dataclass(frozen=True)
class MinNormConfig(Config):
    """Overparameterized least squares: which interpolator does the optimizer pick?"""

    n: int = param(20, "number of examples (must be < p)", low=1)
    p: int = param(100, "number of parameters", low=2)
    optimizer: OptimizerSpec = optimizer_param(
        "gd", "optimizer of the main runs, the minibatch runs and the plane picture"
    )
    learning_rate: float | None = param(
        None, "step size; none: 1/L, L = largest eigenvalue of X^T X / n", low=0, low_open=True
    )
    steps: int = param(2000, "optimizer steps of the main runs", low=1)
    num_inits: int = param(8, "random inits run beside the zero init, in one batch", low=0)
    init_scale: float = param(1.0, "standard deviation of the random inits", low=0, low_open=True)
    null_scale: float = param(
        3.0,
        "size of the null-space step that makes the random interpolator (seed 000 uses 3.0)",
        low=0,
        low_open=True,
    )
    sgd: bool = param(True, "also run minibatch SGD from zero")
    sgd_batch_size: int = param(1, "SGD minibatch size", low=1)
    sgd_replace: bool = param(False, "SGD samples with replacement (else random reshuffling)")
    sgd_learning_rate: float | None = param(
        None, "SGD step; none: 1 / max_i ||x_i||^2", low=0, low_open=True
    )
    sgd_steps: int = param(10000, "SGD steps", low=1)
    ridge_min: float = param(1e-10, "smallest ridge lambda of the ridge path", low=0, low_open=True)
    ridge_max: float = param(1e2, "largest ridge lambda of the ridge path", low=0, low_open=True)
    ridge_points: int = param(25, "number of lambdas on the ridge path", low=2)
    plane: bool = param(True, "also run the p = 2, n = 1 picture of GD paths in the plane")
    num_logs: int = param(200, "logged steps per run", low=2)
    spacing: Literal["log", "linear"] = param("log", "spacing of the logged steps")
    second_snippet: bool = param(
        False, "also run seed 000's second snippet (n=8, p=30, lr 0.005, 10000 steps, seed 0)"
    )

    PRESETS = {
        "smoke": dict(
            n=5, p=12, steps=400, num_inits=3, sgd_steps=2000, num_logs=60, ridge_points=8
        ),
        "default": {},
        "large": dict(n=200, p=2000, steps=4000, num_inits=16, sgd_steps=40000),
        "seed": dict(
            n=10, p=50, seed=42, learning_rate=0.01, steps=5000, null_scale=3.0, second_snippet=True
        ),
    }

    def validate(self) -> None:
        if self.n >= self.p:
            raise ConfigError(
                "n",
                f"an integer < p (= {self.p}), so that infinitely many interpolators exist",
                self.n,
            )
        if self.sgd_batch_size > self.n:
            raise ConfigError(
                "sgd_batch_size", f"an integer in [1, n = {self.n}]", self.sgd_batch_size
            )
        if self.ridge_min >= self.ridge_max:
            raise ConfigError(
                "ridge_min", f"a number < ridge_max (= {self.ridge_max})", self.ridge_min
            )


# ---------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------
def _hint(L: float) -> str:
    return (
        f"lower the learning rate below 2/L = {2 / L:.4g} "
        f"(L = largest eigenvalue of X^T X / n = {L:.4g})."
    )


def _fit_interpolators(
    X,
    y,
    inits,
    *,
    optimizer,
    lr,
    steps,
    cfg,
    sampler=None,
    key=None,
    keep_params=False,
    spacing=None,
):
    """Train a batch of linear models from ``inits`` and log distances to their targets."""
    targets = theory.closest_interpolator(X, y, inits)
    aux = {"target": targets, "w0": inits, "null": theory.null_projector(X)}
    return engine.train(
        least_squares,
        inits,
        optimizer,
        steps=steps,
        data=(X, y),
        hparams={"learning_rate": lr},
        metrics=interpolation_metrics,
        aux=aux,
        aux_axis={"target": 0, "w0": 0, "null": None},
        sampler=sampler,
        key=key,
        num_logs=cfg.num_logs,
        spacing=spacing or cfg.spacing,
        keep_params=keep_params,
        description=f"{NAME}: {optimizer.label}",
        divergence_hint=_hint(theory.smoothness(X)),
    ), targets


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _main(cfg: MinNormConfig, results: Results) -> None:
    X, y, rs = gaussian_regression(cfg.n, cfg.p, cfg.seed)
    null_draw = rs.randn(cfg.p)  # seed 000 draws its null-space direction right after y
    inits = np.vstack([np.zeros((1, cfg.p)), cfg.init_scale * rs.randn(cfg.num_inits, cfg.p)])
    L = theory.smoothness(X)
    lr = cfg.learning_rate if cfg.learning_rate is not None else 1.0 / L
    traj, targets = _fit_interpolators(
        X, y, inits, optimizer=cfg.optimizer, lr=lr, steps=cfg.steps, cfg=cfg
    )
    w_star = theory.min_norm_solution(X, y)
    w_gd = np.asarray(traj.params[0])
    rate = theory.gd_contraction(X, lr)

    results.steps = traj.steps
    results.arrays.update(
        X=X,
        y=y,
        inits=inits,
        targets=targets,
        w_star=w_star,
        final_params=np.asarray(traj.params),
    )
    results.metrics.update(traj.metrics)
    results.scalars["problem"] = {
        "n": cfg.n,
        "p": cfg.p,
        "optimizer": cfg.optimizer.label,
        "learning_rate": lr,
        "steps": cfg.steps,
        "L": L,
        "two_over_L": 2.0 / L,
        "lambda_min_plus": rate["lambda_min_plus"],
        "compile_seconds": traj.compile_seconds,
        "run_seconds": traj.run_seconds,
    }
    results.scalars["pinv"] = {
        "relative_distance": _rel(w_gd, w_star),
        "residual": float(np.linalg.norm(X @ w_gd - y) / np.linalg.norm(y)),
        "norm_gd": float(np.linalg.norm(w_gd)),
        "norm_pinv": float(np.linalg.norm(w_star)),
    }
    _ridge(cfg, X, y, w_gd, results)
    _inits(traj, targets, results)
    _random_interpolator(cfg, X, y, w_gd, null_draw, results)
    _rate(cfg, traj, rate, X, targets, inits, lr, results)


def _ridge(cfg, X, y, w_gd, results) -> None:
    lambdas = np.geomspace(cfg.ridge_min, cfg.ridge_max, cfg.ridge_points)
    path = theory.ridge_path(X, y, lambdas)
    dist = np.linalg.norm(path - w_gd, axis=1) / np.linalg.norm(w_gd)
    results.arrays.update(ridge_lambdas=lambdas, ridge_distance=dist)
    results.scalars["ridge"] = {
        "smallest_lambda": float(lambdas[0]),
        "relative_distance_at_smallest": float(dist[0]),
        "monotone_as_lambda_decreases": bool(np.all(np.diff(dist) >= -1e-14)),
    }


def _inits(traj, targets, results) -> None:
    final = np.asarray(traj.params)
    dist = np.linalg.norm(final - targets, axis=1) / np.linalg.norm(targets, axis=1)
    results.scalars["inits"] = {
        "count": int(len(dist)),
        "relative_distance": dist.tolist(),
        "max_relative_distance": float(dist.max()),
        "max_null_drift": float(np.max(traj.metrics["null"])),
    }


def _random_interpolator(cfg, X, y, w_gd, draw, results) -> None:
    null_dir = theory.null_projector(X) @ draw
    w_random = w_gd + cfg.null_scale * null_dir
    results.arrays["w_random"] = w_random
    res = lambda w: float(np.linalg.norm(X @ w - y))  # noqa: E731
    results.scalars["random_interpolator"] = {
        "norm_gd": float(np.linalg.norm(w_gd)),
        "norm_random": float(np.linalg.norm(w_random)),
        "norm_ratio": float(np.linalg.norm(w_random) / np.linalg.norm(w_gd)),
        "residual_gd": res(w_gd),
        "residual_random": res(w_random),
    }


def _rate(cfg, traj, rate, X, targets, inits, lr, results) -> None:
    """Fitted vs predicted linear rate, from zero and from the random inits.

    The fit uses the window where the error is between 1e-11 (above float64 round-off)
    and 1e-3 (past the transient). The closed-form error of GD,
    :math:`\\lVert \\sum_i c_i (1-\\eta\\lambda_i)^t v_i\\rVert`, is also compared with
    the measured one: it explains a fitted rate faster than :math:`1-\\eta\\lambda_{\\min}^+`
    when the initial error has almost no weight on the bottom eigenvector.
    """
    predicted = rate["rate_min_plus"]
    out: dict[str, Any] = {
        "predicted": predicted,
        "predicted_spectrum_max": rate["rate"],
        "window": [1e-11, 1e-3],
    }
    if not _plain_gd(cfg):
        out["note"] = f"the linear-rate prediction is for plain GD, not {cfg.optimizer.label}"
        results.scalars["rate"] = {
            **out,
            "relative_error_of_exponent": float("nan"),
            "relative_error_of_exponent_random_inits": float("nan"),
        }
        return
    errors = []
    for m in range(traj.metrics["dist"].shape[1]):
        fit = theory.fit_log_rate(traj.steps, traj.metrics["dist"][:, m], lo=1e-11, hi=1e-3)
        errors.append(abs(np.log(fit["rate"]) - np.log(predicted)) / abs(np.log(predicted)))
        if m == 0:
            out.update(fitted=fit["rate"], r2=fit["r2"], points=fit["points"])
    out["relative_error_of_exponent"] = float(errors[0])
    out["relative_error_of_exponent_random_inits"] = (
        float(np.median(errors[1:])) if len(errors) > 1 else float("nan")
    )
    closed = theory.gd_error_closed_form(X, lr, inits[0] - targets[0], traj.steps)
    closed = closed / np.linalg.norm(targets[0])
    measured = traj.metrics["dist"][:, 0]
    # Absolute deviation in units of the initial error: round-off makes a relative one
    # meaningless once the error nears 1e-15.
    out["closed_form_max_deviation"] = float(np.max(np.abs(measured - closed)) / closed[0])
    out["initial_error_weight_on_lambda_min"] = theory.bottom_eigen_weight(X, inits[0] - targets[0])
    results.scalars["rate"] = out


def _sgd(cfg: MinNormConfig, results: Results) -> None:
    X, y = results.arrays["X"], results.arrays["y"]
    lr = cfg.sgd_learning_rate or 1.0 / float(np.max(np.sum(X**2, axis=1)))
    sampler = engine.Minibatch(cfg.sgd_batch_size, cfg.sgd_replace)
    key = np.array([0, cfg.seed], dtype=np.uint32)
    traj, _ = _fit_interpolators(
        X,
        y,
        np.zeros((1, cfg.p)),
        optimizer=cfg.optimizer,
        lr=lr,
        steps=cfg.sgd_steps,
        cfg=cfg,
        sampler=sampler,
        key=key,
    )
    w = np.asarray(traj.params[0])
    results.arrays.update(
        sgd_steps=traj.steps,
        sgd_dist=traj.metrics["dist"][:, 0],
        sgd_null=traj.metrics["null"][:, 0],
    )
    results.scalars["sgd"] = {
        "optimizer": cfg.optimizer.label,
        "learning_rate": lr,
        "batch_size": cfg.sgd_batch_size,
        "replace": cfg.sgd_replace,
        "steps": cfg.sgd_steps,
        "relative_distance": _rel(w, results.arrays["w_star"]),
        "max_null_component": float(np.max(traj.metrics["null"])),
    }


def _plane(cfg: MinNormConfig, results: Results) -> None:
    """p = 2, n = 1: GD paths from zero and six random starts to the solution line."""
    rs = np.random.RandomState(cfg.seed + 1)
    X, y = rs.randn(1, 2), rs.randn(1)
    inits = np.vstack([np.zeros((1, 2)), rs.uniform(-2.5, 2.5, size=(6, 2))])
    lr = 0.3 / theory.smoothness(X)
    traj, targets = _fit_interpolators(
        X,
        y,
        inits,
        optimizer=cfg.optimizer,
        lr=lr,
        steps=100,
        cfg=cfg,
        keep_params=True,
        spacing="linear",
    )
    results.arrays.update(
        plane_X=X, plane_y=y, plane_paths=np.asarray(traj.snapshots), plane_targets=targets
    )
    results.scalars["plane"] = {
        "max_relative_distance": float(
            np.max(
                np.linalg.norm(np.asarray(traj.params) - targets, axis=1)
                / np.linalg.norm(targets, axis=1)
            )
        )
    }


def _second_snippet(results: Results) -> None:
    """Seed 000's second snippet, exactly: n=8, p=30, seed 0, lr 0.005, 10000 steps."""
    X, y, _ = gaussian_regression(8, 30, 0)
    cfg = MinNormConfig(n=8, p=30, steps=10000, num_logs=50)
    traj, _ = _fit_interpolators(
        X, y, np.zeros((1, 30)), optimizer=OptimizerSpec("gd"), lr=0.005, steps=10000, cfg=cfg
    )
    w_gd = np.asarray(traj.params[0])
    w_pinv = X.T @ np.linalg.solve(X @ X.T, y)
    w_ridge = np.linalg.solve(X.T @ X + 1e-10 * np.eye(30), X.T @ y)
    results.scalars["second_snippet"] = {
        "distance_to_pinv": float(np.linalg.norm(w_gd - w_pinv)),
        "distance_to_ridge": float(np.linalg.norm(w_gd - w_ridge)),
        # The seed solves the p x p primal system, whose condition number is ~L/1e-10; the
        # n x n dual form of the same ridge problem shows what that solve loses.
        "distance_to_ridge_dual_form": float(np.linalg.norm(w_gd - theory.ridge(X, y, 1e-10 / 8))),
        "norm_gd": float(np.linalg.norm(w_gd)),
        "norm_pinv": float(np.linalg.norm(w_pinv)),
        "rate_predicted": theory.gd_contraction(X, 0.005)["rate_min_plus"],
    }


def run(cfg: MinNormConfig) -> Results:
    """Run every part of the experiment; return the numbers (no printing)."""
    results = Results()
    _main(cfg, results)
    if cfg.sgd:
        _sgd(cfg, results)
    if cfg.plane:
        _plane(cfg, results)
    if cfg.second_snippet:
        _second_snippet(results)
    return results


# ---------------------------------------------------------------------------------------
# claims
# ---------------------------------------------------------------------------------------
def _gradient_span(cfg: MinNormConfig) -> bool:
    return cfg.optimizer.name in GRADIENT_SPAN and cfg.optimizer.fn is None


def _plain_gd(cfg: MinNormConfig) -> bool:
    return cfg.optimizer.name in ("gd", "sgd") and not cfg.optimizer.hparams


def _sgd_applies(cfg: MinNormConfig) -> bool:
    return cfg.sgd and _gradient_span(cfg)


_SPAN = (
    "the optimizer's updates lie in the span of the gradients (" + ", ".join(GRADIENT_SPAN) + ")"
)
_GD = "the optimizer is plain constant-step gd"
_DEFAULT = {"quick": "default", "full": "large"}
_SEED = {"quick": "seed", "full": "seed"}

KEYS = (
    "pinv.relative_distance",
    "ridge.relative_distance_at_smallest",
    "inits.max_relative_distance",
    "random_interpolator.norm_ratio",
    "random_interpolator.norm_gd",
    "random_interpolator.norm_random",
    "random_interpolator.residual_gd",
    "random_interpolator.residual_random",
    "rate.relative_error_of_exponent",
    "rate.relative_error_of_exponent_random_inits",
    "rate.closed_form_max_deviation",
    "sgd.max_null_component",
    "sgd.relative_distance",
    "second_snippet.distance_to_pinv",
    "second_snippet.distance_to_ridge",
    "second_snippet.norm_pinv",
)
"""Every results key that the claims, plots and tests read."""

CLAIMS = (
    Claim(
        id=f"{NAME}/pinv",
        statement="GD from zero converges to the pseudo-inverse solution X^+ y.",
        source=SEED2,
        quantity="||w_GD - X^+y|| / ||X^+y|| at the last step",
        measure="pinv.relative_distance",
        criterion=Criterion("<=", 1e-8),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_gradient_span,
        requires=_SPAN,
    ),
    Claim(
        id=f"{NAME}/ridge",
        statement="The GD solution equals ridge regression as lambda -> 0.",
        source=SEED2,
        quantity="||w_ridge(1e-10) - w_GD|| / ||w_GD||",
        measure="ridge.relative_distance_at_smallest",
        criterion=Criterion("<=", 1e-8),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_gradient_span,
        requires=_SPAN,
    ),
    Claim(
        id=f"{NAME}/closest",
        statement="GD from any w0 converges to w0 + X^+(y - X w0), the closest interpolator to w0.",
        source=SEED2,
        quantity="max over inits of ||w_GD(w0) - w*(w0)|| / ||w*(w0)||",
        measure="inits.max_relative_distance",
        criterion=Criterion("<=", 1e-8),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_gradient_span,
        requires=_SPAN,
    ),
    Claim(
        id=f"{NAME}/random-larger",
        statement="A random interpolator (GD solution + null-space step) fits "
        "equally well with a larger norm.",
        source=SEED1,
        quantity="||w_random|| / ||w_GD|| (both residuals are reported)",
        measure="random_interpolator.norm_ratio",
        criterion=Criterion(">", 1.0),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_gradient_span,
        requires=_SPAN,
    ),
    Claim(
        id=f"{NAME}/rate",
        statement="The GD error from zero decays like (1 - eta lambda_min^+)^t.",
        source=POLYAK,
        quantity="|log rho_fit - log rho_pred| / |log rho_pred|",
        measure="rate.relative_error_of_exponent",
        criterion=Criterion("<=", 0.05),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/rate-random-inits",
        statement="The GD error decays like (1 - eta lambda_min^+)^t, from random inits.",
        source=POLYAK,
        quantity="median over random inits of |log rho_fit - log rho_pred| / |log rho_pred|",
        measure="rate.relative_error_of_exponent_random_inits",
        criterion=Criterion("<=", 0.05),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/closed-form",
        statement="The GD error follows the closed form sum_i c_i (1 - eta lambda_i)^t v_i "
        "exactly.",
        source=POLYAK,
        quantity="max over logged steps of |e_t - e_t(closed form)| / e_0",
        measure="rate.closed_form_max_deviation",
        criterion=Criterion("<=", 1e-10),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/sgd-row-space",
        statement="SGD from zero stays in the row space of X.",
        source=ZHANG,
        quantity="max over logged steps of ||P_null w_t|| / ||X^+y||",
        measure="sgd.max_null_component",
        criterion=Criterion("<=", 1e-12),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_sgd_applies,
        requires="sgd is on and " + _SPAN,
    ),
    Claim(
        id=f"{NAME}/sgd-limit",
        statement="SGD from zero reaches the same limit X^+ y.",
        source=ZHANG,
        quantity="||w_SGD - X^+y|| / ||X^+y|| at the last step",
        measure="sgd.relative_distance",
        criterion=Criterion("<=", 1e-8),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_sgd_applies,
        requires="sgd is on and " + _SPAN,
    ),
    Claim(
        id=f"{NAME}/seed-gd-norm",
        statement="Seed 000 section 1 prints 'GD solution norm: 0.8942'.",
        source=SEED1,
        quantity="| ||w_GD|| - 0.8942 |",
        measure=lambda r: abs(r.get("random_interpolator.norm_gd") - 0.8942),
        criterion=Criterion("<=", 5e-5),
        presets=_SEED,
        applies=_plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed-random-norm",
        statement="Seed 000 section 1 prints 'Random interp. norm: 4.7281'.",
        source=SEED1,
        quantity="| ||w_random|| - 4.7281 |",
        measure=lambda r: abs(r.get("random_interpolator.norm_random") - 4.7281),
        criterion=Criterion("<=", 5e-5),
        presets=_SEED,
        applies=_plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed-5x",
        statement="Seed 000 section 1: GD's solution has 5x smaller norm than the random "
        "interpolator.",
        source=SEED1,
        quantity="||w_random|| / ||w_GD||",
        measure="random_interpolator.norm_ratio",
        criterion=Criterion(">=", 5.0),
        presets=_SEED,
        applies=_plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed-residuals",
        statement="Seed 000 section 1: both solutions achieve ~0 training error.",
        source=SEED1,
        quantity="max of the two residuals ||Xw - y||",
        measure=lambda r: max(
            r.get("random_interpolator.residual_gd"), r.get("random_interpolator.residual_random")
        ),
        criterion=Criterion("<=", 1e-6),
        presets=_SEED,
        applies=_plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed2-distance",
        statement="Seed 000 section 2 prints '||w_gd - w_pinv|| = 3.12e-04'.",
        source=SEED2,
        quantity="|d - 3.12e-4| / 3.12e-4 with d = ||w_GD - w_pinv|| (n=8, p=30, seed 0)",
        measure=lambda r: abs(r.get("second_snippet.distance_to_pinv") - 3.12e-4) / 3.12e-4,
        criterion=Criterion("<=", 0.02),
        presets=_SEED,
        applies=lambda cfg: cfg.second_snippet,
        requires="second_snippet is on",
    ),
    Claim(
        id=f"{NAME}/seed2-same",
        statement="Seed 000 section 2: GD, the pseudo-inverse and ridge (lambda=1e-10) "
        "give the same solution.",
        source=SEED2,
        quantity="max(||w_GD - w_pinv||, ||w_GD - w_ridge||) / ||w_pinv||",
        measure=lambda r: (
            max(r.get("second_snippet.distance_to_pinv"), r.get("second_snippet.distance_to_ridge"))
            / r.get("second_snippet.norm_pinv")
        ),
        criterion=Criterion("<=", 1e-6),
        presets=_SEED,
        applies=lambda cfg: cfg.second_snippet,
        requires="second_snippet is on",
    ),
)

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="GD on least squares converges to the min-norm / closest interpolator",
        config_cls=MinNormConfig,
        run=run,
        plots="implicitbias.experiments.min_norm_plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)
