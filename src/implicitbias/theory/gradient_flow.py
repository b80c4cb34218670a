"""Gradient flow as a reference ODE solve (not training): classical Runge-Kutta 4.

The flow :math:`\\dot\\theta = -S\\,\\nabla L(\\theta)` (``S`` a positive diagonal
preconditioner; the identity for plain gradient flow) is the limit of gradient descent
with step :math:`\\eta \\to 0` at equal time :math:`\\tau = \\eta t`. Cohen et al. 2021
(ICLR), section 3, integrate it with Runge-Kutta to show that GD follows it until the
sharpness reaches :math:`2/\\eta`. The RK4 step

.. math::  k_1 = f(x),\\; k_2 = f(x + \\tfrac h2 k_1),\\; k_3 = f(x + \\tfrac h2 k_2),\\;
    k_4 = f(x + h k_3),\\quad x \\leftarrow x + \\tfrac h6 (k_1 + 2k_2 + 2k_3 + k_4)

has local error :math:`O(h^5)` (Hairer, Norsett & Wanner, *Solving Ordinary Differential
Equations I*, sec. II.1). The whole solve is one ``jit(scan)`` program; every ``every``
steps it also takes the top Hessian eigenvalue by Lanczos, warm-started from the previous
top eigenvector (:func:`implicitbias.diagnostics.lanczos`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

from implicitbias.diagnostics import lanczos


def rk4_flow(
    loss: Callable[[Any], jax.Array],
    params: Any,
    *,
    h: float,
    horizon: float,
    every: int,
    iters: int,
    key: jax.Array,
    scale: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradient flow from ``params`` up to time ``horizon`` (rounded up to whole blocks).

    Args:
        loss: ``loss(params) -> scalar``.
        params: the initial point (a pytree).
        h: the RK4 step.
        horizon: the final time (the solve runs whole blocks of ``every`` steps).
        every: Lanczos sharpness every this many RK4 steps.
        iters: Lanczos steps per sharpness estimate.
        key: PRNG key of the Lanczos start vectors.
        scale: the diagonal of ``S`` as a pytree like ``params`` (``None``: identity).

    Returns:
        ``(times, losses, sharpness_times, sharpness)``: the loss at every RK4 step
        (``times = h * arange(n + 1)``) and the sharpness :math:`\\lambda_{\\max}
        (\\nabla^2 L)` at the start of every block.
    """
    n_steps = max(1, int(np.ceil(horizon / h / every))) * every
    flat, unravel = ravel_pytree(params)
    scale_flat = jnp.ones_like(flat) if scale is None else ravel_pytree(scale)[0]

    def f(x):
        return -scale_flat * ravel_pytree(jax.grad(loss)(unravel(x)))[0]

    def step(x, _):
        k1 = f(x)
        k2 = f(x + 0.5 * h * k1)
        k3 = f(x + 0.5 * h * k2)
        k4 = f(x + h * k3)
        return x + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4), loss(unravel(x))

    def block(carry, k):
        x, u = carry
        res = lanczos(loss, unravel(x), num_iters=iters, key=k, v0=u)
        x, losses = lax.scan(step, x, None, length=every)
        return (x, res.eigenvectors[0]), (res.eigenvalues[0], losses)

    keys = jax.random.split(key, n_steps // every)
    (x, _), (s, losses) = jax.jit(lambda x0: lax.scan(block, (x0, jnp.zeros_like(x0)), keys))(flat)
    losses = np.append(np.asarray(losses).reshape(-1), float(loss(unravel(x))))
    s = np.asarray(s)
    return h * np.arange(n_steps + 1), losses, h * every * np.arange(len(s)), s
