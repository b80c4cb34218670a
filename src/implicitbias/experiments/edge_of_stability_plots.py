"""Figures of the edge-of-stability experiment (they read ``Results.arrays``; no computing
beyond indexing)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.runs.results import Results


def _label(eta: float, beta: float) -> str:
    return f"eta={eta:g}" + (f", beta={beta:g}" if beta > 0 else "")


def sharpness_figure(results: Results) -> Any:
    """Sharpness vs step, one colour per member, with its threshold 2(1+beta)/eta dashed."""
    fig, ax = figure(size=(6.4, 4.2))
    steps = results.arrays["steps"]
    sharp = results.metrics["sharpness"]
    for b, (eta, beta) in enumerate(
        zip(results.arrays["learning_rates"], results.arrays["momenta"], strict=True)
    ):
        line = ax.plot(steps, sharp[:, b], lw=1.4, label=_label(eta, beta))[0]
        ax.axhline(results.arrays["thresholds"][b], color=line.get_color(), ls="--", lw=1.0)
    pre = results.metrics.get("preconditioned_sharpness")
    if pre is not None:  # per-layer step multipliers (seed-000): the sharpness of S^1/2 H S^1/2
        for b in range(pre.shape[1]):
            ax.plot(
                steps,
                pre[:, b],
                lw=1.2,
                ls="-.",
                color="k",
                label="lambda_max(S^1/2 H S^1/2), governs the update",
            )
    ax.plot([], [], "k--", lw=1.0, label="2(1+beta)/eta")
    ax.set(
        xlabel="step",
        ylabel="sharpness (top Hessian eigenvalue, Lanczos)",
        title="Sharpness (solid) and its stability threshold (dashed)",
    )
    ax.legend(fontsize=7)
    return fig


def loss_figure(results: Results) -> Any:
    """Train loss at every step (log scale), first-reach steps marked."""
    fig, ax = figure(size=(6.4, 4.2))
    loss = results.arrays["loss_every_step"]
    members = results.scalars.get("members", [])
    t = np.arange(loss.shape[0])
    for b, (eta, beta) in enumerate(
        zip(results.arrays["learning_rates"], results.arrays["momenta"], strict=True)
    ):
        line = ax.semilogy(t, loss[:, b], lw=0.8, label=_label(eta, beta))[0]
        reach = members[b].get("first_reach_step") if b < len(members) else None
        if reach is not None:
            ax.axvline(reach, color=line.get_color(), ls=":", lw=1.0)
    ax.set(
        xlabel="step",
        ylabel="train loss",
        title="Loss (dotted: sharpness first reaches the threshold)",
    )
    ax.legend(fontsize=7)
    return fig


def flow_figure(results: Results) -> Any:
    """GD vs gradient flow at equal time eta t: loss (left) and sharpness (right)."""
    fig, (ax1, ax2) = figure(1, 2, size=(11.0, 4.2))
    ft, fl = results.arrays["flow_time"], results.arrays["flow_loss"]
    ax1.semilogy(ft, fl, color="k", lw=2.0, label="gradient flow (RK4)")
    ax2.plot(
        results.arrays["flow_sharpness_time"],
        results.arrays["flow_sharpness"],
        color="k",
        lw=2.0,
        label="gradient flow",
    )
    loss = results.arrays["loss_every_step"]
    steps, sharp = results.arrays["steps"], results.metrics["sharpness"]
    members = results.scalars.get("members", [])
    for b, (eta, beta) in enumerate(
        zip(results.arrays["learning_rates"], results.arrays["momenta"], strict=True)
    ):
        if beta > 0:
            continue
        t = np.arange(loss.shape[0]) * eta
        keep = t <= ft[-1]
        line = ax1.semilogy(t[keep], loss[keep, b], lw=0.9, label=_label(eta, beta))[0]
        ks = steps * eta <= ft[-1]
        ax2.plot(steps[ks] * eta, sharp[ks, b], lw=1.2, color=line.get_color())
        ax2.axhline(2 / eta, color=line.get_color(), ls="--", lw=0.8)
        reach = members[b].get("first_reach_step") if b < len(members) else None
        if reach is not None and reach * eta <= ft[-1]:
            for ax in (ax1, ax2):
                ax.axvline(reach * eta, color=line.get_color(), ls=":", lw=1.0)
    ax1.set(xlabel="time eta * t", ylabel="train loss", title="GD vs gradient flow")
    ax2.set(
        xlabel="time eta * t",
        ylabel="sharpness",
        title="dashed: 2/eta; dotted: GD first reaches it",
    )
    ax1.legend(fontsize=7)
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    figs = {"sharpness": sharpness_figure(results), "loss": loss_figure(results)}
    if "flow_time" in results.arrays:
        figs["gd_vs_flow"] = flow_figure(results)
    return figs
