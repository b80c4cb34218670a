"""Figures of the lazy-rich experiment (they read arrays and reported numbers only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure, reference_line
from implicitbias.runs.results import Results


def _opt(results: Results) -> str:
    return str(results.scalars.get("problem", {}).get("optimizer", "gd"))


def _per_draw(ax: Any, alphas: np.ndarray, values: np.ndarray, color: str, label: str) -> None:
    """Thin lines for the draws, markers for their geometric mean."""
    for row in values:
        ax.plot(alphas, row, "-", color=color, lw=0.7, alpha=0.35)
    ax.plot(
        alphas, np.exp(np.log(values).mean(axis=0)), "o-", color=color, ms=4, lw=1.2, label=label
    )


def weight_change_figure(results: Results) -> Any:
    """Relative weight change vs alpha (log-log), the 1/alpha law of the kernel solve."""
    fig, ax = figure(size=(6.2, 4.4))
    alphas = results.arrays["alphas"]
    change = results.arrays["relative_weight_change"]
    _per_draw(ax, alphas, change, "tab:blue", f"{_opt(results)}: ||w_T - w0|| / ||w0||")
    const = float(np.exp(np.log(results.arrays["lazy_weight_change_constant"]).mean()))
    ax.plot(
        alphas, const / alphas, "k--", lw=1, label="||J0^T K^-1 y|| / (alpha ||w0||)  (slope -1)"
    )
    fit = np.asarray(results.get("problem.fit_alphas"))
    ax.axvspan(fit.min(), fit.max(), color="0.92", zorder=0, label="slope fit range")
    slopes = results.get("sweep.weight_change_slope")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="output scale alpha",
        ylabel="relative weight change",
        title=f"Weights move like 1/alpha (fitted slopes {min(slopes):.3f} .. {max(slopes):.3f})",
    )
    ax.legend(fontsize=7)
    return fig


def kernel_distance_figure(results: Results) -> Any:
    """Relative distance of the trained predictor to the tangent-kernel interpolator."""
    fig, ax = figure(size=(6.2, 4.4))
    alphas = results.arrays["alphas"]
    dist = results.arrays["kernel_distance"]
    _per_draw(ax, alphas, dist, "tab:red", f"{_opt(results)}: ||g_alpha - g_K|| / ||g_K||")
    ax.plot(alphas, dist[:, -1].mean() * alphas[-1] / alphas, "k:", lw=1, label="1/alpha")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="output scale alpha",
        ylabel="relative distance on test inputs",
        title="Distance to kernel regression with the tangent kernel at init",
    )
    ax.legend(fontsize=7)
    return fig


def test_error_figure(results: Results) -> Any:
    """Test error vs alpha, each draw's kernel interpolator as a level."""
    fig, ax = figure(size=(6.2, 4.4))
    alphas = results.arrays["alphas"]
    err = results.arrays["test_error"]
    kernel = results.arrays["kernel_test_error"]
    colors = [f"C{k % 10}" for k in range(err.shape[0])]
    for k, (row, level) in enumerate(zip(err, kernel, strict=True)):
        ax.plot(alphas, row, "o-", color=colors[k], ms=3, lw=1, label=f"draw {k}")
        reference_line(
            ax, level, "kernel interpolator" if k == 0 else "_nolegend_", color=colors[k], lw=0.8
        )
    ax.set(
        xscale="log",
        xlabel="output scale alpha",
        ylabel="test error ||g - y||^2 / ||y||^2",
        title="Test error: rich (small alpha) vs lazy (large alpha); dashed: kernel",
    )
    ax.legend(fontsize=7, ncol=2)
    return fig


def training_figure(results: Results) -> Any:
    """Train residual and relative weight change along training, one line per alpha (draw 0)."""
    from matplotlib import colormaps

    fig, (ax1, ax2) = figure(1, 2, size=(11.0, 4.2))
    t = np.asarray(results.steps, dtype=float)
    keep = t >= 1
    alphas = results.arrays["alphas"]
    cmap = colormaps["viridis"]
    for i, a in enumerate(alphas):  # members 0 .. A-1 are draw 0
        color = cmap(i / max(len(alphas) - 1, 1))
        ax1.loglog(
            t[keep],
            np.maximum(results.metrics["train_residual"][keep, i], 1e-17),
            color=color,
            lw=1,
            label=f"{a:.3g}",
        )
        ax2.loglog(
            t[keep],
            np.maximum(results.metrics["relative_weight_change"][keep, i], 1e-17),
            color=color,
            lw=1,
        )
    ax1.set(xlabel="step", ylabel="||g(X) - y|| / ||y||", title="Train residual (draw 0)")
    ax1.legend(fontsize=6, title="alpha", title_fontsize=7, ncol=2)
    ax2.set(xlabel="step", ylabel="||w - w0|| / ||w0||", title="Relative weight change (draw 0)")
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    if "relative_weight_change" not in results.arrays:
        return {}
    figures = {
        "weight_change": weight_change_figure(results),
        "kernel_distance": kernel_distance_figure(results),
        "test_error": test_error_figure(results),
    }
    if "train_residual" in results.metrics:
        figures["training"] = training_figure(results)
    return figures
