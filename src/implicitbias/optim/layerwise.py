"""Per-layer step multipliers in front of any optimizer.

:func:`scale_by_layer` multiplies the gradient of layer ``l`` by a constant ``s_l``; a
*layer* is one element of the top-level sequence of the parameters (the ``(W_l, b_l)``
pairs of :mod:`implicitbias.problems.mlp`). In front of gradient descent this is the
preconditioned update

.. math::  \\theta_{t+1} = \\theta_t - \\eta\\, S\\, \\nabla L(\\theta_t),
    \\qquad S = \\operatorname{diag}(s_1 I, \\dots, s_L I),

which is stable on a quadratic iff :math:`\\eta\\,\\lambda_{\\max}(S^{1/2} H S^{1/2}) < 2`
(GD on :math:`q = S^{-1/2}\\theta`). A hand-written backward pass that divides one layer's
gradient by ``n`` twice (seed 000, section 5) is GD with ``s = (1/n, 1)``.

:func:`layer_scaled` is the factory for an :class:`~implicitbias.optim.spec.OptimizerSpec`:
``implicitbias.optim.layerwise:layer_scaled`` with hyperparameters ``optimizer`` (the inner
spec, e.g. ``"heavy_ball(momentum=0.5)"``) and ``scales``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import optax

from implicitbias.errors import ConfigError


def scale_by_layer(scales: Sequence[float]) -> optax.GradientTransformation:
    """``u_l <- s_l u_l`` for the ``l``-th top-level element of the parameter pytree.

    Args:
        scales: one positive multiplier per layer.

    Raises:
        ConfigError: when a multiplier is not a positive number, or (at the first update)
            when the parameters do not have ``len(scales)`` top-level layers.
    """
    scales = tuple(float(s) for s in scales)
    for s in scales:
        if not s > 0:
            raise ConfigError("scales", "positive numbers (one per layer)", scales)

    def init_fn(params: Any) -> optax.EmptyState:
        del params
        return optax.EmptyState()

    def update_fn(updates: Any, state: optax.EmptyState, params: Any = None):
        del params
        if len(updates) != len(scales):
            raise ConfigError("scales", f"one multiplier per layer ({len(updates)})", scales)
        scaled = type(updates)(
            jax.tree.map(lambda u, s=s: s * u, layer)
            for layer, s in zip(updates, scales, strict=True)
        )
        return scaled, state

    return optax.GradientTransformation(init_fn, update_fn)


def layer_scaled(
    learning_rate: Any,
    *,
    optimizer: Any = "gd",
    scales: Sequence[float] = (),
    **runtime: Any,
) -> optax.GradientTransformation:
    """``optimizer`` fed with the per-layer scaled gradient ``S g``.

    Args:
        learning_rate: passed on to the inner optimizer.
        optimizer: the inner optimizer: a spec, its command-line text (``"gd"``,
            ``"heavy_ball(momentum=0.9)"``) or a factory.
        scales: one multiplier per layer (empty: the inner optimizer unchanged).
        **runtime: other per-member hyperparameters, passed on to the inner optimizer.
    """
    from implicitbias.optim.spec import OptimizerSpec

    inner = OptimizerSpec.coerce(optimizer).build(learning_rate=learning_rate, **runtime)
    if not scales:
        return inner
    return optax.chain(scale_by_layer(scales), inner)
