"""Figures of the flat-sharp experiment (they read arrays and reported numbers only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.problems.landscapes import Landscape
from implicitbias.runs.results import Results


def _tags(results: Results) -> list[str]:
    """The dimensions that ran: ``d1`` and/or ``d2``."""
    return [t for t in ("d1", "d2") if t in results.scalars]


def _opt(results: Results, noisy: bool = False) -> str:
    """The optimizer actually used (``noisy``: the one of the noise sweeps)."""
    label = results.scalars.get("optimizer", {}).get("label", "gd")
    return f"{label} + noise" if noisy else label


def _landscape(results: Results, dim: int) -> Landscape:
    c = results.config
    return Landscape(dim, c["k_sharp"], c["k_flat"], c["width"])


def landscape_figure(results: Results, dim: int = 1) -> Any:
    """L(x) with histograms of the walkers' final x for three noise levels."""
    fig, ax = figure(size=(7.0, 4.2))
    land = _landscape(results, dim)
    s = results.scalars[f"d{dim}"]
    x = np.linspace(-2.5, 2.5, 600)
    pts = np.stack([x] + [np.zeros_like(x)] * (dim - 1), axis=1)
    ax.plot(x, land.value(pts), "k-", lw=1.6, label="L(x, 0)" if dim == 2 else "L(x)")
    ax.axvline(s["barrier_x"], color="0.5", ls=":", lw=1, label="barrier")
    ax.set(
        xlabel="x",
        ylabel="loss",
        ylim=(-0.2, 8.0),
        xlim=(-2.5, 2.5),
        title=f"{dim}D landscape (k_sharp = {s['k_sharp']:g}, k_flat = {s['k_flat']:g}) "
        "and final positions",
    )
    twin = ax.twinx()
    final = results.arrays[f"d{dim}_noise_final"]
    sigmas = s["noise"]["sigma"]
    picks = sorted({0, len(sigmas) // 2, len(sigmas) - 1})
    bins = np.linspace(-2.5, 2.5, 101)
    for i in picks:
        xs = final[i, :, 0]
        twin.hist(
            xs[np.isfinite(xs)],
            bins=bins,
            histtype="step",
            density=True,
            lw=1.2,
            label=f"{_opt(results, True)}, sigma = {sigmas[i]:g}: "
            f"flat {s['noise']['flat_fraction'][i]:.2f}",
        )
    twin.set_ylabel("density of final x")
    twin.legend(fontsize=7, loc="upper center")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plane_figure(results: Results) -> Any:
    """The 2D landscape's contours with the final positions at the largest sigma."""
    fig, ax = figure(size=(6.0, 4.2))
    land = _landscape(results, 2)
    x, y = np.meshgrid(np.linspace(-2.5, 2.5, 300), np.linspace(-1.5, 1.5, 200))
    z = land.value(np.stack([x, y], axis=-1))
    ax.contour(x, y, np.log1p(z), levels=20, cmap="viridis", linewidths=0.7)
    final = results.arrays["d2_noise_final"][-1]
    keep = np.all(np.isfinite(final), axis=1)
    ax.scatter(final[keep, 0], final[keep, 1], s=2, alpha=0.3, color="tab:red")
    sigma = results.scalars["d2"]["noise"]["sigma"][-1]
    ax.set(
        xlabel="x",
        ylabel="y",
        xlim=(-2.5, 2.5),
        ylim=(-1.5, 1.5),
        title=f"2D: log(1 + L) and final {_opt(results, True)} walkers, sigma = {sigma:g}",
    )
    return fig


def fractions_figure(results: Results) -> Any:
    """Flat-basin fraction vs sigma, vs eta (GD and noisy GD) and vs batch size (SGD)."""
    fig, (a1, a2, a3) = figure(1, 3, size=(13.5, 4.0))
    opt, noisy = _opt(results), _opt(results, True)
    for tag in _tags(results):
        s = results.scalars[tag]
        n = s["noise"]
        bars = a1.errorbar(
            n["sigma"],
            n["flat_fraction"],
            yerr=n["flat_fraction_std"],
            marker="o",
            capsize=3,
            label=f"{tag[1:]}D {noisy} walkers",
        )
        a1.plot(
            n["sigma"],
            n["gibbs_flat_fraction"],
            ls="--",
            lw=1,
            color=bars[0].get_color(),
            label=f"{tag[1:]}D Gibbs exp(-L/T), T = eta sigma^2 / 2",
        )
        for key, style in (("eta_gd", "-o"), ("eta_noisy", "--s")):
            e = s[key]
            label = opt if key == "eta_gd" else f"{noisy}, sigma = {e.get('sigma', '')}"
            a2.errorbar(
                e["eta_ratio"],
                e["flat_fraction"],
                yerr=e["flat_fraction_std"],
                fmt=style,
                capsize=3,
                label=f"{tag[1:]}D {label}",
            )
        g = s["sgd"]
        frac = np.asarray(g["flat_fraction"])
        err = np.asarray(g["flat_fraction_std"])
        for j, eta in enumerate(g["eta"]):
            a3.errorbar(
                g["batch_sizes"],
                frac[:, j],
                yerr=err[:, j],
                marker="o",
                capsize=3,
                label=f"{tag[1:]}D {opt}, eta = {eta:g}",
            )
    a1.set(
        xlabel="gradient-noise sigma",
        ylabel="fraction in the flat basin",
        title="More noise, flatter minimum",
    )
    from matplotlib.ticker import NullFormatter

    a2.axvline(1.0, color="k", ls=":", lw=1)
    a2.set(
        xscale="log",
        xlabel="eta k_sharp / 2 (1 = stability threshold of the sharp min)",
        ylabel="fraction in the flat basin",
        title="Learning rate",
    )
    a2.xaxis.set_minor_formatter(NullFormatter())
    a3.set(
        xscale="log",
        xlabel="batch size (largest = full batch)",
        ylabel="fraction in the flat basin",
        title=f"{opt} on minibatches of the finite sum",
    )
    for a in (a1, a2, a3):
        a.legend(fontsize=6)
    return fig


def course_figure(results: Results) -> Any:
    """Flat-basin fraction vs step for each sigma (1D)."""
    fig, ax = figure(size=(6.0, 4.0))
    tag = _tags(results)[0]
    steps = results.steps
    course = results.arrays[f"{tag}_noise_course"]
    for i, sigma in enumerate(results.scalars[tag]["noise"]["sigma"]):
        ax.plot(steps, course[:, i], label=f"sigma = {sigma:g}")
    ax.set(
        xlabel="step",
        ylabel="fraction in the flat basin",
        title=f"{tag[1:]}D: {_opt(results, True)} walkers cross the barrier over time",
    )
    ax.legend(fontsize=7)
    return fig


def stability_figure(results: Results) -> Any:
    """Fraction of GD runs that converge back to the sharp minimum vs eta k_sharp / 2."""
    fig, ax = figure(size=(6.0, 4.0))
    for tag in _tags(results):
        st = results.scalars[tag]["stability"]
        ax.plot(st["eta_ratio"], st["converged_fraction"], "o-", label=f"{tag[1:]}D")
    ax.axvline(1.0, color="k", ls=":", lw=1, label="GD threshold eta = 2 / k_sharp (closed form)")
    ax.set(
        xscale="log",
        xlabel="eta k_sharp / 2",
        ylabel="fraction converged to the sharp min",
        title=f"{_opt(results)} from the sharp minimum + 1e-3 noise",
    )
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=8)
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    if not _tags(results):
        return {}
    figs = {
        "fractions": fractions_figure(results),
        "stability": stability_figure(results),
        "course": course_figure(results),
    }
    for tag in ("d1", "d2"):
        if tag in results.scalars:
            figs[f"landscape_{tag}"] = landscape_figure(results, int(tag[1]))
    if "d2" in results.scalars:
        figs["plane"] = plane_figure(results)
    return figs
