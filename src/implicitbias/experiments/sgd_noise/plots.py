"""Figures of the sgd-noise experiment (they read arrays and reported numbers only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.runs.results import Results


def _opt(results: Results, part: str) -> str:
    """The optimizer actually used by ``part`` (``linear`` or ``mlp``)."""
    return str(results.scalars[part].get("optimizer", "gd"))


def linear_figure(results: Results) -> Any:
    """Final train/test MSE and ||w|| per batch size (mean +- std over seeds), with the
    theory's expected values, and ||w - w_hat||^2 over time against tr Sigma."""
    fig, axes = figure(1, 4, size=(16.0, 3.8))
    rows = results.scalars["linear"]["per_batch"]
    opt = _opt(results, "linear")
    b = np.array([r["batch_size"] for r in rows], dtype=float)
    for ax, key, label in (
        (axes[0], "train_mse", "train MSE"),
        (axes[1], "test_mse", "test MSE"),
        (axes[2], "norm", "||w||"),
    ):
        mean = np.array([r[f"{key}_mean"] for r in rows])
        std = np.array([r[f"{key}_std"] for r in rows])
        ax.errorbar(
            b, mean, yerr=std, marker="o", capsize=3, label=f"{opt}, mean +- std over seeds"
        )
        pred = (
            [r[f"predicted_{key}"] for r in rows]
            if key != "norm"
            else [np.sqrt(r["predicted_norm2"]) for r in rows]
        )
        ax.plot(b, pred, "k--", lw=1, label="SGD theory: expected value (stationary)")
        ax.set(xscale="log", xlabel="batch size", ylabel=label, title=f"{label} at the last step")
        ax.legend(fontsize=6)
    steps = results.steps
    ax = axes[3]
    for r in rows:
        d2 = results.arrays[f"linear_b{r['batch_size']}_dist2"].mean(axis=1)
        line = ax.semilogy(
            steps[1:], np.maximum(d2[1:], 1e-20), lw=1, label=f"B = {r['batch_size']}"
        )[0]
        if r["dist2_predicted"] > 0:
            ax.axhline(r["dist2_predicted"], color=line.get_color(), ls=":", lw=1)
    ax.set(
        xlabel="step",
        ylabel="||w - w_hat||^2 (mean over seeds)",
        title=f"{opt}: fluctuation around w_hat; dotted: SGD's tr Sigma",
        ylim=(1e-8, 10),
    )
    ax.legend(fontsize=6)
    return fig


def mlp_figure(results: Results) -> Any:
    """Sharpness, Hessian trace and test error against eta / B (MLP on digits)."""
    fig, axes = figure(1, 4, size=(16.0, 3.8))
    rows = results.scalars["mlp"]["rows"]
    opt = _opt(results, "mlp")
    x = np.array([r["eta_over_batch"] for r in rows])
    lr = np.array([r["learning_rate"] for r in rows])
    bs = np.array([r["batch_size"] for r in rows])
    for ax, key, label in (
        (axes[0], "sharpness", "top Hessian eigenvalue"),
        (axes[1], "trace", "Hessian trace (Hutch++)"),
        (axes[2], "test_error", "test error"),
        (axes[3], "train_loss", "train loss"),
    ):
        for eta in np.unique(lr):
            sel = lr == eta
            order = np.argsort(x[sel])
            y = np.array([r[key] for r in rows])[sel][order]
            e = np.array([r[f"{key}_std"] for r in rows])[sel][order]
            ax.errorbar(
                x[sel][order],
                y,
                yerr=np.nan_to_num(e),
                marker="o",
                capsize=3,
                label=f"{opt}, eta = {eta:g}",
            )
            for xi, yi, b in zip(x[sel][order], y, bs[sel][order], strict=True):
                ax.annotate(
                    f"B={b}", (xi, yi), fontsize=6, xytext=(2, 2), textcoords="offset points"
                )
            if key == "sharpness":
                ax.axhline(2 / eta, ls=":", lw=1, color=ax.lines[-1].get_color())
        ax.set(xscale="log", xlabel="eta / B", ylabel=label, title=label)
        ax.legend(fontsize=6)
    axes[0].set_title("sharpness (dotted: 2 / eta)")
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    figs = {}
    if "linear" in results.scalars:
        figs["linear"] = linear_figure(results)
    if "mlp" in results.scalars:
        figs["mlp"] = mlp_figure(results)
    return figs
