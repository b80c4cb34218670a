"""The main runs (GD by default): data, inits, step, training against the l2 SVM, the
per-run summaries and the tail fits of Soudry et al. 2018; and the logistic loss on
non-separable data, where GD converges to the finite minimizer instead."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias import engine, theory
from implicitbias.datasets import classification as data_sets
from implicitbias.experiments.max_margin.config import NAME, MaxMarginConfig
from implicitbias.problems.classification import LOSSES, margin_metrics
from implicitbias.runs.results import Results

THRESHOLDS = (1.0, 0.1)  # degrees, for "steps to reach"


def load_data(cfg: MaxMarginConfig) -> tuple[np.ndarray, np.ndarray]:
    if cfg.dataset == "clouds":
        X, y = data_sets.clouds(cfg.per_class, cfg.dim, cfg.std, cfg.center, cfg.seed)
    elif cfg.dataset == "breast_cancer":
        X, y = data_sets.breast_cancer()
    else:
        X, y = data_sets.digits_pair(3, 8)
    return (theory.add_bias(X) if cfg.bias else X), y


def make_inits(cfg: MaxMarginConfig, d: int) -> np.ndarray:
    parts = [np.zeros((1, d))] if cfg.zero_init else []
    if cfg.inits:
        parts.append(np.asarray(cfg.inits, dtype=np.float64).reshape(-1, d))
    if cfg.num_inits:
        rs = np.random.RandomState(cfg.seed + 1000)
        parts.append(cfg.init_scale * rs.randn(cfg.num_inits, d))
    return np.vstack(parts)


def default_learning_rate(cfg: MaxMarginConfig, X: np.ndarray) -> float:
    """``1 / lambda_max`` of the loss Hessian at ``w = 0``."""
    gram = X.T @ X / (X.shape[0] if cfg.reduction == "mean" else 1.0)
    curvature = np.linalg.eigvalsh(gram)[-1] * (0.25 if cfg.loss == "logistic" else 1.0)
    return float(1.0 / curvature)


def _train(cfg, X, y, inits, svm, optimizer, hparams, label, loss=None):
    loss = loss or LOSSES[(cfg.loss, cfg.reduction)]
    aux = {"direction": svm.direction, "gamma": np.asarray(svm.l2_margin)}
    return engine.train(
        loss,
        inits,
        optimizer,
        steps=cfg.steps,
        data=(X, y),
        hparams=hparams,
        metrics=margin_metrics,
        aux=aux,
        num_logs=cfg.num_logs,
        spacing="log",
        keep_params=X.shape[1] == 2,
        description=f"{NAME}: {label}",
        divergence_hint="lower the learning rate (the exponential loss is steep for "
        "misclassified points far from the origin).",
    )


def steps_to_reach(steps: np.ndarray, angle: np.ndarray, threshold: float) -> int | None:
    """First logged step from which the angle stays <= threshold, or None."""
    above = np.flatnonzero(angle > threshold)
    if above.size == 0:
        return int(steps[0])
    last = above[-1]
    return int(steps[last + 1]) if last + 1 < len(steps) else None


def _fits(cfg, traj, svm) -> dict[str, Any]:
    """Tail fits: ||w|| = a log t + b, angle = a / log t + b, per init.

    Also the rate exponent ``k`` of ``angle ~ (log t)^k`` (the least-squares slope of
    ``log angle`` against ``log log t`` on the tail: ``-1`` for the ``O(1/log t)`` rate of
    Soudry et al. 2018, ``0`` for a gap that does not close), the ratio of the final angle
    to the angle where the tail starts (< 1: the direction is still approaching), and the
    step at which the fitted angle curve would reach 0.1 degree (an extrapolation, used only
    where GD did not get there itself).
    """
    t = traj.steps.astype(np.float64)
    tail = t >= max(2.0, cfg.steps / 10**cfg.tail_decades)
    log_t = np.log(t[tail])
    out = []
    for m in range(traj.metrics["angle"].shape[1]):
        angle = traj.metrics["angle"][tail, m]
        norm_fit = theory.fit_against(log_t, traj.metrics["norm"][tail, m])
        gap_fit = theory.fit_against(1.0 / log_t, angle)
        exponent = (
            float(np.polyfit(np.log(log_t), np.log(angle), 1)[0])
            if np.all(np.isfinite(angle) & (angle > 0))
            else float("nan")
        )
        a, b = gap_fit["a"], gap_fit["b"]
        log10_reach = float(a / (0.1 - b) / np.log(10)) if a > 0 and b < 0.1 else float("inf")
        out.append(
            {
                "norm_vs_log_t": norm_fit,
                "angle_vs_inv_log_t": gap_fit,
                "slope_times_gamma": norm_fit["a"] * svm.l2_margin,
                "angle_exponent": exponent,
                "tail_angle_ratio": float(angle[-1] / angle[0]),
                "log10_steps_to_0p1deg_extrapolated": log10_reach,
            }
        )
    return {
        "per_init": out,
        "tail_from_step": float(t[tail][0]),
        "min_r2_angle": float(min(f["angle_vs_inv_log_t"]["r2"] for f in out)),
        "min_r2_norm": float(min(f["norm_vs_log_t"]["r2"] for f in out)),
        "max_slope_error": float(max(abs(f["slope_times_gamma"] - 1) for f in out)),
        "max_tail_angle_ratio": float(max(f["tail_angle_ratio"] for f in out)),
        # np.max: a NaN exponent (an angle of 0 or NaN on the tail) makes it NaN
        "max_angle_exponent": float(np.max([f["angle_exponent"] for f in out])),
    }


def _reach_key(threshold: float) -> str:
    return "deg_" + f"{threshold:g}".replace(".", "p")


def _summary(traj, loss_name: str = "final_loss") -> dict[str, Any]:
    angle = traj.metrics["angle"]
    reach = {
        _reach_key(th): [steps_to_reach(traj.steps, angle[:, m], th) for m in range(angle.shape[1])]
        for th in THRESHOLDS
    }
    return {
        "final_angle": angle[-1].tolist(),
        "max_final_angle": float(angle[-1].max()),
        "final_gap": traj.metrics["gap"][-1].tolist(),
        "final_norm": traj.metrics["norm"][-1].tolist(),
        loss_name: traj.metrics["loss"][-1].tolist(),
        "steps_to": reach,
    }


def _non_separable(cfg, X, y, results) -> Results:
    """Logistic loss on non-separable data: GD converges to the finite minimizer."""
    inits = make_inits(cfg, X.shape[1])
    dummy = theory.MaxMargin(
        "l2",
        np.ones(X.shape[1]),
        np.ones(X.shape[1]) / np.sqrt(X.shape[1]),
        float("nan"),
        float("nan"),
        np.zeros(0),
    )
    lr = cfg.learning_rate or default_learning_rate(cfg, X)
    label = cfg.optimizer.label
    traj = _train(cfg, X, y, inits, dummy, cfg.optimizer, {"learning_rate": lr}, label)
    results.steps = traj.steps
    results.arrays.update(X=X, y=y)
    results.metrics.update({k: v for k, v in traj.metrics.items() if k in ("loss", "norm")})
    norms = traj.metrics["norm"]
    results.scalars["finite_minimizer"] = {
        "optimizer": label,
        "final_norm": norms[-1].tolist(),
        "norm_change_last_decade": float(np.max(np.abs(norms[-1] - norms[len(norms) * 4 // 5]))),
        "final_loss": traj.metrics["loss"][-1].tolist(),
    }
    return results
