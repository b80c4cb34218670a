"""The host-side analysis of the edge-of-stability experiment (NumPy on the trajectories).

Per member: the first step with :math:`S \\ge` its threshold, progressive sharpening (the
Spearman correlation of :math:`S` with the step before that), the ratio of :math:`S` to the
threshold over the second half, the loss's ups and window means after the crossing
(:func:`member_summary`); across members, the numbers the claims read
(:func:`aggregate`); GD against gradient flow at equal time (:func:`flow_comparison`); and
the final sharpness by an independent solver (:func:`reference_top_eigenvalues`).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from implicitbias.problems.mlp import mse_loss


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


def _worst(members: list[dict], key: str, fn=max) -> float:
    vals = [m[key] for m in members]
    return float(fn(vals)) if vals and all(np.isfinite(v) for v in vals) else float("nan")


def _off_by(members: list[dict], pick=lambda m: m) -> float:
    """max |median ratio - 1|; NaN (the claim fails) if any member diverged."""
    vals = np.array([pick(m)["median_ratio_second_half"] for m in members], dtype=float)
    return float(np.max(np.abs(vals - 1))) if vals.size else float("nan")


def aggregate(members: list[dict]) -> dict[str, Any]:
    """The numbers the claims read, over the members of each group.

    ``members`` are :func:`member_summary` dicts with ``group`` (``"optimizer"`` or
    ``"momentum_optimizer"``), ``learning_rate``, ``diverged`` and ``threshold``.
    """
    main = [m for m in members if m["group"] == "optimizer"]
    second = [m for m in members if m["group"] == "momentum_optimizer"]
    agg = {
        "max_abs_median_ratio_minus_1": _off_by(main),
        "diverged_members": [m["learning_rate"] for m in members if m["diverged"]],
        "all_reach_threshold": all(m["first_reach_step"] is not None for m in main),
        "min_sharpening_spearman": _worst(
            [m for m in main if m.get("sharpening_points", 0) >= 3], "sharpening_spearman", min
        ),
        "members_with_3_points_before_reach": sum(m.get("sharpening_points", 0) >= 3 for m in main),
        "min_up_fraction_after": _worst(main, "up_fraction_after", min),
        "max_window_last_over_first": _worst(main, "window_last_over_first"),
    }
    if not agg["all_reach_threshold"]:
        agg["min_sharpening_spearman"] = float("nan")
    # The sharpness that governs the stability of the update actually run: that of
    # S^1/2 H S^1/2 when the layers have step multipliers (seed-000), else of H.
    agg["stability_max_abs_median_ratio_minus_1"] = _off_by(
        main, lambda m: m.get("preconditioned", m)
    )
    if second:
        agg["momentum_max_abs_median_ratio_minus_1"] = _off_by(second)
        # The same sharpness measured against the plain-GD threshold 2/eta.
        agg["momentum_median_ratio_to_2_over_eta"] = [
            m["median_ratio_second_half"] * m["threshold"] * m["learning_rate"] / 2 for m in second
        ]
    return agg


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
