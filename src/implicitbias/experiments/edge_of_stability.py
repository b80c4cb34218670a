"""Edge of stability: full-batch GD drives the sharpness up to 2/eta and keeps it there.

Command::

    implicitbias run edge-of-stability                   # synthetic task, about a minute
    implicitbias run edge-of-stability --preset fashion  # 5000 Fashion-MNIST images (slow)
    implicitbias run edge-of-stability --preset seed-000 # seed 000, section 5

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

Expected outcome: see docs/experiments/edge-of-stability.md for the numbers measured on
each preset; the claims say which of (i)-(iv) hold with the stated tolerances.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, param
from implicitbias.diagnostics import hvp, lanczos
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment, register
from implicitbias.problems.mlp import init_mlp, mse_loss, num_params, one_hot
from implicitbias.runs.results import Results

NAME = "edge-of-stability"
COHEN = "Cohen et al. 2021 (ICLR)"


@dataclasses.dataclass(frozen=True)
class EdgeOfStabilityConfig(Config):
    """Full-batch GD on a tanh MLP with the square loss: sharpness vs 2/eta."""

    dataset: Literal["synthetic", "digits", "fashion-mnist", "seed-000"] = param(
        "synthetic", "data: Gaussian inputs labelled by a random teacher net, scikit-learn "
                     "digits, a Fashion-MNIST subset, or seed 000's regression data")
    n: int = param(500, "examples (synthetic, digits, fashion-mnist)", low=1)
    input_dim: int = param(20, "synthetic: input dimension", low=1)
    classes: int = param(4, "synthetic: classes (one-hot targets)", low=2)
    hidden: tuple[int, ...] = param((64, 64), "hidden widths", low=1)
    activation: Literal["tanh", "relu", "softplus", "gelu", "elu"] = param(
        "tanh", "activation between layers")
    bias: bool = param(True, "layers with biases")
    init: Literal["uniform", "he"] = param("uniform", "init: PyTorch's nn.Linear default "
                                                      "(uniform +-1/sqrt(fan_in)) or He normal")
    learning_rates: tuple[float, ...] = param((0.25, 0.4, 0.6), "GD step sizes (one member "
                                                                 "each, one vmapped run)",
                                              low=0, low_open=True)
    momentum: float = param(0.5, "heavy-ball beta of the momentum members", low=0, high=0.999)
    momentum_learning_rates: tuple[float, ...] = param(
        (0.45,), "step sizes of heavy-ball members (threshold 2(1+beta)/eta)", low=0, low_open=True)
    steps: int = param(2000, "GD steps", low=2)
    sharpness_every: int = param(20, "Lanczos sharpness every this many steps", low=1)
    lanczos_iters: int = param(20, "Lanczos steps per sharpness estimate (warm-started)",
                               low=1)
    flow: bool = param(True, "also integrate gradient flow (RK4) from the same init")
    flow_substeps: int = param(2, "RK4 step = min(eta) / flow_substeps", low=1)
    flow_horizon: float = param(2.0, "integrate gradient flow up to this multiple of the "
                                     "latest time eta t at which a GD member first reaches "
                                     "2/eta (capped at min(eta) * steps)", low=1)
    track_tolerance: float = param(0.05, "GD tracks gradient flow while the relative "
                                         "difference of their losses stays within this",
                                   low=0, low_open=True)
    num_windows: int = param(10, "windows for the loss-decrease check after 2/eta is "
                                 "reached", low=2)
    exact_max_params: int = param(3000, "exact Hessian (jax.hessian + eigh) as the "
                                        "reference when the net has at most this many "
                                        "parameters; else a 100-step cold Lanczos", low=1)
    data_root: str | None = param(None, "fashion-mnist: folder with the IDX files "
                                        "(default /usr/share/datasets/fashion-mnist)")

    PRESETS = {
        "smoke": dict(n=100, hidden=(16, 16), steps=200, sharpness_every=10,
                      learning_rates=(0.5, 0.8), momentum_learning_rates=(0.6,),
                      lanczos_iters=10),
        "default": {},
        "quick": dict(n=200, hidden=(32, 32), steps=1000, learning_rates=(0.3, 0.6)),
        # beta = 0.9 as in Cohen et al.'s momentum runs, next to beta = 0.5.
        "momentum": dict(learning_rates=(0.4,), momentum=0.9,
                         momentum_learning_rates=(0.3, 0.6, 0.9)),
        "digits": dict(dataset="digits", n=1000, hidden=(64, 64)),
        # The setting of Cohen et al. on Fashion-MNIST: 5000 images, 200-200 tanh, float32.
        "fashion": dict(dataset="fashion-mnist", n=5000, hidden=(200, 200),
                        learning_rates=(0.03, 0.05, 0.07), steps=2000, x64=False,
                        flow_substeps=2),
        # Seed 000 section 5 exactly: numpy seed 123, n=50, d=5, h=20 ReLU, no biases,
        # lr 0.5, 2000 steps, its estimator every 50 steps.
        "seed-000": dict(dataset="seed-000", seed=123, n=50, input_dim=5, hidden=(20,),
                         activation="relu", bias=False, learning_rates=(0.5,), steps=2000,
                         sharpness_every=50, momentum_learning_rates=()),
    }

    def validate(self) -> None:
        if self.steps % self.sharpness_every:
            raise ConfigError("steps", f"a multiple of sharpness_every "
                                       f"({self.sharpness_every})", self.steps)
        if not self.learning_rates:
            raise ConfigError("learning_rates", "at least one step size", self.learning_rates)
        if self.dataset == "seed-000" and (self.hidden != (20,) or self.bias or
                                           self.activation != "relu"):
            raise ConfigError("hidden", "(20,) with activation=relu and bias=false for the "
                                        "seed-000 data (its network)",
                              (self.hidden, self.activation, self.bias))
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
    Y = np.asarray(one_hot(labels, c, jnp.float64))
    sizes = (X.shape[1], *cfg.hidden, c)
    params = init_mlp(jax.random.PRNGKey(cfg.seed), sizes, activation=cfg.activation,
                      bias=cfg.bias, init=cfg.init)
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
# the compiled trajectories
# ---------------------------------------------------------------------------------------
def _gd_member(params, eta, beta, key, dirs, X, Y, *, activation, steps, every, iters):
    """One member: heavy-ball GD (``beta = 0``: plain GD) for ``steps`` steps.

    Returns ``losses (steps + 1,)`` (``L(theta_t)``, ``t = 0..steps``), ``sharpness
    (steps/every + 1,)`` at ``t = 0, every, ..., steps``, the seed estimator
    ``(steps/every, 2)`` at ``theta_{t+1}`` for ``t = 0, every, ...`` (where the seed's loop
    takes it: after the update), by central differences as in the seed and by the exact
    Hessian-vector product, and the final parameters.
    """
    def loss(p):
        return mse_loss(p, X, Y, activation)

    grad_fn = jax.value_and_grad(loss)

    def step(carry, _):
        p, v = carry
        value, g = grad_fn(p)
        v = jax.tree.map(lambda vi, gi: beta * vi - eta * gi, v, g)
        return (jax.tree.map(jnp.add, p, v), v), value

    def top(p, key, u):
        res = lanczos(loss, p, k=1, num_iters=iters, key=key, v0=u)
        return res.eigenvalues[0], res.eigenvectors[0]

    def seed_estimate(p, direction):
        # Seed 000's estimator: || (g(p + e v) - g(p - e v)) / (2 e) ||, e = 1e-4.
        flat, unravel = ravel_pytree(p)
        g = jax.grad(loss)
        plus = ravel_pytree(g(unravel(flat + 1e-4 * direction)))[0]
        minus = ravel_pytree(g(unravel(flat - 1e-4 * direction)))[0]
        return jnp.linalg.norm(plus - minus) / 2e-4

    def exact_estimate(p, direction):
        # The same quantity with the exact Hessian-vector product: ||H v||.
        unravel = ravel_pytree(p)[1]
        return jnp.linalg.norm(ravel_pytree(hvp(loss, p, unravel(direction)))[0])

    def block(carry, xs):
        p, v, u = carry
        k, direction = xs
        s, u = top(p, k, u)
        (p, v), first = step((p, v), None)
        # As in the seed's loop, its estimate comes right after the update of step t.
        est = jnp.stack([seed_estimate(p, direction), exact_estimate(p, direction)])
        (p, v), rest = lax.scan(step, (p, v), None, length=every - 1)
        return (p, v, u), (s, est, jnp.concatenate([first[None], rest]))

    flat = ravel_pytree(params)[0]
    n_blocks = steps // every
    keys = jax.random.split(key, n_blocks + 1)
    zeros = jax.tree.map(jnp.zeros_like, params)
    init = (params, zeros, jnp.zeros_like(flat))
    (p, _, u), (s, est, losses) = lax.scan(block, init, (keys[:-1], dirs))
    s_end, _ = top(p, keys[-1], u)
    return (jnp.concatenate([losses.reshape(-1), loss(p)[None]]),
            jnp.concatenate([s, s_end[None]]), est, p)


def run_gd(X, Y, params, etas, betas, dirs, *, activation, steps, every, iters, key):
    """All members (step sizes, momenta) in one ``jit(vmap(scan))`` program."""
    fn = functools.partial(_gd_member, activation=activation, steps=steps, every=every,
                           iters=iters)
    b = len(etas)
    keys = jax.random.split(key, b)
    batched = jax.jit(jax.vmap(fn, in_axes=(None, 0, 0, 0, None, None, None)))
    return batched(params, jnp.asarray(etas), jnp.asarray(betas), keys, dirs, X, Y)


def _rk4_flow(params, X, Y, key, *, activation, h, n_steps, every, iters):
    """Gradient flow ``d theta/d tau = -grad L`` by RK4 with step ``h``: the loss at every
    step and the Lanczos sharpness every ``every`` steps (warm-started)."""
    def loss(p):
        return mse_loss(p, X, Y, activation)

    flat, unravel = ravel_pytree(params)

    def f(x):
        return -ravel_pytree(jax.grad(loss)(unravel(x)))[0]

    def step(x, _):
        k1 = f(x)
        k2 = f(x + 0.5 * h * k1)
        k3 = f(x + 0.5 * h * k2)
        k4 = f(x + h * k3)
        return x + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4), loss(unravel(x))

    def block(carry, k):
        x, u = carry
        res = lanczos(loss, unravel(x), num_iters=iters, key=k, v0=u)
        x, losses = lax.scan(step, x, None, length=every)
        return (x, res.eigenvectors[0]), (res.eigenvalues[0], losses)

    keys = jax.random.split(key, n_steps // every)
    (x, _), (s, losses) = jax.jit(lambda x0: lax.scan(block, (x0, jnp.zeros_like(x0)),
                                                      keys))(flat)
    return np.append(np.asarray(losses).reshape(-1), float(loss(unravel(x)))), np.asarray(s)


def run_flow(X, Y, params, *, activation, h, horizon, every, iters, key):
    """Gradient flow from ``params`` up to time ``horizon`` (rounded up to whole blocks).

    Returns ``(times, losses, sharpness_times, sharpness)``.
    """
    n_steps = max(1, int(np.ceil(horizon / h / every))) * every
    losses, s = _rk4_flow(params, X, Y, key, activation=activation, h=h, n_steps=n_steps,
                          every=every, iters=iters)
    return h * np.arange(n_steps + 1), losses, h * every * np.arange(len(s)), s


# ---------------------------------------------------------------------------------------
# analysis (NumPy, on host)
# ---------------------------------------------------------------------------------------
def first_crossing(steps: np.ndarray, ratio: np.ndarray) -> int | None:
    """Index of the first sharpness measurement with ``S >= threshold``, or None."""
    hit = np.flatnonzero(ratio >= 1.0)
    return int(hit[0]) if hit.size else None


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (ties broken by order; NaN for fewer than 3 points)."""
    if len(x) < 3:
        return float("nan")
    rx = np.argsort(np.argsort(x)).astype(float)
    ry = np.argsort(np.argsort(y)).astype(float)
    return float(np.corrcoef(rx, ry)[0, 1])


def member_summary(loss: np.ndarray, s_steps: np.ndarray, s: np.ndarray, threshold: float,
                   num_windows: int) -> dict[str, Any]:
    """The numbers of one member: crossing, sharpening, EoS ratio, loss behaviour."""
    steps = len(loss) - 1
    ratio = s / threshold
    i_star = first_crossing(s_steps, ratio)
    half = s_steps >= steps / 2
    out: dict[str, Any] = {
        "threshold": threshold, "sharpness_init": float(s[0]), "sharpness_final": float(s[-1]),
        "init_ratio": float(ratio[0]),
        "median_ratio_second_half": float(np.median(ratio[half])),
        "max_ratio_second_half": float(np.max(ratio[half])),
        "min_ratio_second_half": float(np.min(ratio[half])),
        "final_loss": float(loss[-1]), "diverged": bool(not np.all(np.isfinite(loss))),
        "first_reach_step": None if i_star is None else int(s_steps[i_star]),
    }
    if i_star is None:
        out.update(sharpening_spearman=spearman(s_steps, s), up_fraction_after=float("nan"),
                   window_last_over_first=float("nan"), window_decreasing_fraction=float("nan"))
        return out
    out["sharpening_spearman"] = spearman(s_steps[: i_star + 1], s[: i_star + 1])
    out["sharpening_points"] = int(i_star + 1)
    t0 = int(s_steps[i_star])
    after = loss[t0:]
    out["up_fraction_after"] = float(np.mean(np.diff(after) > 0)) if after.size > 1 else 0.0
    windows = np.array_split(after, num_windows) if after.size >= num_windows else [after]
    means = np.array([w.mean() for w in windows])
    out["window_last_over_first"] = float(means[-1] / means[0])
    out["window_decreasing_fraction"] = (float(np.mean(np.diff(means) < 0))
                                         if means.size > 1 else float("nan"))
    return out


def flow_comparison(loss: np.ndarray, eta: float, first_reach: int | None, flow_t: np.ndarray,
                    flow_loss: np.ndarray, tol: float) -> dict[str, Any]:
    """GD (step ``eta``) against gradient flow at equal time ``tau = eta t``.

    ``d(t) = |L_GD(t) - L_GF(eta t)| / L_GF(eta t)`` with the flow's loss interpolated
    linearly between RK4 steps; reported before and after the first step with ``S >= 2/eta``.
    """
    t = np.arange(len(loss))
    inside = eta * t <= flow_t[-1]
    ref = np.interp(eta * t[inside], flow_t, flow_loss)
    d = np.abs(loss[inside] - ref) / ref
    t_in = t[inside]
    out: dict[str, Any] = {"compared_steps": int(inside.sum())}
    above = np.flatnonzero(~(d <= tol))
    out["departure_step"] = int(t_in[above[0]]) if above.size else None
    if first_reach is None or first_reach > t_in[-1]:
        out.update(max_rel_diff_before=float(np.max(d)), max_rel_diff_after=float("nan"))
        return out
    before = d[t_in < first_reach]  # empty when the sharpness starts above 2/eta
    out["max_rel_diff_before"] = float(np.max(before)) if before.size else float("nan")
    after = d[t_in >= first_reach]
    out["max_rel_diff_after"] = float(np.max(after)) if after.size else float("nan")
    out["departure_over_first_reach"] = (out["departure_step"] / first_reach
                                         if out["departure_step"] is not None and first_reach
                                         else None)
    return out


def reference_top_eigenvalues(X, Y, activation: str, stacked: Any,
                              exact_max: int) -> tuple[np.ndarray, str]:
    """Top Hessian eigenvalue of every member (leading axis of ``stacked``) by an
    independent route: ``jax.hessian`` + ``eigh`` when the net has at most ``exact_max``
    parameters, else ARPACK's implicitly restarted Lanczos (scipy ``eigsh``) on jitted
    Hessian-vector products. Members with non-finite parameters get NaN."""
    one = jax.tree.map(lambda a: jnp.asarray(a[0]), stacked)
    flat0, unravel = ravel_pytree(one)
    p, dtype = int(flat0.size), flat0.dtype
    flats = np.stack([np.asarray(ravel_pytree(jax.tree.map(lambda a, b=b: a[b], stacked))[0])
                      for b in range(jax.tree.leaves(stacked)[0].shape[0])])

    def loss_flat(x):
        return mse_loss(unravel(x), X, Y, activation)

    ok = np.all(np.isfinite(flats), axis=1)
    out = np.full(len(flats), np.nan)
    if p <= exact_max:
        top = jax.jit(jax.vmap(lambda x: jnp.linalg.eigvalsh(jax.hessian(loss_flat)(x))[-1]))
        out[ok] = np.asarray(top(jnp.asarray(flats[ok], dtype)), np.float64)
        return out, "jax.hessian + eigh"
    from scipy.sparse.linalg import LinearOperator, eigsh

    mv = jax.jit(lambda x, v: jax.jvp(jax.grad(loss_flat), (x,), (v,))[1])
    tol = 1e-10 if dtype == jnp.float64 else 1e-6
    for b in np.flatnonzero(ok):
        x = jnp.asarray(flats[b], dtype)
        op = LinearOperator((p, p), dtype=np.float64,
                            matvec=lambda v, x=x: np.asarray(mv(x, jnp.asarray(v.ravel(),
                                                                               dtype)),
                                                             np.float64))
        out[b] = eigsh(op, k=1, which="LA", tol=tol, return_eigenvectors=False)[0]
    return out, "scipy eigsh (ARPACK)"


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
        X, Y, params, etas, betas, jnp.asarray(dirs, dtype), activation=cfg.activation,
        steps=cfg.steps, every=cfg.sharpness_every, iters=cfg.lanczos_iters, key=key)
    losses, sharp, est = (np.asarray(a, np.float64) for a in (losses, sharp, est))
    s_steps = cfg.sharpness_every * np.arange(n_blocks + 1)
    results.scalars["data"] = {"dataset": cfg.dataset, "n": int(X.shape[0]),
                               "input_dim": int(X.shape[1]), "outputs": int(Y.shape[1]),
                               "params": P, "dtype": str(np.dtype(dtype))}
    results.arrays.update(steps=s_steps, loss_every_step=losses.T,
                          learning_rates=np.asarray(etas), momenta=np.asarray(betas),
                          thresholds=np.asarray([2 * (1 + b) / e for e, b in zip(etas, betas,
                                                                                   strict=True)]),
                          seed_estimator=np.swapaxes(est, 0, 1))
    results.metrics.update(sharpness=sharp.T, loss=losses[:, s_steps].T)
    members = []
    for b, (eta, beta) in enumerate(zip(etas, betas, strict=True)):
        m = member_summary(losses[b], s_steps, sharp[b], 2 * (1 + beta) / eta, cfg.num_windows)
        m.update(learning_rate=eta, momentum=beta)
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

    agg = {
        "max_abs_median_ratio_minus_1": float(max(abs(m["median_ratio_second_half"] - 1)
                                                  for m in gd)),
        "all_reach_threshold": all(m["first_reach_step"] is not None for m in gd),
        "min_sharpening_spearman": worst([m for m in gd if m.get("sharpening_points", 0) >= 3],
                                         "sharpening_spearman", min),
        "members_with_3_points_before_reach": sum(m.get("sharpening_points", 0) >= 3
                                                  for m in gd),
        "min_up_fraction_after": worst(gd, "up_fraction_after", min),
        "max_window_last_over_first": worst(gd, "window_last_over_first"),
    }
    if not agg["all_reach_threshold"]:
        agg["min_sharpening_spearman"] = float("nan")
    if hb:
        agg["momentum_max_abs_median_ratio_minus_1"] = float(
            max(abs(m["median_ratio_second_half"] - 1) for m in hb))
        # The same sharpness measured against the plain-GD threshold 2/eta.
        agg["momentum_median_ratio_to_2_over_eta"] = [
            m["median_ratio_second_half"] * (1 + m["momentum"]) for m in hb]
    results.scalars["eos"] = agg


def _lanczos_check(cfg, results, X, Y, final, tracked) -> None:
    """Final in-trajectory (warm-started) Lanczos sharpness vs an independent reference."""
    ref, method = reference_top_eigenvalues(X, Y, cfg.activation, final, cfg.exact_max_params)
    err = np.abs(tracked - ref) / np.abs(ref)
    results.scalars["lanczos_check"] = {
        "method": method, "reference": ref.tolist(), "tracked": tracked.tolist(),
        "rel_error": err.tolist(), "max_rel_error": float(np.max(err))}


def _seed_estimator(results, est, sharp, members, seed_dirs) -> None:
    """Seed 000's estimator (||H u||, u one random unit vector) next to Lanczos.

    ``est`` is ``(B, estimates, 2)``: central differences (the seed's) and exact HVP.
    """
    fd, exact = est[..., 0], est[..., 1]
    results.scalars["seed_estimator"] = {
        "directions": "seed 000's own draws" if seed_dirs else "random (RandomState(seed+1))",
        "first": fd[:, 0].tolist(), "last": fd[:, -1].tolist(),
        "exact_hvp_first": exact[:, 0].tolist(), "exact_hvp_last": exact[:, -1].tolist(),
        "lanczos_first": sharp[:, 0].tolist(), "lanczos_last": sharp[:, -1].tolist(),
        "median_ratio_to_lanczos": np.median(fd / sharp, axis=1).tolist(),
        "max_abs_median_ratio_minus_1": float(np.max(np.abs(np.median(fd / sharp, axis=1)
                                                            - 1))),
        "max_fd_vs_exact_rel_diff": float(np.max(np.abs(fd - exact) / exact)),
        "thresholds": [m["threshold"] for m in members],
    }


def _flow(cfg, results, X, Y, params, losses, etas, betas, members) -> None:
    gd = [b for b, beta in enumerate(betas) if beta == 0]
    eta_min = min(etas[b] for b in gd)
    reach = [etas[b] * members[b]["first_reach_step"] for b in gd
             if members[b]["first_reach_step"] is not None]
    cap = eta_min * cfg.steps
    # Up to flow_horizon x the latest first-reach time; the whole run when no member
    # reaches 2/eta, or when all start above it.
    horizon = min(cap, cfg.flow_horizon * max(reach)) if reach and max(reach) > 0 else cap
    h = eta_min / cfg.flow_substeps
    every = max(1, int(round(cfg.sharpness_every * eta_min / h)))
    ft, fl, fst, fs = run_flow(X, Y, params, activation=cfg.activation, h=h, horizon=horizon,
                               every=every, iters=cfg.lanczos_iters,
                               key=jax.random.PRNGKey(cfg.seed + 7))
    results.arrays.update(flow_time=ft, flow_loss=fl, flow_sharpness_time=fst,
                          flow_sharpness=fs)
    rows = []
    for b in gd:
        row = flow_comparison(losses[b], etas[b], members[b]["first_reach_step"], ft, fl,
                              cfg.track_tolerance)
        row["learning_rate"] = etas[b]
        rows.append(row)
    before = [r["max_rel_diff_before"] for r in rows]
    after = [r["max_rel_diff_after"] for r in rows if np.isfinite(r["max_rel_diff_after"])]
    results.scalars["flow"] = {
        "step": h, "horizon": float(ft[-1]), "rk4_steps": int(len(ft) - 1),
        "sharpness_start": float(fs[0]), "sharpness_end": float(fs[-1]),
        "per_member": rows, "max_rel_diff_before": float(max(before)),
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


def _claim(name, statement, quantity, measure, criterion, presets=_SYN, source=COHEN,
           also=("smoke", "fashion", "digits")):
    return Claim(f"{NAME}/{name}", statement, source, NAME, presets, quantity, measure,
                 criterion, also)


CLAIMS = (
    _claim("lanczos-exact", "The warm-started Lanczos sharpness tracked during training "
                            "matches the top eigenvalue of the exact Hessian.",
           "max over members of |tracked - reference| / reference at the final step "
           "(reference: jax.hessian + eigh, or ARPACK for large nets)",
           lambda r: r.get("lanczos_check.max_rel_error"), Criterion("<=", 1e-4),
           source="Golub & Van Loan, Matrix Computations, sec. 10.1"),
    _claim("sharpness-at-2-over-eta", "Over the second half of training the sharpness hovers "
                                      "at 2/eta for each eta.",
           "max over step sizes of |median(S / (2/eta)) - 1| over the second half",
           lambda r: r.get("eos.max_abs_median_ratio_minus_1"), Criterion("<=", 0.1)),
    _claim("progressive-sharpening", "While below 2/eta the sharpness rises (progressive "
                                     "sharpening) until it reaches 2/eta.",
           "min over step sizes of the Spearman correlation of sharpness with step before it "
           "first reaches 2/eta (NaN if some step size never reaches it)",
           lambda r: r.get("eos.min_sharpening_spearman"), Criterion(">=", 0.8)),
    _claim("loss-non-monotone", "At the edge of stability the loss goes up on some steps.",
           "min over step sizes of the fraction of steps after the sharpness reaches 2/eta "
           "on which the loss increases",
           lambda r: r.get("eos.min_up_fraction_after"), Criterion(">", 0.0)),
    _claim("loss-decreases-over-windows", "At the edge of stability the loss still decreases "
                                          "over long windows.",
           "max over step sizes of mean loss in the last window / in the first window after "
           "the sharpness reaches 2/eta",
           lambda r: r.get("eos.max_window_last_over_first"), Criterion("<", 1.0)),
    _claim("tracks-gradient-flow", "GD tracks gradient flow (at equal time eta t) until the "
                                   "sharpness first reaches 2/eta.",
           "max over step sizes of max_t |L_GD(t) - L_GF(eta t)| / L_GF(eta t) before the "
           "first step with S >= 2/eta", lambda r: r.get("flow.max_rel_diff_before"),
           Criterion("<=", 0.05)),
    _claim("momentum-threshold", "With heavy-ball momentum beta the sharpness hovers at "
                                 "2(1 + beta)/eta.",
           "max over momentum members of |median(S / (2(1+beta)/eta)) - 1| over the second half",
           lambda r: r.get("eos.momentum_max_abs_median_ratio_minus_1"), Criterion("<=", 0.1),
           also=("momentum",)),
    _claim("seed-000", "Seed 000 section 5: with lr 0.5 the sharpness converges toward 2/lr = 4 "
                       "(the edge of stability).",
           "|median(S / (2/eta)) - 1| over the second half, S by Lanczos",
           lambda r: r.get("eos.max_abs_median_ratio_minus_1"), Criterion("<=", 0.1),
           presets={"quick": "seed-000", "full": "seed-000"}, source="seed 000, section 5",
           also=()),
    _claim("seed-000-estimator", "Seed 000 section 5 estimates the sharpness by the norm of a "
                                 "Hessian-vector product with one random unit vector.",
           "|median over its estimates of (estimate / Lanczos sharpness) - 1|",
           lambda r: r.get("seed_estimator.max_abs_median_ratio_minus_1"),
           Criterion("<=", 0.1), presets={"quick": "seed-000", "full": "seed-000"},
           source="seed 000, section 5", also=()),
)

EXPERIMENT = register(Experiment(
    name=NAME, summary="full-batch GD raises the sharpness to 2/eta and hovers there",
    config_cls=EdgeOfStabilityConfig, run=run, plot=plot, claims=CLAIMS, doc=__doc__ or "",
))
