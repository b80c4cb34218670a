"""Figures of the modified-loss experiment (they read arrays and reported numbers only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.runs.results import Results


def _opt(results: Results) -> str:
    return str(results.scalars.get("problem", {}).get("optimizer", "gd"))


def distance_figure(results: Results) -> Any:
    """Distance at time T between GD and each flow vs h (log-log), with slope-1 and slope-2
    guides through the smallest h, and the fitted slopes in the legend."""
    fig, ax = figure(size=(6.4, 4.6))
    hs = results.arrays["hs"]
    d_plain, d_mod = results.arrays["d_plain"], results.arrays["d_modified"]
    dist = results.scalars["distance"]
    opt = _opt(results)
    ax.loglog(
        hs,
        d_plain,
        "o-",
        color="tab:blue",
        label=f"{opt} vs gradient flow of L (slope {dist['slope_plain']:.3f}, "
        f"R² {dist['r2_plain']:.4f})",
    )
    ax.loglog(
        hs,
        d_mod,
        "s-",
        color="tab:red",
        label=f"{opt} vs flow of L + (h/4)||∇L||² (slope {dist['slope_modified']:.3f}, "
        f"R² {dist['r2_modified']:.4f})",
    )
    for d, p, color in ((d_plain, 1, "tab:blue"), (d_mod, 2, "tab:red")):
        ax.loglog(hs, d[-1] * (hs / hs[-1]) ** p, ":", color=color, lw=1, label=f"slope {p} guide")
    ax.loglog(
        hs,
        np.maximum(results.arrays["rk4_error"][1:], 1e-300),
        "x",
        color="0.5",
        ms=4,
        label="RK4 error estimate of the modified flows",
    )
    T = results.get("problem.horizon")
    ax.set(
        xlabel="step size h",
        ylabel=f"||θ_GD(k) − θ_flow(kh)||,  kh = T = {T:g}",
        title="GD follows the modified flow to O(h²), the gradient flow to O(h)",
    )
    ax.legend(fontsize=7)
    return fig


def trajectories_figure(results: Results) -> Any:
    """Loss and ||grad L||^2 vs time along GD (largest h), gradient flow and the modified
    flow of that h (left, middle); ||grad L||^2 against the loss (right)."""
    fig, (ax1, ax2, ax3) = figure(1, 3, size=(14.0, 4.2))
    h = float(results.arrays["hs"][0])
    steps = results.steps
    keep = steps <= results.arrays["step_counts"][0]
    t_gd = steps[keep] * h
    gd_loss = results.metrics["loss"][keep, 0]
    gd_norm = results.metrics["grad_norm_sq"][keep, 0]
    t = results.arrays["flow_times"]
    fl, fn = results.arrays["flow_loss"], results.arrays["flow_grad_norm_sq"]
    opt = _opt(results)
    for ax, gd, flow_key in ((ax1, gd_loss, fl), (ax2, gd_norm, fn)):
        ax.semilogy(t, flow_key[0], "-", color="tab:blue", lw=2, label="gradient flow of L")
        ax.semilogy(
            t,
            flow_key[1],
            "--",
            color="tab:red",
            lw=1.5,
            label=f"flow of L + (h/4)||∇L||², h = {h:.3g}",
        )
        ax.semilogy(t_gd, gd, "k.", ms=4, label=f"{opt}, h = {h:.3g} (time k h)")
        ax.set(xlabel="time t")
        ax.legend(fontsize=7)
    ax1.set(ylabel="loss L", title="Loss")
    ax2.set(ylabel="||∇L||²", title="Squared gradient norm (the implicit regularizer)")
    ax3.loglog(fl[0], fn[0], "-", color="tab:blue", lw=2, label="gradient flow of L")
    ax3.loglog(fl[1], fn[1], "--", color="tab:red", lw=1.5, label="modified flow")
    ax3.loglog(gd_loss, gd_norm, "k.", ms=4, label=f"{opt}, h = {h:.3g}")
    ax3.set(xlabel="loss L", ylabel="||∇L||²", title="||∇L||² at the same loss")
    ax3.legend(fontsize=7)
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    return {"distance_vs_h": distance_figure(results), "trajectories": trajectories_figure(results)}
