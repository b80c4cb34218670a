"""The sweeps: noisy runs of the base optimizer (sigma, eta, stability) and minibatches."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from implicitbias import engine
from implicitbias.experiments.flat_sharp.config import FlatSharpConfig
from implicitbias.experiments.flat_sharp.gibbs import gibbs_flat_fraction
from implicitbias.experiments.flat_sharp.stats import (
    basin_fractions,
    min_adjacent_z,
    summary,
    z_between,
    z_score,
)
from implicitbias.optim.noisy import with_gradient_noise
from implicitbias.problems.landscapes import shifts

NAME = "flat-sharp"


def basin_metrics(theta, data, aux) -> dict[str, jax.Array]:
    """``flat``: 1 when ``x > x_barrier`` (in the compiled loop)."""
    del data
    return {"flat": (theta[0] > aux["barrier"]).astype(theta.dtype)}


def initial_positions(cfg: FlatSharpConfig, dim: int) -> np.ndarray:
    """``(repeats * walkers, dim)`` starts: x uniform in [init_low, init_high], y in [-1, 1]."""
    rs = np.random.RandomState(cfg.seed)
    m = cfg.repeats * cfg.walkers
    x = rs.uniform(cfg.init_low, cfg.init_high, size=m)
    cols = [x] if dim == 1 else [x, rs.uniform(-1.0, 1.0, size=m)]
    return np.stack(cols, axis=1)


def _tile(a: np.ndarray, k: int) -> np.ndarray:
    return np.concatenate([a] * k, axis=0)


def _train(
    loss, starts, optimizer, hparams, steps, cfg, barrier, label, data=None, sampler=None, key=None
):
    return engine.train(
        loss,
        starts,
        optimizer,
        steps=steps,
        data=data,
        hparams=hparams,
        metrics=basin_metrics,
        aux={"barrier": np.asarray(barrier)},
        num_logs=cfg.num_logs,
        spacing="linear",
        sampler=sampler,
        key=key,
        on_divergence="continue",
        description=f"{NAME}: {label}",
    )


def noisy_runs(cfg, landscape, starts, barrier) -> dict[str, Any]:
    """The sigma sweep, the two eta sweeps and the stability test as ONE vmapped run.

    Members are blocks of walkers; each block has its own (eta, sigma) and every member
    its own noise seed. Returns the trajectory and the slice of members of each block.
    """
    m, k = starts.shape[0], landscape.k_sharp
    ratios = np.asarray(cfg.eta_ratios, dtype=np.float64)
    stab = np.asarray(cfg.stability_ratios, dtype=np.float64)
    rs = np.random.RandomState(cfg.seed + 7)
    near = landscape.minima()["sharp"] + 1e-3 * rs.randn(cfg.stability_walkers, landscape.dim)
    blocks = (
        [("sigma", cfg.learning_rate, s, starts) for s in cfg.sigmas]
        + [("eta_gd", r * 2.0 / k, 0.0, starts) for r in ratios]
        + [("eta_noisy", r * 2.0 / k, cfg.eta_sigma, starts) for r in ratios]
        + [("stability", r * 2.0 / k, 0.0, near) for r in stab]
    )
    lr = np.concatenate([np.full(len(b[3]), b[1]) for b in blocks])
    sigma = np.concatenate([np.full(len(b[3]), b[2]) for b in blocks])
    params = np.concatenate([b[3] for b in blocks])
    hp = {"learning_rate": lr, "sigma": sigma, "seed": np.arange(len(lr)) + 10**7 * (cfg.seed + 1)}
    traj = _train(
        landscape,
        params,
        with_gradient_noise(cfg.optimizer),
        hp,
        cfg.steps,
        cfg,
        barrier,
        f"{landscape.dim}D, {cfg.optimizer.label} + noise, eta and stability sweeps",
    )
    spans, at = {}, 0
    for name, _, _, pts in blocks:
        lo, hi = spans.get(name, (at, at))
        spans[name] = (lo, hi + len(pts))
        at += len(pts)
    return {"traj": traj, "spans": spans, "m": m}


def _part(runs, name):
    """(final params, flat-indicator course) of one sweep's members."""
    lo, hi = runs["spans"][name]
    traj = runs["traj"]
    return np.asarray(traj.params)[lo:hi], traj.metrics["flat"][:, lo:hi]


def noise_summary(cfg, landscape, runs) -> tuple[dict, dict]:
    final, course = _part(runs, "sigma")
    s, m = len(cfg.sigmas), runs["m"]
    fr = basin_fractions(final, course, landscape, s, cfg.repeats)
    temps = [cfg.learning_rate * x**2 / 2 for x in cfg.sigmas]
    gibbs = [gibbs_flat_fraction(landscape, t) if t > 0 else float("nan") for t in temps]
    scal = summary(fr, "sigma", cfg.sigmas)
    scal.update(
        learning_rate=cfg.learning_rate,
        temperature=temps,
        gibbs_flat_fraction=gibbs,
        increase_z=z_between(fr, int(np.argmax(cfg.sigmas)), cfg.sigmas.index(0.0)),
        min_adjacent_z=min_adjacent_z(fr, cfg.sigmas),
    )
    arrays = {"steps": runs["traj"].steps, "course": fr["course"], "final": final.reshape(s, m, -1)}
    return scal, arrays


def eta_summary(cfg, landscape, runs, name) -> tuple[dict, np.ndarray]:
    final, course = _part(runs, name)
    etas = np.asarray(cfg.eta_ratios) * 2.0 / landscape.k_sharp
    fr = basin_fractions(final, course, landscape, len(etas), cfg.repeats)
    scal = summary(fr, "eta", etas.tolist())
    scal["eta_ratio"] = list(cfg.eta_ratios)
    above = [
        i
        for i, r in enumerate(cfg.eta_ratios)
        if 1.0 < r and r * 2.0 / landscape.k_sharp < 2.0 / landscape.k_flat
    ]
    scal["min_flat_between_thresholds"] = float(fr["mean"][above].min()) if above else float("nan")
    return scal, final.reshape(len(etas), runs["m"], -1)


def stability(cfg, landscape, runs) -> dict[str, Any]:
    """Noise-free GD from the sharp minimum + 1e-3 N(0, I): does it converge back?"""
    ratios = np.asarray(cfg.stability_ratios, dtype=np.float64)
    final, _ = _part(runs, "stability")
    final = final.reshape(len(ratios), cfg.stability_walkers, -1)
    dist = np.linalg.norm(final - landscape.minima()["sharp"], axis=2)
    converged = (np.nan_to_num(dist, nan=np.inf) < 1e-9).mean(axis=1)
    stable = ratios[converged == 1.0]
    unstable = ratios[converged == 0.0]
    lo = float(stable.max()) if stable.size else float("nan")
    hi = float(unstable.min()) if unstable.size else float("nan")
    brackets = (
        bool(lo < 1.0 < hi)
        and bool(np.all(ratios[ratios < 1.0] <= lo))
        and bool(np.all(ratios[ratios > 1.0] >= hi))
    )
    return {
        "eta_ratio": ratios.tolist(),
        "eta": (ratios * 2.0 / landscape.k_sharp).tolist(),
        "converged_fraction": converged.tolist(),
        "largest_stable_ratio": lo,
        "smallest_unstable_ratio": hi,
        "threshold_eta": 2.0 / landscape.k_sharp,
        "final_distance_max": np.nanmax(np.where(np.isfinite(dist), dist, np.nan), axis=1).tolist(),
        "brackets": float(brackets),
        "bracket_error": max(abs(lo - 1.0), abs(hi - 1.0)) if brackets else float("inf"),
    }


def sgd_sweep(cfg, landscape, starts, barrier) -> tuple[dict, dict]:
    u = shifts(cfg.num_examples, landscape.dim, cfg.shift, cfg.seed + 3)
    etas = np.asarray(cfg.sgd_etas, dtype=np.float64)
    e, m = len(etas), starts.shape[0]
    means, stds, ses = [], [], []
    finals = []
    for bs in cfg.batch_sizes:
        full = bs == cfg.num_examples
        traj = _train(
            landscape,
            _tile(starts, e),
            cfg.optimizer,
            {"learning_rate": np.repeat(etas, m)},
            cfg.steps,
            cfg,
            barrier,
            f"{landscape.dim}D, {cfg.optimizer.label}, batch {bs}",
            data=u,
            sampler=None if full else engine.Minibatch(bs, replace=True),
            key=jax.random.PRNGKey(cfg.seed + 100 + bs),
        )
        final = np.asarray(traj.params)
        fr = basin_fractions(final, traj.metrics["flat"], landscape, e, cfg.repeats)
        means.append(fr["mean"])
        stds.append(fr["std"])
        ses.append(fr["se"])
        finals.append(final.reshape(e, m, -1))
    means, ses = np.asarray(means), np.asarray(ses)  # (batch sizes, etas)
    small, full = int(np.argmin(cfg.batch_sizes)), int(np.argmax(cfg.batch_sizes))
    z = z_score(means[small] - means[full], np.sqrt(ses[small] ** 2 + ses[full] ** 2))
    scal = {
        "batch_sizes": list(cfg.batch_sizes),
        "eta": etas.tolist(),
        "eta_over_batch": [[float(x / b) for x in etas] for b in cfg.batch_sizes],
        "flat_fraction": means.tolist(),
        "flat_fraction_std": np.asarray(stds).tolist(),
        "flat_fraction_se": ses.tolist(),
        "mean_shift_norm": float(np.linalg.norm(u.mean(axis=0))),
        "small_vs_full_z": z.tolist(),
        "min_small_vs_full_z": float(np.min(z)),
        "shift": cfg.shift,
        "num_examples": cfg.num_examples,
    }
    return scal, {"u": u, "final": np.asarray(finals), "flat_fraction": means}
