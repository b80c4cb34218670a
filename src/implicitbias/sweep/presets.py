"""Sweep presets: the grids of the literature's phase diagrams, one per experiment.

``implicitbias sweep EXPERIMENT --preset NAME`` resolves ``PRESETS[f"{EXPERIMENT}/{NAME}"]``:
the experiment's own preset (``preset``), the axes of the grid, ``--seeds``, and ``fixed``
overrides applied to every cell (like ``--set``; e.g. switching off a sub-study that the
grid makes redundant). ``report`` names the table columns the source's figure shows, for
``implicitbias report SWEEP_DIR --value ...``.

``shows`` says what the source shows, in the words of this lab's experiment docs; where a
grid goes beyond the source it says so. A declared batch field of the experiment
(``learning_rates`` of ``edge-of-stability``) gets scalar values: the sweep folds the axis
into every cell, one batched program per cell and one table row per member
(``grid.py``, ``table.py``). Other tuple fields (``depths``, ``counts``) get one-element
tuples: one value per cell.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class SweepPreset:
    """A named grid over an experiment's config.

    Attributes:
        experiment: the experiment's registry name.
        preset: the experiment's preset that each cell starts from.
        axes: ``{config field or optimizer.KEY: values}``, in grid order (the first is
            the x axis of the report's phase diagram, the second its y axis).
        seeds: the ``--seeds`` of the sweep (a ``seed`` axis 0..seeds-1).
        source: the paper(s) whose diagram the grid reproduces.
        shows: what the source shows, and what the report should show for it.
        fixed: overrides of every cell (as ``--set``), applied before the axes.
        report: the table columns to draw (``--value``), most telling first.
    """

    experiment: str
    preset: str
    axes: Mapping[str, tuple[Any, ...]]
    seeds: int
    source: str
    shows: str
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    report: tuple[str, ...] = ()

    def grid(self) -> list[str]:
        """The axes as ``--grid KEY=V1,V2,...`` strings (tuples as ``a,b`` in parentheses)."""
        return [f"{k}={','.join(_text(v) for v in vs)}" for k, vs in self.axes.items()]

    def run_grid(self) -> dict[str, tuple[Any, ...]]:
        """The ``grid`` of :func:`implicitbias.sweep.run_sweep`: the axes, then each
        ``fixed`` override as an axis of one value (the report draws only axes that vary).
        """
        return {**self.axes, **{k: (v,) for k, v in self.fixed.items()}}

    @property
    def cells(self) -> int:
        """Number of cells, seeds included (a folded batch axis counts once)."""
        n = self.seeds
        for values in _folded(self).values():
            n *= len(values)
        return n


def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ",".join(str(v) for v in value) + ")"
    return str(value)


def _folded(preset: SweepPreset) -> dict[str, tuple[Any, ...]]:
    """The axes as the sweep runs them: a folded batch axis is one value, its tuple."""
    from implicitbias.experiments.registry import get_experiment
    from implicitbias.sweep.grid import build_axes

    axes = build_axes(get_experiment(preset.experiment), dict(preset.axes))
    return {a.name: (tuple(a.values),) if a.batch else tuple(preset.axes[a.name]) for a in axes}


def cell_overrides(preset: SweepPreset) -> Iterator[dict[str, Any]]:
    """The overrides of every cell (seed axis excluded): ``fixed`` then one axis point
    (a folded batch axis: the tuple of all its values)."""
    folded = _folded(preset)
    names = list(folded)
    for combo in itertools.product(*folded.values()):
        yield {**preset.fixed, **dict(zip(names, combo, strict=True))}


PRESETS: dict[str, SweepPreset] = {
    "grokking/phase": SweepPreset(
        experiment="grokking",
        preset="phase",
        axes={
            "optimizer.weight_decay": (0.0, 0.3, 1.0, 3.0),
            "train_fraction": (0.3, 0.5, 0.7),
        },
        seeds=2,
        source="Power et al. 2022 (arXiv:2201.02177); Liu et al. 2022 (Omnigrok, arXiv:2210.01117)",
        shows="How the grokking delay depends on the amount of data and on weight decay: "
        "small networks on modular-arithmetic tables fit the training set long before they "
        "generalize, and weight decay shortens the delay the most (Power et al.); the delay "
        "is tied to the weight norm, which weight decay shrinks until only the low-norm "
        "generalizing solution fits (Liu et al.). The same grid as the experiment's built-in "
        "`phase` diagram (p = 59, MLP, AdamW at lr 3e-3, 2000 steps), one cell per point "
        "instead of one batched run; the cell's main run without the built-in diagram.",
        fixed={"phase": False, "steps": 2000},
        report=("main.steps_test_99", "main.final_test_acc", "main.ratio"),
    ),
    "edge-of-stability/phase": SweepPreset(
        experiment="edge-of-stability",
        preset="default",
        axes={"learning_rates": (0.25, 0.4, 0.6, 0.8)},
        seeds=3,
        source="Cohen, Kaur, Li, Kolter & Talwalkar 2021 (ICLR)",
        shows="Full-batch GD on a neural net: the sharpness rises (progressive sharpening) "
        "until it reaches 2/eta and then hovers at, or just above, 2/eta, for every step "
        "size eta; so the sharpness in units of 2/eta (median over the second half of "
        "training) is about 1 at every eta. The step sizes are one batched GD run per cell "
        "(a seed), one table row per step size; no momentum members and no gradient flow.",
        fixed={"momentum_learning_rates": (), "flow": False},
        report=(
            "member.median_ratio_second_half",
            "member.sharpness_final",
            "claim:edge-of-stability/sharpness-at-2-over-eta",
        ),
    ),
    "matrix-completion/phase": SweepPreset(
        experiment="matrix-completion",
        preset="default",
        axes={"depths": ((1,), (2,), (3,), (4,)), "counts": ((80,), (120,), (160,), (240,))},
        seeds=3,
        source="Arora et al. 2019 (NeurIPS)",
        shows="Deep matrix factorization trained by GD from a small init: depth >= 3 gives "
        "lower effective rank and better recovery than depth 2 (and than the nuclear-norm "
        "minimizer) when the observed entries are few. Here a 20 x 20 rank-2 truth, one "
        "depth and one count of observed entries per cell; depth 1 (W itself) leaves the "
        "unobserved entries at their init.",
        report=(
            "members.0.final.relative_error",
            "members.0.final.effective_rank",
        ),
    ),
    "diagonal-net/phase": SweepPreset(
        experiment="diagonal-net",
        preset="default",
        axes={"alpha_min": (1e-3, 1e-2, 1e-1, 1.0), "n": (10, 20, 40, 80)},
        seeds=3,
        source="Woodworth et al. 2020 (COLT), Theorem 1",
        shows="GD on a depth-2 diagonal network from init scale alpha reaches the "
        "min-Q_alpha interpolator: the min-l2 interpolator as alpha -> infinity (kernel "
        "regime), the min-l1 one as alpha -> 0 (rich regime), where basis pursuit recovers "
        "the sparse w*. The axis is alpha_min with num_alphas = 2 (each cell also runs "
        "alpha_max = 10, the l2 end); the n axis (examples, d = 200, k = 5) is this lab's "
        "extension: how many examples the small-alpha solution needs to recover w*.",
        fixed={"num_alphas": 2, "alpha_max": 10.0, "models": "square", "step_study": False},
        report=(
            "square.dist_l1_at_smallest_alpha",
            "square.test_error.0",
            "claim:diagonal-net/l1-limit",
        ),
    ),
}
"""The sweep presets by ``<experiment>/<name>``."""
