"""Grokking probe: how long after memorizing modular addition an optimizer generalizes.

Setting (full level only): the grokking experiment's task and model at a size the profile
can afford (:mod:`implicitbias.experiments.grokking`; its data, model and in-loop metrics by
import): :math:`(a + b) \\bmod 41`, a random half of the 1681 pairs for training, the rest
for test (seed ``s`` draws its own split and init), the embedding MLP
(:class:`~implicitbias.models.EmbedMLP`, ``d_embed`` 32, hidden 64, 8137 parameters),
full-batch cross-entropy, 3000 steps, float32 (as in the grokking experiment and the
papers; the profile's float64 is switched off for this probe). Every grid step x seed is
a member of ONE :func:`implicitbias.engine.train` call (18 x 5 = 90 members at the
default 5 seeds).

Weight decay: as the grokking experiment's default optimizer uses it, decoupled with
:math:`\\lambda = 1` (``adamw(b2=0.98, weight_decay=1.0)``): an optimizer whose factory
takes ``weight_decay`` runs with ``weight_decay = 1.0`` unless its spec sets one (then that
one). An optimizer without that keyword (gd, adam, sign_gd, heavy_ball, adafactor, a
user's factory) runs without weight decay, and the report says so: without weight decay
the grokking experiment's control never leaves chance within its budget (weight decay
shortens the delay the most: Power et al. 2022; Liu et al. 2022), so "never" there mostly
measures the missing decay. Nothing else
of the optimizer is changed (Adam keeps its ``b2 = 0.999``).

Step rule: the shared one (:func:`~implicitbias.experiments.profile.base.choose_step`),
fit = train accuracy >= 99 % at the last step, on the grid :data:`GRID`.

Measures per seed at the chosen step, from the first *logged* step at or above 99 %
(:data:`LOG`: 40 log-spaced and 121 linear steps, so 25 steps apart late in the run):
``steps_test_99`` (headline; ``inf`` when test accuracy never reaches 99 % within the
budget), ``test_train_ratio`` = steps to 99 % test / steps to 99 % train (Power et al.'s
delay as a ratio; ``inf`` when the test mark is never reached), ``steps_train_99`` and the
final test accuracy.

Size: the grokking experiment's quick preset (p = 97, 35k parameters, 1200 steps) takes
30-40 s for ONE member; the grid needs ~90, so the table and the net are smaller here
(p = 41, 8137 parameters), with the same model, loss, optimizer handling and metrics.

Expected outcome (measured, 5 seeds, 2 CPU cores at load ~2.5: 137 s for gd, 142 s for
adam, 160 s for adamw, i.e. ~2.5 minutes per optimizer, ~2 s of it compile): ``adamw``
(decay 1.0, chosen step 0.0625) memorizes at step 28 +- 2 and reaches 99 % test accuracy
at 314 +- 72, ratio 11.1 +- 2.2; ``adam`` (no decay, step 0.031) and ``gd`` (no decay,
step 8, the top of its fitting steps is the grid's top) memorize by steps 24 and 51 and
never generalize within 3000 steps (final test accuracy <= 0.007, chance 0.024).
Muon's ``weight_decay`` covers its matrix parameters only (its biases keep
``adam_weight_decay = 0``); Lion's is decoupled like AdamW's.
"""

from __future__ import annotations

import inspect
from typing import Any

import jax
import numpy as np

from implicitbias import engine
from implicitbias._precision import precision
from implicitbias.datasets.modular import modular_data
from implicitbias.experiments.grokking.curves import log_steps
from implicitbias.experiments.grokking.training import split_spec
from implicitbias.experiments.profile.base import (
    Measure,
    ProbeDef,
    ProbeReport,
    choose_step,
    gap_note,
    grid_batch,
    lr_grid,
)
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.modular import init_params, problem

P_MOD = 41
TRAIN_FRACTION = 0.5
D_EMBED, D_HIDDEN = 32, 64
STEPS = 3000
WEIGHT_DECAY = 1.0
"""The grokking experiment's decoupled weight decay (its default ``adamw(b2=0.98,
weight_decay=1.0)``)."""
GRID = (2.0**-13, 2.0**4)
"""From sign descent's smallest step that memorizes within the budget to GD's largest."""
LEVEL = 0.99
LOG = log_steps(STEPS, 40, 121)

FIT_WORDS = f"train accuracy >= 99 % at the last of {STEPS} steps"
RULE = (
    "the shared rule: half the largest step of the first unbroken run of grid steps "
    "{lo:.3g}..{hi:.3g} (x2) at which every seed memorizes (" + FIT_WORDS + ")"
)


def with_weight_decay(spec: OptimizerSpec) -> tuple[OptimizerSpec, str]:
    """``(spec to train, note)``: ``weight_decay = 1.0`` filled in when the factory takes
    ``weight_decay`` and the spec does not set it (see the module docstring)."""
    if "weight_decay" in spec.kwargs:
        return spec, f"{spec.label}: weight decay as set in the spec"
    try:
        takes = "weight_decay" in inspect.signature(spec.factory()).parameters
    except (TypeError, ValueError):
        takes = False
    if takes:
        out = spec.replace(weight_decay=WEIGHT_DECAY)
        return out, (
            f"{spec.label} takes weight_decay: trained as {out.label}, the grokking "
            "experiment's decoupled decay"
        )
    return spec, (
        f"{spec.label} has no weight_decay keyword: trained without weight decay (grokking "
        "usually needs it; an 'inf' here mostly measures its absence)"
    )


def steps_to(steps: np.ndarray, acc: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """``(B,)`` first logged step at which ``acc[:, b] >= level``, ``inf`` if never.

    Args:
        steps: ``(L,)`` logged steps.
        acc: ``(L, B)`` accuracies (NaN counts as below the level).
    """
    hit = np.nan_to_num(np.asarray(acc, np.float64), nan=-1.0) >= level
    first = np.argmax(hit, axis=0)
    return np.where(hit.any(axis=0), np.asarray(steps, np.float64)[first], np.inf)


def grok_numbers(steps: np.ndarray, train_acc: np.ndarray, test_acc: np.ndarray) -> dict:
    """``steps_train_99``, ``steps_test_99`` and ``test_train_ratio`` per member.

    The ratio is ``inf`` when test accuracy never reaches the level, NaN when train
    accuracy does not either (no memorization to compare with); a first logged step of 0
    (accuracy already at the level at init) counts as 1 in the ratio's denominator.
    """
    t_train = steps_to(steps, train_acc)
    t_test = steps_to(steps, test_acc)
    with np.errstate(invalid="ignore"):
        ratio = t_test / np.maximum(t_train, 1.0)
    ratio = np.where(np.isinf(t_train), np.nan, ratio)
    return {"steps_train_99": t_train, "steps_test_99": t_test, "test_train_ratio": ratio}


def step_range_note(grid: np.ndarray, fits: np.ndarray, by_step: np.ndarray) -> list[str]:
    """How the median seed's steps to 99 % test accuracy depend on the step, over the grid
    steps at which every seed memorizes (``fits`` and ``by_step`` are ``(G, S)``)."""
    ok = np.flatnonzero(np.all(fits, axis=1))
    if ok.size < 2:
        return []
    med = np.median(by_step[ok], axis=1)  # inf when most seeds never get there
    groks = np.isfinite(med)
    if not groks.any():
        return [
            f"at none of the {ok.size} grid steps that fit does the median seed reach 99 % "
            "test accuracy"
        ]
    lrs = grid[ok][groks]
    return [
        f"the median seed reaches 99 % test accuracy at {groks.sum()} of the {ok.size} grid "
        f"steps that fit ({lrs.min():.3g}..{lrs.max():.3g}), after {med[groks].min():.0f} to "
        f"{med[groks].max():.0f} steps"
    ]


def _members(seeds: int, seed: int, seed_index: np.ndarray):
    """Per-member params (one init per seed) and data (one split per seed)."""
    root = jax.random.PRNGKey(seed)
    parts = [
        modular_data("add", P_MOD, TRAIN_FRACTION, jax.random.fold_in(root, s))
        for s in range(seeds)
    ]
    train = tuple(np.stack([d.part("train")[i] for d in parts])[seed_index] for i in (0, 1))
    test = tuple(np.stack([d.part("test")[i] for d in parts])[seed_index] for i in (0, 1))
    init_keys = jax.random.split(jax.random.fold_in(root, 1_000_003), seeds)[seed_index]
    params, static = init_params("mlp", P_MOD, init_keys, d_embed=D_EMBED, d_hidden=D_HIDDEN)
    return params, static, train, {"x": test[0], "y": test[1]}


def measure(cfg: Any, spec: OptimizerSpec, description: str = "grokking") -> ProbeReport:
    """Train the grid x seeds in one float32 program; grokking numbers at the chosen step."""
    with precision(False):
        return _measure(cfg, spec, description)


def _measure(cfg: Any, spec: OptimizerSpec, description: str) -> ProbeReport:
    S = int(cfg.seeds)
    grid = lr_grid(*GRID)
    lrs, seed_index = grid_batch(grid, S)
    trained, note = with_weight_decay(spec)
    params, static, train, test = _members(S, int(cfg.seed), seed_index)
    loss, metrics = problem(static)
    engine_spec, hp = split_spec(trained, 1.0)
    hp["learning_rate"] = lrs.astype(np.float32)
    traj = engine.train(
        loss,
        params,
        engine_spec,
        steps=STEPS,
        data=train,
        data_axis=0,
        aux=test,
        aux_axis=0,
        hparams=hp,
        metrics=metrics,
        log_at=LOG,
        description=description,
        on_divergence="continue",
    )
    steps = np.asarray(traj.steps)
    train_acc = np.asarray(traj.metrics["train_acc"], np.float64)
    test_acc = np.asarray(traj.metrics["test_acc"], np.float64)
    final_loss = np.asarray(traj.metrics["loss"], np.float64)[-1]
    fits = (np.isfinite(final_loss) & (train_acc[-1] >= LEVEL)).reshape(-1, S)
    step = choose_step(grid, fits, final_loss.reshape(-1, S), fit_words=FIT_WORDS)
    cols = np.arange(step.index * S, (step.index + 1) * S)
    nums = grok_numbers(steps, train_acc[:, cols], test_acc[:, cols])
    notes = [note]
    never = int(np.isinf(nums["steps_test_99"]).sum())
    if never:
        notes.append(
            f"{never} of {S} seeds never reached 99 % test accuracy within {STEPS} steps "
            "(steps_test_99 and the ratio are inf there)"
        )
    if len(grid) > 1 and fits[-1].all():
        notes.append("every seed fits at the top of the grid: larger steps were not tried")
    notes += gap_note(step)
    by_step = grok_numbers(steps, train_acc, test_acc)["steps_test_99"].reshape(-1, S)
    notes += step_range_note(grid, fits, by_step)
    measures = [
        Measure(
            "steps_test_99",
            f"steps to 99 % test accuracy (inf: not within {STEPS})",
            nums["steps_test_99"],
        ),
        Measure(
            "test_train_ratio",
            "steps to 99 % test / steps to 99 % train",
            nums["test_train_ratio"],
            "Power et al. 2022: generalization long after memorization (ratio >> 1)",
        ),
        Measure("steps_train_99", "steps to 99 % train accuracy", nums["steps_train_99"]),
        Measure("final_test_acc", f"test accuracy at step {STEPS}", test_acc[-1, cols]),
    ]
    arrays = {
        "steps": steps,
        "train_acc": train_acc[:, cols],
        "test_acc": test_acc[:, cols],
        "fits": fits,
    }
    return ProbeReport(
        measures=measures,
        step=step,
        notes=notes,
        arrays=arrays,
    )


PROBE = ProbeDef(
    name="grokking",
    title="grokking (modular arithmetic)",
    levels=("full",),
    rule=RULE.format(lo=GRID[0], hi=GRID[1]),
    source=(
        "Power, Burda, Edwards, Babuschkin & Misra 2022 (grokking on modular arithmetic); "
        "Nanda et al. 2023 (ICLR); Liu et al. 2022 (Omnigrok: weight decay and the norm)"
    ),
    measure=measure,
)
