"""Figures of the max-margin experiment (they read arrays; the fits are reported numbers)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.runs.results import Results


def _opt(results: Results) -> str:
    """The optimizer of the main runs, as written on the command line."""
    return str(results.scalars.get("main", {}).get("optimizer", "gd"))


def circle_figure(results: Results) -> Any:
    """Normalized trajectories w/||w|| of the main runs on the unit circle, with the SVM
    direction."""
    fig, ax = figure(size=(5.4, 5.4))
    theta = np.linspace(0, 2 * np.pi, 300)
    ax.plot(np.cos(theta), np.sin(theta), color="0.75", ls="--", lw=0.8)
    paths = results.arrays["paths"]
    for b in range(paths.shape[1]):
        p = paths[:, b]
        norms = np.linalg.norm(p, axis=1)
        ok = norms > 1e-12
        u = p[ok] / norms[ok, None]
        ax.plot(u[:, 0], u[:, 1], lw=1.6, label=f"init {b}")
        ax.plot(*u[0], "o", ms=4, color=ax.lines[-1].get_color())
    d = results.arrays["svm_direction"]
    ax.annotate("", xy=d, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "red", "lw": 2})
    ax.plot([], [], color="red", lw=2, label="SVM direction")
    ax.set_aspect("equal")
    ax.set(
        xlim=(-1.2, 1.2),
        ylim=(-1.2, 1.2),
        xlabel="w1 / ||w||",
        ylabel="w2 / ||w||",
        title=f"{_opt(results)}: directions vs the max-margin direction",
    )
    ax.legend(fontsize=7, loc="lower left")
    return fig


def angle_figure(results: Results) -> Any:
    """Angle to the SVM direction and normalized-margin gap vs steps, with the 1/log t fit."""
    fig, (ax1, ax2) = figure(1, 2, size=(10.5, 4.0))
    t = results.steps.astype(float)
    keep = t >= 1  # the init (t = 0) has no place on a log axis
    t, angle, gap = t[keep], results.metrics["angle"][keep], results.metrics["gap"][keep]
    tail_from = results.get("fits.tail_from_step")
    for m in range(angle.shape[1]):
        line = ax1.loglog(t, angle[:, m], lw=1.2, label=f"init {m}")[0]
        fit = results.get("fits.per_init")[m]["angle_vs_inv_log_t"]
        tt = t[t >= tail_from]
        ax1.loglog(tt, fit["a"] / np.log(tt) + fit["b"], ls="--", lw=1, color=line.get_color())
        # The gap is >= 0 up to the solver's tolerance; clip for the log axis.
        ax2.loglog(t, np.maximum(gap[:, m], 1e-12), lw=1.2)
    ax1.plot([], [], "k--", lw=1, label="fit a / log t + b (tail)")
    ax1.set(
        xlabel="step",
        ylabel="angle to the SVM direction (degrees)",
        title=f"{_opt(results)}: direction gap",
    )
    ax1.legend(fontsize=7)
    ax2.set(xlabel="step", ylabel="gamma* - min_i y_i w.x_i / ||w||", title="Normalized margin gap")
    return fig


def norm_figure(results: Results) -> Any:
    """||w(t)|| against log t, with the fitted line and the predicted slope 1/gamma*."""
    fig, ax = figure(size=(5.4, 4.0))
    t = results.steps.astype(float)
    keep = t >= 1
    for m in range(results.metrics["norm"].shape[1]):
        ax.plot(np.log(t[keep]), results.metrics["norm"][keep, m], lw=1.2)
    gamma = results.get("svm.gamma")
    fit = results.get("fits.per_init")[0]["norm_vs_log_t"]
    lt = np.log(t[t >= results.get("fits.tail_from_step")])
    ax.plot(
        lt,
        fit["a"] * lt + fit["b"],
        "k--",
        lw=1,
        label=f"fit slope {fit['a']:.3g} (1/gamma* = {1 / gamma:.3g})",
    )
    ax.set(xlabel="log t", ylabel="||w(t)||", title=f"{_opt(results)}: ||w(t)|| against log t")
    ax.legend(fontsize=8)
    return fig


def data_figure(results: Results) -> Any:
    """The 2D data with the trained and SVM decision lines and the support vectors."""
    fig, ax = figure(size=(5.4, 5.4))
    X, y = results.arrays["X"], results.arrays["y"]
    ax.scatter(*X[y > 0].T, marker="+", color="tab:blue", label="y = +1")
    ax.scatter(*X[y < 0].T, marker="_", color="tab:red", label="y = -1")
    sv = results.arrays["support"]
    ax.scatter(*X[sv].T, s=120, facecolors="none", edgecolors="k", label="support vectors")
    lim = 1.1 * np.abs(X).max()
    for w, style, label in (
        (results.arrays["svm_direction"], "r-", "SVM boundary"),
        (np.asarray(results.get("main.final_w"))[0], "b--", f"{_opt(results)} boundary (init 0)"),
    ):
        normal = np.array([-w[1], w[0]]) / np.linalg.norm(w)
        ax.plot(*(np.outer([-lim, lim], normal)).T, style, lw=1.2, label=label)
    ax.set(
        xlim=(-lim, lim),
        ylim=(-lim, lim),
        xlabel="x1",
        ylabel="x2",
        title="Data, decision lines, support vectors",
    )
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def fast_figure(results: Results) -> Any:
    """Angle vs steps for the main runs, normalized GD and increasing steps (init 0)."""
    fig, ax = figure(size=(6.0, 4.0))
    curves = [(_opt(results), results.steps, results.metrics["angle"][:, 0])]
    for name in ("normalized_gd", "increasing"):
        label = results.scalars[name]["optimizer"]
        curves.append(
            (label, results.arrays[f"{name}_steps"], results.arrays[f"{name}_angle"][:, 0])
        )
    for label, steps, angle in curves:
        keep = steps >= 1  # the init has no place on a log axis
        ax.loglog(steps[keep], angle[keep], label=label)
    for th in (1.0, 0.1):
        ax.axhline(th, color="0.5", ls=":", lw=0.8)
    ax.set(
        xlabel="step",
        ylabel="angle to the SVM direction (degrees)",
        title="Faster routes to the max-margin direction (init 0)",
    )
    ax.legend(fontsize=8)
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    if "svm" not in results.scalars:
        return {}
    figures = {"angle": angle_figure(results), "norm": norm_figure(results)}
    if "paths" in results.arrays:
        figures["circle"] = circle_figure(results)
        if results.arrays["X"].shape[1] == 2:
            figures["data"] = data_figure(results)
    if "normalized_gd_angle" in results.arrays:
        figures["fast"] = fast_figure(results)
    return figures
