"""Figures of the min-norm experiment. They draw what ``run`` measured; they compute nothing
beyond reading arrays (and the closed-form rate line that is itself a reported number)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.runs.results import Results


def _opt(results: Results) -> str:
    """The optimizer actually used, as written on the command line."""
    return str(results.scalars.get("problem", {}).get("optimizer", "gd"))


def distance_figure(results: Results) -> Any:
    """Relative distance to the target interpolator vs steps, every init and minibatches."""
    fig, ax = figure(size=(6.4, 4.2))
    opt = _opt(results)
    steps, dist = results.steps, results.metrics["dist"]
    t = np.maximum(steps, 1)
    for m in range(1, dist.shape[1]):
        ax.loglog(
            t,
            dist[:, m],
            color="tab:blue",
            alpha=0.3,
            lw=0.8,
            label=f"{opt} from random w0 (to w0 + X^+(y - X w0))" if m == 1 else None,
        )
    ax.loglog(t, dist[:, 0], color="tab:blue", lw=2, label=f"{opt} from 0 (to X^+y)")
    if "sgd_dist" in results.arrays:
        ax.loglog(
            np.maximum(results.arrays["sgd_steps"], 1),
            results.arrays["sgd_dist"],
            color="tab:orange",
            lw=1.5,
            label=f"{opt}, minibatches, from 0 (to X^+y)",
        )
    rho = results.get("rate.predicted")
    ax.loglog(
        t,
        dist[0, 0] * rho**steps,
        color="k",
        ls="--",
        lw=1,
        label=f"GD theory (1 - eta lambda_min+)^t, rho = {rho:.4f}",
    )
    ax.set_ylim(max(1e-17, float(np.nanmin(dist[dist > 0])) / 10), 10)
    ax.set(
        xlabel="step",
        ylabel="relative distance to the interpolator",
        title=f"{opt}: distance to the interpolator closest to the init",
    )
    ax.legend(fontsize=8)
    return fig


def norms_figure(results: Results) -> Any:
    """Norms and residuals of the trained solution, X^+y and a random interpolator."""
    fig, ax = figure(size=(5.2, 3.8))
    s = results.scalars
    names = [f"{_opt(results)} from 0", "X^+ y", "random interpolator"]
    norms = [s["pinv"]["norm_gd"], s["pinv"]["norm_pinv"], s["random_interpolator"]["norm_random"]]
    resid = [
        s["random_interpolator"]["residual_gd"],
        s["random_interpolator"]["residual_gd"],
        s["random_interpolator"]["residual_random"],
    ]
    bars = ax.bar(names, norms, color=["tab:blue", "0.5", "tab:red"])
    for bar, r in zip(bars, resid, strict=True):
        ax.annotate(
            f"||Xw-y|| = {r:.1e}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set(ylabel="||w||", title="Same fit, different norms")
    return fig


def ridge_figure(results: Results) -> Any:
    """Distance from the ridge solution to the GD solution along lambda."""
    fig, ax = figure(size=(5.2, 3.8))
    ax.loglog(results.arrays["ridge_lambdas"], results.arrays["ridge_distance"], "o-")
    ax.set(
        xlabel="ridge lambda",
        ylabel=f"||w_ridge - w|| / ||w||, w from {_opt(results)}",
        title="Distance from ridge regression to the trained solution",
    )
    return fig


def plane_figure(results: Results) -> Any:
    """p = 2, n = 1: GD paths from a ring of starts, the solution line, the closest points."""
    fig, ax = figure(size=(5.0, 5.0))
    X, y = results.arrays["plane_X"][0], results.arrays["plane_y"][0]
    paths, targets = results.arrays["plane_paths"], results.arrays["plane_targets"]
    direction = np.array([-X[1], X[0]]) / np.linalg.norm(X)
    base = X * y / (X @ X)
    line = base + np.linspace(-4, 4, 2)[:, None] * direction
    ax.plot(line[:, 0], line[:, 1], "k-", lw=1, label="solutions {w : x.w = y}")
    for b in range(paths.shape[1]):
        ax.plot(
            paths[:, b, 0],
            paths[:, b, 1],
            color="tab:blue",
            lw=1,
            label=f"{_opt(results)} path" if b == 0 else None,
        )
        ax.plot(*paths[0, b], "o", color="tab:blue", ms=4)
        ax.plot(
            [paths[0, b, 0], targets[b, 0]],
            [paths[0, b, 1], targets[b, 1]],
            ":",
            color="0.5",
            lw=0.8,
            label="to the closest point" if b == 0 else None,
        )
    ax.plot(targets[:, 0], targets[:, 1], "x", color="tab:red", ms=8, label="closest point")
    ax.plot(*base, "*", color="k", ms=12, label="min-norm solution X^+y")
    ax.set_aspect("equal")
    ax.set(
        xlim=(-3, 3),
        ylim=(-3, 3),
        xlabel="w1",
        ylabel="w2",
        title="GD's paths end at the closest point of the line",
    )
    ax.legend(fontsize=7, loc="lower left")
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    figures = {
        "distance": distance_figure(results),
        "norms": norms_figure(results),
        "ridge": ridge_figure(results),
    }
    if "plane_paths" in results.arrays:
        figures["plane"] = plane_figure(results)
    return figures
