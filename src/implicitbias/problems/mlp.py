"""Fully connected networks as plain pytrees, and the square loss of Cohen et al. 2021.

Parameters are a list of layers ``[(W_1, b_1), ..., (W_L, b_L)]`` with ``W_l`` of shape
``(fan_in, fan_out)`` and ``b_l`` of shape ``(fan_out,)`` (or ``None`` for a layer without
bias). The network is

.. math::  f(x) = W_L^\\top \\sigma(\\cdots \\sigma(W_1^\\top x + b_1) \\cdots) + b_L,

with the activation :math:`\\sigma` between layers and none after the last. ``x`` is a batch
``(n, d)``; the output is ``(n, c)``. Everything is a pure function of ``params``, so
``jax.grad``, ``jax.vmap`` over members and the Hessian tools of
:mod:`implicitbias.diagnostics` apply directly.

The square loss is :math:`L = \\frac{1}{2n}\\sum_i \\lVert f(x_i) - y_i\\rVert^2` with one-hot
(or real-valued) targets -- the setting of the edge-of-stability experiments of Cohen,
Kaur, Li, Kolter & Talwalkar 2021 (ICLR), whose code sums over classes, halves and averages
over examples.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "gelu": jax.nn.gelu,
    "softplus": jax.nn.softplus,
    "elu": jax.nn.elu,
    "linear": lambda z: z,
}

Params = list[tuple[jax.Array, Any]]


def _activation(name: str) -> Callable[[jax.Array], jax.Array]:
    if name not in ACTIVATIONS:
        raise ValueError(f"`activation`: expected one of {sorted(ACTIVATIONS)}, got {name!r}.")
    return ACTIVATIONS[name]


def init_mlp(
    key: jax.Array,
    sizes: Sequence[int],
    *,
    activation: str = "tanh",
    bias: bool = True,
    init: str = "uniform",
    dtype: Any = None,
) -> Params:
    """Random parameters of an MLP with layer widths ``sizes = (d, h_1, ..., c)``.

    Args:
        key: PRNG key.
        sizes: input dimension, hidden widths, output dimension (at least two entries).
        activation: checked here so that a typo fails before training (not stored: pass it
            to :func:`mlp_apply`).
        bias: include the biases (``False``: every ``b_l`` is ``None``).
        init: ``"uniform"`` -- PyTorch's default for ``nn.Linear`` (weights and biases
            uniform in :math:`\\pm 1/\\sqrt{\\text{fan\\_in}}`), which Cohen et al. use;
            ``"he"`` -- :math:`W \\sim N(0, 2/\\text{fan\\_in})`, zero biases.
        dtype: float dtype (default: JAX's default float).
    """
    _activation(activation)
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"`sizes`: expected at least two positive widths, got {sizes!r}.")
    if init not in ("uniform", "he"):
        raise ValueError(f"`init`: expected 'uniform' or 'he', got {init!r}.")
    dtype = np.dtype(dtype or jnp.zeros(()).dtype)
    return _init(key, tuple(sizes), bias, init, dtype)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _init(key, sizes, bias, init, dtype):
    """The draws of :func:`init_mlp`, compiled once per architecture (eager random ops
    would compile one small program each)."""
    params: Params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        key, kw, kb = jax.random.split(key, 3)
        if init == "uniform":
            bound = 1.0 / np.sqrt(fan_in)
            W = jax.random.uniform(kw, (fan_in, fan_out), dtype, -bound, bound)
            b = jax.random.uniform(kb, (fan_out,), dtype, -bound, bound) if bias else None
        else:
            W = jax.random.normal(kw, (fan_in, fan_out), dtype) * np.sqrt(2.0 / fan_in)
            b = jnp.zeros((fan_out,), dtype) if bias else None
        params.append((W, b))
    return params


def mlp_apply(params: Params, x: jax.Array, activation: str = "tanh") -> jax.Array:
    """The network's outputs ``(n, c)`` on a batch ``x`` of shape ``(n, d)``."""
    act = _activation(activation)
    h = x
    for i, (W, b) in enumerate(params):
        h = h @ W
        if b is not None:
            h = h + b
        if i < len(params) - 1:
            h = act(h)
    return h


def mse_loss(
    params: Params, x: jax.Array, y_onehot: jax.Array, activation: str = "tanh"
) -> jax.Array:
    """:math:`\\frac{1}{2n}\\sum_i\\lVert f(x_i) - y_i\\rVert^2`; ``y_onehot`` is ``(n, c)``."""
    r = mlp_apply(params, x, activation) - y_onehot
    return 0.5 * jnp.mean(jnp.sum(r * r, axis=-1))


def accuracy(
    params: Params, x: jax.Array, labels: jax.Array, activation: str = "tanh"
) -> jax.Array:
    """Fraction of examples whose largest output is the integer label."""
    return jnp.mean(jnp.argmax(mlp_apply(params, x, activation), axis=-1) == labels)


def num_params(params: Params) -> int:
    """Number of scalar parameters."""
    return int(sum(x.size for x in jax.tree.leaves(params)))


def one_hot(labels: Any, num_classes: int, dtype: Any = None) -> jax.Array:
    """``(n, num_classes)`` one-hot targets from integer labels."""
    return jax.nn.one_hot(jnp.asarray(labels), num_classes, dtype=dtype or jnp.zeros(()).dtype)
