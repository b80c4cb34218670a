"""The main run and its no-weight-decay control: one program, the same inits.

Members ``0 .. S-1`` are the ``S = num_seeds`` inits trained with the configured
optimizer and its weight decay; members ``S .. 2S-1`` (the control, when it runs) are the
same inits with ``weight_decay = 0`` and every other hyperparameter unchanged. The decay is
a per-member array (:func:`~implicitbias.experiments.grokking.training.split_spec`), so
both halves are one compiled program.

The control runs when it is asked for and the optimizer has a positive decoupled weight
decay (AdamW's by default; Lion's is 0 unless set); an optimizer with no ``weight_decay``
keyword is trained as it is, without a control.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from implicitbias.datasets.modular import ModularData
from implicitbias.experiments.grokking.config import GrokkingConfig
from implicitbias.experiments.grokking.curves import summarize
from implicitbias.experiments.grokking.training import train, weight_decay
from implicitbias.runs.results import Results


@dataclasses.dataclass(frozen=True)
class MainRun:
    """What the other sub-studies reuse: the trajectory, the model skeleton, the inits."""

    traj: Any
    static: Any
    params0: Any


def has_control(cfg: GrokkingConfig) -> bool:
    """Whether the no-weight-decay control runs (asked for, and a decay to remove)."""
    decay = weight_decay(cfg.optimizer)
    return cfg.no_wd_control and decay is not None and decay > 0


def member_decays(cfg: GrokkingConfig) -> np.ndarray | None:
    """``(B,)`` weight decays of the members, or ``None`` (optimizer without a decay)."""
    decay = weight_decay(cfg.optimizer)
    if decay is None:
        return None
    groups = [decay] + ([0.0] if has_control(cfg) else [])
    return np.repeat(np.asarray(groups, dtype=np.float64), cfg.num_seeds)


def run_main(
    cfg: GrokkingConfig,
    data: ModularData,
    seed_keys: jax.Array,
    sample_key: jax.Array,
    results: Results,
    *,
    keep_params: bool,
) -> MainRun:
    """Train the main members (and the control), summarize each, fill ``results``."""
    decays = member_decays(cfg)
    groups = 1 if decays is None else len(decays) // cfg.num_seeds
    keys = jnp.tile(seed_keys, (groups, 1))
    traj, static, params0 = train(
        cfg,
        data,
        cfg.optimizer,
        keys,
        steps=cfg.steps,
        label=f"{cfg.model}, {cfg.optimizer.label}",
        decays=decays,
        keep_params=keep_params,
        sample_key=sample_key,
    )
    results.steps = traj.steps
    if decays is not None:
        results.arrays["member_weight_decay"] = decays
    results.metrics.update(traj.metrics)
    n_params = int(sum(np.size(x[0]) for x in jax.tree.leaves(params0)))
    results.scalars["model"] = {"params": n_params}
    seeds = [summarize(traj.steps, traj.metrics, m) for m in range(cfg.num_seeds)]
    results.scalars["main"] = {**seeds[0], "optimizer": cfg.optimizer.label}
    results.scalars["seeds"] = {
        k: [s[k] for s in seeds]
        for k in (
            "steps_train_99",
            "steps_test_99",
            "ratio",
            "norm_ratio_transition",
            "test_acc_at_train_99",
            "rise_over_plateau",
        )
    }
    if has_control(cfg):
        _control(cfg, traj, results)
    results.scalars["timing"] = {
        "compile_seconds": traj.compile_seconds,
        "run_seconds": traj.run_seconds,
        # steps x members of the program; the rate is member_steps / run_seconds.
        "member_steps": cfg.steps * groups * cfg.num_seeds,
    }
    return MainRun(traj, static, params0)


def _control(cfg: GrokkingConfig, traj: Any, results: Results) -> None:
    n = cfg.num_seeds
    ctrl = [summarize(traj.steps, traj.metrics, n + m) for m in range(n)]
    results.scalars["no_wd"] = {
        **ctrl[0],
        "max_test_acc_all_seeds": max(c["max_test_acc"] for c in ctrl),
        "optimizer": cfg.optimizer.replace(weight_decay=0.0).label,
    }
