"""The training of the edge-of-stability members: one engine call per optimizer.

The members with ``learning_rates`` run ``cfg.optimizer``, those with
``momentum_learning_rates`` run ``cfg.momentum_optimizer``; each group is one compiled,
vmapped :func:`implicitbias.engine.train` call (both groups one call for the default gd
and heavy ball, see :func:`batches`) (checkpointed, so ``run --resume``
continues it), full batch, with the loss logged at every step and the two probes of
:mod:`.probes`. Per-layer gradient multipliers (``layer_lr_scales``) are a transformation
chained in front of the optimizer (:func:`implicitbias.optim.layerwise.layer_scaled`).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from implicitbias import engine
from implicitbias.experiments.edge_of_stability.config import EdgeOfStabilityConfig
from implicitbias.experiments.edge_of_stability.probes import (
    mse,
    seed_estimator_probe,
    sharpness_probe,
)
from implicitbias.optim.layerwise import layer_scaled
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.theory.stability import momentum_of, plain_gd

LAYER_SCALED = "implicitbias.optim.layerwise:layer_scaled"


@dataclasses.dataclass(frozen=True)
class Members:
    """The trajectories of every member, member-first (``B`` members in config order).

    Attributes:
        specs: the optimizer of each member (as configured, without layer multipliers).
        steps: ``(steps + 1,)`` the logged steps (every step) of the engine's trajectories.
        etas: ``(B,)`` step sizes.
        loss: ``(B, steps + 1)`` loss at every step.
        sharpness: ``(B, estimates + 1)`` at ``t = 0, every, ..., steps``.
        residual: ``(B, estimates + 1)``: :math:`\\lVert Hv - Sv\\rVert` of each of those
            estimates (``v`` its Ritz vector).
        preconditioned: the same for :math:`S^{1/2} H S^{1/2}`, or ``None`` without ``S``.
        seed_estimator: ``(B, estimates, 2)`` at ``t = 1, every + 1, ...``: central
            differences (the seed's) and the exact product.
        final: final parameters, leading axis ``B``.
        seconds: compile and run seconds of the engine calls.
    """

    specs: tuple[OptimizerSpec, ...]
    steps: np.ndarray
    etas: np.ndarray
    loss: np.ndarray
    sharpness: np.ndarray
    residual: np.ndarray
    preconditioned: np.ndarray | None
    seed_estimator: np.ndarray
    final: Any
    seconds: dict[str, float]


def layer_scales(params: Any, scales: tuple[float, ...]) -> Any:
    """The multipliers as a pytree like ``params`` (ones when ``scales`` is empty)."""
    return [
        tuple(None if x is None else jnp.full_like(x, scales[i] if scales else 1.0) for x in layer)
        for i, layer in enumerate(params)
    ]


def with_layer_scales(spec: OptimizerSpec, scales: tuple[float, ...]) -> Any:
    """``spec`` fed with the per-layer scaled gradient (``spec`` itself without scales)."""
    if not scales:
        return spec
    if spec.fn is None:
        return OptimizerSpec(LAYER_SCALED, (("optimizer", str(spec)), ("scales", tuple(scales))))
    return functools.partial(layer_scaled, optimizer=spec, scales=tuple(scales))


def groups(cfg: EdgeOfStabilityConfig) -> list[tuple[OptimizerSpec, tuple[float, ...]]]:
    """``(optimizer, step sizes)`` of each non-empty member group, in member order."""
    out = [(cfg.optimizer, cfg.learning_rates)]
    if cfg.momentum_learning_rates:
        out.append((cfg.momentum_optimizer, cfg.momentum_learning_rates))
    return out


def batches(cfg: EdgeOfStabilityConfig) -> list[tuple[OptimizerSpec, dict[str, np.ndarray], str]]:
    """``(optimizer, per-member hyperparameters, label)`` of each engine call, in member
    order.

    One call per group; but ``gd`` next to ``heavy_ball(momentum=beta)`` is one
    ``heavy_ball`` call with a per-member momentum (0 for the gd members: then
    ``v = g + 0 v = g`` and the update is GD's, bit for bit), so one program is compiled.
    """
    plan = groups(cfg)
    if (
        len(plan) == 2
        and plain_gd(cfg.optimizer)
        and cfg.momentum_optimizer.name == "heavy_ball"
        and set(cfg.momentum_optimizer.kwargs) <= {"momentum"}
    ):
        beta = momentum_of(cfg.momentum_optimizer)
        n1, n2 = len(cfg.learning_rates), len(cfg.momentum_learning_rates)
        hp = {
            "learning_rate": np.asarray([*cfg.learning_rates, *cfg.momentum_learning_rates]),
            "momentum": np.asarray([0.0] * n1 + [beta] * n2),
        }
        label = f"{cfg.optimizer.label} + {cfg.momentum_optimizer.label}"
        return [(OptimizerSpec("heavy_ball"), hp, label)]
    return [(spec, {"learning_rate": np.asarray(etas)}, spec.label) for spec, etas in plan]


def train_members(
    cfg: EdgeOfStabilityConfig, X: jax.Array, Y: jax.Array, params: Any, dirs: jax.Array
) -> Members:
    """Run every group; the seed's estimator uses the unit directions ``dirs``."""
    estimates = cfg.steps // cfg.sharpness_every
    scale = layer_scales(params, cfg.layer_lr_scales)
    preconditioned = any(s != 1 for s in cfg.layer_lr_scales)
    probes = (
        sharpness_probe(
            activation=cfg.activation,
            iters=cfg.lanczos_iters,
            every=cfg.sharpness_every,
            estimates=estimates,
            preconditioned=preconditioned,
        ),
        seed_estimator_probe(
            activation=cfg.activation, every=cfg.sharpness_every, estimates=estimates
        ),
    )
    plan = batches(cfg)
    keys = jax.random.split(
        jax.random.PRNGKey(cfg.seed), len(cfg.learning_rates) + len(cfg.momentum_learning_rates)
    )
    shared = {
        "dirs": dirs,
        "scale_flat": ravel_pytree(scale)[0],
        "root": ravel_pytree(jax.tree.map(jnp.sqrt, scale))[0],
    }
    trajs, at = [], 0
    for spec, hparams, label in plan:
        b = len(hparams["learning_rate"])
        batch = jax.tree.map(lambda a, b=b: jnp.broadcast_to(a, (b, *a.shape)), params)
        trajs.append(
            engine.train(
                functools.partial(mse, activation=cfg.activation),
                batch,
                with_layer_scales(spec, cfg.layer_lr_scales),
                steps=cfg.steps,
                data=(X, Y),
                aux={**shared, "key": keys[at : at + b]},
                aux_axis={"dirs": None, "scale_flat": None, "root": None, "key": 0},
                hparams=hparams,
                probe=probes,
                key=keys[at : at + b],
                log_at=np.arange(cfg.steps + 1),
                description=f"edge-of-stability: {label}",
                on_divergence="continue",
            )
        )
        at += b
    specs = tuple(spec for spec, etas in groups(cfg) for _ in etas)
    return _collect(cfg, trajs, specs, preconditioned)


def _collect(cfg, trajs, specs, preconditioned) -> Members:
    def metric(name):
        return np.concatenate([np.asarray(t.metrics[name], np.float64) for t in trajs], axis=1).T

    every = cfg.sharpness_every
    s_steps = every * np.arange(cfg.steps // every + 1)
    est = np.stack([metric("seed_estimator"), metric("seed_estimator_exact")], axis=-1)
    return Members(
        specs=specs,
        steps=np.asarray(trajs[0].steps),
        etas=np.asarray([e for _, etas in groups(cfg) for e in etas], np.float64),
        loss=metric("loss"),
        sharpness=metric("sharpness")[:, s_steps],
        residual=metric("sharpness_residual")[:, s_steps],
        preconditioned=metric("preconditioned_sharpness")[:, s_steps] if preconditioned else None,
        seed_estimator=est[:, s_steps[:-1] + 1],
        final=jax.tree.map(lambda *a: np.concatenate(a), *[t.params for t in trajs]),
        seconds={
            "compile_seconds": float(sum(t.compile_seconds for t in trajs)),
            "run_seconds": float(sum(t.run_seconds for t in trajs)),
        },
    )
