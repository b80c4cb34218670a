"""The learning-rate sweeps: every (draw, eta) pair is a member of ONE batched engine run, all
the etas of a draw starting from the same init; then the regimes and their boundaries."""

from __future__ import annotations

import functools

import numpy as np

from implicitbias import engine
from implicitbias.experiments.catapults.config import NAME, CatapultsConfig
from implicitbias.experiments.catapults.model import ntk_top_batched, square_loss

MONOTONE_ROUNDOFF = 1e-10
"""A rise of the loss smaller than this fraction of the initial loss is round-off (float64
losses carry ~1e-16 relative error; the lazy members' losses fall by many orders)."""


def train(cfg: CatapultsConfig, draws: list[dict], activation: str, cs: np.ndarray):
    """ONE engine run: member ``k * E + j`` is draw ``k`` at ``eta = cs[j] * 2 / lambda_0``."""
    E = len(cs)
    lams = np.array([r["lambda0"] for r in draws])
    lrs = (2.0 * cs[None, :] / lams[:, None]).reshape(-1)

    def stack(key):
        return np.repeat(np.stack([r[key] for r in draws]), E, axis=0)

    traj = engine.train(
        functools.partial(square_loss, activation=activation),
        {"U": stack("U"), "v": stack("v")},
        cfg.optimizer,
        steps=cfg.steps,
        data={"X": stack("X"), "y": stack("y")},
        data_axis=0,
        hparams={"learning_rate": lrs},
        log_at=np.arange(cfg.steps + 1),
        description=f"{NAME}: {cfg.optimizer.label}, {len(draws)} draws x {E} learning rates",
        on_divergence="continue",
    )
    return traj, lrs.reshape(len(draws), E)


def classify(loss: np.ndarray, converged_tol: float) -> dict[str, np.ndarray]:
    """Per member (``loss``: ``(T + 1, B)`` at every step): whether the loss ever rose above
    its initial value (the spike), fell monotonically, converged, or diverged."""
    L0 = loss[0]
    finite = np.all(np.isfinite(loss), axis=0)
    with np.errstate(invalid="ignore", over="ignore"):
        peak = np.where(finite, np.max(loss, axis=0), np.inf)
        rise = np.where(finite, np.max(np.diff(loss, axis=0), axis=0) / L0, np.inf)
        final = np.where(finite, loss[-1], np.inf)
    return {
        "spiked": peak > L0,
        "peak_over_initial": peak / L0,
        "largest_rise": rise,
        "monotone": rise <= MONOTONE_ROUNDOFF,
        "converged": final <= converged_tol * L0,
        "diverged": ~(final <= L0),
    }


def bracket(cs: np.ndarray, flags: np.ndarray) -> tuple[float, float]:
    """``(largest c below the first flagged one, first flagged c)``; NaN where none is
    flagged (or the first grid point already is)."""
    hit = np.nonzero(flags)[0]
    if hit.size == 0:
        return float("nan"), float("nan")
    first = hit[0]
    return (float(cs[first - 1]) if first > 0 else float("nan")), float(cs[first])


def outside(value: float, lo: float, hi: float) -> float:
    """Log-distance from ``value`` to the bracket ``[lo, hi]``: 0 inside, ``inf`` when the
    bracket is missing (the boundary was not found on the grid)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return float("inf")
    return float(max(0.0, np.log(lo / value), np.log(value / hi)))


def study(cfg: CatapultsConfig, draws: list[dict], activation: str) -> dict:
    """Train the sweep and measure, per draw, the regimes and the boundaries in units of
    2/lambda_0 (``c = eta lambda_0 / 2``)."""
    cs = cfg.cs()
    D, E = len(draws), len(cs)
    X = np.stack([r["X"] for r in draws])
    lam0 = ntk_top_batched({k: np.stack([r[k] for r in draws]) for k in ("U", "v")}, X, activation)
    for r, lam in zip(draws, lam0, strict=True):
        r["lambda0"] = float(lam)
    traj, lrs = train(cfg, draws, activation, cs)
    loss = np.asarray(traj.metrics["loss"])
    flags = {k: v.reshape(D, E) for k, v in classify(loss, cfg.converged_tol).items()}
    lam_T = ntk_top_batched(traj.params, np.repeat(X, E, axis=0), activation).reshape(D, E)
    return {
        "cs": cs,
        "learning_rates": lrs,
        "lambda0": lam0,
        "lambda_T": lam_T,
        "ntk_change": lam_T / lam0[:, None] - 1.0,
        "eta_lambda_T_over_2": lrs * lam_T / 2.0,
        "loss": loss,
        "steps": np.asarray(traj.steps),
        "compile_seconds": traj.compile_seconds,
        "run_seconds": traj.run_seconds,
        **flags,
    }


def summarize(s: dict) -> dict:
    """The numbers the claims read, one per draw."""
    cs = s["cs"]
    below = cs < 1.0
    D = len(s["lambda0"])
    out: dict[str, list] = {
        k: []
        for k in (
            "spike_bracket",
            "spike_boundary",
            "diverge_bracket",
            "diverge_boundary",
            "spike_outside_critical",
            "diverge_outside_4",
            "lazy_rises",
            "lazy_ntk_change_max",
            "catapult_members",
            "catapult_curvature_max",
            "catapult_ntk_drop_min",
            "out_of_order",
            "unresolved",
        )
    }
    for k in range(D):
        spiked, div, conv = s["spiked"][k], s["diverged"][k], s["converged"][k]
        lo, hi = bracket(cs, spiked | div)
        dlo, dhi = bracket(cs, div)
        out["spike_bracket"].append([lo, hi])
        out["spike_boundary"].append(hi)
        out["diverge_bracket"].append([dlo, dhi])
        out["diverge_boundary"].append(dhi)
        out["spike_outside_critical"].append(outside(1.0, lo, hi))
        out["diverge_outside_4"].append(outside(2.0, dlo, dhi))
        out["lazy_rises"].append(int(np.sum(~s["monotone"][k][below])))
        out["lazy_ntk_change_max"].append(float(np.max(np.abs(s["ntk_change"][k][below]))))
        cat = (cs > 1.0) & conv & spiked
        out["catapult_members"].append(int(np.sum(cat)))
        out["catapult_curvature_max"].append(
            float(np.max(s["eta_lambda_T_over_2"][k][cat])) if cat.any() else float("nan")
        )
        out["catapult_ntk_drop_min"].append(
            float(np.min(-s["ntk_change"][k][cat])) if cat.any() else float("nan")
        )
        # Sharp regimes: c < 1 converges without a spike, 1 < c < c_div spikes and
        # converges, c >= c_div diverges; count the members that break that order.
        c_div = dhi if np.isfinite(dhi) else np.inf
        wrong = (
            (below & (spiked | div))
            | ((cs > 1.0) & (cs < c_div) & ~(spiked & ~div))
            | ((cs >= c_div) & ~div)
        )
        out["out_of_order"].append(int(np.sum(wrong)))
        out["unresolved"].append(int(np.sum(~conv & ~div)))
    return out
