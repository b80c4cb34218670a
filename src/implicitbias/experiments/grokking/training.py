"""One engine call per sub-study, and how an optimizer spec becomes per-member arrays.

Every run of the experiment goes through :func:`train`, i.e. one
:func:`implicitbias.engine.train` call: a batch of inits (and weight decays) trained side
by side in one compiled program.

The hyperparameters in :data:`PER_MEMBER` that the factory takes leave the spec and travel
as per-member arrays (:func:`split_spec`), whether the spec sets them or the factory's
default applies. That keeps the weight-decay sweeps (the no-weight-decay control, the
phase diagram) in one program, and makes ``b1``, ``b2`` and the Grokfast ``alpha`` and
``lamb`` float32 arrays inside the program whatever their value: ``adamw(b2=0.98)`` and
``adamw(b1=0.9, b2=0.98)`` give the same numbers, and runs that differ only in them share
the compiled program.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from implicitbias import engine
from implicitbias.datasets.modular import ModularData
from implicitbias.experiments.grokking.config import GrokkingConfig
from implicitbias.experiments.grokking.curves import log_steps
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.modular import init_params, problem

NAME = "grokking"
PER_MEMBER = ("b1", "b2", "weight_decay", "alpha", "lamb")
"""Numeric hyperparameters passed to the factory as per-member arrays, not constants."""


def hparam(spec: OptimizerSpec, key: str) -> Any:
    """The value of hyperparameter ``key`` (:meth:`OptimizerSpec.hyperparameter`)."""
    return spec.hyperparameter(key)


def weight_decay(spec: OptimizerSpec) -> float | None:
    """The (decoupled) weight decay of ``spec``; ``None`` if the optimizer has none."""
    value = hparam(spec, "weight_decay")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def split_spec(
    spec: OptimizerSpec, learning_rate: float, decays: np.ndarray | None = None
) -> tuple[OptimizerSpec, dict[str, Any]]:
    """``(spec for the engine, per-member hparams)``: the :data:`PER_MEMBER` keys that the
    factory takes move from the spec (or its defaults) into the hparams.

    Args:
        spec: the optimizer as configured.
        learning_rate: the experiment's step size (shared by the members).
        decays: ``(B,)`` weight decays, one per member (overrides the spec's decay); the
            factory must take ``weight_decay``.
    """
    hp: dict[str, Any] = {"learning_rate": learning_rate}
    moved = {}
    for key in PER_MEMBER:
        value = hparam(spec, key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            hp[key] = float(value)
            moved[key] = None
    if decays is not None:
        hp["weight_decay"] = np.asarray(decays, dtype=np.float64)
        moved["weight_decay"] = None
    return spec.replace(**moved), hp


def train(
    cfg: GrokkingConfig,
    data: ModularData,
    spec: OptimizerSpec,
    keys: jax.Array,
    *,
    steps: int,
    label: str,
    decays: np.ndarray | None = None,
    keep_params: bool = False,
    sample_key: jax.Array | None = None,
    log_at: np.ndarray | None = None,
    probe: engine.Probe | None = None,
) -> tuple[engine.Trajectory, Any, Any]:
    """One engine call, ``len(keys)`` members: ``(trajectory, static part, initial params)``.

    The metrics are those of :func:`implicitbias.problems.modular.problem`, logged at
    :func:`~implicitbias.experiments.grokking.curves.log_steps` unless ``log_at`` is given
    (then, as for a probe run, only the loss and the probe are logged).
    """
    params, static = init_params(cfg.model, cfg.p, keys, **cfg.sizes())
    loss, metrics = problem(static)
    x_test, y_test = data.part("test")
    sampler = engine.Minibatch(cfg.batch_size, replace=False) if cfg.batch_size else None
    engine_spec, hp = split_spec(spec, cfg.learning_rate, decays)
    traj = engine.train(
        loss,
        params,
        engine_spec,
        steps=steps,
        data=data.part("train"),
        aux={"x": x_test, "y": y_test},
        hparams=hp,
        metrics=metrics if log_at is None else None,
        probe=probe,
        sampler=sampler,
        key=sample_key,
        log_at=log_steps(steps, cfg.num_logs, cfg.linear_logs) if log_at is None else log_at,
        keep_params=keep_params,
        description=f"{NAME}: {label}",
        divergence_hint="lower the learning rate",
        on_divergence="continue",
    )
    return traj, static, params
