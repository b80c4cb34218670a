"""Figures of the grokking experiment (they read arrays and reported numbers; no training).

Every curve is labelled with the optimizer that produced it, as written on the command line
(``results.get("main.optimizer")`` and the ``optimizer`` of each sub-study).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.plotting import figure
from implicitbias.runs.results import Results


def _positive(steps: np.ndarray) -> np.ndarray:
    return steps >= 1  # the init (step 0) has no place on a log axis


def _opt(results: Results, key: str = "main.optimizer") -> str:
    """The label of the optimizer that a part of the run used."""
    try:
        return str(results.get(key))
    except KeyError:
        return "?"


def _marks(ax, summary: dict, prefix: str = "") -> None:
    for key, color, label in (
        ("steps_train_99", "tab:blue", "train 99 %"),
        ("steps_test_99", "tab:red", "test 99 %"),
    ):
        step = summary.get(key)
        if step:
            ax.axvline(step, color=color, ls=":", lw=1.2, label=f"{prefix}{label}: {step}")


def accuracy_figure(results: Results) -> Any:
    """Train and test accuracy vs steps (log axis), the two 99 % marks, the control."""
    fig, ax = figure(size=(7.0, 4.2))
    t = results.steps
    keep = _positive(t)
    m = results.metrics
    ax.semilogx(t[keep], m["train_acc"][keep, 0], color="tab:blue", label="train")
    ax.semilogx(t[keep], m["test_acc"][keep, 0], color="tab:red", label="test")
    control = _opt(results, "no_wd.optimizer")
    _marks(ax, results.get("main"))
    if "no_wd" in results.scalars:
        n = results.config["num_seeds"]
        ax.semilogx(
            t[keep],
            m["train_acc"][keep, n],
            color="tab:blue",
            ls="--",
            lw=1,
            label=f"train, {control}",
        )
        ax.semilogx(
            t[keep],
            m["test_acc"][keep, n],
            color="tab:red",
            ls="--",
            lw=1,
            label=f"test, {control}",
        )
    ax.axhline(1.0 / results.config["p"], color="0.6", lw=0.8, label="chance 1/p")
    cfg = results.config
    ax.set(
        xlabel="step",
        ylabel="accuracy",
        ylim=(-0.02, 1.02),
        title=f"{cfg['model']}, {cfg['operation']} mod {cfg['p']}, "
        f"{cfg['train_fraction']:.0%} train\n{_opt(results)}, lr {cfg['learning_rate']:g}",
    )
    ax.legend(fontsize=7, loc="center left")
    return fig


def norm_figure(results: Results) -> Any:
    """Train/test loss and the total parameter norm vs steps."""
    fig, (ax1, ax2) = figure(1, 2, size=(10.5, 4.0))
    t = results.steps
    keep = _positive(t)
    m = results.metrics
    ax1.loglog(t[keep], m["loss"][keep, 0], color="tab:blue", label="train loss")
    ax1.loglog(t[keep], m["test_loss"][keep, 0], color="tab:red", label="test loss")
    ax2.semilogx(t[keep], m["norm"][keep, 0], color="k", label=_opt(results))
    if "no_wd" in results.scalars:
        n = results.config["num_seeds"]
        control = _opt(results, "no_wd.optimizer")
        ax2.semilogx(t[keep], m["norm"][keep, n], color="k", ls="--", label=control)
    for ax in (ax1, ax2):
        _marks(ax, results.get("main"))
    ax1.set(xlabel="step", ylabel="cross-entropy", title=f"Loss, {_opt(results)}")
    ax2.set(xlabel="step", ylabel="||theta||_2 (all parameters)", title="Parameter norm")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7)
    return fig


def progress_figure(results: Results) -> Any:
    """Restricted and excluded loss over training; the embedding's Fourier spectrum."""
    fig, (ax1, ax2, ax3) = figure(1, 3, size=(14.0, 4.0))
    t = results.steps
    keep = _positive(t)
    a = results.arrays
    ax1.loglog(t[keep], results.metrics["loss"][keep, 0], color="tab:blue", label="train loss")
    ax1.loglog(t[keep], results.metrics["test_loss"][keep, 0], color="tab:red", label="test loss")
    ax1.loglog(
        t[keep],
        a["progress_restricted_loss"][keep],
        color="tab:green",
        label="restricted loss (key freqs only, all pairs)",
    )
    ax1.loglog(
        t[keep],
        a["progress_excluded_loss"][keep],
        color="tab:purple",
        label="excluded loss (key freqs removed, train)",
    )
    _marks(ax1, results.get("main"))
    ax1.set(
        xlabel="step",
        ylabel="cross-entropy",
        title=f"Progress measures (Nanda et al.), {_opt(results)}",
    )
    ax1.legend(fontsize=6)
    ax2.semilogx(t[keep], a["progress_key_share"][keep], color="k")
    ax2.set(
        xlabel="step",
        ylabel="share of embedding energy",
        title="Embedding energy in the final key frequencies",
        ylim=(0, 1),
    )
    energy = a["freq_energy"]
    share = energy / energy.sum()
    freqs = np.arange(1, len(share) + 1)
    key = set(results.get("progress.key_frequencies"))
    colors = ["tab:orange" if k in key else "0.6" for k in freqs]
    ax3.bar(freqs, share, color=colors)
    level = results.config["key_factor"] / len(share)
    ax3.axhline(level, color="0.3", ls="--", lw=0.8, label=f"key threshold {level:.3g}")
    ax3.set(
        xlabel="frequency k",
        ylabel="share of energy",
        title=f"Final embedding spectrum; key: {sorted(key)}",
    )
    ax3.legend(fontsize=7)
    return fig


def grokfast_figure(results: Results) -> Any:
    """Test accuracy of the Grokfast optimizers and of their baseline (the same AdamW
    without the filter: same lr, weight decay, inits), and the per-step update norms."""
    fig, (ax1, ax2) = figure(1, 2, size=(11.0, 4.0))
    gf = results.get("grokfast")
    a = results.arrays
    base_label = _opt(results, "grokfast.baseline.optimizer")
    t = a["grokfast_baseline_steps"]
    keep = _positive(t)
    ax1.semilogx(
        t[keep],
        a["grokfast_baseline_test_acc"][keep],
        color="k",
        label=f"{base_label} (test 99 % at {gf['baseline']['steps_test_99']})",
    )
    ax1.semilogx(t[keep], a["grokfast_baseline_train_acc"][keep], color="k", ls=":", lw=0.8)
    for name, color in (("ema", "tab:orange"), ("ma", "tab:green")):
        if name not in gf:
            continue
        label = _opt(results, f"grokfast.{name}.optimizer")
        s = a[f"grokfast_{name}_steps"]
        k = _positive(s)
        ax1.semilogx(
            s[k],
            a[f"grokfast_{name}_test_acc"][k],
            color=color,
            label=f"{label} (test 99 % at {gf[name]['steps_test_99']}, x{gf[name]['speedup']:.3g})",
        )
        ax1.semilogx(s[k], a[f"grokfast_{name}_train_acc"][k], color=color, ls=":", lw=0.8)
        ax2.plot(
            np.arange(1, len(a[f"probe_{name}_update"]) + 1),
            a[f"probe_{name}_update"],
            color=color,
            label=label,
        )
    ax2.plot(
        np.arange(1, len(a["probe_baseline_update"]) + 1),
        a["probe_baseline_update"],
        color="k",
        label=base_label,
    )
    ax1.set(
        xlabel="step",
        ylabel="accuracy (solid test, dotted train)",
        title="Grokfast vs the same optimizer without the filter",
    )
    ax1.legend(fontsize=6)
    ax2.set(
        xlabel="step",
        ylabel="||update||_2 per step",
        yscale="log",
        title="Effective step (first steps, same init)",
    )
    ax2.legend(fontsize=6)
    return fig


def phase_figure(results: Results) -> Any:
    """Heat map of the median steps to 99 % test accuracy; blank cells: not within budget."""
    fig, ax = figure(size=(6.0, 4.5))
    med = results.arrays["phase_median"]
    fr = results.arrays["phase_fractions"]
    wd = results.arrays["phase_weight_decays"]
    shown = np.ma.masked_invalid(med)
    image = ax.imshow(shown, origin="lower", aspect="auto", cmap="viridis_r")
    for i in range(med.shape[0]):
        for j in range(med.shape[1]):
            text = "not within\nbudget" if np.isnan(med[i, j]) else f"{med[i, j]:.0f}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="k",
                bbox={"facecolor": "w", "alpha": 0.6, "lw": 0, "pad": 1.5},
            )
    ax.set_xticks(range(len(wd)), [f"{w:g}" for w in wd])
    ax.set_yticks(range(len(fr)), [f"{f:g}" for f in fr])
    ax.set(
        xlabel="weight decay (per member)",
        ylabel="train fraction",
        title=f"Steps to 99 % test accuracy (budget {results.get('phase.budget')})\n"
        f"{_opt(results, 'phase.optimizer')}",
    )
    fig.colorbar(image, ax=ax, label="steps (median over seeds)")
    return fig


def all_figures(results: Results) -> dict[str, Any]:
    if "main" not in results.scalars:
        return {}
    figures = {"accuracy": accuracy_figure(results), "norm": norm_figure(results)}
    if "progress" in results.scalars:
        figures["progress"] = progress_figure(results)
    if "grokfast" in results.scalars:
        figures["grokfast"] = grokfast_figure(results)
    if "phase" in results.scalars:
        figures["phase"] = phase_figure(results)
    return figures
