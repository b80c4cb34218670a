"""Grokfast gradient filters (Lee et al. 2024, "Grokfast: Accelerated Grokking by Amplifying
Slow Gradients") as optax ``GradientTransformation``s.

Both filters add an amplified low-pass copy of the gradient history to the gradient, and
the result goes to the usual optimizer (here AdamW):

.. math::

    \\text{EMA:}\\quad h_t = \\alpha h_{t-1} + (1 - \\alpha) g_t,\\qquad
    \\hat g_t = g_t + \\lambda h_t\\qquad (h_0 = g_0),

    \\text{MA:}\\quad \\hat g_t = g_t + \\lambda\\,\\frac1w\\sum_{s=t-w+1}^{t} g_s
    \\qquad(\\hat g_t = g_t \\text{ while fewer than } w \\text{ gradients are stored,
    with } \\texttt{warmup}).

The EMA starts from the first gradient and the moving average waits for a full window,
as the paper's reference code does. The registered factories
:func:`~implicitbias.optim.registry.grokfast_ema` and
:func:`~implicitbias.optim.registry.grokfast_ma` chain a filter and the registry's
:func:`~implicitbias.optim.registry.adamw`, whose weight decay acts on the parameters, so
the filter changes only the gradient part of the step; with the same learning rate and
weight decay, ``adamw`` alone is the fair baseline.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from implicitbias.errors import ConfigError


class EmaFilterState(NamedTuple):
    count: jax.Array  # int32 scalar: gradients seen
    ema: Any  # pytree like the gradients


class MaFilterState(NamedTuple):
    count: jax.Array  # int32 scalar: gradients seen
    window: Any  # pytree of (w, *shape) ring buffers


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def ema_filter(
    alpha: float | jax.Array = 0.98, lamb: float | jax.Array = 2.0
) -> optax.GradientTransformation:
    """Grokfast-EMA: ``g + lamb * h`` with ``h`` the EMA of the gradients (``h_0 = g_0``).

    Args:
        alpha: EMA decay in ``[0, 1)`` (the paper's default 0.98).
        lamb: amplification ``>= 0`` (the paper's default 2.0).
    """
    if _is_number(alpha) and not 0 <= alpha < 1:
        raise ConfigError("alpha", "a number in [0, 1)", alpha)
    if _is_number(lamb) and lamb < 0:
        raise ConfigError("lamb", "a number >= 0", lamb)

    def init(params):
        return EmaFilterState(jnp.zeros((), jnp.int32), jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        del params
        first = state.count == 0
        ema = jax.tree.map(
            lambda h, g: jnp.where(first, g, alpha * h + (1 - alpha) * g), state.ema, grads
        )
        out = jax.tree.map(lambda g, h: g + lamb * h, grads, ema)
        return out, EmaFilterState(state.count + 1, ema)

    return optax.GradientTransformation(init, update)


def ma_filter(
    window: int = 100, lamb: float | jax.Array = 5.0, warmup: bool = True
) -> optax.GradientTransformation:
    """Grokfast-MA: ``g + lamb * mean(last window gradients)`` (the current one included).

    Args:
        window: number of gradients averaged (the paper's default 100); a static int.
        lamb: amplification ``>= 0`` (the paper's default 5.0).
        warmup: pass gradients through unchanged until ``window`` of them are stored; if
            false, average the ones stored so far.
    """
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise ConfigError("window", "an integer >= 1", window)
    if _is_number(lamb) and lamb < 0:
        raise ConfigError("lamb", "a number >= 0", lamb)

    def init(params):
        buffers = jax.tree.map(
            lambda x: jnp.zeros((window, *jnp.shape(x)), jnp.result_type(x)), params
        )
        return MaFilterState(jnp.zeros((), jnp.int32), buffers)

    def update(grads, state, params=None):
        del params
        slot = state.count % window
        buffers = jax.tree.map(lambda b, g: b.at[slot].set(g), state.window, grads)
        stored = jnp.minimum(state.count + 1, window)
        full = stored == window
        active = full if warmup else jnp.asarray(True)

        def filtered(g, b):
            mean = jnp.sum(b, axis=0) / stored.astype(g.dtype)
            return jnp.where(active, g + lamb * mean, g)

        out = jax.tree.map(filtered, grads, buffers)
        return out, MaFilterState(state.count + 1, buffers)

    return optax.GradientTransformation(init, update)


# The AdamW of the package is :func:`implicitbias.optim.registry.adamw`. The registry imports
# the filters above, so these wrappers import it when called (not at module load).
