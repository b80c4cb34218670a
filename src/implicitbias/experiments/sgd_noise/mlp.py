"""Part (ii): a tanh MLP on scikit-learn's digits, for each batch size and learning rate,
then the final sharpness (Lanczos) and Hessian trace (Hutch++) on the training set."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from implicitbias import engine
from implicitbias.datasets.digits import digits_split
from implicitbias.experiments.sgd_noise.config import SGDNoiseConfig
from implicitbias.experiments.sgd_noise.samplers import PaddedSampler
from implicitbias.problems.mlp import init_mlp
from implicitbias.problems.mlp_classifier import TrainLoss, classification_metrics, square_loss
from implicitbias.runs.results import Results

NAME = "sgd-noise"
_ROW_KEYS = ("sharpness", "trace", "train_loss", "train_error", "test_error", "test_loss")


def curvature(params, data, cfg: SGDNoiseConfig) -> tuple[np.ndarray, np.ndarray]:
    """Sharpness (Lanczos) and Hessian trace (Hutch++) of every member on the train set,
    one member at a time through one compiled program each."""
    from implicitbias.diagnostics import hutchpp_trace, sharpness

    loss = TrainLoss(jnp.asarray(data["X"]), jnp.asarray(data["Y"]))
    m = jax.tree.leaves(params)[0].shape[0]
    keys = jax.random.split(jax.random.PRNGKey(cfg.seed + 5), 2 * m)
    top, tr = [], []
    for i in range(m):
        p = jax.tree.map(lambda a, i=i: a[i], params)
        top.append(sharpness(loss, p, key=keys[2 * i], num_iters=cfg.lanczos_iters))
        tr.append(hutchpp_trace(loss, p, num_matvecs=cfg.trace_matvecs, key=keys[2 * i + 1]))
    return np.asarray(top, dtype=np.float64), np.asarray(tr, dtype=np.float64)


def _members(cfg: SGDNoiseConfig, data: dict):
    """Batch-size-major, then learning rate, then seed; the same inits everywhere."""
    lrs = np.asarray(cfg.mlp_learning_rates, dtype=np.float64)
    sizes, s = list(cfg.mlp_batch_sizes), cfg.mlp_seeds
    inits = [
        init_mlp(jax.random.PRNGKey(cfg.seed * 1000 + i), (64, cfg.mlp_hidden, 10))
        for i in range(s)
    ]
    groups = len(sizes) * len(lrs)
    params = jax.tree.map(lambda *a: jnp.concatenate([jnp.stack(a)] * groups), *inits)
    width, m = max(sizes), groups * s
    weights = np.zeros((m, width))
    for k, b in enumerate(sizes):
        weights[k * len(lrs) * s : (k + 1) * len(lrs) * s, :b] = 1.0 / b
    train = {
        "X": np.broadcast_to(data["X"], (m, *data["X"].shape)),
        "Y": np.broadcast_to(data["Y"], (m, *data["Y"].shape)),
        "weights": weights,
    }
    lr = np.tile(np.repeat(lrs, s), len(sizes))
    return params, train, lr, inits


def _train(cfg: SGDNoiseConfig, data: dict):
    params, train, lr, inits = _members(cfg, data)
    aux = {"X_te": data["X_te"], "Y_te": data["Y_te"], "labels_te": data["labels_te"]}
    traj = engine.train(
        square_loss,
        params,
        cfg.optimizer,
        steps=cfg.mlp_steps,
        data=train,
        data_axis=0,
        aux=aux,
        hparams={"learning_rate": lr},
        metrics=classification_metrics,
        sampler=PaddedSampler(max(cfg.mlp_batch_sizes)),
        key=jax.random.PRNGKey(cfg.seed + 11),
        num_logs=41,
        spacing="linear",
        on_divergence="continue",
        description=f"{NAME}: MLP, {cfg.optimizer.label}, batch sizes {list(cfg.mlp_batch_sizes)}",
    )
    return traj, lr, inits


def _rows(cfg: SGDNoiseConfig, traj, top, tr) -> list[dict[str, Any]]:
    """One row per (batch size, learning rate): means and stds over seeds."""
    lrs, s, rows = cfg.mlp_learning_rates, cfg.mlp_seeds, []
    for k, b in enumerate(cfg.mlp_batch_sizes):
        for j, lr in enumerate(lrs):
            sl = slice((k * len(lrs) + j) * s, (k * len(lrs) + j + 1) * s)
            row = {
                "batch_size": int(b),
                "learning_rate": float(lr),
                "eta_over_batch": float(lr / b),
                "full_batch": bool(b >= cfg.mlp_train),
            }
            values = (top[sl], tr[sl], traj.metrics["loss"][-1, sl])
            values += tuple(traj.metrics[n][-1, sl] for n in _ROW_KEYS[3:])
            for name, v in zip(_ROW_KEYS, values, strict=True):
                row[name] = float(np.mean(v))
                row[f"{name}_std"] = float(np.std(v, ddof=1)) if s > 1 else float("nan")
            row["two_over_eta"] = 2.0 / float(lr)
            rows.append(row)
    return rows


def run_mlp(cfg: SGDNoiseConfig, results: Results) -> None:
    """Train the grid, measure the curvature; fill ``mlp`` and the ``mlp_*`` arrays."""
    data = digits_split(cfg.mlp_train, cfg.seed)
    traj, lr, inits = _train(cfg, data)
    top, tr = curvature(jax.tree.map(jnp.asarray, traj.params), data, cfg)
    rows = _rows(cfg, traj, top, tr)
    s = cfg.mlp_seeds
    matched = matched_train_loss(traj, rows, s)
    x = [r["eta_over_batch"] for r in rows]
    results.scalars["mlp"] = {
        "optimizer": cfg.optimizer.label,
        "matched_train_loss": matched,
        "spearman_eta_over_b_test_error_matched": spearman(
            x, [r["test_error_at_matched_loss"] for r in rows]
        ),
        "rows": rows,
        "num_params": int(sum(a.size for a in jax.tree.leaves(inits[0]))),
        "train_examples": cfg.mlp_train,
        "test_examples": int(len(data["labels_te"])),
        **{f"spearman_eta_over_b_{k}": spearman(x, [r[k] for r in rows]) for k in _SPEARMAN},
    }
    table = ("batch_size", "learning_rate", "eta_over_batch", *_ROW_KEYS[:2], *_TABLE_TAIL)
    results.arrays.update(
        mlp_steps=traj.steps,
        mlp_loss=traj.metrics["loss"],
        mlp_test_error=traj.metrics["test_error"],
        mlp_member_batch=np.repeat(cfg.mlp_batch_sizes, len(cfg.mlp_learning_rates) * s),
        mlp_member_lr=lr,
        mlp_table=np.array([[r[k] for k in table] for r in rows]),
    )


_SPEARMAN = ("sharpness", "trace", "test_error", "train_loss")
_TABLE_TAIL = ("train_error", "test_error", "train_loss")


def matched_train_loss(traj, rows: list[dict], s: int) -> float:
    """Test error of every setting at the first logged step where its train loss is at or
    below a loss that every member reaches (the largest of the members' lowest logged
    losses): a comparison at equal fit, which equal step counts are not. Adds
    ``test_error_at_matched_loss`` and ``step_at_matched_loss`` to ``rows``."""
    loss, err = traj.metrics["loss"], traj.metrics["test_error"]
    target = float(np.nanmax(np.nanmin(loss, axis=0)))
    first = np.argmax(loss <= target, axis=0)  # (members,)
    at = err[first, np.arange(loss.shape[1])]
    for i, row in enumerate(rows):
        row["test_error_at_matched_loss"] = float(at[i * s : (i + 1) * s].mean())
        row["step_at_matched_loss"] = float(traj.steps[first[i * s : (i + 1) * s]].mean())
    return target


def spearman(x, y) -> float:
    """Spearman's rank correlation; NaN with fewer than 3 points or a non-finite value."""
    if len(x) < 3 or not np.all(np.isfinite(y)):
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)
