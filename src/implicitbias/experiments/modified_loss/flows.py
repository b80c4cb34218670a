"""Gradient flows of the loss and of the modified losses, by classical Runge-Kutta 4.

The flows :math:`\\dot\\theta = -\\nabla\\tilde L_h(\\theta)` for a vector of ``h`` (``h = 0``:
plain gradient flow) are integrated together: ``jit(vmap over h (scan over records (scan
over RK4 steps)))``, one compiled program. The RK4 step is the one of
:mod:`implicitbias.theory.gradient_flow` (local error :math:`O(\\delta^5)`, global
:math:`O(\\delta^4)`; Hairer, Norsett & Wanner, *Solving Ordinary Differential Equations I*,
sec. II.1). That module's ``rk4_flow`` returns the loss along the path and takes a Lanczos
sharpness per block; this experiment needs the parameters themselves at time ``T`` and one
flow per ``h``, so it integrates here with the same step (the test suite checks that both
give the same plain-flow losses).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from implicitbias.experiments.modified_loss.problem import grad_norm_sq, loss, modified_gradient


def rk4_step(f: Callable[[jax.Array], jax.Array], x: jax.Array, dt: float) -> jax.Array:
    """One classical RK4 step of :math:`\\dot x = f(x)`."""
    k1 = f(x)
    k2 = f(x + 0.5 * dt * k1)
    k3 = f(x + 0.5 * dt * k2)
    k4 = f(x + dt * k3)
    return x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def rk4_solve(
    f: Callable[[jax.Array], jax.Array], x0: jax.Array, *, dt: Any, records: int, every: Any
) -> tuple[jax.Array, jax.Array]:
    """``records`` blocks of ``every`` RK4 steps of size ``dt`` from ``x0`` (traceable; ``dt``
    and ``every`` may be traced values, so one program serves several step sizes).

    Returns:
        ``(x, path)``: the state at time ``records * every * dt`` and ``(records + 1, P)``
        states at the block boundaries (the first is ``x0``).
    """

    def block(x, _):
        x = lax.fori_loop(0, every, lambda _, z: rk4_step(f, z, dt), x)
        return x, x

    x, path = lax.scan(block, x0, None, length=records)
    return x, jnp.concatenate([x0[None], path])


@functools.partial(jax.jit, static_argnames=("records",))
def _flows(theta0, X, y, hs, dt, every, *, records):
    def one(h):
        def field(x):
            return -modified_gradient(x, (X, y), h)

        x, path = rk4_solve(field, theta0, dt=dt, records=records, every=every)
        measure = jax.vmap(lambda t: (loss(t, (X, y)), grad_norm_sq(t, (X, y))))
        return x, *measure(path)

    return jax.vmap(one)(hs)


def modified_flows(
    theta0: np.ndarray,
    data: tuple[Any, Any],
    hs: np.ndarray,
    *,
    horizon: float,
    records: int,
    every: int,
) -> dict[str, np.ndarray]:
    """The flows of :math:`\\tilde L_h` for every ``h`` in ``hs`` up to ``horizon``.

    Args:
        theta0: ``(P,)`` common initial point.
        data: ``(X, y)``.
        hs: ``(H,)`` the ``h`` of each flow (``0``: gradient flow of ``L``).
        horizon: the final time ``T``.
        records: states recorded (besides the start) at ``T * j / records``.
        every: RK4 steps between records (``dt = T / (records * every)``).

    Returns:
        ``final`` ``(H, P)``, and at the ``records + 1`` times ``times``: ``loss`` and
        ``grad_norm_sq`` ``(H, records + 1)`` of the plain loss along each flow.
    """
    dt = float(horizon) / (records * every)
    X, y = (jnp.asarray(v) for v in data)
    final, losses, norms = _flows(
        jnp.asarray(theta0), X, y, jnp.asarray(hs), dt, every, records=int(records)
    )
    return {
        "final": np.asarray(final),
        "times": float(horizon) * np.arange(records + 1) / records,
        "loss": np.asarray(losses),
        "grad_norm_sq": np.asarray(norms),
    }
