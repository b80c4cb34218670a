"""Figures of the diagonal-net experiment (they read arrays and reported numbers only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure, reference_line
from implicitbias.runs.results import Results

_STYLE = {"square": ("tab:blue", "o", "u*u - v*v"), "product": ("tab:orange", "s", "u+v+ - u-v-")}


def _opt(results: Results) -> str:
    """The optimizer actually used, as written on the command line."""
    return str(results.scalars.get("problem", {}).get("optimizer", "gd"))


def _models(results: Results) -> list[str]:
    return [m for m in ("square", "product") if m in results.scalars]


def _rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a - b, axis=-1) / np.linalg.norm(b, axis=-1)


def distances_figure(results: Results) -> Any:
    """Distance to the l1 and l2 interpolators vs alpha (trained: markers, Q_alpha: lines),
    and the l1 norm of the solution between the two levels."""
    fig, (ax1, ax2) = figure(1, 2, size=(11.0, 4.2))
    opt = _opt(results)
    alphas = results.arrays["alphas"]
    w_l1, w_l2 = results.arrays["w_l1"], results.arrays["w_l2"]
    for model in _models(results):
        color, marker, label = _STYLE[model]
        q = results.arrays[f"q_{model}"]
        ax1.loglog(
            alphas,
            results.get(f"{model}.dist_l1"),
            marker,
            color=color,
            ms=5,
            label=f"{opt} {label}: to l1",
        )
        ax1.loglog(
            alphas,
            results.get(f"{model}.dist_l2"),
            marker,
            color=color,
            ms=5,
            mfc="none",
            label=f"{opt} {label}: to l2",
        )
        ax1.loglog(alphas, _rel(q, w_l1), "-", color=color, lw=1)
        ax1.loglog(alphas, np.maximum(_rel(q, w_l2), 1e-16), "--", color=color, lw=1)
        ax2.semilogx(
            alphas,
            np.abs(results.arrays[f"w_{model}"]).sum(axis=1),
            marker + "-",
            color=color,
            ms=5,
            lw=1,
            label=f"{opt} {label}",
        )
    ax1.plot([], [], "k-", lw=1, label="Q_alpha minimizer: to l1")
    ax1.plot([], [], "k--", lw=1, label="Q_alpha minimizer: to l2")
    ax1.set(
        xlabel="init scale alpha",
        ylabel="relative distance",
        title="From the l2 interpolator (large alpha) to the l1 interpolator (small alpha)",
    )
    ax1.legend(fontsize=7)
    reference_line(
        ax2, results.get("references.l1_norm_l1"), "min-l1 interpolator", color="tab:green"
    )
    reference_line(
        ax2, results.get("references.l1_norm_l2"), "min-l2 interpolator", color="tab:red"
    )
    ax2.set(xlabel="init scale alpha", ylabel="||w||_1", title="l1 norm of the solution")
    ax2.legend(fontsize=8)
    return fig


def q_match_figure(results: Results) -> Any:
    """||w_GD - w_Qalpha|| / ||w_Qalpha|| and the final residual vs alpha; the step study."""
    has_study = "step_study" in results.scalars
    fig, axes = figure(1, 2 if has_study else 1, size=(11.0 if has_study else 5.8, 4.2))
    ax1 = axes[0] if has_study else axes
    alphas = results.arrays["alphas"]
    for model in _models(results):
        color, marker, label = _STYLE[model]
        ax1.loglog(
            alphas,
            results.get(f"{model}.dist_q"),
            marker + "-",
            color=color,
            ms=5,
            lw=1,
            label=f"{label}: distance to the Q_alpha minimizer",
        )
        if model == "square" and "square_step_corrected" in results.scalars:
            ax1.loglog(
                alphas,
                results.get("square_step_corrected.dist_q"),
                marker + "--",
                color="tab:green",
                ms=4,
                lw=1,
                label=f"{label}: distance to the step-corrected minimizer",
            )
        ax1.loglog(
            alphas,
            np.maximum(results.get(f"{model}.residual"), 1e-17),
            marker + ":",
            color=color,
            ms=4,
            mfc="none",
            lw=1,
            label=f"{label}: ||Xw - y|| / ||y||",
        )
    steps = results.get("problem.steps")
    ax1.set(
        xlabel="init scale alpha",
        ylabel="relative",
        title=f"{_opt(results)} ({steps} steps) vs the Q_alpha minimizer",
    )
    ax1.legend(fontsize=7)
    if has_study:
        study = results.scalars["step_study"]
        lrs, gaps = np.asarray(study["learning_rates"]), np.asarray(study["dist_q"])
        ax2 = axes[1]
        ax2.loglog(lrs, gaps, "o-", label=f"measured, {_opt(results)}")
        ax2.loglog(lrs, gaps[0] * lrs / lrs[0], "k--", lw=1, label="proportional to the step")
        ax2.set(
            xlabel="step eta",
            ylabel="||w - w_Qalpha|| / ||w_Qalpha||",
            title=f"Finite-step gap at alpha = {study['alpha']:g} (equal eta x steps)",
        )
        ax2.legend(fontsize=8)
    return fig


def test_error_figure(results: Results) -> Any:
    """Test error ||w - w*||^2 / ||w*||^2 vs alpha, with the l1 and l2 levels."""
    fig, (ax1, ax2) = figure(1, 2, size=(11.0, 4.2))
    alphas = results.arrays["alphas"]
    l1, l2 = results.get("references.l1_test_error"), results.get("references.l2_test_error")
    opt = _opt(results)
    for ax, log in ((ax1, False), (ax2, True)):
        for model in _models(results):
            color, marker, label = _STYLE[model]
            ax.plot(
                alphas,
                results.get(f"{model}.test_error"),
                marker + "-",
                color=color,
                ms=5,
                lw=1,
                label=f"{opt} {label}",
            )
        reference_line(ax, l2, f"min-l2 interpolator ({l2:.3g})", color="tab:red")
        if l1 > 0 and (not log or l1 > 1e-12):
            reference_line(ax, l1, f"min-l1 interpolator ({l1:.2g})", color="tab:green")
        else:  # basis pursuit recovered w*: a level of ~1e-18 has no place on a log axis
            ax.plot([], [], color="tab:green", ls="--", label=f"min-l1 interpolator ({l1:.1g})")
        ax.set_xscale("log")
        if log:
            ax.set_yscale("log")
        ax.set(
            xlabel="init scale alpha",
            ylabel="test error ||w - w*||^2 / ||w*||^2",
            title="Test error" + (" (log scale)" if log else ""),
        )
        ax.legend(fontsize=7)
    return fig


def weights_figure(results: Results) -> Any:
    """The learned coordinates at three alphas against w*, and the Q_alpha minimizer."""
    alphas = results.arrays["alphas"]
    picks = sorted({0, len(alphas) // 2, len(alphas) - 1})
    fig, axes = figure(len(picks), 1, size=(9.0, 2.3 * len(picks)), sharex=True)
    w_star = results.arrays["w_star"]
    w = results.arrays["w_square"] if "w_square" in results.arrays else results.arrays["w_product"]
    q = results.arrays["q_square"] if "q_square" in results.arrays else results.arrays["q_product"]
    idx = np.arange(w_star.size)
    for ax, i in zip(np.atleast_1d(axes), picks, strict=True):
        ax.vlines(idx, 0, w_star, color="0.6", lw=2, label="w*")
        ax.plot(idx, q[i], "x", color="k", ms=4, label="Q_alpha minimizer")
        ax.plot(idx, w[i], ".", color="tab:blue", ms=4, label=_opt(results))
        ax.axhline(0, color="0.8", lw=0.5)
        ax.set(ylabel=f"alpha = {alphas[i]:.2g}")
    np.atleast_1d(axes)[0].legend(fontsize=7, ncol=3)
    np.atleast_1d(axes)[-1].set(xlabel="coordinate i")
    np.atleast_1d(axes)[0].set_title(
        "Learned coordinates: sparse for small alpha, dense for large alpha"
    )
    return fig


def training_figure(results: Results) -> Any:
    """Residual and distance to the Q_alpha minimizer along training, one line per alpha."""
    from matplotlib import colormaps

    fig, (ax1, ax2) = figure(1, 2, size=(11.0, 4.2))
    t = np.asarray(results.steps, dtype=float)
    keep = t >= 1
    alphas = results.arrays["alphas"]
    cmap = colormaps["viridis"]
    for m, a in enumerate(alphas):
        color = cmap(m / max(len(alphas) - 1, 1))
        ax1.loglog(
            t[keep],
            np.maximum(results.metrics["residual"][keep, m], 1e-17),
            color=color,
            lw=1,
            label=f"{a:.2g}",
        )
        ax2.loglog(t[keep], results.metrics["dist_q"][keep, m], color=color, lw=1)
    model = _STYLE[results.get("problem.metrics_model")][2]
    ax1.set(
        xlabel="step", ylabel="||Xw - y|| / ||y||", title=f"Residual ({model}, {_opt(results)})"
    )
    ax1.legend(fontsize=6, title="alpha", title_fontsize=7, ncol=2)
    ax2.set(
        xlabel="step",
        ylabel="||w - w_Qalpha|| / ||w_Qalpha||",
        title="Distance to the Q_alpha minimizer",
    )
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    if "references" not in results.scalars or not _models(results):
        return {}
    figures = {
        "distances": distances_figure(results),
        "q_match": q_match_figure(results),
        "test_error": test_error_figure(results),
        "weights": weights_figure(results),
    }
    if "residual" in results.metrics:
        figures["training"] = training_figure(results)
    return figures
