"""The compiled trajectories and the host-side analysis of the edge-of-stability experiment.

``run_gd``: every member (step size, momentum) of a run in one ``jit(vmap(scan))`` program:
GD steps with the loss at every step, and every ``every`` steps the Lanczos sharpness
(:mod:`implicitbias.diagnostics`, warm-started from the previous top eigenvector) and seed
000's estimator. ``run_flow``: gradient flow by RK4 in one ``jit(scan)`` program. The
analysis functions turn those arrays into the reported numbers (NumPy, on the host).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

from implicitbias.diagnostics import hvp, lanczos
from implicitbias.problems.mlp import mse_loss


# ---------------------------------------------------------------------------------------
# the compiled trajectories
# ---------------------------------------------------------------------------------------
def _gd_member(
    params, eta, beta, key, dirs, X, Y, scale, *, activation, steps, every, iters, preconditioned
):
    r"""One member: heavy-ball GD (``beta = 0``: plain GD) for ``steps`` steps.

    ``scale`` (a pytree like ``params``) multiplies the gradient: the update is
    ``v <- beta v - eta scale * g``, ``theta <- theta + v``. With ``preconditioned`` the
    sharpness that governs stability, :math:`\lambda_{\max}(S^{1/2} H S^{1/2})`, is tracked
    next to :math:`\lambda_{\max}(H)` (else the two outputs are the same numbers).

    Returns ``losses (steps + 1,)`` (``L(theta_t)``, ``t = 0..steps``), ``sharpness
    (steps/every + 1, 2)`` at ``t = 0, every, ..., steps`` (plain, preconditioned), the seed
    estimator
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
        v = jax.tree.map(lambda vi, gi, si: beta * vi - eta * si * gi, v, g, scale)
        return (jax.tree.map(jnp.add, p, v), v), value

    root = jax.tree.map(jnp.sqrt, scale)

    def top(p, key, u):
        res = lanczos(loss, p, k=1, num_iters=iters, key=key, v0=u[0])
        if not preconditioned:
            return jnp.stack([res.eigenvalues[0]] * 2), jnp.stack([res.eigenvectors[0]] * 2)
        # Hessian of q -> L(S^{1/2} q) at q = S^{-1/2} theta: S^{1/2} H S^{1/2}.
        q = jax.tree.map(jnp.divide, p, root)
        pre = lanczos(
            lambda q: loss(jax.tree.map(jnp.multiply, q, root)),
            q,
            k=1,
            num_iters=iters,
            key=jax.random.fold_in(key, 1),
            v0=u[1],
        )
        return (
            jnp.stack([res.eigenvalues[0], pre.eigenvalues[0]]),
            jnp.stack([res.eigenvectors[0], pre.eigenvectors[0]]),
        )

    scale_flat = ravel_pytree(scale)[0]

    def seed_estimate(p, direction):
        # Seed 000's estimator: || (g(p + e v) - g(p - e v)) / (2 e) ||, e = 1e-4, with g
        # the gradient its code computes (S grad L).
        flat, unravel = ravel_pytree(p)
        g = jax.grad(loss)
        plus = ravel_pytree(g(unravel(flat + 1e-4 * direction)))[0]
        minus = ravel_pytree(g(unravel(flat - 1e-4 * direction)))[0]
        return jnp.linalg.norm(scale_flat * (plus - minus)) / 2e-4

    def exact_estimate(p, direction):
        # The same quantity with the exact Hessian-vector product: ||S H v||.
        unravel = ravel_pytree(p)[1]
        hv = ravel_pytree(hvp(loss, p, unravel(direction)))[0]
        return jnp.linalg.norm(scale_flat * hv)

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
    init = (params, zeros, jnp.zeros((2, flat.size), flat.dtype))
    (p, _, u), (s, est, losses) = lax.scan(block, init, (keys[:-1], dirs))
    s_end, _ = top(p, keys[-1], u)
    return (
        jnp.concatenate([losses.reshape(-1), loss(p)[None]]),
        jnp.concatenate([s, s_end[None]]),
        est,
        p,
    )


def run_gd(X, Y, params, etas, betas, dirs, *, activation, steps, every, iters, key, scales=()):
    """All members (step sizes, momenta) in one ``jit(vmap(scan))`` program.

    ``scales``: per-layer multipliers of the gradient (empty: plain GD).
    """
    preconditioned = bool(scales) and any(s != 1 for s in scales)
    scale = [
        tuple(None if x is None else jnp.full_like(x, scales[i] if scales else 1.0) for x in layer)
        for i, layer in enumerate(params)
    ]
    fn = functools.partial(
        _gd_member,
        activation=activation,
        steps=steps,
        every=every,
        iters=iters,
        preconditioned=preconditioned,
    )
    b = len(etas)
    keys = jax.random.split(key, b)
    batched = jax.jit(jax.vmap(fn, in_axes=(None, 0, 0, 0, None, None, None, None)))
    return batched(params, jnp.asarray(etas), jnp.asarray(betas), keys, dirs, X, Y, scale)


def _rk4_flow(params, X, Y, key, *, activation, h, n_steps, every, iters, scale_flat):
    """Gradient flow ``d theta/d tau = -S grad L`` (``S = diag(scale_flat)``; plain gradient
    flow for ones) by RK4 with step ``h``: the loss at every step and the Lanczos sharpness
    of ``H`` every ``every`` steps (warm-started)."""

    def loss(p):
        return mse_loss(p, X, Y, activation)

    flat, unravel = ravel_pytree(params)

    def f(x):
        return -scale_flat * ravel_pytree(jax.grad(loss)(unravel(x)))[0]

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
    (x, _), (s, losses) = jax.jit(lambda x0: lax.scan(block, (x0, jnp.zeros_like(x0)), keys))(flat)
    return np.append(np.asarray(losses).reshape(-1), float(loss(unravel(x)))), np.asarray(s)


def run_flow(X, Y, params, *, activation, h, horizon, every, iters, key, scales=()):
    """Gradient flow from ``params`` up to time ``horizon`` (rounded up to whole blocks).

    Returns ``(times, losses, sharpness_times, sharpness)``.
    """
    n_steps = max(1, int(np.ceil(horizon / h / every))) * every
    scale = [
        tuple(None if x is None else jnp.full_like(x, scales[i] if scales else 1.0) for x in layer)
        for i, layer in enumerate(params)
    ]
    losses, s = _rk4_flow(
        params,
        X,
        Y,
        key,
        activation=activation,
        h=h,
        n_steps=n_steps,
        every=every,
        iters=iters,
        scale_flat=ravel_pytree(scale)[0],
    )
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


def member_summary(
    loss: np.ndarray, s_steps: np.ndarray, s: np.ndarray, threshold: float, num_windows: int
) -> dict[str, Any]:
    """The numbers of one member: crossing, sharpening, EoS ratio, loss behaviour."""
    steps = len(loss) - 1
    ratio = s / threshold
    i_star = first_crossing(s_steps, ratio)
    half = s_steps >= steps / 2
    out: dict[str, Any] = {
        "threshold": threshold,
        "sharpness_init": float(s[0]),
        "sharpness_final": float(s[-1]),
        "init_ratio": float(ratio[0]),
        "median_ratio_second_half": float(np.median(ratio[half])),
        "max_ratio_second_half": float(np.max(ratio[half])),
        "min_ratio_second_half": float(np.min(ratio[half])),
        "final_loss": float(loss[-1]),
        "diverged": bool(not np.all(np.isfinite(loss))),
        "first_reach_step": None if i_star is None else int(s_steps[i_star]),
    }
    if i_star is None:
        out.update(
            sharpening_spearman=spearman(s_steps, s),
            up_fraction_after=float("nan"),
            window_last_over_first=float("nan"),
            window_decreasing_fraction=float("nan"),
        )
        return out
    out["sharpening_spearman"] = spearman(s_steps[: i_star + 1], s[: i_star + 1])
    out["sharpening_points"] = int(i_star + 1)
    t0 = int(s_steps[i_star])
    after = loss[t0:]
    out["up_fraction_after"] = float(np.mean(np.diff(after) > 0)) if after.size > 1 else 0.0
    windows = np.array_split(after, num_windows) if after.size >= num_windows else [after]
    means = np.array([w.mean() for w in windows])
    out["window_last_over_first"] = float(means[-1] / means[0])
    out["window_decreasing_fraction"] = (
        float(np.mean(np.diff(means) < 0)) if means.size > 1 else float("nan")
    )
    return out


def flow_comparison(
    loss: np.ndarray,
    eta: float,
    first_reach: int | None,
    flow_t: np.ndarray,
    flow_loss: np.ndarray,
    tol: float,
) -> dict[str, Any]:
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
    out["departure_over_first_reach"] = (
        out["departure_step"] / first_reach
        if out["departure_step"] is not None and first_reach
        else None
    )
    return out


def reference_top_eigenvalues(
    X, Y, activation: str, stacked: Any, exact_max: int
) -> tuple[np.ndarray, str]:
    """Top Hessian eigenvalue of every member (leading axis of ``stacked``) by an
    independent route: ``jax.hessian`` + ``eigh`` when the net has at most ``exact_max``
    parameters, else ARPACK's implicitly restarted Lanczos (scipy ``eigsh``) on jitted
    Hessian-vector products. Members with non-finite parameters get NaN."""
    one = jax.tree.map(lambda a: jnp.asarray(a[0]), stacked)
    flat0, unravel = ravel_pytree(one)
    p, dtype = int(flat0.size), flat0.dtype
    flats = np.stack(
        [
            np.asarray(ravel_pytree(jax.tree.map(lambda a, b=b: a[b], stacked))[0])
            for b in range(jax.tree.leaves(stacked)[0].shape[0])
        ]
    )

    def loss_flat(x):
        return mse_loss(unravel(x), X, Y, activation)

    ok = np.all(np.isfinite(flats), axis=1)
    out = np.full(len(flats), np.nan)
    if p <= exact_max:
        from threadpoolctl import threadpool_limits

        hess = jax.jit(jax.hessian(loss_flat))
        for b in np.flatnonzero(ok):
            H = np.asarray(hess(jnp.asarray(flats[b], dtype)), np.float64)
            # One BLAS thread: on a small shared machine OpenBLAS's threads made this
            # eigvalsh of a 676 x 676 matrix take 4 s instead of 0.03 s.
            with threadpool_limits(1, user_api="blas"):
                out[b] = np.linalg.eigvalsh(H)[-1]
        return out, "jax.hessian + eigh"
    from scipy.sparse.linalg import LinearOperator, eigsh

    mv = jax.jit(lambda x, v: jax.jvp(jax.grad(loss_flat), (x,), (v,))[1])
    tol = 1e-10 if dtype == jnp.float64 else 1e-6
    for b in np.flatnonzero(ok):
        x = jnp.asarray(flats[b], dtype)
        op = LinearOperator(
            (p, p),
            dtype=np.float64,
            matvec=lambda v, x=x: np.asarray(mv(x, jnp.asarray(v.ravel(), dtype)), np.float64),
        )
        out[b] = eigsh(op, k=1, which="LA", tol=tol, return_eigenvectors=False)[0]
    return out, "scipy eigsh (ARPACK)"
