"""Figures of the catapults experiment (they read arrays and reported numbers only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.runs.results import Results


def _regimes(ax: Any, results: Results, name: str) -> None:
    """Shade the lazy, catapult and divergent ranges of c measured in draw 0."""
    c_div = results.get(f"{name}.diverge_boundary")[0]
    c_max = float(results.arrays["cs"][-1])
    hi = c_div if np.isfinite(c_div) else c_max
    ax.axvspan(
        float(results.arrays["cs"][0]),
        1.0,
        color="tab:green",
        alpha=0.08,
        lw=0,
        label="lazy (c < 1)",
    )
    ax.axvspan(1.0, hi, color="tab:orange", alpha=0.10, lw=0, label="catapult")
    if np.isfinite(c_div):
        ax.axvspan(c_div, c_max, color="tab:red", alpha=0.08, lw=0, label="diverges (draw 0)")


def loss_figure(results: Results, name: str = "network") -> Any:
    """Loss per step, one line per learning rate (draw 0), log y."""
    from matplotlib import colormaps

    fig, ax = figure(size=(6.6, 4.6))
    loss = results.arrays[f"{name}_loss"][:, 0, :]
    cs = results.arrays["cs"]
    t = np.arange(loss.shape[0])
    cmap = colormaps["viridis"]
    div = results.arrays[f"{name}_diverged"][0].astype(bool)
    for j, c in enumerate(cs):
        row = loss[:, j]
        keep = np.isfinite(row) & (row > 0)
        ax.plot(
            t[keep],
            row[keep],
            color=cmap(j / max(len(cs) - 1, 1)),
            lw=0.9,
            ls=":" if div[j] else "-",
            label=f"{c:.2f}" if j % 3 == 0 else "_nolegend_",
        )
    ax.axhline(loss[0, 0], color="0.3", ls="--", lw=0.8, label="initial loss")
    ax.set(
        yscale="log",
        xlabel="step",
        ylabel="train loss",
        title=f"{name}: loss per eta (draw 0); c = eta lambda_0 / 2, dotted: diverges",
    )
    shown = loss[np.isfinite(loss) & (loss > 0)]
    ax.set_ylim(max(shown.min(), 1e-30 * loss[0, 0]), min(shown.max(), 1e12 * loss[0, 0]) * 3)
    ax.legend(fontsize=6, title="c", title_fontsize=7, ncol=2)
    return fig


def curvature_figure(results: Results, name: str = "network") -> Any:
    """Final NTK top eigenvalue times eta/2 against c = eta lambda_0 / 2, regimes shaded."""
    fig, ax = figure(size=(6.6, 4.6))
    cs = results.arrays["cs"]
    values = results.arrays[f"{name}_eta_lambda_T_over_2"]
    _regimes(ax, results, name)
    for k, row in enumerate(values):
        ax.plot(cs, row, "o-", ms=3, lw=1, color=f"C{k % 10}", label=f"draw {k}")
    ax.plot(cs, cs, "k:", lw=1, label="lambda_T = lambda_0 (lazy)")
    ax.axhline(1.0, color="0.3", ls="--", lw=1, label="lambda_T = 2 / eta")
    ax.set(
        xscale="log",
        xlabel="c = eta lambda_0 / 2",
        ylabel="eta lambda_T / 2",
        title=f"{name}: final curvature (NTK top eigenvalue) in units of 2 / eta",
    )
    ax.set_ylim(0, max(1.3, float(np.nanmax(np.where(cs <= 1.2, cs, np.nan))) + 0.1))
    ax.legend(fontsize=7)
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    if "network_loss" not in results.arrays:
        return {}
    figures = {
        "loss": loss_figure(results, "network"),
        "curvature": curvature_figure(results, "network"),
    }
    if "uv_loss" in results.arrays:
        figures["uv_loss"] = loss_figure(results, "uv")
        figures["uv_curvature"] = curvature_figure(results, "uv")
    return figures
