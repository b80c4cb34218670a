"""``run(cfg)``: train the members, then measure (no printing)."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from implicitbias.engine import Divergence
from implicitbias.experiments.edge_of_stability.analysis import (
    aggregate,
    flow_comparison,
    member_summary,
    reference_top_eigenvalues,
)
from implicitbias.experiments.edge_of_stability.config import EdgeOfStabilityConfig
from implicitbias.experiments.edge_of_stability.data import load_problem, random_directions
from implicitbias.experiments.edge_of_stability.probes import mse
from implicitbias.experiments.edge_of_stability.training import (
    Members,
    layer_scales,
    train_members,
)
from implicitbias.problems.mlp import num_params
from implicitbias.runs.results import Results
from implicitbias.theory.gradient_flow import rk4_flow
from implicitbias.theory.stability import momentum_of, plain_gd, stability_threshold

_SUMMARY_PRE = (
    "sharpness_init",
    "sharpness_final",
    "init_ratio",
    "median_ratio_second_half",
    "first_reach_step",
)


def run(cfg: EdgeOfStabilityConfig) -> Results:
    """Train every member, track the sharpness, compare with theory and gradient flow."""
    results = Results()
    dtype = jnp.float64 if cfg.x64 else jnp.float32
    X, Y, params, dirs = load_problem(cfg)
    X, Y = jnp.asarray(X, dtype), jnp.asarray(Y, dtype)
    params = jax.tree.map(lambda a: jnp.asarray(a, dtype), params)
    P = num_params(params)
    seed_dirs = dirs is not None
    if dirs is None:  # a random unit direction per estimate, for the seed's estimator
        dirs = random_directions(cfg.steps // cfg.sharpness_every, P, cfg.seed)
    m = train_members(cfg, X, Y, params, jnp.asarray(dirs, dtype))
    results.steps = m.steps
    results.scalars["data"] = {
        "dataset": cfg.dataset,
        "n": int(X.shape[0]),
        "input_dim": int(X.shape[1]),
        "outputs": int(Y.shape[1]),
        "params": P,
        "dtype": str(np.dtype(dtype)),
    }
    members = _members(cfg, m)
    results.scalars["optimizers"] = {
        "optimizer": cfg.optimizer.label,
        "momentum_optimizer": cfg.momentum_optimizer.label,
        "layer_lr_scales": list(cfg.layer_lr_scales),
        **m.seconds,
    }
    results.scalars["members"] = members
    results.scalars["divergences"] = divergences = _divergences(m, members)
    if divergences:
        # A run where every step size diverged has nothing to measure: the lab marks it
        # diverged (exit 1, no claims). Some members diverging is a warning: the others
        # are still measured (the momentum preset has such a member on purpose).
        every = len(divergences) == len(members)
        results.status = "diverged" if every else "ok"
        first = divergences[0]["message"]
        results.message = (
            first
            if every
            else f"{len(divergences)} of {len(members)} members diverged; the first: {first}"
        )
    results.scalars["eos"] = aggregate(members)
    _metrics(cfg, results, m, members)
    _lanczos_check(cfg, results, X, Y, m.final, m.sharpness, m.residual)
    _seed_estimator(results, m.seed_estimator, m.sharpness[:, :-1], members, seed_dirs)
    if cfg.flow and plain_gd(cfg.optimizer):
        _flow(cfg, results, X, Y, params, m.loss, members)
    return results


def _members(cfg: EdgeOfStabilityConfig, m: Members) -> list[dict[str, Any]]:
    """Per member: its optimizer, threshold and :func:`member_summary`."""
    every = cfg.sharpness_every
    s_steps = every * np.arange(cfg.steps // every + 1)
    n_main = len(cfg.learning_rates)
    out = []
    for b, (spec, eta) in enumerate(zip(m.specs, m.etas, strict=True)):
        theory = stability_threshold(spec, eta)
        # Without a theory for this optimizer, the ratios are to GD's 2/eta, for reference.
        threshold = theory if theory is not None else 2.0 / eta
        row = member_summary(m.loss[b], s_steps, m.sharpness[b], threshold, cfg.num_windows)
        row.update(
            optimizer=spec.label,
            group="optimizer" if b < n_main else "momentum_optimizer",
            learning_rate=float(eta),
            momentum=momentum_of(spec),
            threshold_from=spec.name if theory is not None else "none (2/eta of gd shown)",
        )
        if m.preconditioned is not None:
            pm = member_summary(m.loss[b], s_steps, m.preconditioned[b], threshold, cfg.num_windows)
            row["preconditioned"] = {k: pm[k] for k in _SUMMARY_PRE}
        out.append(row)
    return out


def _divergences(m: Members, members: list[dict]) -> list[dict[str, Any]]:
    """The engine's divergence record of each member whose loss became NaN or inf.

    The members run with ``on_divergence="continue"``: one step size that diverges (as
    eta = 0.9 with beta = 0.9 on the momentum preset) must not cut the others short; its
    curves stay NaN from that step on and the claims that read it fail.
    """
    out = []
    for b, member in enumerate(members):
        bad = np.flatnonzero(~np.isfinite(m.loss[b]))
        if bad.size:
            step = int(bad[0])
            hint = (
                f"lower the step size {member['learning_rate']:g}: the sharpness at init is "
                f"{member['sharpness_init']:.4g}, against a threshold of "
                f"{member['threshold']:.4g}"
            )
            record = Divergence(step, b, "loss", float(m.loss[b, step]), hint)
            member["diverged_at_step"] = step
            out.append({**dataclasses.asdict(record), "message": record.message()})
    return out


def _metrics(cfg, results: Results, m: Members, members: list[dict]) -> None:
    """The logged curves at every step (the sharpness NaN between its estimates)."""
    every = cfg.sharpness_every
    s_steps = every * np.arange(cfg.steps // every + 1)
    B, T = m.loss.shape

    def at(rows, values):
        full = np.full((T, B), np.nan)
        full[rows] = values.T
        return full

    results.metrics.update(
        loss=m.loss.T,
        sharpness=at(s_steps, m.sharpness),
        sharpness_residual=at(s_steps, m.residual),
        seed_estimator=at(s_steps[:-1] + 1, m.seed_estimator[..., 0]),
        seed_estimator_exact=at(s_steps[:-1] + 1, m.seed_estimator[..., 1]),
    )
    if m.preconditioned is not None:
        results.metrics["preconditioned_sharpness"] = at(s_steps, m.preconditioned)
    results.arrays.update(
        learning_rates=m.etas,
        momenta=np.asarray([r["momentum"] for r in members]),
        thresholds=np.asarray([r["threshold"] for r in members]),
    )


def _lanczos_check(cfg, results, X, Y, final, sharpness, residual) -> None:
    """The in-trajectory (warm-started) Lanczos sharpness: the final estimate against an
    independent reference at the same parameters (the final ones: the probe's last call is
    at ``t = steps``, on the parameters the run returns), and every estimate's own residual
    :math:`\\lVert Hv - Sv\\rVert / S`."""
    tracked = sharpness[:, -1]
    ref, method = reference_top_eigenvalues(X, Y, cfg.activation, final, cfg.exact_max_params)
    err = np.abs(tracked - ref) / np.abs(ref)
    finite = np.isfinite(err)  # diverged members have no Hessian to compare
    rel_res = np.abs(residual) / np.abs(sharpness)
    final_res = rel_res[:, -1]
    steps = len(residual[0])
    half = np.arange(steps) >= (steps - 1) / 2
    ok = np.all(np.isfinite(rel_res), axis=1)

    def worst(a):
        return float(np.max(a)) if a.size and np.all(np.isfinite(a)) else float("nan")

    results.scalars["lanczos_check"] = {
        "method": method,
        "lanczos_iters": cfg.lanczos_iters,
        "reference": ref.tolist(),
        "tracked": tracked.tolist(),
        "rel_error": err.tolist(),
        "members_compared": int(finite.sum()),
        "max_rel_error": float(np.max(err[finite])) if finite.any() else float("nan"),
        # ||Hv - Sv|| / S of the final estimate (some eigenvalue lies within it) and the
        # largest over the second half of the run, per member; the max over finite members.
        "tracked_rel_residual": final_res.tolist(),
        "max_rel_residual": worst(final_res[finite]),
        "rel_residual_second_half": [float(np.max(r[half])) for r in rel_res],
        "max_rel_residual_second_half": worst(rel_res[ok][:, half]),
        "median_rel_residual_second_half": float(np.median(rel_res[ok][:, half]))
        if ok.any()
        else float("nan"),
    }


def _seed_estimator(results, est, sharp, members, seed_dirs) -> None:
    """Seed 000's estimator (||S H u||, u one random unit vector) next to Lanczos.

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


def _flow(cfg, results, X, Y, params, losses, members) -> None:
    """Gradient flow (RK4) from the same init, against the GD members at ``tau = eta t``."""
    gd = [b for b, m in enumerate(members) if m["group"] == "optimizer"]
    etas = [members[b]["learning_rate"] for b in gd]
    eta_min = min(etas)
    reach = [
        members[b]["learning_rate"] * members[b]["first_reach_step"]
        for b in gd
        if members[b]["first_reach_step"] is not None
    ]
    cap = eta_min * cfg.steps
    # Up to flow_horizon x the latest first-reach time; the whole run when no member
    # reaches 2/eta, or when all start above it.
    horizon = min(cap, cfg.flow_horizon * max(reach)) if reach and max(reach) > 0 else cap
    h = eta_min / cfg.flow_substeps
    ft, fl, fst, fs = rk4_flow(
        lambda p: mse(p, (X, Y), activation=cfg.activation),
        params,
        h=h,
        horizon=horizon,
        every=max(1, int(round(cfg.sharpness_every * eta_min / h))),
        iters=cfg.lanczos_iters,
        key=jax.random.PRNGKey(cfg.seed + 7),
        scale=layer_scales(params, cfg.layer_lr_scales),
    )
    results.arrays.update(flow_time=ft, flow_loss=fl, flow_sharpness_time=fst, flow_sharpness=fs)
    rows = []
    for b in gd:
        eta = members[b]["learning_rate"]
        row = flow_comparison(
            losses[b], eta, members[b]["first_reach_step"], ft, fl, cfg.track_tolerance
        )
        row["learning_rate"] = eta
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
