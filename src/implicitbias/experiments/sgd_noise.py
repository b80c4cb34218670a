"""SGD noise and batch size: what changes with the batch size, and what theory predicts.

Command::

    implicitbias run sgd-noise --preset seed-000   # seed 000 section 6 exactly, ~5 s
    implicitbias run sgd-noise                     # + a tanh MLP on scikit-learn digits

Part (i), convex. Seed 000 section 6: ``RandomState(55)`` draws ``X`` (200 x 15), then
``w_true * 0.5``, then the noise ``0.3 * randn(200)``; the first 150 rows train. SGD from
``w = 0`` with step 0.01 for 3000 steps, each step on ``rng.choice(150, B,
replace=False)`` with ``rng = RandomState(42)`` (seed repetition ``s`` uses
``RandomState(42 + s)``; ``s = 0`` is the seed's own index stream), for batch sizes 1, 8,
32, 128 and 150 (full batch), float64; every (batch size, seed) pair is a member of one
vmapped run (minibatches padded to one width and weighted).

Theory for this problem (least squares, ``X`` of full column rank): the minimizer
``w_hat = X^+ y`` is unique, full-batch GD converges to it at the rate
``(1 - eta lambda_min)^t``, and constant-step SGD does not converge but fluctuates around
it: the mean error obeys ``E e_{t+1} = (I - eta H) E e_t`` (so ``E w_t -> w_hat``) and the
covariance tends to the solution ``Sigma`` of the exact moment recursion
``Sigma = E[(I - eta H_B) Sigma (I - eta H_B)] + eta^2 C_B`` (``H_B``: minibatch Hessian,
``C_B``: minibatch gradient covariance at ``w_hat``, both with the finite-population factor
``(n - B) / (B (n - 1))``; Pflug 1986, Mandt, Hoffman & Blei 2017 JMLR). Then
``E train MSE = MSE(w_hat) + tr(H Sigma)``, ``E test MSE = MSE_test(w_hat) +
tr(H_test Sigma)`` and ``E ||w||^2 = ||w_hat||^2 + tr Sigma``: smaller batches make all
three larger *in expectation*. Noise cannot act as a useful regularizer when the
minimizer is unique and the noise has zero mean.

Part (ii), non-convex: a tanh MLP (64-32-10, MSE on one-hot targets) on scikit-learn's
digits, SGD for each batch size and learning rate (learning rates and seeds batched per
batch size), then the final sharpness (Lanczos) and Hessian trace (Hutch++) on the
training set, and train/test error; ``eta / B`` is the axis along which Keskar et al. 2017
(ICLR) and Jastrzebski et al. 2017 relate the noise to flatness. Every run takes the same
number of steps, so small batches are also less trained.

Measured (docs/experiments/sgd-noise.md): on ``seed-000`` the means over 8 seeds match the
theory's expected values (e.g. test MSE 0.0822 at batch 1 vs 0.0825 predicted, 0.0755 at
full batch); batch 1 has a significantly *higher* test MSE than full batch (z = +2.85),
contrary to the seed, and no significant difference in ``||w||``. On the MLP, larger
``eta / B`` ends flatter (Spearman -0.82 with sharpness) but not with lower test error.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from implicitbias import engine, theory
from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, param
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment, register
from implicitbias.optim import gd
from implicitbias.runs.results import Results

NAME = "sgd-noise"


@dataclasses.dataclass(frozen=True)
class SGDNoiseConfig(Config):
    """Batch-size sweeps: linear regression (seed 000 section 6) and a tanh MLP on digits."""

    linear: bool = param(True, "run part (i): linear regression")
    n: int = param(200, "(i) examples drawn", low=2)
    dim: int = param(15, "(i) features", low=1)
    n_train: int = param(150, "(i) the first n_train examples train, the rest test", low=1)
    w_scale: float = param(0.5, "(i) w_true = w_scale * randn(dim)", low=0)
    noise: float = param(0.3, "(i) label noise standard deviation", low=0)
    learning_rate: float = param(0.01, "(i) SGD step", low=0, low_open=True)
    steps: int = param(3000, "(i) SGD steps", low=1)
    batch_sizes: tuple[int, ...] = param(
        (1, 8, 32, 128, 150), "(i) batch sizes (n_train = full batch)", low=1
    )
    num_seeds: int = param(
        8, "(i) index streams RandomState(sampling_seed + s) per batch size", low=1
    )
    sampling_seed: int = param(42, "(i) seed of the first index stream (the seed's 42)", low=0)
    window: float = param(
        0.5, "(i) time averages use the last this fraction of steps", low=0, low_open=True, high=1
    )
    num_logs: int = param(301, "(i) logged steps (linearly spaced)", low=2)
    mlp: bool = param(True, "run part (ii): tanh MLP on scikit-learn digits")
    mlp_hidden: int = param(32, "(ii) hidden width", low=1)
    mlp_train: int = param(
        500, "(ii) training examples (the rest of the 1797 test)", low=10, high=1700
    )
    mlp_batch_sizes: tuple[int, ...] = param(
        (8, 32, 128, 500), "(ii) batch sizes (mlp_train = full batch)", low=1
    )
    mlp_learning_rates: tuple[float, ...] = param(
        (0.05, 0.2), "(ii) SGD steps", low=0, low_open=True
    )
    mlp_seeds: int = param(2, "(ii) init and sampling seeds per setting", low=1)
    mlp_steps: int = param(2000, "(ii) SGD steps (the same for every batch size)", low=1)
    lanczos_iters: int = param(30, "(ii) Lanczos iterations for the sharpness", low=2)
    trace_matvecs: int = param(60, "(ii) Hutch++ Hessian-vector products for the trace", low=3)

    PRESETS = {
        "smoke": dict(
            steps=400,
            num_seeds=3,
            batch_sizes=(1, 32, 150),
            num_logs=41,
            mlp_train=300,
            mlp_batch_sizes=(16, 300),
            mlp_learning_rates=(0.1,),
            mlp_seeds=1,
            mlp_steps=200,
            lanczos_iters=10,
            trace_matvecs=9,
        ),
        "default": {},
        "seed-000": dict(seed=55, mlp=False),
        "mlp-small": dict(
            linear=False,
            x64=False,
            mlp_train=500,
            mlp_batch_sizes=(8, 64, 500),
            mlp_learning_rates=(0.05, 0.2),
            mlp_steps=1500,
            mlp_seeds=2,
            lanczos_iters=20,
            trace_matvecs=30,
        ),
    }

    def validate(self) -> None:
        if self.linear:
            if self.n_train >= self.n:
                raise ConfigError("n_train", f"an integer < n (= {self.n})", self.n_train)
            bad = [b for b in self.batch_sizes if b > self.n_train]
            if bad:
                raise ConfigError(
                    "batch_sizes", f"sizes <= n_train (= {self.n_train})", self.batch_sizes
                )
        if self.mlp:
            bad = [b for b in self.mlp_batch_sizes if b > self.mlp_train]
            if bad:
                raise ConfigError(
                    "mlp_batch_sizes",
                    f"sizes <= mlp_train (= {self.mlp_train})",
                    self.mlp_batch_sizes,
                )
        if not (self.linear or self.mlp):
            raise ConfigError("linear", "true, or mlp=true (at least one part)", self.linear)


# ---------------------------------------------------------------------------------------
# part (i): linear regression
# ---------------------------------------------------------------------------------------
def seed_data(cfg: SGDNoiseConfig) -> dict[str, np.ndarray]:
    """Seed 000 section 6's draws, in its order: X, w_true, noise."""
    rs = np.random.RandomState(cfg.seed)
    X = rs.randn(cfg.n, cfg.dim)
    w_true = rs.randn(cfg.dim) * cfg.w_scale
    y = X @ w_true + cfg.noise * rs.randn(cfg.n)
    k = cfg.n_train
    return {"X": X[:k], "y": y[:k], "X_te": X[k:], "y_te": y[k:], "w_true": w_true}


def index_tables(n: int, batch: int, steps: int, seeds: list[int]) -> np.ndarray:
    """``(len(seeds), steps, batch)``: ``RandomState(s).choice(n, batch, replace=False)``
    once per step, as the seed's ``train_sgd`` draws them."""
    out = np.empty((len(seeds), steps, batch), dtype=np.int32)
    for i, s in enumerate(seeds):
        rng = np.random.RandomState(s)
        for t in range(steps):
            out[i, t] = rng.choice(n, size=batch, replace=False)
    return out


class TableSampler(NamedTuple):
    """Minibatches read from a precomputed ``data["table"]`` of indices (one row per step).

    The engine's :class:`~implicitbias.engine.Sampler` draws from JAX keys; this one
    replays NumPy's ``RandomState.choice`` streams, so the seed's runs are reproduced. Rows
    are padded to one width (``batch_size``) so that every batch size runs in one program:
    ``data["weights"]`` (``1/B`` on a member's first ``B`` entries, 0 after) weights them.
    """

    batch_size: int

    def take(self, data: Any, key: jax.Array, step: jax.Array, n: int) -> Any:
        del key, n
        idx = data["table"][step]
        return {
            "X": jnp.take(data["X"], idx, axis=0),
            "y": jnp.take(data["y"], idx, axis=0),
            "w_batch": data["weights"],
        }


def half_mse(w: jax.Array, batch: dict) -> jax.Array:
    """:math:`\\frac{1}{2B}\\lVert X_B w - y_B\\rVert^2` (the seed's gradient is its grad);
    a padded minibatch carries its weights in ``w_batch``."""
    r2 = (batch["X"] @ w - batch["y"]) ** 2
    if "w_batch" in batch:
        return 0.5 * jnp.sum(batch["w_batch"] * r2)
    return 0.5 * jnp.mean(r2)


def linear_metrics(w, data, aux) -> dict[str, jax.Array]:
    """MSEs as the seed prints them (``mean(r^2)``), ``||w||`` and ``||w - w_hat||^2``."""
    return {
        "train_mse": jnp.mean((data["X"] @ w - data["y"]) ** 2),
        "test_mse": jnp.mean((aux["X_te"] @ w - aux["y_te"]) ** 2),
        "norm": jnp.linalg.norm(w),
        "dist2": jnp.sum((w - aux["w_hat"]) ** 2),
    }


def stationary_covariance(X: np.ndarray, y: np.ndarray, lr: float, batch: int) -> np.ndarray:
    """The exact stationary covariance of constant-step SGD around ``w_hat`` (NumPy).

    ``e_{t+1} = (I - eta H_B) e_t - eta g_B`` with ``g_B`` the minibatch gradient at
    ``w_hat`` (zero mean over batches), minibatches of ``batch`` distinct examples drawn
    afresh each step. ``Sigma = E[A Sigma A] + eta^2 C_B``, ``A = I - eta H_B``, solved as a
    ``d^2 x d^2`` linear system (the cross term vanishes because ``E e = 0`` at
    stationarity and ``e_t`` is independent of the batch of step ``t``). NaN where the
    recursion's operator has spectral radius >= 1 (the second moment diverges).
    """
    n, d = X.shape
    w_hat = theory.pinv(X) @ y
    r = X @ w_hat - y
    H = X.T @ X / n
    if batch >= n:
        return np.zeros((d, d))
    f = (n - batch) / (batch * (n - 1))  # variance factor of a mean without replacement
    G = X * r[:, None]  # per-example gradients at w_hat (they sum to 0)
    C = f * (G.T @ G / n)
    D = np.einsum("ni,nj->nij", X, X) - H  # per-example Hessian deviations
    DD = f * np.einsum("nij,nkl->ikjl", D, D).reshape(d * d, d * d) / n
    A = np.eye(d) - lr * H
    M = np.kron(A, A) + lr**2 * DD
    if np.max(np.abs(np.linalg.eigvals(M))) >= 1.0:
        # The second moment grows without bound (the step is too large for single
        # examples even where GD is stable): no stationary covariance.
        return np.full((d, d), np.nan)
    vec = np.linalg.solve(np.eye(d * d) - M, lr**2 * C.reshape(-1))
    S = vec.reshape(d, d)
    return 0.5 * (S + S.T)


def _train_linear(cfg: SGDNoiseConfig, X, y, aux, seeds):
    """Every (batch size, seed) pair as one member of one compiled run, minibatches padded
    to the largest batch size and weighted (full batch: all rows, weight 1/n)."""
    n, width = X.shape[0], max(cfg.batch_sizes)
    tables, weights = [], []
    index_type = np.int16 if n < 2**15 else np.int32  # the tables dominate the memory
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
    m = len(seeds) * len(cfg.batch_sizes)
    data = {
        "X": np.broadcast_to(X, (m, *X.shape)),
        "y": np.broadcast_to(y, (m, n)),
        "table": np.concatenate(tables),
        "weights": np.concatenate(weights),
    }
    return engine.train(
        half_mse,
        np.zeros((m, cfg.dim)),
        gd,
        steps=cfg.steps,
        data=data,
        data_axis=0,
        aux=aux,
        hparams={"learning_rate": cfg.learning_rate},
        metrics=linear_metrics,
        sampler=TableSampler(width),
        num_logs=cfg.num_logs,
        spacing="linear",
        description=f"{NAME}: linear, batch sizes {list(cfg.batch_sizes)}",
    )


def run_linear(cfg: SGDNoiseConfig) -> tuple[dict, dict, dict]:
    data = seed_data(cfg)
    X, y, X_te, y_te = data["X"], data["y"], data["X_te"], data["y_te"]
    n = X.shape[0]
    w_hat = theory.pinv(X) @ y
    H, H_te = X.T @ X / n, X_te.T @ X_te / X_te.shape[0]
    contraction = theory.gd_contraction(X, cfg.learning_rate)
    seeds = [cfg.sampling_seed + s for s in range(cfg.num_seeds)]
    aux = {"X_te": X_te, "y_te": y_te, "w_hat": w_hat}
    per_batch: list[dict] = []
    arrays: dict[str, np.ndarray] = {}
    mse_hat = float(np.mean((X @ w_hat - y) ** 2))
    mse_te_hat = float(np.mean((X_te @ w_hat - y_te) ** 2))
    s, sizes = len(seeds), list(cfg.batch_sizes)
    traj = _train_linear(cfg, X, y, aux, seeds)
    for k, b in enumerate(sizes):
        cols = slice(k * s, (k + 1) * s)
        metrics = {name: v[:, cols] for name, v in traj.metrics.items()}
        sigma = stationary_covariance(X, y, cfg.learning_rate, b)
        last = traj.steps >= cfg.steps * (1 - cfg.window)
        final = {k: metrics[k][-1] for k in ("train_mse", "test_mse", "norm", "dist2")}
        measured_dist2 = float(metrics["dist2"][last].mean())
        predicted = float(np.trace(sigma))
        per_batch.append(
            {
                "batch_size": b,
                **{f"{k}_mean": float(v.mean()) for k, v in final.items()},
                **{
                    f"{k}_std": float(v.std(ddof=1)) if s > 1 else float("nan")
                    for k, v in final.items()
                },
                **{f"{k}_per_seed": v.tolist() for k, v in final.items()},
                "dist2_time_average": measured_dist2,
                "dist2_predicted": predicted,
                "dist2_ratio": measured_dist2 / predicted if predicted > 0 else float("nan"),
                "predicted_train_mse": mse_hat + float(np.trace(H @ sigma)),
                "predicted_test_mse": mse_te_hat + float(np.trace(H_te @ sigma)),
                "predicted_norm2": float(w_hat @ w_hat + np.trace(sigma)),
                "train_mse_time_average": float(metrics["train_mse"][last].mean()),
                "test_mse_time_average": float(metrics["test_mse"][last].mean()),
            }
        )
        for name in ("train_mse", "test_mse", "norm", "dist2"):
            arrays[f"linear_b{b}_{name}"] = metrics[name]
    arrays["linear_steps"] = traj.steps
    ref = {
        "w_hat_norm": float(np.linalg.norm(w_hat)),
        "train_mse_w_hat": mse_hat,
        "test_mse_w_hat": mse_te_hat,
        "lambda_min": contraction["lambda_min_plus"],
        "lambda_max": contraction["lambda_max"],
        "gd_error_bound": float(contraction["rate"] ** cfg.steps * np.linalg.norm(w_hat)),
        "transient_at_window": float(
            contraction["rate"] ** (cfg.steps * (1 - cfg.window)) * np.linalg.norm(w_hat)
        ),
    }
    return ref, {"per_batch": per_batch, "comparisons": _comparisons(per_batch, cfg)}, arrays


def _comparisons(per_batch: list[dict], cfg: SGDNoiseConfig) -> dict[str, Any]:
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


# ---------------------------------------------------------------------------------------
# part (ii): tanh MLP on digits
# ---------------------------------------------------------------------------------------
def digits_split(cfg: SGDNoiseConfig) -> dict[str, np.ndarray]:
    """scikit-learn digits, pixels / 16, shuffled by ``seed``; one-hot targets."""
    from sklearn.datasets import load_digits

    d = load_digits()
    perm = np.random.RandomState(cfg.seed).permutation(len(d.target))
    X, labels = d.data[perm] / 16.0, d.target[perm]
    Y = np.eye(10)[labels]
    k = cfg.mlp_train
    return {
        "X": X[:k],
        "Y": Y[:k],
        "labels": labels[:k],
        "X_te": X[k:],
        "Y_te": Y[k:],
        "labels_te": labels[k:],
    }


class PaddedSampler(NamedTuple):
    """``width`` distinct random examples per step (a fresh draw each step, as seed 000's
    ``choice(..., replace=False)``), weighted by ``data["weights"]`` (``1/B`` on a member's
    first ``B``, 0 after), so that every batch size runs in one compiled program."""

    batch_size: int

    def take(self, data: Any, key: jax.Array, step: jax.Array, n: int) -> Any:
        idx = jax.random.permutation(jax.random.fold_in(key, step), n)[: self.batch_size]
        return {
            "X": jnp.take(data["X"], idx, axis=0),
            "Y": jnp.take(data["Y"], idx, axis=0),
            "w_batch": data["weights"],
        }


def _mlp_loss(params, batch):
    from implicitbias.problems.mlp import mlp_apply, mse_loss

    if "w_batch" in batch:
        r = mlp_apply(params, batch["X"], "tanh") - batch["Y"]
        return 0.5 * jnp.sum(batch["w_batch"] * jnp.sum(r * r, axis=-1))
    return mse_loss(params, batch["X"], batch["Y"], "tanh")


def _mlp_metrics(params, data, aux):
    from implicitbias.problems.mlp import mlp_apply, mse_loss

    err = jnp.mean(jnp.argmax(mlp_apply(params, data["X"]), -1) != jnp.argmax(data["Y"], -1))
    err_te = jnp.mean(jnp.argmax(mlp_apply(params, aux["X_te"]), -1) != aux["labels_te"])
    return {
        "train_error": err,
        "test_error": err_te,
        "test_loss": mse_loss(params, aux["X_te"], aux["Y_te"], "tanh"),
    }


class _TrainLoss(NamedTuple):
    """``params -> L(params)`` on a fixed data set; equal data give equal (hashable by
    identity of the arrays) loss objects, so the diagnostics compile once per run."""

    X: Any
    Y: Any

    def __call__(self, params):
        from implicitbias.problems.mlp import mse_loss

        return mse_loss(params, self.X, self.Y, "tanh")

    def __hash__(self) -> int:
        return hash((id(self.X), id(self.Y)))

    def __eq__(self, other) -> bool:
        return isinstance(other, _TrainLoss) and self.X is other.X and self.Y is other.Y


def _curvature(params, data, cfg: SGDNoiseConfig) -> tuple[np.ndarray, np.ndarray]:
    """Sharpness (Lanczos) and Hessian trace (Hutch++) of every member on the train set,
    one member at a time through one compiled program each."""
    from implicitbias.diagnostics import hutchpp_trace, sharpness

    loss = _TrainLoss(jnp.asarray(data["X"]), jnp.asarray(data["Y"]))
    m = jax.tree.leaves(params)[0].shape[0]
    keys = jax.random.split(jax.random.PRNGKey(cfg.seed + 5), 2 * m)
    top, tr = [], []
    for i in range(m):
        p = jax.tree.map(lambda a, i=i: a[i], params)
        top.append(sharpness(loss, p, key=keys[2 * i], num_iters=cfg.lanczos_iters))
        tr.append(hutchpp_trace(loss, p, num_matvecs=cfg.trace_matvecs, key=keys[2 * i + 1]))
    return np.asarray(top, dtype=np.float64), np.asarray(tr, dtype=np.float64)


def run_mlp(cfg: SGDNoiseConfig) -> tuple[dict, dict]:
    from implicitbias.problems.mlp import init_mlp

    data = digits_split(cfg)
    n = cfg.mlp_train
    aux = {"X_te": data["X_te"], "Y_te": data["Y_te"], "labels_te": data["labels_te"]}
    lrs = np.asarray(cfg.mlp_learning_rates, dtype=np.float64)
    sizes = list(cfg.mlp_batch_sizes)
    s = cfg.mlp_seeds
    inits = [
        init_mlp(jax.random.PRNGKey(cfg.seed * 1000 + i), (64, cfg.mlp_hidden, 10))
        for i in range(s)
    ]
    # Members: batch-size-major, then learning rate, then seed; the same inits everywhere.
    groups = len(sizes) * len(lrs)
    params = jax.tree.map(lambda *a: jnp.concatenate([jnp.stack(a)] * groups), *inits)
    width = max(sizes)
    weights = np.zeros((groups * s, width))
    for k, b in enumerate(sizes):
        weights[k * len(lrs) * s : (k + 1) * len(lrs) * s, :b] = 1.0 / b
    m = groups * s
    train = {
        "X": np.broadcast_to(data["X"], (m, *data["X"].shape)),
        "Y": np.broadcast_to(data["Y"], (m, *data["Y"].shape)),
        "weights": weights,
    }
    hp = {"learning_rate": np.tile(np.repeat(lrs, s), len(sizes))}
    traj = engine.train(
        _mlp_loss,
        params,
        gd,
        steps=cfg.mlp_steps,
        data=train,
        data_axis=0,
        aux=aux,
        hparams=hp,
        metrics=_mlp_metrics,
        sampler=PaddedSampler(width),
        key=jax.random.PRNGKey(cfg.seed + 11),
        num_logs=41,
        spacing="linear",
        on_divergence="continue",
        description=f"{NAME}: MLP, batch sizes {sizes}",
    )
    top, tr = _curvature(
        jax.tree.map(jnp.asarray, traj.params), {"X": data["X"], "Y": data["Y"]}, cfg
    )
    rows = []
    for k, b in enumerate(sizes):
        for j, lr in enumerate(lrs):
            sl = slice((k * len(lrs) + j) * s, (k * len(lrs) + j + 1) * s)
            row = {
                "batch_size": int(b),
                "learning_rate": float(lr),
                "eta_over_batch": float(lr / b),
                "full_batch": bool(b >= n),
            }
            for name, v in (
                ("sharpness", top[sl]),
                ("trace", tr[sl]),
                ("train_loss", traj.metrics["loss"][-1, sl]),
                ("train_error", traj.metrics["train_error"][-1, sl]),
                ("test_error", traj.metrics["test_error"][-1, sl]),
                ("test_loss", traj.metrics["test_loss"][-1, sl]),
            ):
                row[name] = float(np.mean(v))
                row[f"{name}_std"] = float(np.std(v, ddof=1)) if s > 1 else float("nan")
            row["two_over_eta"] = 2.0 / float(lr)
            rows.append(row)
    arrays = {
        "mlp_steps": traj.steps,
        "mlp_loss": traj.metrics["loss"],
        "mlp_test_error": traj.metrics["test_error"],
        "mlp_member_batch": np.repeat(sizes, len(lrs) * s),
        "mlp_member_lr": hp["learning_rate"],
    }
    matched = _matched_train_loss(traj, rows, s)
    x = [r["eta_over_batch"] for r in rows]
    summary = {
        "matched_train_loss": matched,
        "spearman_eta_over_b_test_error_matched": _spearman(
            x, [r["test_error_at_matched_loss"] for r in rows]
        ),
        "rows": rows,
        "num_params": int(sum(a.size for a in jax.tree.leaves(inits[0]))),
        "train_examples": n,
        "test_examples": int(len(data["labels_te"])),
        "spearman_eta_over_b_sharpness": _spearman(x, [r["sharpness"] for r in rows]),
        "spearman_eta_over_b_trace": _spearman(x, [r["trace"] for r in rows]),
        "spearman_eta_over_b_test_error": _spearman(x, [r["test_error"] for r in rows]),
        "spearman_eta_over_b_train_loss": _spearman(x, [r["train_loss"] for r in rows]),
    }
    arrays["mlp_table"] = np.array(
        [
            [
                r["batch_size"],
                r["learning_rate"],
                r["eta_over_batch"],
                r["sharpness"],
                r["trace"],
                r["train_error"],
                r["test_error"],
                r["train_loss"],
            ]
            for r in rows
        ]
    )
    return summary, arrays


def _matched_train_loss(traj, rows: list[dict], s: int) -> float:
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


def _spearman(x, y) -> float:
    if len(x) < 3 or not np.all(np.isfinite(y)):
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def run(cfg: SGDNoiseConfig) -> Results:
    """Part (i) and/or (ii); no printing."""
    results = Results(NAME, "", cfg.to_dict())
    if cfg.linear:
        ref, lin, arrays = run_linear(cfg)
        results.scalars["theory"] = ref
        results.scalars["linear"] = lin
        results.arrays.update(arrays)
        results.arrays["linear_batch_sizes"] = np.asarray(cfg.batch_sizes)
    if cfg.mlp:
        summary, arrays = run_mlp(cfg)
        results.scalars["mlp"] = summary
        results.arrays.update(arrays)
    return results


def plot(results: Results) -> dict[str, Any]:
    from implicitbias.experiments import sgd_noise_plots

    return sgd_noise_plots.all_figures(results)


# ---------------------------------------------------------------------------------------
# claims
# ---------------------------------------------------------------------------------------
SEED6 = "seed 000, section 6"
_SEED = {"quick": "seed-000", "full": "seed-000"}
# The MLP claims take about a minute (training + Lanczos + Hutch++): `full` level only.
_MLP = {"full": "default"}


def _claim(name, statement, quantity, measure, criterion, presets, source=SEED6):
    also: tuple[str, ...] = ()
    return Claim.legacy(
        f"{NAME}/{name}", statement, source, NAME, presets, quantity, measure, criterion, also
    )


CLAIMS = (
    _claim(
        "seed-000-test",
        "Batch 1 (most noise) generalizes best: its test MSE is below the full batch's.",
        "(test MSE at batch 1 - at full batch) / its standard error over "
        "seeds (<= -2: significantly lower)",
        lambda r: r.get("linear.comparisons.test_mse.z"),
        Criterion("<=", -2.0),
        _SEED,
    ),
    _claim(
        "seed-000-norm",
        "Smaller batches find a smaller ||w|| (0.841 at batch 1 vs 0.872 at full batch).",
        "(||w|| at batch 1 - at full batch) / its standard error over seeds",
        lambda r: r.get("linear.comparisons.norm.z"),
        Criterion("<=", -2.0),
        _SEED,
    ),
    _claim(
        "seed-000-train",
        "Batch 1 has a higher train MSE than the full batch.",
        "(train MSE at batch 1 - at full batch) / its standard error over seeds",
        lambda r: r.get("linear.comparisons.train_mse.z"),
        Criterion(">=", 2.0),
        _SEED,
    ),
    _claim(
        "sgd-stationary-covariance",
        "Constant-step SGD fluctuates around the unique "
        "least-squares solution with the covariance of the exact moment recursion.",
        "max over batch sizes < n of |time-averaged ||w - w_hat||^2 / tr Sigma - 1|",
        lambda r: r.get("linear.comparisons.max_dist2_ratio_error"),
        Criterion("<=", 0.15),
        _SEED,
        source="Pflug 1986; Mandt, Hoffman & Blei 2017 (JMLR)",
    ),
    _claim(
        "mlp-sharpness-vs-noise",
        "More SGD noise (larger eta / B) ends at flatter minima (lower top Hessian eigenvalue).",
        "Spearman correlation of eta / B with the final sharpness over the (B, eta) grid",
        lambda r: r.get("mlp.spearman_eta_over_b_sharpness"),
        Criterion("<=", -0.5),
        _MLP,
        source="Keskar et al. 2017 (ICLR); Jastrzebski et al. 2017",
    ),
    _claim(
        "mlp-test-error-vs-noise",
        "More SGD noise (larger eta / B) generalizes better (lower test error).",
        "Spearman correlation of eta / B with the final test error over the (B, eta) grid",
        lambda r: r.get("mlp.spearman_eta_over_b_test_error"),
        Criterion("<=", -0.5),
        _MLP,
        source="Keskar et al. 2017 (ICLR); seed 000, section 6",
    ),
)

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="batch size and SGD noise: linear regression (seed 000) and an MLP",
        config_cls=SGDNoiseConfig,
        run=run,
        plot=plot,
        claims=CLAIMS,
        doc=__doc__ or "",
    )
)
