"""Gradient descent with Gaussian gradient noise from a counter-based random stream.

.. math::

    \\theta_{t+1} = \\theta_t - \\eta_t\\,(g_t + \\sigma\\,\\xi_t),\\qquad
    \\xi_t \\sim \\mathcal N(0, I)\\ \\text{i.i.d.}

The noise is the simplest model of minibatch noise (isotropic, state-independent): with it
GD escapes sharp minima whose basin is narrow compared with ``sqrt(eta) sigma`` (Keskar et
al., "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima",
ICLR 2017; Zhu et al., "The Anisotropic Noise in Stochastic Gradient Descent", ICML 2019).

The normals come from splitmix64 (Steele, Lea & Flood, "Fast Splittable Pseudorandom
Number Generators", OOPSLA 2014) rather than ``jax.random``: the whole generator state is
one ``uint64`` counter, which is cheap to carry through ``lax.scan`` and ``vmap`` (one
walker-step costs about a third of a threefry key split). Needs 64-bit integers
(``jax_enable_x64``).

The numbers are bit-identical to the generator first written in
:mod:`implicitbias.experiments.flat_sharp`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from implicitbias.errors import ConfigError

_GAMMA = 0x9E3779B97F4A7C15  # splitmix64's increment (the golden ratio times 2^64)


class NoiseState(NamedTuple):
    counter: jax.Array  # uint64: position in splitmix64's stream


def _mix64(z: jax.Array) -> jax.Array:
    """splitmix64's finalizer (Steele, Lea & Flood 2014, OOPSLA): a bijection of uint64."""
    z = (z ^ (z >> 30)) * jnp.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> 27)) * jnp.uint64(0x94D049BB133111EB)
    return z ^ (z >> 31)


def gaussian_stream(counter: jax.Array, size: int) -> tuple[jax.Array, jax.Array]:
    """``size`` standard normals from a splitmix64 stream, and the advanced counter.

    Box-Muller on pairs of 53-bit uniforms ``u``: with ``u1 = 1 - u`` in ``(0, 1]``,
    ``z = sqrt(-2 log u1) (cos 2 pi u2, sin 2 pi u2)``. Three times cheaper per draw than a
    threefry key split under vmap (31 vs 102 ns on 2 cores), which is what one walker-step
    costs.

    Args:
        counter: ``uint64`` scalar, the stream position (the state of :class:`NoiseState`).
        size: number of normals (a static Python int).

    Returns:
        ``(z, counter)``: ``z`` of shape ``(size,)`` in float64 and the new position.
    """
    pairs = (size + 1) // 2
    ticks = counter + jnp.uint64(_GAMMA) * jnp.arange(1, 2 * pairs + 1, dtype=jnp.uint64)
    bits = _mix64(ticks) >> 11
    u = bits.astype(jnp.float64) * (2.0**-53)
    u1, u2 = 1.0 - u[:pairs], u[pairs:]  # u1 in (0, 1]
    radius = jnp.sqrt(-2.0 * jnp.log(u1))
    angle = 2.0 * jnp.pi * u2
    z = jnp.concatenate([radius * jnp.cos(angle), radius * jnp.sin(angle)])[:size]
    return z, ticks[-1]


def _check_x64() -> None:
    if not jax.config.jax_enable_x64:
        raise ConfigError(
            "jax_enable_x64",
            "True (the noise stream uses 64-bit integers)",
            False,
            hint="Call jax.config.update('jax_enable_x64', True) before building the optimizer.",
        )


def _initial_counter(seed: Any) -> jax.Array:
    """A hashed start in splitmix64's 2^64 cycle, so that nearby seeds give unrelated streams."""
    return _mix64(jnp.asarray(seed).astype(jnp.uint64) + jnp.uint64(_GAMMA))


def _add_noise(grads: Any, counter: jax.Array, sigma: Any) -> tuple[list, Any, jax.Array]:
    """``g + sigma xi`` leafwise (leaves in ``jax.tree.flatten`` order), and the counter."""
    leaves, treedef = jax.tree.flatten(grads)
    noisy = []
    for g in leaves:
        z, counter = gaussian_stream(counter, int(np.prod(jnp.shape(g))))
        noise = z.reshape(jnp.shape(g)).astype(jnp.result_type(g))
        noisy.append(g + sigma * noise)
    return noisy, treedef, counter


def add_gaussian_noise(sigma: Any, seed: Any) -> optax.GradientTransformation:
    """Replace ``g`` by ``g + sigma xi`` with ``xi ~ N(0, I)`` from the splitmix64 stream.

    Args:
        sigma: noise scale (number or traced scalar).
        seed: integer (traced under vmap) choosing the member's stream.
    """
    _check_x64()

    def init(params):
        del params
        return NoiseState(_initial_counter(seed))

    def update(grads, state, params=None):
        del params
        noisy, treedef, counter = _add_noise(grads, state.counter, sigma)
        return jax.tree.unflatten(treedef, noisy), NoiseState(counter)

    return optax.GradientTransformation(init, update)


def noisy_gd(learning_rate: Any, sigma: Any, seed: Any) -> optax.GradientTransformation:
    """GD on a noisy gradient: ``theta <- theta - eta (g + sigma xi)``, ``xi ~ N(0, I)``.

    ``seed`` (an integer, traced under vmap) starts each member's own noise stream at a
    hashed (so effectively random) point of splitmix64's 2^64 cycle; streams of different
    members do not overlap in practice. Needs 64-bit integers (``x64``).

    With a number (or traced scalar) ``learning_rate`` this is one transform with state
    :class:`NoiseState`, the exact code of the flat/sharp experiment. An optax schedule
    ``learning_rate`` gives ``chain(add_gaussian_noise, scale_by_learning_rate)`` (optax
    then keeps the step count). See :func:`implicitbias.optim.registry.noisy_gd` for the
    validated, registered factory.

    Args:
        learning_rate: ``eta`` (number, traced scalar or optax schedule).
        sigma: noise scale ``sigma``.
        seed: integer choosing the noise stream.
    """
    if callable(learning_rate):
        return optax.chain(
            add_gaussian_noise(sigma, seed), optax.scale_by_learning_rate(learning_rate)
        )
    _check_x64()

    def init(params):
        del params
        return NoiseState(_initial_counter(seed))

    def update(grads, state, params=None):
        del params
        noisy, treedef, counter = _add_noise(grads, state.counter, sigma)
        updates = [-learning_rate * u for u in noisy]
        return jax.tree.unflatten(treedef, updates), NoiseState(counter)

    return optax.GradientTransformation(init, update)
