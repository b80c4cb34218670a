"""The alpha sweep: every (draw, alpha) pair is a member of ONE batched engine run, all the
alphas of a draw starting from the same init ``w0``; then the numbers the claims read."""

from __future__ import annotations

import functools

import numpy as np

from implicitbias import engine
from implicitbias.experiments.lazy_rich.config import NAME, LazyRichConfig
from implicitbias.experiments.lazy_rich.kernel import jacobian, kernel_regression
from implicitbias.experiments.lazy_rich.model import centered_loss, draw, network, sweep_metrics
from implicitbias.runs.results import Results


def references(cfg: LazyRichConfig) -> list[dict]:
    """Per draw: the data, the init, f(w0) on train and test, and the kernel predictor."""
    out = []
    for k in range(cfg.draws):
        dr = draw(cfg, k)
        w0 = {"W": dr["W"], "a": dr["a"]}
        J = jacobian(w0, dr["X"], cfg.activation)
        J_test = jacobian(w0, dr["X_test"], cfg.activation)
        ref = kernel_regression(J, J_test, dr["y"])  # residual targets: g(w0) = 0
        dr.update(
            w0=w0,
            f0=np.asarray(network(w0, dr["X"], cfg.activation)),
            f0_test=np.asarray(network(w0, dr["X_test"], cfg.activation)),
            kernel=ref,
            kernel_test_error=float(np.mean((ref["predictions"] - dr["y_test"]) ** 2))
            / float(np.mean(dr["y_test"] ** 2)),
            w0_norm=float(np.sqrt(np.sum(dr["W"] ** 2) + np.sum(dr["a"] ** 2))),
        )
        out.append(dr)
    return out


def learning_rates(cfg: LazyRichConfig, refs: list[dict], alphas: np.ndarray) -> np.ndarray:
    """``(draws, alphas)`` steps: ``lr_scale * n / lambda_max(K) * min(1, alpha)``.

    ``n / lambda_max`` is the stable step of the linearized model in function space (the
    same for every alpha under the 1/alpha^2 scaling); the Hessian of L_alpha also holds
    ``(1/alpha) sum_k r_k D^2 f(x_k) / n``, which grows as alpha falls, hence the factor
    ``min(1, alpha)`` below alpha = 1 (residuals and f are of order 1 here)."""
    base = np.array([cfg.lr_scale * cfg.n / r["kernel"]["lambda_max"] for r in refs])
    return base[:, None] * np.minimum(1.0, alphas)[None, :]


def _stack(refs: list[dict], key: str, repeats: int) -> np.ndarray:
    """``(draws * repeats, ...)``: each draw's array repeated for its alphas."""
    return np.repeat(np.stack([r[key] for r in refs]), repeats, axis=0)


def train(cfg: LazyRichConfig, refs: list[dict], alphas: np.ndarray, lrs: np.ndarray):
    A = len(alphas)
    params = {"W": _stack(refs, "W", A), "a": _stack(refs, "a", A)}
    data = {
        "X": _stack(refs, "X", A),
        "y": _stack(refs, "y", A),
        "f0": _stack(refs, "f0", A),
        "alpha": np.tile(alphas, cfg.draws),
    }
    aux = {
        "X_test": _stack(refs, "X_test", A),
        "y_test": _stack(refs, "y_test", A),
        "f0_test": _stack(refs, "f0_test", A),
        "kernel_test": np.repeat(np.stack([r["kernel"]["predictions"] for r in refs]), A, 0),
        "w0": {"W": _stack(refs, "W", A), "a": _stack(refs, "a", A)},
    }
    return engine.train(
        functools.partial(centered_loss, activation=cfg.activation),
        params,
        cfg.optimizer,
        steps=cfg.steps,
        data=data,
        data_axis=0,
        aux=aux,
        aux_axis=0,
        hparams={"learning_rate": lrs.reshape(-1)},
        metrics=functools.partial(sweep_metrics, activation=cfg.activation),
        num_logs=cfg.num_logs,
        spacing="log",
        description=f"{NAME}: {cfg.optimizer.label}, {cfg.draws} draws x {A} alphas",
        divergence_hint="lower lr_scale (the step assumes residuals of order 1).",
    )


def slope(alphas: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of log(values) against log(alphas)."""
    return float(np.polyfit(np.log(alphas), np.log(values), 1)[0])


def run_sweep(cfg: LazyRichConfig, results: Results) -> None:
    alphas = cfg.alphas()
    refs = references(cfg)
    lrs = learning_rates(cfg, refs, alphas)
    traj = train(cfg, refs, alphas, lrs)
    D, A = cfg.draws, len(alphas)
    final = {k: np.asarray(v[-1]).reshape(D, A) for k, v in traj.metrics.items()}
    results.steps = traj.steps
    results.metrics.update(traj.metrics)
    kernel_err = np.array([r["kernel_test_error"] for r in refs])
    lazy_const = np.array([r["kernel"]["weight_norm"] / r["w0_norm"] for r in refs])
    fit = alphas >= cfg.fit_alpha_min
    change, dist, err = (
        final["relative_weight_change"],
        final["kernel_distance"],
        final["test_error"],
    )
    slopes = np.array([slope(alphas[fit], change[k, fit]) for k in range(D)])
    dist_slopes = np.array([slope(alphas[fit], dist[k, fit]) for k in range(D)])
    rises = np.max((dist[:, 1:] - dist[:, :-1]) / dist.max(axis=1, keepdims=True), axis=1)
    results.arrays.update(
        alphas=alphas,
        learning_rates=lrs,
        relative_weight_change=change,
        kernel_distance=dist,
        test_error=err,
        train_residual=final["train_residual"],
        kernel_test_error=kernel_err,
        lazy_weight_change_constant=lazy_const,
    )
    results.scalars["problem"] = {
        "n": cfg.n,
        "n_test": cfg.n_test,
        "d": cfg.d,
        "width": cfg.width,
        "parameters": cfg.width * (cfg.d + 1),
        "draws": D,
        "alphas": alphas.tolist(),
        "fit_alphas": alphas[fit].tolist(),
        "steps": cfg.steps,
        "optimizer": cfg.optimizer.label,
        "kernel_lambda_max": [r["kernel"]["lambda_max"] for r in refs],
        "kernel_lambda_min": [r["kernel"]["lambda_min"] for r in refs],
        "kernel_solve_residual": [r["kernel"]["train_residual"] for r in refs],
        "compile_seconds": traj.compile_seconds,
        "run_seconds": traj.run_seconds,
    }
    results.scalars["sweep"] = {
        "weight_change_slope": slopes.tolist(),
        "weight_change_slope_error": np.abs(slopes + 1.0).tolist(),
        "kernel_distance_slope": dist_slopes.tolist(),
        "relative_weight_change_at_smallest_alpha": change[:, 0].tolist(),
        "relative_weight_change_at_largest_alpha": change[:, -1].tolist(),
        "alpha_times_weight_change_over_kernel_prediction": (
            alphas[-1] * change[:, -1] / lazy_const
        ).tolist(),
        "kernel_distance_at_smallest_alpha": dist[:, 0].tolist(),
        "kernel_distance_at_largest_alpha": dist[:, -1].tolist(),
        "largest_rise_of_kernel_distance": rises.tolist(),
        "test_error_at_smallest_alpha": err[:, 0].tolist(),
        "test_error_at_largest_alpha": err[:, -1].tolist(),
        "kernel_test_error": kernel_err.tolist(),
        "test_error_gap_at_smallest_alpha": ((err[:, 0] - kernel_err) / kernel_err).tolist(),
        "abs_test_error_gap_at_smallest_alpha": (
            np.abs(err[:, 0] - kernel_err) / kernel_err
        ).tolist(),
        "train_residual_max": final["train_residual"].max(axis=1).tolist(),
    }
