"""Figures of the profile: the optimizer x probe heatmap and one panel per probe. They draw
what ``run`` measured (``results.scalars["probes"]``) and compute nothing else."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.runs.results import Results


def _optimizers(results: Results) -> list[tuple[str, str]]:
    return [(k, v["label"]) for k, v in results.scalars["optimizers"].items()]


def _probes(results: Results) -> list[tuple[str, dict[str, Any]]]:
    return list(results.scalars["probes"].items())


def headline(entry: dict[str, Any]) -> dict[str, Any]:
    """The headline measure of one optimizer's probe entry."""
    return entry["measures"][entry["headline"]]


def cell_text(entry: dict[str, Any], *, inline: bool = False, no_fit: str = "(no fit)") -> str:
    """``mean ± spread`` of the headline, the nearest reference with its agreement, and a
    mark when no step fit: on lines (the heatmap, the command's table) or on one line with
    the extras in parentheses (the docs' table)."""
    m = headline(entry)
    head = _number(m["mean"])
    if math.isfinite(m["mean"]) and math.isfinite(m["spread"]):
        head += (" " if inline else "\n") + f"± {_number(m['spread'])}"
    extras = []
    if "nearest" in entry:
        near = entry["nearest"]
        extras.append(f"{near['mode']} {near['agree']}/{near['n']}")
    if not entry.get("fitted", True):
        extras.append(no_fit)
    if inline:
        return " ".join([head, *(f"({e.strip('()')})" for e in extras)])
    return "\n".join([head, *extras])


def _number(x: float) -> str:
    if not math.isfinite(x):
        return "—"
    if x != 0 and (abs(x) < 1e-2 or abs(x) >= 1e4):
        return f"{x:.1e}"
    return f"{x:.3g}"


def heatmap_figure(results: Results) -> Any:
    """Rows: optimizers; columns: probes (their headline quantity). Colour: the value's
    place between its column's smallest and largest entry (columns have different units);
    the text is the mean ± spread over seeds, and the nearest reference where there is one."""
    opts, probes = _optimizers(results), _probes(results)
    values = np.full((len(opts), len(probes)), np.nan)
    for j, (_, probe) in enumerate(probes):
        for i, (key, _) in enumerate(opts):
            values[i, j] = headline(probe["optimizers"][key])["mean"]
    shade = np.full_like(values, np.nan)
    for j in range(len(probes)):
        col = values[:, j]
        ok = np.isfinite(col)
        if ok.any():
            lo, hi = np.min(col[ok]), np.max(col[ok])
            shade[ok, j] = 0.5 if hi == lo else (col[ok] - lo) / (hi - lo)
    fig, ax = figure(size=(1.9 * len(probes) + 2.2, 0.62 * len(opts) + 1.8))
    ax.imshow(np.ma.masked_invalid(shade), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for j, (_, probe) in enumerate(probes):
        for i, (key, _) in enumerate(opts):
            s = shade[i, j]
            color = "white" if not np.isfinite(s) or s < 0.55 else "black"
            ax.text(
                j,
                i,
                cell_text(probe["optimizers"][key]),
                ha="center",
                va="center",
                fontsize=7,
                color="black" if not np.isfinite(s) else color,
            )
    ax.set_xticks(range(len(probes)))
    ax.set_xticklabels(
        [
            textwrap.fill(p["title"], 24)
            + "\n"
            + textwrap.fill(headline(next(iter(p["optimizers"].values())))["label"], 26)
            for _, p in probes
        ],
        fontsize=7,
    )
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(opts)))
    ax.set_yticklabels([label for _, label in opts], fontsize=8)
    ax.set_title(
        f"implicit-bias profile ({results.scalars['level']}, {results.scalars['seeds']} seeds); "
        "colour: low to high within each column",
        fontsize=9,
    )
    return fig


def probes_figure(results: Results) -> Any:
    """One panel per probe: each optimizer's per-seed headline values (dots) and their mean
    (bar), with the reference value as a dashed line where the probe has one."""
    opts, probes = _optimizers(results), _probes(results)
    ncols = min(4, len(probes))
    nrows = math.ceil(len(probes) / ncols)
    fig, axes = figure(nrows, ncols, size=(3.4 * ncols, 2.9 * nrows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[len(probes) :]:
        ax.set_visible(False)
    x = np.arange(len(opts))
    for ax, (_, probe) in zip(flat, probes, strict=False):
        first = headline(next(iter(probe["optimizers"].values())))
        for i, (key, _) in enumerate(opts):
            m = headline(probe["optimizers"][key])
            vals = np.asarray(m["values"], dtype=float)
            ax.bar(i, m["mean"] if math.isfinite(m["mean"]) else 0.0, color="0.85", width=0.7)
            ax.plot(np.full(vals.shape, i), vals, "o", ms=3, color="tab:blue")
            if m["reference_value"] is not None:
                ax.hlines(m["reference_value"], i - 0.4, i + 0.4, colors="tab:red", linestyles="--")
        ax.set_title(probe["title"], fontsize=9)
        ax.set_ylabel(textwrap.fill(first["label"], 34), fontsize=7)
        ax.set_xticks(x)
        ax.set_xticklabels([label for _, label in opts], rotation=45, ha="right", fontsize=7)
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    return {"heatmap": heatmap_figure(results), "probes": probes_figure(results)}
