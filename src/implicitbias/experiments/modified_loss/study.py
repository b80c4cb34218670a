"""The measurement: one batched GD run over the step sizes, the flows of the loss and of
the modified losses, the distances at time T and their fitted orders in h, and the
squared gradient norm along GD against gradient flow at the same loss."""

from __future__ import annotations

import numpy as np

from implicitbias import engine
from implicitbias.experiments.modified_loss import problem
from implicitbias.experiments.modified_loss.config import NAME, ModifiedLossConfig
from implicitbias.experiments.modified_loss.flows import modified_flows
from implicitbias.runs.results import Results

_MAX_SAVED = 1000
"""Most flow records kept in the results arrays per flow (the measurements use them all)."""


def power_fit(hs: np.ndarray, dist: np.ndarray) -> dict[str, float]:
    """Least-squares line through ``(log h, log dist)``: slope ``p`` of ``dist ~ h^p``, the
    intercept, and the coefficient of determination ``R^2``."""
    x, y = np.log(hs), np.log(dist)
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    r2 = 1.0 - float(residual @ residual) / float(((y - y.mean()) ** 2).sum())
    return {"slope": float(slope), "intercept": float(intercept), "r2": r2}


def run_gd(cfg: ModifiedLossConfig, data, theta0: np.ndarray, hs: np.ndarray, ks: list[int]):
    """Every h one member of ONE engine run of ``k_max`` steps, logged at every k_j, at every
    step of the largest h, and at log-spaced steps."""
    k_max = ks[-1]
    grid = np.unique(np.round(np.geomspace(1, k_max, cfg.num_logs)).astype(np.int64))
    log_at = np.unique(np.concatenate([np.arange(ks[0] + 1), ks, grid]))
    return engine.train(
        problem.loss,
        np.tile(theta0, (len(hs), 1)),
        cfg.optimizer,
        steps=k_max,
        data=data,
        hparams={"learning_rate": hs},
        metrics=problem.metrics,
        log_at=log_at,
        keep_params=True,
        description=f"{NAME}: {cfg.optimizer.label}, {len(hs)} step sizes",
        divergence_hint="raise steps_at_largest (the largest h is horizon / steps_at_largest).",
    )


def same_loss_ratio(gd_loss, gd_norm, flow_loss, flow_norm) -> np.ndarray:
    """``||grad L||^2`` along GD over that of gradient flow at the same loss (the flow's
    loss decreases along its path, so its norm is a function of its loss; points outside
    the flow's loss range are dropped)."""
    order = np.argsort(flow_loss)
    inside = (gd_loss >= flow_loss.min()) & (gd_loss <= flow_loss.max())
    ref = np.interp(gd_loss[inside], flow_loss[order], flow_norm[order])
    return gd_norm[inside] / ref


def run_study(cfg: ModifiedLossConfig, results: Results) -> None:
    X, y = problem.teacher_data(cfg.n, cfg.d, cfg.teacher_width, cfg.teacher_scale, cfg.seed)
    data = (X, y)
    theta0 = problem.initial_params(cfg.d, cfg.width, cfg.init_scale, cfg.seed)
    ks = cfg.step_counts()
    hs = cfg.horizon / np.asarray(ks, dtype=float)
    traj = run_gd(cfg, data, theta0, hs, ks)
    snaps = np.asarray(traj.snapshots)  # (L, H, P)
    at_t = np.array([snaps[np.searchsorted(traj.steps, k), j] for j, k in enumerate(ks)])

    flow_h = np.concatenate([[0.0], hs])  # member 0: plain gradient flow
    records, every = ks[-1], cfg.flow_substeps
    flows = modified_flows(theta0, data, flow_h, horizon=cfg.horizon, records=records, every=every)
    finer = modified_flows(
        theta0, data, flow_h, horizon=cfg.horizon, records=records, every=2 * every
    )["final"]
    rk4_error = np.linalg.norm(flows["final"] - finer, axis=1)

    d_plain = np.linalg.norm(at_t - flows["final"][0], axis=1)
    d_mod = np.linalg.norm(at_t - flows["final"][1:], axis=1)
    fit_plain, fit_mod = power_fit(hs, d_plain), power_fit(hs, d_mod)

    # Along GD at the largest h, for 0 < t <= T, against the plain flow at the same loss.
    first = traj.steps <= ks[0]
    gd_loss, gd_norm = traj.metrics["loss"][first, 0], traj.metrics["grad_norm_sq"][first, 0]
    ratios = same_loss_ratio(gd_loss[1:], gd_norm[1:], flows["loss"][0], flows["grad_norm_sq"][0])
    eig0 = problem.hessian_eigenvalues(theta0, data)
    eig_t = problem.hessian_eigenvalues(flows["final"][0], data)

    stride = max(1, records // _MAX_SAVED)
    results.steps = traj.steps
    results.metrics.update(traj.metrics)
    results.arrays.update(
        X=X,
        y=y,
        theta0=theta0,
        hs=hs,
        step_counts=np.asarray(ks),
        theta_gd=at_t,
        theta_flow=flows["final"],
        d_plain=d_plain,
        d_modified=d_mod,
        rk4_error=rk4_error,
        flow_times=flows["times"][::stride],
        flow_h=flow_h,
        flow_loss=flows["loss"][:, ::stride],
        flow_grad_norm_sq=flows["grad_norm_sq"][:, ::stride],
        same_loss_ratio=ratios,
    )
    results.scalars["problem"] = {
        "n": cfg.n,
        "d": cfg.d,
        "width": cfg.width,
        "parameters": int(theta0.size),
        "horizon": cfg.horizon,
        "hs": hs.tolist(),
        "step_counts": ks,
        "optimizer": cfg.optimizer.label,
        "flow_step": float(cfg.horizon / (records * every)),
        "sharpness_init": float(eig0[-1]),
        "sharpness_flow_end": float(eig_t[-1]),
        "h_max_times_sharpness": float(hs[0] * max(eig0[-1], eig_t[-1])),
        "loss_init": float(flows["loss"][0, 0]),
        "loss_flow_end": float(flows["loss"][0, -1]),
    }
    results.scalars["distance"] = {
        "plain": d_plain.tolist(),
        "modified": d_mod.tolist(),
        "ratio_plain_to_modified": (d_plain / d_mod).tolist(),
        "min_ratio_plain_to_modified": float(np.min(d_plain / d_mod)),
        "slope_plain": fit_plain["slope"],
        "r2_plain": fit_plain["r2"],
        "slope_modified": fit_mod["slope"],
        "r2_modified": fit_mod["r2"],
        "min_r2": min(fit_plain["r2"], fit_mod["r2"]),
        "local_slopes_plain": (np.diff(np.log(d_plain)) / np.diff(np.log(hs))).tolist(),
        "local_slopes_modified": (np.diff(np.log(d_mod)) / np.diff(np.log(hs))).tolist(),
        "rk4_error": rk4_error.tolist(),
        "rk4_error_over_smallest_distance": float(rk4_error.max() / d_mod.min()),
    }
    results.scalars["gradient_norm"] = {
        "h": float(hs[0]),
        "compared_points": int(ratios.size),
        "max_same_loss_ratio": float(ratios.max()) if ratios.size else float("nan"),
        "mean_same_loss_ratio": float(ratios.mean()) if ratios.size else float("nan"),
        "gd_at_T": float(gd_norm[-1]),
        "flow_at_T": float(flows["grad_norm_sq"][0, -1]),
        "modified_flow_at_T": float(flows["grad_norm_sq"][1, -1]),
        "gd_loss_at_T": float(gd_loss[-1]),
        "flow_loss_at_T": float(flows["loss"][0, -1]),
        "modified_flow_loss_at_T": float(flows["loss"][1, -1]),
    }
    results.scalars["timing"] = {
        "gd_compile_seconds": traj.compile_seconds,
        "gd_run_seconds": traj.run_seconds,
    }
