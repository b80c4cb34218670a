"""Figures of the edge-of-stability experiment. They read ``Results`` (the loss at every
logged step, the sharpness where it was estimated) and compute nothing beyond indexing."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.runs.results import Results


def _members(results: Results) -> list[dict]:
    return results.scalars.get("members", [])


def _label(member: dict) -> str:
    """The optimizer actually used and its step size."""
    return f"{member['optimizer']}, eta={member['learning_rate']:g}"


def _estimated(results: Results, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, values (L', B))`` at the logged steps where ``name`` was estimated."""
    values = results.metrics[name]
    rows = np.any(np.isfinite(values), axis=1)
    return results.steps[rows], values[rows]


def sharpness_figure(results: Results) -> Any:
    """Sharpness vs step, one colour per member, with its threshold dashed."""
    fig, ax = figure(size=(6.4, 4.2))
    steps, sharp = _estimated(results, "sharpness")
    for b, member in enumerate(_members(results)):
        line = ax.plot(steps, sharp[:, b], lw=1.4, label=_label(member))[0]
        ax.axhline(member["threshold"], color=line.get_color(), ls="--", lw=1.0)
    if "preconditioned_sharpness" in results.metrics:
        # Per-layer step multipliers (seed-000): the sharpness of S^1/2 H S^1/2.
        pre_steps, pre = _estimated(results, "preconditioned_sharpness")
        for b in range(pre.shape[1]):
            ax.plot(
                pre_steps,
                pre[:, b],
                lw=1.2,
                ls="-.",
                color="k",
                label="lambda_max(S^1/2 H S^1/2), governs the update" if b == 0 else None,
            )
    ax.plot([], [], "k--", lw=1.0, label="threshold: 2/eta (gd), 2(1+beta)/eta (heavy ball)")
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
    loss = results.metrics["loss"]
    for b, member in enumerate(_members(results)):
        line = ax.semilogy(results.steps, loss[:, b], lw=0.8, label=_label(member))[0]
        if member.get("first_reach_step") is not None:
            ax.axvline(member["first_reach_step"], color=line.get_color(), ls=":", lw=1.0)
    ax.set(
        xlabel="step",
        ylabel="train loss",
        title="Loss (dotted: sharpness first reaches the threshold)",
    )
    ax.legend(fontsize=7)
    return fig


def flow_figure(results: Results) -> Any:
    """The optimizer vs gradient flow at equal time eta t: loss (left) and sharpness (right)."""
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
    loss = results.metrics["loss"]
    steps, sharp = _estimated(results, "sharpness")
    for b, member in enumerate(_members(results)):
        if member["group"] != "optimizer":
            continue
        eta = member["learning_rate"]
        t = results.steps * eta
        keep = t <= ft[-1]
        line = ax1.semilogy(t[keep], loss[keep, b], lw=0.9, label=_label(member))[0]
        ks = steps * eta <= ft[-1]
        ax2.plot(steps[ks] * eta, sharp[ks, b], lw=1.2, color=line.get_color())
        ax2.axhline(member["threshold"], color=line.get_color(), ls="--", lw=0.8)
        reach = member.get("first_reach_step")
        if reach is not None and reach * eta <= ft[-1]:
            for ax in (ax1, ax2):
                ax.axvline(reach * eta, color=line.get_color(), ls=":", lw=1.0)
    opt = results.scalars.get("optimizers", {}).get("optimizer", "gd")
    ax1.set(xlabel="time eta * t", ylabel="train loss", title=f"{opt} vs gradient flow")
    ax2.set(
        xlabel="time eta * t",
        ylabel="sharpness",
        title="dashed: 2/eta; dotted: first reached",
    )
    ax1.legend(fontsize=7)
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    figs = {"sharpness": sharpness_figure(results), "loss": loss_figure(results)}
    if "flow_time" in results.arrays:
        figs["gd_vs_flow"] = flow_figure(results)
    return figs
