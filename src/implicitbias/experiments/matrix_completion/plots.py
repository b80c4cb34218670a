"""Figures of the matrix-completion experiment (they read arrays and reported numbers)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.runs.results import Results


def _opt(results: Results) -> str:
    """The optimizer actually used, as written on the command line."""
    return str(results.scalars.get("problem", {}).get("optimizer", "gd"))


def _shown_members(results: Results) -> list[int]:
    """Members of the first problem at the smallest init scale, by depth."""
    a = results.arrays
    keep = (a["member_problem"] == 0) & (a["member_scale"] == a["member_scale"].min())
    idx = np.flatnonzero(keep)
    return list(idx[np.argsort(a["member_depth"][idx])])


def singular_values_figure(results: Results) -> Any:
    """Top singular values of W(t) against steps, one panel per depth (seed 004's figure)."""
    members = _shown_members(results)
    fig, axes = figure(1, len(members), size=(4.2 * len(members), 3.6), squeeze=False)
    t = results.steps
    sv = results.arrays["singular_values"]
    truth = results.arrays["truth_spectra"][0]
    for ax, b in zip(axes[0], members, strict=True):
        for i in range(min(5, sv.shape[-1])):
            ax.plot(t, sv[:, b, i], lw=1.4, label=f"sigma_{i + 1}")
        for s in truth[: int(np.sum(truth > 1e-10 * truth[0]))][:5]:
            ax.axhline(s, color="0.5", ls=":", lw=0.8)
        ax.set(
            xlabel="step",
            ylabel="singular value of W",
            title=f"depth {results.arrays['member_depth'][b]}",
        )
    axes[0][0].plot([], [], color="0.5", ls=":", lw=0.8, label="truth")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"Singular values of the end-to-end matrix during {_opt(results)}")
    return fig


def spectra_figure(results: Results) -> Any:
    """Final spectra of each depth, of the nuclear-norm minimizer and of the truth."""
    fig, ax = figure(size=(6.0, 4.2))
    a = results.arrays
    k = np.arange(1, a["final_spectra"].shape[1] + 1)
    floor = 1e-14 * a["truth_spectra"][0, 0]
    for b in _shown_members(results):
        ax.semilogy(
            k,
            np.maximum(a["final_spectra"][b], floor),
            "o-",
            ms=3,
            lw=1.2,
            label=f"{_opt(results)}, depth {a['member_depth'][b]}",
        )
    if "nuclear_spectra" in a:
        ax.semilogy(
            k,
            np.maximum(a["nuclear_spectra"][0], floor),
            "s--",
            ms=3,
            lw=1.2,
            color="k",
            label="nuclear-norm minimizer",
        )
    ax.semilogy(k, np.maximum(a["truth_spectra"][0], floor), "x:", ms=5, color="red", label="truth")
    ax.set(xlabel="index i", ylabel="sigma_i", title="Final spectra")
    ax.legend(fontsize=7)
    return fig


def error_figure(results: Results) -> Any:
    """Relative error and effective rank against depth, per observation count, with the
    nuclear-norm minimizer's levels."""
    by_count = results.get("summary.by_count")
    fig, (ax1, ax2) = figure(1, 2, size=(10.0, 3.8))
    for count, entry in by_count.items():
        depths = sorted(int(k[6:]) for k in entry if k.startswith("depth_"))
        err = [entry[f"depth_{L}"]["relative_error"] for L in depths]
        erank = [entry[f"depth_{L}"]["effective_rank"] for L in depths]
        line = ax1.semilogy(depths, err, "o-", label=f"{_opt(results)}, {count} observed")[0]
        ax2.plot(depths, erank, "o-", color=line.get_color())
        if "nuclear" in entry:
            ax1.axhline(
                entry["nuclear"]["relative_error"],
                color=line.get_color(),
                ls="--",
                lw=1,
                label=f"nuclear-norm min., {count}",
            )
            ax2.axhline(entry["nuclear"]["effective_rank"], color=line.get_color(), ls="--", lw=1)
    truth = results.scalars["truth"][0]["effective_rank"]
    ax2.axhline(truth, color="red", ls=":", lw=1, label="truth")
    depths = sorted({int(k[6:]) for e in by_count.values() for k in e if k.startswith("depth_")})
    for ax in (ax1, ax2):
        ax.set_xticks(depths)
    ax1.set(xlabel="depth", ylabel="||W - M||_F / ||M||_F", title="Reconstruction error")
    ax2.set(xlabel="depth", ylabel="effective rank", title="Effective rank (Roy & Vetterli)")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7)
    return fig


def incremental_figure(results: Results) -> Any:
    """sigma_i(t) / sigma_i(truth) on a log step axis: one at a time, sharper with depth."""
    members = _shown_members(results)
    fig, axes = figure(1, len(members), size=(4.2 * len(members), 3.6), squeeze=False, sharey=True)
    a = results.arrays
    t = np.asarray(results.steps, dtype=float)
    keep = t >= 1
    truth = a["truth_spectra"][0]
    rank = int(np.sum(truth > 1e-10 * truth[0]))
    for ax, b in zip(axes[0], members, strict=True):
        for i in range(min(rank, a["singular_values"].shape[-1], 6)):
            ax.semilogx(
                t[keep],
                a["singular_values"][keep, b, i] / truth[i],
                lw=1.4,
                label=f"sigma_{i + 1} / sigma*_{i + 1}",
            )
        ax.axhline(1.0, color="0.5", ls=":", lw=0.8)
        ax.set(xlabel="step", title=f"depth {a['member_depth'][b]}")
    axes[0][0].set_ylabel("learned / true singular value")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"Incremental learning of the singular values ({_opt(results)})")
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    figs = {
        "singular_values": singular_values_figure(results),
        "spectra": spectra_figure(results),
        "incremental": incremental_figure(results),
    }
    if "summary" in results.scalars:
        figs["error_vs_depth"] = error_figure(results)
    return figs
