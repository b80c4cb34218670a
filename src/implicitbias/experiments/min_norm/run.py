"""The min-norm runs: the main batch of inits, ridge path, random interpolator, linear rate,
minibatch runs, the plane picture, and seed 000's second snippet."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias import engine, theory
from implicitbias.datasets.synthetic import gaussian_regression
from implicitbias.experiments.min_norm.config import NAME, MinNormConfig, plain_gd
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.linear import interpolation_metrics, least_squares
from implicitbias.runs.results import Results


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


RATE_WINDOW = (1e-13, 1e-9)
"""Where the linear rate is fitted: the last four decades of the decay above round-off.

The prediction :math:`1-\\eta\\lambda_{\\min}^+` is the *asymptotic* rate, reached once the
slowest mode dominates the error; the higher modes, some with eigenvalues within 1 % of
:math:`\\lambda_{\\min}^+` on the large preset, die out on the way down. So the fit uses the
latest decades float64 shows: the error is measured to ~1e-15 of its scale, and the lower
edge, 100 times that, keeps round-off below 1 % of each error (0.01 on its log); the four
decades hold ~10 log-spaced logged points, fitted with r^2 > 0.9999. (An earlier window,
1e-11 .. 1e-3, read the decay while the next-to-slowest modes were still present.)"""


def _row_space_modes(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The non-zero eigenvalues of :math:`X^\\top X/n` and their eigenvectors (rows), from
    the thin SVD of ``X``: the same modes as ``theory.gd_error_closed_form`` uses, without a
    p x p eigendecomposition (40 s of the large preset's run on 2 busy cores). The error of
    GD lies in the row space, so the zero modes carry only round-off."""
    _, s, vt = np.linalg.svd(np.asarray(X, dtype=np.float64), full_matrices=False)
    keep = s**2 > 1e-10 * s[0] ** 2
    return s[keep] ** 2 / X.shape[0], vt[keep]


def _window(dist: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """:data:`RATE_WINDOW`, or, for a run too short to get down to it, the same four decades
    moved up to end at the smallest error the run reached (the latest decades it shows)."""
    positive = dist[np.isfinite(dist) & (dist > 0)]
    reached = float(positive.min()) if positive.size else lo
    if reached <= lo:
        return lo, hi
    return reached, reached * (hi / lo)


def _rate(cfg, traj, rate, X, targets, inits, lr, results) -> None:
    """Fitted vs predicted linear rate, from zero and from the random inits.

    The fit uses :data:`RATE_WINDOW` (moved up for a run that stops above it, see
    :func:`_window`; the window of the run from zero is recorded). The closed-form error of GD,
    :math:`\\lVert \\sum_i c_i (1-\\eta\\lambda_i)^t v_i\\rVert`, is also compared with
    the measured one: it explains a fitted rate faster than :math:`1-\\eta\\lambda_{\\min}^+`
    when the initial error has almost no weight on the bottom eigenvector.
    """
    lo, hi = RATE_WINDOW
    predicted = rate["rate_min_plus"]
    out: dict[str, Any] = {
        "predicted": predicted,
        "predicted_spectrum_max": rate["rate"],
        "window": [lo, hi],
    }
    if not plain_gd(cfg):
        out["note"] = f"the linear-rate prediction is for plain GD, not {cfg.optimizer.label}"
        results.scalars["rate"] = {
            **out,
            "relative_error_of_exponent": float("nan"),
            "exponent_ratio": float("nan"),
            "relative_error_of_exponent_random_inits": float("nan"),
        }
        return
    errors, ratios = [], []
    for m in range(traj.metrics["dist"].shape[1]):
        dist = np.asarray(traj.metrics["dist"][:, m], dtype=np.float64)
        a, b = _window(dist, lo, hi)
        if m == 0:
            out["window"] = [a, b]
        fit = theory.fit_log_rate(traj.steps, dist, lo=a, hi=b)
        ratios.append(float(np.log(fit["rate"]) / np.log(predicted)))
        errors.append(abs(np.log(fit["rate"]) - np.log(predicted)) / abs(np.log(predicted)))
        if m == 0:
            out.update(fitted=fit["rate"], r2=fit["r2"], points=fit["points"])
    out["relative_error_of_exponent"] = float(errors[0])
    # log(rho_fit) / log(rho_pred): >= 1 when the error decays at least as fast as predicted.
    out["exponent_ratio"] = ratios[0]
    out["relative_error_of_exponent_per_init"] = [float(e) for e in errors[1:]]
    out["relative_error_of_exponent_random_inits"] = (
        float(np.median(errors[1:])) if len(errors) > 1 else float("nan")
    )
    lam, modes = _row_space_modes(X)
    coef = modes @ (inits[0] - targets[0])
    factors = np.abs(1.0 - lr * lam)[None, :] ** np.asarray(traj.steps, dtype=np.float64)[:, None]
    closed = np.sqrt(np.sum((coef[None, :] * factors) ** 2, axis=1)) / np.linalg.norm(targets[0])
    measured = traj.metrics["dist"][:, 0]
    # Absolute deviation in units of the initial error: round-off makes a relative one
    # meaningless once the error nears 1e-15.
    out["closed_form_max_deviation"] = float(np.max(np.abs(measured - closed)) / closed[0])
    out["initial_error_weight_on_lambda_min"] = float(
        abs(coef[np.argmin(lam)]) / np.linalg.norm(inits[0] - targets[0])
    )
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
