"""Phase diagram: steps to 99 % test accuracy over train fraction x weight decay.

Power et al. (2022, figure 2) and Liu et al. (2022, Omnigrok) map how the delay depends on
the amount of data and on weight decay. One engine call per train fraction (the data
shapes differ); its members are ``decays x seeds``, the decay a per-member array of the
configured optimizer (every other hyperparameter unchanged). An optimizer without a
``weight_decay`` keyword has no such axis: the diagram is then skipped.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from implicitbias.datasets.modular import modular_data
from implicitbias.experiments.grokking.config import GrokkingConfig
from implicitbias.experiments.grokking.curves import THRESHOLD, first_reach
from implicitbias.experiments.grokking.training import train, weight_decay
from implicitbias.runs.results import Results


def applies(cfg: GrokkingConfig) -> bool:
    """Whether the diagram is asked for and the optimizer has a weight decay to vary."""
    return cfg.phase and weight_decay(cfg.optimizer) is not None


def run_phase(cfg: GrokkingConfig, key_data: jax.Array, key_model: jax.Array, results: Results):
    """Fill ``results`` with the grid of steps to 99 % (NaN: not within the budget)."""
    wds = np.asarray(cfg.phase_weight_decays, dtype=np.float64)
    seeds = cfg.phase_seeds
    keys = jnp.tile(jax.random.split(key_model, seeds), (len(wds), 1))
    grid = np.full((len(cfg.phase_fractions), len(wds), seeds), np.nan)
    final_acc = np.full_like(grid, np.nan)
    for i, frac in enumerate(cfg.phase_fractions):
        data = modular_data(cfg.operation, cfg.p, frac, key_data)
        traj, _, _ = train(
            cfg,
            data,
            cfg.optimizer,
            keys,
            steps=cfg.phase_steps,
            label=f"phase diagram, train fraction {frac:g}, {cfg.optimizer.label}",
            decays=np.repeat(wds, seeds),
        )
        for j in range(len(wds)):
            for s in range(seeds):
                m = j * seeds + s
                reach = first_reach(traj.steps, traj.metrics["test_acc"][:, m], THRESHOLD)
                grid[i, j, s] = np.nan if reach is None else reach
                final_acc[i, j, s] = traj.metrics["test_acc"][-1, m]
    # The median over seeds of the steps, with "not within budget" as +inf.
    med = np.median(np.where(np.isnan(grid), np.inf, grid), axis=-1)
    results.arrays.update(
        phase_fractions=np.asarray(cfg.phase_fractions),
        phase_weight_decays=wds,
        phase_steps_to_99=grid,
        phase_median=np.where(np.isinf(med), np.nan, med),
        phase_final_test_acc=final_acc,
    )
    results.scalars["phase"] = {
        "optimizer": cfg.optimizer.label,
        "budget": cfg.phase_steps,
        "median_steps_to_99": [[None if np.isinf(v) else float(v) for v in row] for row in med],
        "cells_grokked": int(np.isfinite(med).sum()),
        "cells": int(med.size),
    }
