"""Figures of the geometry experiment. They draw what ``run`` measured (angles, normalized
paths, final angles) and compute nothing beyond reading arrays and scalars."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.ticker import NullLocator

from implicitbias.plotting import figure
from implicitbias.runs.results import Results

REFS = ("l1", "l2", "linf")
COLORS = {"l1": "tab:green", "l2": "tab:blue", "linf": "tab:red"}
LABELS = {"l1": "l1 max margin", "l2": "l2 max margin", "linf": "l_inf max margin"}


def _methods(results: Results) -> list[str]:
    return list(results.scalars["methods"])


def _grid(n: int, size: float = 3.0) -> tuple[Any, list[Any]]:
    """A figure with ``n`` panels (at most 4 per row) sharing axes; unused ones are hidden."""
    ncols = min(4, n)
    nrows = math.ceil(n / ncols)
    fig, axes = figure(
        nrows,
        ncols,
        size=(size * ncols, size * nrows * 0.95),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _title(results: Results, name: str) -> str:
    """The optimizer as run (its spec) and the max margin its theory predicts."""
    m = results.scalars["methods"][name]
    return f"{m['label']} (theory: {m['reference'] or 'none'})"


def angles_figure(results: Results) -> Any:
    """Angle to each reference vs step (log-log), one panel per method: the median over
    inits as a line, the range over inits shaded."""
    names = _methods(results)
    fig, axes = _grid(len(names))
    t = results.steps[1:]
    for ax, name in zip(axes, names, strict=True):
        angles = np.maximum(results.arrays[f"{name}_angles"][1:], 1e-4)  # (L-1, B, 3)
        for i, ref in enumerate(REFS):
            ax.fill_between(
                t,
                angles[:, :, i].min(axis=1),
                angles[:, :, i].max(axis=1),
                color=COLORS[ref],
                alpha=0.2,
                lw=0,
            )
            ax.loglog(
                t,
                np.median(angles[:, :, i], axis=1),
                color=COLORS[ref],
                lw=1.5,
                label=f"to {LABELS[ref]}",
            )
        ax.set_title(_title(results, name), fontsize=9)
        ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks: slow, and not needed
        ax.yaxis.set_minor_locator(NullLocator())
    axes[0].set_ylim(1e-2, 200)
    axes[0].legend(fontsize=7, loc="lower left")
    fig.supxlabel("step")
    fig.supylabel("angle (degrees); line: median over inits, band: range")
    fig.suptitle("Angle between w_t and each max-margin direction")
    return fig


def final_angles_figure(results: Results) -> Any:
    """Final angles to the three references: mean over inits, bars from min to max."""
    names = _methods(results)
    fig, ax = figure(size=(max(6.0, 1.2 * len(names) + 2), 4.0))
    x = np.arange(len(names))
    width = 0.26
    for i, ref in enumerate(REFS):
        a = [np.asarray(results.scalars["methods"][n]["final_angle"][ref]) for n in names]
        mean = np.array([v.mean() for v in a])
        err = np.array(
            [
                [m - v.min() for v, m in zip(a, mean, strict=True)],
                [v.max() - m for v, m in zip(a, mean, strict=True)],
            ]
        )
        ax.bar(
            x + (i - 1) * width,
            mean,
            width,
            yerr=err,
            color=COLORS[ref],
            capsize=2,
            label=f"to {LABELS[ref]}",
        )
    ax.set_xticks(
        x,
        [results.scalars["methods"][n]["label"] for n in names],
        rotation=25,
        ha="right",
        fontsize=8,
    )
    sep = results.scalars["references"]["angles"]
    ax.set(
        ylabel="final angle (degrees)",
        title="Where each optimizer ends (references pairwise "
        + ", ".join(f"{v:.1f}" for v in sep.values())
        + " deg apart)",
    )
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    return fig


def _circle_axes(ax: Any, refs: np.ndarray) -> None:
    theta = np.linspace(0, 2 * np.pi, 361)
    ax.plot(np.cos(theta), np.sin(theta), color="0.6", ls="--", lw=0.8)
    for ref, u in zip(REFS, refs, strict=True):
        ax.plot([0, u[0]], [0, u[1]], color=COLORS[ref], lw=2, label=LABELS[ref])
    ax.set_aspect("equal")
    ax.set(xlim=(-1.15, 1.15), ylim=(-1.15, 1.15))


def circle_figure(results: Results) -> Any:
    """2D: the unit circle, the three reference directions and every normalized path."""
    names = _methods(results)
    fig, axes = _grid(len(names))
    refs = results.arrays["refs"]
    for ax, name in zip(axes, names, strict=True):
        _circle_axes(ax, refs)
        paths = results.arrays[f"{name}_paths"]  # (L, B, 2), unit vectors
        for b in range(paths.shape[1]):
            ax.plot(
                paths[:, b, 0],
                paths[:, b, 1],
                color="k",
                lw=1,
                alpha=0.8,
                label="w_t / ||w_t||" if b == 0 else None,
            )
            ax.plot(*paths[0, b], "o", color="k", ms=3)
            ax.plot(*paths[-1, b], "*", color="tab:orange", ms=9, label="end" if b == 0 else None)
        ax.set_title(_title(results, name), fontsize=9)
    axes[0].legend(fontsize=6, loc="lower left")
    fig.suptitle("Normalized trajectories on the unit circle (o: start)")
    return fig


def data_figure(results: Results) -> Any:
    """2D: the data and the decision boundaries of the three max-margin directions."""
    fig, ax = figure(size=(5.0, 5.0))
    X, y = results.arrays["X"], results.arrays["y"]
    ax.scatter(*X[y > 0].T, marker="o", color="tab:purple", label="y = +1")
    ax.scatter(*X[y < 0].T, marker="s", color="tab:olive", label="y = -1")
    lim = 1.15 * float(np.max(np.abs(X)))
    support = sorted({i for r in REFS for i in results.scalars["references"][r]["support"]})
    ax.scatter(
        *X[support].T, s=160, facecolors="none", edgecolors="k", lw=0.8, label="support vector"
    )
    for ref, u in zip(REFS, results.arrays["refs"], strict=True):
        normal = np.array([-u[1], u[0]])
        ax.plot(
            *(np.outer([-2 * lim, 2 * lim], normal).T),
            color=COLORS[ref],
            lw=1,
            label=f"boundary of the {LABELS[ref]}",
        )
        ax.annotate(
            "", xy=u * lim / 2, xytext=(0, 0), arrowprops=dict(arrowstyle="->", color=COLORS[ref])
        )
    ax.set_aspect("equal")
    ax.set(
        xlim=(-lim, lim),
        ylim=(-lim, lim),
        xlabel="x1",
        ylabel="x2",
        title="Data and the three max-margin classifiers",
    )
    ax.legend(fontsize=7, loc="lower right")
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    figures = {"angles": angles_figure(results), "final_angles": final_angles_figure(results)}
    if results.arrays["X"].shape[1] == 2:
        figures["circle"] = circle_figure(results)
        figures["data"] = data_figure(results)
    return figures
