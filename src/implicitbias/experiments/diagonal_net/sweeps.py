"""The alpha sweeps: one batched run per parameterization, each member with its own step,
against the Q_alpha minimizers and the finite-step reference."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from implicitbias import engine
from implicitbias.experiments.diagonal_net.config import NAME, uses_gd
from implicitbias.experiments.diagonal_net.references import relative_test_error
from implicitbias.problems.diagonal import (
    diagonal_loss,
    diagonal_metrics,
    initial_params,
    predictor,
)
from implicitbias.runs.results import Results
from implicitbias.theory import diagonal as theory


def learning_rates(
    model: str, alphas: np.ndarray, L: float, B: float, scale: float, imbalance: float = 1.0
) -> np.ndarray:
    """Per-member steps. The loss Hessian in the factors is ``J^T (X^T X/n) J`` plus a
    residual term, with ``J J^T = diag(4(u^2 + v^2))`` for ``square`` (``= 4 sqrt(w^2 +
    4 alpha^4)`` under gradient flow) and ``diag(u+^2 + v+^2 + u-^2 + v-^2)`` for
    ``product`` (half as large at the same effective alpha)."""
    if model == "square":
        return scale / (4 * L * (B + 2 * np.asarray(alphas) ** 2))
    a_eff = theory.effective_alpha(alphas, imbalance)
    return scale / (2 * L * (B + 2 * a_eff**2))


def train(cfg, X, y, inits, lrs, aux, steps, label):
    return engine.train(
        diagonal_loss,
        inits,
        cfg.optimizer,
        steps=steps,
        data=(X, y),
        hparams={"learning_rate": lrs},
        metrics=diagonal_metrics,
        aux=aux,
        aux_axis={"q": 0, "l1": None, "l2": None, "w_star": None},
        num_logs=cfg.num_logs,
        spacing="log",
        description=f"{NAME}: {cfg.optimizer.label}, {label}",
        divergence_hint="lower lr_scale (the step bound assumes |w_i| <= B along the path).",
    )


def run_sweep(model, cfg, X, y, alphas, refs, L, B, results: Results) -> None:
    inits = initial_params(model, alphas, cfg.d, cfg.imbalance)
    lrs = learning_rates(model, alphas, L, B, cfg.lr_scale, cfg.imbalance)
    aux = {"q": refs[model], "l1": refs["l1"], "l2": refs["l2"], "w_star": results.arrays["w_star"]}
    traj = train(cfg, X, y, inits, lrs, aux, cfg.steps, model)
    w = np.asarray(predictor(jnp.asarray(np.swapaxes(traj.params, 0, 1))))
    results.arrays[f"w_{model}"] = w
    results.arrays[f"lr_{model}"] = lrs
    if not results.metrics:  # the first model's metrics; the others under arrays
        results.scalars["problem"]["metrics_model"] = model
        results.steps = traj.steps
        results.metrics.update(traj.metrics)
    else:
        for name, values in traj.metrics.items():
            results.arrays[f"{model}_{name}"] = values
    final = {k: v[-1] for k, v in traj.metrics.items()}
    if model == "square" and uses_gd(cfg):
        _step_corrected(X, y, np.asarray(traj.params), alphas, results)
    dist_l1 = theory.relative_distance(w, refs["l1"])
    # Positive where the distance to l1 grows as alpha decreases (alphas are increasing).
    rises = (dist_l1[:-1] - dist_l1[1:]) / dist_l1.max()
    results.scalars[model] = {
        "dist_q": theory.relative_distance(w, refs[model]).tolist(),
        "dist_l1": dist_l1.tolist(),
        "dist_l2": theory.relative_distance(w, refs["l2"]).tolist(),
        "test_error": [relative_test_error(wi, results.arrays["w_star"]) for wi in w],
        "residual": final["residual"].tolist(),
        "max_dist_q": float(theory.relative_distance(w, refs[model]).max()),
        "max_residual": float(final["residual"].max()),
        "dist_l1_at_smallest_alpha": float(dist_l1[0]),
        "dist_l2_at_largest_alpha": float(theory.relative_distance(w[-1], refs["l2"])),
        "largest_rise_of_dist_l1_as_alpha_falls": float(rises.max()),
        "learning_rates": lrs.tolist(),
        "compile_seconds": traj.compile_seconds,
        "run_seconds": traj.run_seconds,
    }


def _step_corrected(X, y, params, alphas, results: Results) -> None:
    """The finite-step reference: the minimizer of sum_i a_i^2 q(w_i / a_i^2) with the
    per-coordinate scales a_i = sqrt(u_i v_i) that GD ended with (gradient flow keeps
    u_i v_i = alpha^2; each GD step multiplies it by 1 - 4 eta^2 g_i^2)."""
    scales = theory.gd_effective_alpha(params[:, 0], params[:, 1])  # (B, d)
    refs = np.array([theory.q_alpha_minimizer(X, y, a).w for a in scales])
    w = params[:, 0] ** 2 - params[:, 1] ** 2
    results.arrays["q_square_step_corrected"] = refs
    shrink = scales / np.asarray(alphas)[:, None]
    results.scalars["square_step_corrected"] = {
        "dist_q": theory.relative_distance(w, refs).tolist(),
        "max_dist_q": float(theory.relative_distance(w, refs).max()),
        "min_scale_ratio": shrink.min(axis=1).tolist(),
        "median_scale_ratio": np.median(shrink, axis=1).tolist(),
    }
