"""Part (i): seed 000 section 6, batch sizes on a least-squares problem, against the
stationary covariance of constant-step SGD."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias import engine, theory
from implicitbias.datasets.teacher_regression import teacher_regression
from implicitbias.experiments.sgd_noise.config import SGDNoiseConfig
from implicitbias.experiments.sgd_noise.samplers import TableSampler, index_tables
from implicitbias.experiments.sgd_noise.stationary import stationary_covariance
from implicitbias.problems.weighted_least_squares import half_mse, regression_metrics
from implicitbias.runs.results import Results

NAME = "sgd-noise"
_QUANTITIES = ("train_mse", "test_mse", "norm", "dist2")


def seed_data(cfg: SGDNoiseConfig) -> dict[str, np.ndarray]:
    """Seed 000 section 6's draws, in its order: X, w_true, noise."""
    return teacher_regression(cfg.n, cfg.dim, cfg.n_train, cfg.w_scale, cfg.noise, cfg.seed)


def _padded_tables(cfg: SGDNoiseConfig, n: int, seeds: list[int]):
    """Index tables and weights of every (batch size, seed) member, padded to one width
    (full batch: all rows, weight 1/n)."""
    width = max(cfg.batch_sizes)
    index_type = np.int16 if n < 2**15 else np.int32  # the tables dominate the memory
    tables, weights = [], []
    for b in cfg.batch_sizes:
        t = np.zeros((len(seeds), cfg.steps, width), dtype=index_type)
        if b < n:
            t[:, :, :b] = index_tables(n, b, cfg.steps, seeds)
        else:  # full batch: the seed's choice(150, 150) is a permutation; order is moot
            t[:, :, :n] = np.arange(n, dtype=index_type)
        wt = np.zeros((len(seeds), width))
        wt[:, :b] = 1.0 / b
        tables.append(t)
        weights.append(wt)
    return np.concatenate(tables), np.concatenate(weights), width


def _train(cfg: SGDNoiseConfig, X, y, aux, seeds):
    """Every (batch size, seed) pair as one member of one compiled run."""
    n = X.shape[0]
    table, weights, width = _padded_tables(cfg, n, seeds)
    m = len(seeds) * len(cfg.batch_sizes)
    data = {
        "X": np.broadcast_to(X, (m, *X.shape)),
        "y": np.broadcast_to(y, (m, n)),
        "table": table,
        "weights": weights,
    }
    return engine.train(
        half_mse,
        np.zeros((m, cfg.dim)),
        cfg.optimizer,
        steps=cfg.steps,
        data=data,
        data_axis=0,
        aux=aux,
        hparams={"learning_rate": cfg.learning_rate},
        metrics=regression_metrics,
        sampler=TableSampler(width),
        num_logs=cfg.num_logs,
        spacing="linear",
        description=f"{NAME}: linear, {cfg.optimizer.label}, batch sizes {list(cfg.batch_sizes)}",
    )


def _batch_row(cfg, b, metrics, steps, sigma, reference) -> dict[str, Any]:
    """Final values (mean, std and per seed), time averages and the theory of batch ``b``."""
    s = metrics["norm"].shape[1]
    last = steps >= cfg.steps * (1 - cfg.window)
    final = {k: metrics[k][-1] for k in _QUANTITIES}
    measured_dist2 = float(metrics["dist2"][last].mean())
    predicted = float(np.trace(sigma))
    H, H_te, w_hat = reference["H"], reference["H_te"], reference["w_hat"]
    return {
        "batch_size": b,
        **{f"{k}_mean": float(v.mean()) for k, v in final.items()},
        **{f"{k}_std": float(v.std(ddof=1)) if s > 1 else float("nan") for k, v in final.items()},
        **{f"{k}_per_seed": v.tolist() for k, v in final.items()},
        "dist2_time_average": measured_dist2,
        "dist2_predicted": predicted,
        "dist2_ratio": measured_dist2 / predicted if predicted > 0 else float("nan"),
        "predicted_train_mse": reference["mse"] + float(np.trace(H @ sigma)),
        "predicted_test_mse": reference["mse_te"] + float(np.trace(H_te @ sigma)),
        "predicted_norm2": float(w_hat @ w_hat + np.trace(sigma)),
        "train_mse_time_average": float(metrics["train_mse"][last].mean()),
        "test_mse_time_average": float(metrics["test_mse"][last].mean()),
    }


def run_linear(cfg: SGDNoiseConfig, results: Results) -> None:
    """Train every (batch size, seed) member; fill ``theory``, ``linear`` and the arrays."""
    data = seed_data(cfg)
    X, y, X_te, y_te = data["X"], data["y"], data["X_te"], data["y_te"]
    n = X.shape[0]
    w_hat = theory.pinv(X) @ y
    reference = {
        "w_hat": w_hat,
        "H": X.T @ X / n,
        "H_te": X_te.T @ X_te / X_te.shape[0],
        "mse": float(np.mean((X @ w_hat - y) ** 2)),
        "mse_te": float(np.mean((X_te @ w_hat - y_te) ** 2)),
    }
    seeds = [cfg.sampling_seed + s for s in range(cfg.num_seeds)]
    traj = _train(cfg, X, y, {"X_te": X_te, "y_te": y_te, "w_hat": w_hat}, seeds)
    s, per_batch = len(seeds), []
    for k, b in enumerate(cfg.batch_sizes):
        metrics = {name: v[:, k * s : (k + 1) * s] for name, v in traj.metrics.items()}
        sigma = stationary_covariance(X, y, cfg.learning_rate, b)
        per_batch.append(_batch_row(cfg, b, metrics, traj.steps, sigma, reference))
        for name in _QUANTITIES:
            results.arrays[f"linear_b{b}_{name}"] = metrics[name]
    results.steps = traj.steps
    results.arrays["linear_batch_sizes"] = np.asarray(cfg.batch_sizes)
    results.scalars["theory"] = _theory(cfg, X, w_hat, reference)
    results.scalars["linear"] = {
        "optimizer": cfg.optimizer.label,
        "per_batch": per_batch,
        "comparisons": comparisons(per_batch, cfg),
    }


def _theory(cfg: SGDNoiseConfig, X, w_hat, reference) -> dict[str, float]:
    contraction = theory.gd_contraction(X, cfg.learning_rate)
    norm = np.linalg.norm(w_hat)
    return {
        "w_hat_norm": float(norm),
        "train_mse_w_hat": reference["mse"],
        "test_mse_w_hat": reference["mse_te"],
        "lambda_min": contraction["lambda_min_plus"],
        "lambda_max": contraction["lambda_max"],
        "gd_error_bound": float(contraction["rate"] ** cfg.steps * norm),
        "transient_at_window": float(contraction["rate"] ** (cfg.steps * (1 - cfg.window)) * norm),
    }


def comparisons(per_batch: list[dict], cfg: SGDNoiseConfig) -> dict[str, Any]:
    """Smallest batch vs full batch, per quantity: the difference of the seed means and the
    difference in units of its standard error over seeds (paired seeds are not assumed)."""
    small = min(per_batch, key=lambda p: p["batch_size"])
    full = max(per_batch, key=lambda p: p["batch_size"])
    out = {"small_batch": small["batch_size"], "full_batch": full["batch_size"]}
    s = cfg.num_seeds
    for k in ("train_mse", "test_mse", "norm"):
        diff = small[f"{k}_mean"] - full[f"{k}_mean"]
        se = np.sqrt((small[f"{k}_std"] ** 2 + full[f"{k}_std"] ** 2) / s) if s > 1 else np.nan
        out[k] = {
            "difference": diff,
            "se": float(se),
            "z": float(diff / se) if se > 0 else float(np.sign(diff) * np.inf),
            "predicted_difference": (small[f"predicted_{k}"] - full[f"predicted_{k}"])
            if k != "norm"
            else float(np.sqrt(small["predicted_norm2"]) - np.sqrt(full["predicted_norm2"])),
        }
    ratios = [p["dist2_ratio"] for p in per_batch if p["batch_size"] < cfg.n_train]
    out["max_dist2_ratio_error"] = (
        float(np.max(np.abs(np.asarray(ratios, dtype=float) - 1))) if ratios else float("nan")
    )
    return out
