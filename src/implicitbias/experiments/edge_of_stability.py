"""Edge of stability: full-batch GD drives the sharpness up to 2/eta and keeps it there.

Command::

    implicitbias run edge-of-stability                    # synthetic task, about a minute
    implicitbias run edge-of-stability --preset fashion   # 5000 Fashion-MNIST images, ~6 min
    implicitbias run edge-of-stability --preset seed-000  # seed 000, section 5 (its code)

Setting (Cohen, Kaur, Li, Kolter & Talwalkar 2021, ICLR): a tanh MLP trained by full-batch
GD on the square loss :math:`\\frac1{2n}\\sum_i\\lVert f(x_i)-y_i\\rVert^2` with one-hot
targets, several step sizes :math:`\\eta` in one vmapped program. The train loss is recorded
at every step and the sharpness :math:`S(\\theta)=\\lambda_{\\max}(\\nabla^2L(\\theta))` every
``sharpness_every`` steps by Lanczos (:mod:`implicitbias.diagnostics`), inside the compiled
trajectory, warm-started from the previous top eigenvector.

Theory. On a quadratic, GD is stable iff :math:`\\eta S < 2`. Cohen et al. observe on neural
nets: (i) *progressive sharpening* -- while :math:`S < 2/\\eta` the sharpness rises; (ii) at
the *edge of stability* :math:`S` then hovers at, or just above, :math:`2/\\eta`, while the
loss keeps decreasing over long windows though not monotonically; (iii) GD follows gradient
flow (compared at equal time :math:`\\tau=\\eta t`) until :math:`S` first reaches
:math:`2/\\eta`; (iv) for heavy-ball momentum :math:`\\beta` the threshold is
:math:`2(1+\\beta)/\\eta`. Gradient flow here is RK4 with steps of ``eta_min /
flow_substeps`` (Cohen et al. also integrate it with Runge-Kutta).

Expected outcome (measured; docs/experiments/edge-of-stability.md has every preset): on
``default`` the sharpness rises from 2.39 to 2/eta and its median over the second half is
1.014-1.022 x 2/eta for eta = 0.25, 0.4, 0.6, and 1.003 x 2(1+beta)/eta for heavy ball
with beta = 0.5; GD's loss stays within 3.6-5.9 % of gradient flow's before the crossing
and is 7-15x off after it. On Fashion-MNIST the sharpness hovers 5-14 % above 2/eta. Seed
000's setup is not at the edge of stability: its code's first-layer step is lr/n, and the
sharpness that governs that update ends at 0.24 x 2/lr.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, param
from implicitbias.errors import ConfigError
from implicitbias.experiments.edge_of_stability_dynamics import (
    flow_comparison,
    member_summary,
    reference_top_eigenvalues,
    run_flow,
    run_gd,
)
from implicitbias.experiments.registry import Experiment, register
from implicitbias.problems.mlp import init_mlp, num_params
from implicitbias.runs.results import Results

NAME = "edge-of-stability"
COHEN = "Cohen et al. 2021 (ICLR)"


# Seed 000 section 5: numpy seed 123, n=50, d=5, h=20 ReLU, no biases, lr 0.5, 2000 steps,
# its estimator every 50 steps.
_SEED_000 = dict(
    dataset="seed-000",
    seed=123,
    n=50,
    input_dim=5,
    hidden=(20,),
    activation="relu",
    bias=False,
    learning_rates=(0.5,),
    steps=2000,
    sharpness_every=50,
    momentum_learning_rates=(),
)


@dataclasses.dataclass(frozen=True)
class EdgeOfStabilityConfig(Config):
    """Full-batch GD on a tanh MLP with the square loss: sharpness vs 2/eta."""

    dataset: Literal["synthetic", "digits", "fashion-mnist", "seed-000"] = param(
        "synthetic",
        "data: Gaussian inputs labelled by a random teacher net, scikit-learn "
        "digits, a Fashion-MNIST subset, or seed 000's regression data",
    )
    n: int = param(500, "examples (synthetic, digits, fashion-mnist)", low=1)
    input_dim: int = param(20, "synthetic: input dimension", low=1)
    classes: int = param(4, "synthetic: classes (one-hot targets)", low=2)
    hidden: tuple[int, ...] = param((64, 64), "hidden widths", low=1)
    activation: Literal["tanh", "relu", "softplus", "gelu", "elu"] = param(
        "tanh", "activation between layers"
    )
    bias: bool = param(True, "layers with biases")
    init: Literal["uniform", "he"] = param(
        "uniform", "init: PyTorch's nn.Linear default (uniform +-1/sqrt(fan_in)) or He normal"
    )
    learning_rates: tuple[float, ...] = param(
        (0.25, 0.4, 0.6), "GD step sizes (one member each, one vmapped run)", low=0, low_open=True
    )
    momentum: float = param(0.5, "heavy-ball beta of the momentum members", low=0, high=0.999)
    momentum_learning_rates: tuple[float, ...] = param(
        (0.45,), "step sizes of heavy-ball members (threshold 2(1+beta)/eta)", low=0, low_open=True
    )
    steps: int = param(2000, "GD steps", low=2)
    sharpness_every: int = param(20, "Lanczos sharpness every this many steps", low=1)
    lanczos_iters: int = param(20, "Lanczos steps per sharpness estimate (warm-started)", low=1)
    flow: bool = param(True, "also integrate gradient flow (RK4) from the same init")
    flow_substeps: int = param(2, "RK4 step = min(eta) / flow_substeps", low=1)
    flow_horizon: float = param(
        2.0,
        "integrate gradient flow up to this multiple of the "
        "latest time eta t at which a GD member first reaches "
        "2/eta (capped at min(eta) * steps)",
        low=1,
    )
    track_tolerance: float = param(
        0.05,
        "GD tracks gradient flow while the relative difference of their losses stays within this",
        low=0,
        low_open=True,
    )
    num_windows: int = param(
        10, "windows for the loss-decrease check after 2/eta is reached", low=2
    )
    exact_max_params: int = param(
        3000,
        "exact Hessian (jax.hessian + eigh) as the "
        "reference when the net has at most this many "
        "parameters; else a 100-step cold Lanczos",
        low=1,
    )
    layer_lr_scales: tuple[float, ...] = param(
        (),
        "per-layer multipliers of the step (empty: plain GD); seed-000 uses (1/n, 1): its "
        "code divides the first layer's gradient by n twice",
        low=0,
        low_open=True,
    )
    data_root: str | None = param(
        None, "fashion-mnist: folder with the IDX files (default /usr/share/datasets/fashion-mnist)"
    )

    PRESETS = {
        "smoke": dict(
            n=100,
            hidden=(16, 16),
            steps=200,
            sharpness_every=10,
            learning_rates=(0.5, 0.8),
            momentum_learning_rates=(0.6,),
            lanczos_iters=10,
        ),
        "default": {},
        "quick": dict(n=200, hidden=(32, 32), steps=1000, learning_rates=(0.3, 0.6)),
        # beta = 0.9 as in Cohen et al.'s momentum runs, next to beta = 0.5.
        "momentum": dict(
            learning_rates=(0.4,), momentum=0.9, momentum_learning_rates=(0.3, 0.6, 0.9)
        ),
        "digits": dict(dataset="digits", n=1000, hidden=(64, 64)),
        # The setting of Cohen et al. on Fashion-MNIST: 5000 images, 200-200 tanh, float32.
        # (Too slow for the quick verify level on 2 cores: about 0.3 s per step for the
        # three members; its claims are on the full level. No gradient flow, no momentum.)
        "fashion": dict(
            dataset="fashion-mnist",
            n=5000,
            hidden=(200, 200),
            learning_rates=(0.15, 0.2, 0.3),
            steps=1000,
            sharpness_every=25,
            lanczos_iters=10,
            x64=False,
            flow=False,
            momentum_learning_rates=(),
        ),
        # Seed 000 section 5 exactly, its first-layer step included (see _SEED_000).
        "seed-000": dict(_SEED_000, layer_lr_scales=(0.02, 1.0)),
        # The same setup with the true gradient (what the seed's text describes).
        "seed-000-gd": dict(_SEED_000),
    }

    def validate(self) -> None:
        if self.steps % self.sharpness_every:
            raise ConfigError(
                "steps", f"a multiple of sharpness_every ({self.sharpness_every})", self.steps
            )
        if not self.learning_rates:
            raise ConfigError("learning_rates", "at least one step size", self.learning_rates)
        if self.dataset == "seed-000" and (
            self.hidden != (20,) or self.bias or self.activation != "relu"
        ):
            raise ConfigError(
                "hidden",
                "(20,) with activation=relu and bias=false for the seed-000 data (its network)",
                (self.hidden, self.activation, self.bias),
            )
        if self.layer_lr_scales and len(self.layer_lr_scales) != len(self.hidden) + 1:
            raise ConfigError(
                "layer_lr_scales",
                f"empty or one value per layer ({len(self.hidden) + 1})",
                self.layer_lr_scales,
            )
        if self.dataset == "digits" and self.n > 1797:
            raise ConfigError("n", "at most 1797 for digits", self.n)


# ---------------------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------------------
def load_problem(cfg: EdgeOfStabilityConfig):
    """``(X, Y, params0, seed_directions or None)`` in float64 NumPy / JAX."""
    if cfg.dataset == "seed-000":
        return seed000_problem(cfg)
    if cfg.dataset == "synthetic":
        X, labels = synthetic_task(cfg.n, cfg.input_dim, cfg.classes, cfg.seed)
    elif cfg.dataset == "digits":
        X, labels = digits_task(cfg.n, cfg.seed)
    else:
        from implicitbias.datasets import fashion_mnist

        X, labels = fashion_mnist.subset(cfg.n, seed=cfg.seed, root=cfg.data_root)
    c = int(labels.max()) + 1 if cfg.dataset != "synthetic" else cfg.classes
    Y = np.eye(c)[labels]  # one-hot, float64 on the host
    sizes = (X.shape[1], *cfg.hidden, c)
    params = init_mlp(
        jax.random.PRNGKey(cfg.seed), sizes, activation=cfg.activation, bias=cfg.bias, init=cfg.init
    )
    return X, Y, params, None


def synthetic_task(n: int, d: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs ``N(0, I_d)`` labelled by the argmax of a random tanh teacher
    ``d-32-classes`` (weights ``N(0, 1/fan_in)``); no data files needed."""
    rs = np.random.RandomState(seed)
    X = rs.randn(n, d)
    W1 = rs.randn(d, 32) / np.sqrt(d)
    W2 = rs.randn(32, classes) / np.sqrt(32)
    return X, np.argmax(np.tanh(X @ W1 * 2.0) @ W2, axis=1)


def digits_task(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` of scikit-learn's 8x8 digits (pixels / 16, centred), drawn by ``seed``."""
    from sklearn.datasets import load_digits

    data = load_digits()
    pick = np.sort(np.random.RandomState(seed).choice(len(data.target), n, replace=False))
    X = data.data[pick] / 16.0
    return X - X.mean(axis=0), data.target[pick]


def seed000_problem(cfg: EdgeOfStabilityConfig):
    """Seed 000 section 5: the draws in the snippet's order from ``RandomState(123)``.

    ``X = randn(n, d)``, ``y = sin(x_0) + cos(x_1)/2``, ``W1 = randn(h, d) sqrt(2/d)``,
    ``W2 = randn(1, h) sqrt(2/h)``, then at every estimate two draws ``randn(h, d)``,
    ``randn(1, h)`` for its random direction. Our layers hold ``W1.T`` and ``W2.T``.
    """
    rs = np.random.RandomState(cfg.seed)
    n, d, h = cfg.n, cfg.input_dim, cfg.hidden[0]
    X = rs.randn(n, d)
    y = np.sin(X[:, 0]) + 0.5 * np.cos(X[:, 1])
    W1 = rs.randn(h, d) * np.sqrt(2.0 / d)
    W2 = rs.randn(1, h) * np.sqrt(2.0 / h)
    params = [(jnp.asarray(W1.T), None), (jnp.asarray(W2.T), None)]
    dirs = []
    for _ in range(cfg.steps // cfg.sharpness_every):
        v1, v2 = rs.randn(h, d), rs.randn(1, h)
        v = np.concatenate([v1.T.ravel(), v2.T.ravel()])
        dirs.append(v / np.linalg.norm(v))
    return X, y[:, None], params, np.asarray(dirs)


# ---------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------
def run(cfg: EdgeOfStabilityConfig) -> Results:
    """GD members, gradient flow, references; no printing."""
    results = Results(NAME, "", cfg.to_dict())
    dtype = jnp.float64 if cfg.x64 else jnp.float32
    X, Y, params, dirs = load_problem(cfg)
    X, Y = jnp.asarray(X, dtype), jnp.asarray(Y, dtype)
    params = jax.tree.map(lambda a: jnp.asarray(a, dtype), params)
    P = num_params(params)
    n_blocks = cfg.steps // cfg.sharpness_every
    seed_dirs = dirs is not None
    if dirs is None:  # a random unit direction per estimate, for the seed's estimator
        rs = np.random.RandomState(cfg.seed + 1)
        dirs = rs.randn(n_blocks, P)
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    etas = [*cfg.learning_rates, *cfg.momentum_learning_rates]
    betas = [0.0] * len(cfg.learning_rates) + [cfg.momentum] * len(cfg.momentum_learning_rates)
    key = jax.random.PRNGKey(cfg.seed)
    losses, sharp, est, final = run_gd(
        X,
        Y,
        params,
        etas,
        betas,
        jnp.asarray(dirs, dtype),
        activation=cfg.activation,
        steps=cfg.steps,
        every=cfg.sharpness_every,
        iters=cfg.lanczos_iters,
        key=key,
        scales=cfg.layer_lr_scales,
    )
    losses, sharp, est = (np.asarray(a, np.float64) for a in (losses, sharp, est))
    sharp, pre = sharp[..., 0], sharp[..., 1]  # lambda_max(H), lambda_max(S^1/2 H S^1/2)
    s_steps = cfg.sharpness_every * np.arange(n_blocks + 1)
    results.scalars["data"] = {
        "dataset": cfg.dataset,
        "n": int(X.shape[0]),
        "input_dim": int(X.shape[1]),
        "outputs": int(Y.shape[1]),
        "params": P,
        "dtype": str(np.dtype(dtype)),
    }
    results.arrays.update(
        steps=s_steps,
        loss_every_step=losses.T,
        learning_rates=np.asarray(etas),
        momenta=np.asarray(betas),
        thresholds=np.asarray([2 * (1 + b) / e for e, b in zip(etas, betas, strict=True)]),
        seed_estimator=np.swapaxes(est, 0, 1),
    )
    results.metrics.update(sharpness=sharp.T, loss=losses[:, s_steps].T)
    if cfg.layer_lr_scales:
        results.metrics["preconditioned_sharpness"] = pre.T
    members = []
    for b, (eta, beta) in enumerate(zip(etas, betas, strict=True)):
        m = member_summary(losses[b], s_steps, sharp[b], 2 * (1 + beta) / eta, cfg.num_windows)
        m.update(learning_rate=eta, momentum=beta)
        if cfg.layer_lr_scales:
            pm = member_summary(losses[b], s_steps, pre[b], 2 * (1 + beta) / eta, cfg.num_windows)
            m["preconditioned"] = {
                k: pm[k]
                for k in (
                    "sharpness_init",
                    "sharpness_final",
                    "init_ratio",
                    "median_ratio_second_half",
                    "first_reach_step",
                )
            }
        members.append(m)
    results.scalars["members"] = members
    _aggregate(results, members, betas)
    _lanczos_check(cfg, results, X, Y, final, sharp[:, -1])
    _seed_estimator(results, est, sharp[:, :-1], members, seed_dirs)
    if cfg.flow:
        _flow(cfg, results, X, Y, params, losses, etas, betas, members)
    return results


def _aggregate(results: Results, members: list[dict], betas: list[float]) -> None:
    gd = [m for m, b in zip(members, betas, strict=True) if b == 0]
    hb = [m for m, b in zip(members, betas, strict=True) if b > 0]

    def worst(ms, key, fn=max):
        vals = [m[key] for m in ms]
        return float(fn(vals)) if vals and all(np.isfinite(v) for v in vals) else float("nan")

    def off_by(ms, pick=lambda m: m):
        # max |median ratio - 1|; NaN (the claim fails) if any member diverged.
        vals = np.array([pick(m)["median_ratio_second_half"] for m in ms], dtype=float)
        return float(np.max(np.abs(vals - 1))) if vals.size else float("nan")

    agg = {
        "max_abs_median_ratio_minus_1": off_by(gd),
        "diverged_members": [m["learning_rate"] for m in members if m["diverged"]],
        "all_reach_threshold": all(m["first_reach_step"] is not None for m in gd),
        "min_sharpening_spearman": worst(
            [m for m in gd if m.get("sharpening_points", 0) >= 3], "sharpening_spearman", min
        ),
        "members_with_3_points_before_reach": sum(m.get("sharpening_points", 0) >= 3 for m in gd),
        "min_up_fraction_after": worst(gd, "up_fraction_after", min),
        "max_window_last_over_first": worst(gd, "window_last_over_first"),
    }
    if not agg["all_reach_threshold"]:
        agg["min_sharpening_spearman"] = float("nan")
    # The sharpness that governs the stability of the update actually run: that of
    # S^1/2 H S^1/2 when the layers have step multipliers (seed-000), else of H.
    agg["stability_max_abs_median_ratio_minus_1"] = off_by(gd, lambda m: m.get("preconditioned", m))
    if hb:
        agg["momentum_max_abs_median_ratio_minus_1"] = off_by(hb)
        # The same sharpness measured against the plain-GD threshold 2/eta.
        agg["momentum_median_ratio_to_2_over_eta"] = [
            m["median_ratio_second_half"] * (1 + m["momentum"]) for m in hb
        ]
    results.scalars["eos"] = agg


def _lanczos_check(cfg, results, X, Y, final, tracked) -> None:
    """Final in-trajectory (warm-started) Lanczos sharpness vs an independent reference."""
    ref, method = reference_top_eigenvalues(X, Y, cfg.activation, final, cfg.exact_max_params)
    err = np.abs(tracked - ref) / np.abs(ref)
    finite = np.isfinite(err)  # diverged members have no Hessian to compare
    results.scalars["lanczos_check"] = {
        "method": method,
        "reference": ref.tolist(),
        "tracked": tracked.tolist(),
        "rel_error": err.tolist(),
        "members_compared": int(finite.sum()),
        "max_rel_error": float(np.max(err[finite])) if finite.any() else float("nan"),
    }


def _seed_estimator(results, est, sharp, members, seed_dirs) -> None:
    """Seed 000's estimator (||H u||, u one random unit vector) next to Lanczos.

    ``est`` is ``(B, estimates, 2)``: central differences (the seed's) and exact HVP.
    """
    fd, exact = est[..., 0], est[..., 1]
    results.scalars["seed_estimator"] = {
        "directions": "seed 000's own draws" if seed_dirs else "random (RandomState(seed+1))",
        "first": fd[:, 0].tolist(),
        "last": fd[:, -1].tolist(),
        "exact_hvp_first": exact[:, 0].tolist(),
        "exact_hvp_last": exact[:, -1].tolist(),
        "lanczos_first": sharp[:, 0].tolist(),
        "lanczos_last": sharp[:, -1].tolist(),
        "median_ratio_to_lanczos": np.median(fd / sharp, axis=1).tolist(),
        "max_abs_median_ratio_minus_1": float(np.max(np.abs(np.median(fd / sharp, axis=1) - 1))),
        "max_fd_vs_exact_rel_diff": float(np.max(np.abs(fd - exact) / exact)),
        "thresholds": [m["threshold"] for m in members],
    }


def _flow(cfg, results, X, Y, params, losses, etas, betas, members) -> None:
    gd = [b for b, beta in enumerate(betas) if beta == 0]
    eta_min = min(etas[b] for b in gd)
    reach = [
        etas[b] * members[b]["first_reach_step"]
        for b in gd
        if members[b]["first_reach_step"] is not None
    ]
    cap = eta_min * cfg.steps
    # Up to flow_horizon x the latest first-reach time; the whole run when no member
    # reaches 2/eta, or when all start above it.
    horizon = min(cap, cfg.flow_horizon * max(reach)) if reach and max(reach) > 0 else cap
    h = eta_min / cfg.flow_substeps
    every = max(1, int(round(cfg.sharpness_every * eta_min / h)))
    ft, fl, fst, fs = run_flow(
        X,
        Y,
        params,
        activation=cfg.activation,
        h=h,
        horizon=horizon,
        every=every,
        iters=cfg.lanczos_iters,
        key=jax.random.PRNGKey(cfg.seed + 7),
        scales=cfg.layer_lr_scales,
    )
    results.arrays.update(flow_time=ft, flow_loss=fl, flow_sharpness_time=fst, flow_sharpness=fs)
    rows = []
    for b in gd:
        row = flow_comparison(
            losses[b], etas[b], members[b]["first_reach_step"], ft, fl, cfg.track_tolerance
        )
        row["learning_rate"] = etas[b]
        rows.append(row)
    before = [r["max_rel_diff_before"] for r in rows]
    after = [r["max_rel_diff_after"] for r in rows if np.isfinite(r["max_rel_diff_after"])]
    results.scalars["flow"] = {
        "step": h,
        "horizon": float(ft[-1]),
        "rk4_steps": int(len(ft) - 1),
        "sharpness_start": float(fs[0]),
        "sharpness_end": float(fs[-1]),
        "per_member": rows,
        "max_rel_diff_before": float(np.max(before)),  # NaN (claim fails) if any member is NaN
        "min_rel_diff_after": float(min(after)) if after else float("nan"),
        "members_compared_past_reach": len(after),
    }


def plot(results: Results) -> dict[str, Any]:
    from implicitbias.experiments import edge_of_stability_plots

    return edge_of_stability_plots.all_figures(results)


# ---------------------------------------------------------------------------------------
# claims
# ---------------------------------------------------------------------------------------
_SYN = {"quick": "quick", "full": "default"}


def _claim(
    name,
    statement,
    quantity,
    measure,
    criterion,
    presets=_SYN,
    source=COHEN,
    also=("smoke", "digits", "momentum"),
):
    return Claim.legacy(
        f"{NAME}/{name}", statement, source, NAME, presets, quantity, measure, criterion, also
    )


CLAIMS = (
    _claim(
        "lanczos-exact",
        "The warm-started Lanczos sharpness tracked during training "
        "matches the top eigenvalue of the exact Hessian.",
        "max over members of |tracked - reference| / reference at the final step "
        "(reference: jax.hessian + eigh, or ARPACK for large nets)",
        lambda r: r.get("lanczos_check.max_rel_error"),
        Criterion("<=", 1e-4),
        source="Golub & Van Loan, Matrix Computations, sec. 10.1",
    ),
    _claim(
        "sharpness-at-2-over-eta",
        "Over the second half of training the sharpness hovers at 2/eta for each eta.",
        "max over step sizes of |median(S / (2/eta)) - 1| over the second half",
        lambda r: r.get("eos.max_abs_median_ratio_minus_1"),
        Criterion("<=", 0.1),
    ),
    _claim(
        "progressive-sharpening",
        "While below 2/eta the sharpness rises (progressive sharpening) until it reaches 2/eta.",
        "min over step sizes of the Spearman correlation of sharpness with step before it "
        "first reaches 2/eta (NaN if some step size never reaches it; step sizes with fewer "
        "than 3 sharpness points before the crossing are left out, see "
        "eos.members_with_3_points_before_reach)",
        lambda r: r.get("eos.min_sharpening_spearman"),
        Criterion(">=", 0.8),
    ),
    _claim(
        "loss-non-monotone",
        "At the edge of stability the loss goes up on some steps.",
        "min over step sizes of the fraction of steps after the sharpness reaches 2/eta "
        "on which the loss increases",
        lambda r: r.get("eos.min_up_fraction_after"),
        Criterion(">", 0.0),
    ),
    _claim(
        "loss-decreases-over-windows",
        "At the edge of stability the loss still decreases over long windows.",
        "max over step sizes of mean loss in the last window / in the first window after "
        "the sharpness reaches 2/eta",
        lambda r: r.get("eos.max_window_last_over_first"),
        Criterion("<", 1.0),
    ),
    _claim(
        "tracks-gradient-flow",
        "GD tracks gradient flow (at equal time eta t) until the sharpness first reaches 2/eta.",
        "max over step sizes of max_t |L_GD(t) - L_GF(eta t)| / L_GF(eta t) before the "
        "first step with S >= 2/eta",
        lambda r: r.get("flow.max_rel_diff_before"),
        Criterion("<=", 0.05),
    ),
    _claim(
        "momentum-threshold",
        "With heavy-ball momentum beta the sharpness hovers at 2(1 + beta)/eta.",
        "max over momentum members of |median(S / (2(1+beta)/eta)) - 1| over the second half",
        lambda r: r.get("eos.momentum_max_abs_median_ratio_minus_1"),
        Criterion("<=", 0.1),
    ),
    _claim(
        "fashion-lanczos-exact",
        "On the Fashion-MNIST preset the tracked Lanczos "
        "sharpness matches an independent eigensolver.",
        "max over members of |tracked - ARPACK| / ARPACK at the final step",
        lambda r: r.get("lanczos_check.max_rel_error"),
        Criterion("<=", 1e-4),
        presets={"full": "fashion"},
        source="Golub & Van Loan, Matrix Computations",
        also=(),
    ),
    _claim(
        "fashion-sharpness-at-2-over-eta",
        "On 5000 Fashion-MNIST images the sharpness hovers at 2/eta over the second half.",
        "max over step sizes of |median(S / (2/eta)) - 1| over the second half",
        lambda r: r.get("eos.max_abs_median_ratio_minus_1"),
        Criterion("<=", 0.1),
        presets={"full": "fashion"},
        also=(),
    ),
    _claim(
        "fashion-progressive-sharpening",
        "On 5000 Fashion-MNIST images the sharpness rises until it reaches 2/eta.",
        "min over step sizes of the Spearman correlation of sharpness with step before it "
        "first reaches 2/eta (NaN if some step size never reaches it; step sizes with fewer "
        "than 3 sharpness points before the crossing are left out, see "
        "eos.members_with_3_points_before_reach)",
        lambda r: r.get("eos.min_sharpening_spearman"),
        Criterion(">=", 0.8),
        presets={"full": "fashion"},
        also=(),
    ),
    _claim(
        "seed-000",
        "Seed 000 section 5: with lr 0.5 the sharpness converges toward 2/lr = 4 "
        "(the edge of stability).",
        "|median(S / (2/eta)) - 1| over the second half, S by Lanczos: the sharpness "
        "that governs the update's stability (S^1/2 H S^1/2 for the seed's code, whose "
        "first-layer step is lr/n)",
        lambda r: r.get("eos.stability_max_abs_median_ratio_minus_1"),
        Criterion("<=", 0.1),
        presets={"quick": "seed-000", "full": "seed-000"},
        source="seed 000, section 5",
        also=("seed-000-gd",),
    ),
    _claim(
        "seed-000-estimator",
        "Seed 000 section 5 estimates the sharpness by the norm of a "
        "Hessian-vector product with one random unit vector.",
        "|median over its estimates of (estimate / Lanczos sharpness) - 1|",
        lambda r: r.get("seed_estimator.max_abs_median_ratio_minus_1"),
        Criterion("<=", 0.1),
        presets={"quick": "seed-000", "full": "seed-000"},
        source="seed 000, section 5",
        also=("seed-000-gd",),
    ),
)

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="full-batch GD raises the sharpness to 2/eta and hovers there",
        config_cls=EdgeOfStabilityConfig,
        run=run,
        plot=plot,
        claims=CLAIMS,
        doc=__doc__ or "",
    )
)
