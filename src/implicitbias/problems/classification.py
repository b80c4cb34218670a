"""Linear classification: exponential and logistic losses, and margin metrics in the loop.

Labels are :math:`y_i \\in \\{\\pm1\\}`, margins :math:`m_i = y_i w^\\top x_i`. Losses are
``mean`` or ``sum`` over the examples (seed 004 sums, seed 000 averages); the minibatch
sampler of the engine needs the ``mean`` form for unbiased gradients.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

Data = tuple[jax.Array, jax.Array]


def _margins(w: jax.Array, data: Data) -> jax.Array:
    X, y = data
    return y * (X @ w)


def exponential_mean(w: jax.Array, data: Data) -> jax.Array:
    """:math:`\\frac1n\\sum_i e^{-m_i}`."""
    return jnp.mean(jnp.exp(-_margins(w, data)))


def exponential_sum(w: jax.Array, data: Data) -> jax.Array:
    """:math:`\\sum_i e^{-m_i}` (seed 004, Experiment 1)."""
    return jnp.sum(jnp.exp(-_margins(w, data)))


def logistic_mean(w: jax.Array, data: Data) -> jax.Array:
    """:math:`\\frac1n\\sum_i \\log(1 + e^{-m_i})`, computed stably."""
    return jnp.mean(jnp.logaddexp(0.0, -_margins(w, data)))


def logistic_sum(w: jax.Array, data: Data) -> jax.Array:
    """:math:`\\sum_i \\log(1 + e^{-m_i})`."""
    return jnp.sum(jnp.logaddexp(0.0, -_margins(w, data)))


def exponential_shifted(w: jax.Array, data: Data) -> jax.Array:
    """:math:`\\frac1n\\sum_i e^{-(m_i - m_{\\min})}` with :math:`m_{\\min}` held constant.

    Its gradient is :math:`e^{m_{\\min}}` times that of :func:`exponential_mean`: the same
    direction, without underflow once the margins reach hundreds. For scale-invariant
    methods (normalized GD) it gives the same iterates as the exponential loss would in
    exact arithmetic; in float64 :math:`e^{-m}` underflows to 0 for :math:`m > 745`.
    """
    m = _margins(w, data)
    return jnp.mean(jnp.exp(-(m - jax.lax.stop_gradient(jnp.min(m)))))


LOSSES: dict[tuple[str, str], Callable] = {
    ("exponential", "mean"): exponential_mean,
    ("exponential", "sum"): exponential_sum,
    ("logistic", "mean"): logistic_mean,
    ("logistic", "sum"): logistic_sum,
}


def angle_to(w: jax.Array, u: jax.Array) -> jax.Array:
    """Angle in degrees between ``w`` and the unit vector ``u`` (atan2: accurate near 0);
    NaN for ``w = 0``."""
    cos = w @ u
    sin = jnp.linalg.norm(w - cos * u)
    # w = 0 has no direction: NaN rather than atan2(0, 0) = 0.
    return jnp.where(jnp.linalg.norm(w) > 0, jnp.degrees(jnp.arctan2(sin, cos)), jnp.nan)


def margin_metrics(w: jax.Array, data: Data, aux: dict[str, jax.Array]) -> dict:
    """Direction and margin of ``w`` against the l2 max-margin reference.

    ``aux``: ``direction`` (unit SVM direction) and ``gamma`` (its l2 margin).

    Returns:
        ``angle`` (degrees to the SVM direction), ``gap``
        (:math:`\\gamma^* - \\min_i m_i/\\lVert w\\rVert`) and ``norm``.
    """
    norm = jnp.linalg.norm(w)
    return {
        "angle": angle_to(w, aux["direction"]),
        "gap": aux["gamma"] - jnp.min(_margins(w, data)) / norm,
        "norm": norm,
    }


def reference_angles(w: jax.Array, data: Data, aux: dict[str, jax.Array]) -> dict:
    """Angles (degrees) from ``w`` to each reference direction in ``aux["refs"]`` (k, d),
    named by ``aux`` order ``l1, l2, linf``; and ``norm``."""
    refs = aux["refs"]
    out = {f"angle_{name}": angle_to(w, refs[i]) for i, name in enumerate(("l1", "l2", "linf"))}
    out["norm"] = jnp.linalg.norm(w)
    return out
