"""The problem: a one-hidden-layer tanh network on a teacher's regression data, its loss,
the modified loss of Barrett & Dherin (2021), and their gradients.

Parameters are ONE flat vector ``theta`` of length ``P = width (d + 2)``: the first-layer
weights ``W`` (``d x width``), biases ``b`` (``width``) and output weights ``a``
(``width``), so that distances between parameter vectors are plain Euclidean norms. The
network is :math:`f(x) = a^\\top \\tanh(W^\\top x + b)` and the loss the mean squared error

.. math::  L(\\theta) = \\frac{1}{2n} \\sum_i (f(x_i) - y_i)^2 .

The modified loss of a gradient-descent step ``h`` is

.. math::  \\tilde L_h(\\theta) = L(\\theta) + \\frac h4 \\lVert\\nabla L(\\theta)\\rVert^2,
    \\qquad \\nabla\\tilde L_h = \\nabla L + \\frac h2 \\nabla^2 L\\, \\nabla L,

(``h = 0`` is the plain loss), derived in docs/experiments/modified-loss.md.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def split(theta: jax.Array, d: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(W, b, a)`` of a flat parameter vector (the width is ``len(theta) // (d + 2)``)."""
    width = theta.shape[-1] // (d + 2)
    W = theta[: d * width].reshape(d, width)
    b = theta[d * width : (d + 1) * width]
    a = theta[(d + 1) * width :]
    return W, b, a


def predict(theta: jax.Array, X: jax.Array) -> jax.Array:
    """``(n,)`` outputs :math:`a^\\top\\tanh(W^\\top x + b)` of the inputs ``X`` (``n x d``)."""
    W, b, a = split(theta, X.shape[-1])
    return jnp.tanh(X @ W + b) @ a


def loss(theta: jax.Array, data: tuple[Any, Any]) -> jax.Array:
    """Mean squared error :math:`\\frac{1}{2n}\\sum_i (f(x_i) - y_i)^2`."""
    X, y = data
    r = predict(theta, X) - y
    return 0.5 * jnp.mean(r**2)


def grad_norm_sq(theta: jax.Array, data: tuple[Any, Any]) -> jax.Array:
    """:math:`\\lVert\\nabla L(\\theta)\\rVert^2`, the implicit regularizer (up to ``h/4``)."""
    g = jax.grad(loss)(theta, data)
    return jnp.vdot(g, g)


def modified_loss(theta: jax.Array, data: tuple[Any, Any], h: jax.Array) -> jax.Array:
    """:math:`L + \\frac h4\\lVert\\nabla L\\rVert^2` (``h = 0``: the loss itself)."""
    return loss(theta, data) + 0.25 * h * grad_norm_sq(theta, data)


def modified_gradient(theta: jax.Array, data: tuple[Any, Any], h: jax.Array) -> jax.Array:
    """:math:`\\nabla L + \\frac h2 \\nabla^2 L\\,\\nabla L` by a Hessian-vector product (the
    same vector as ``jax.grad(modified_loss)``, one forward-over-reverse pass cheaper)."""
    g = jax.grad(loss)(theta, data)
    _, hg = jax.jvp(lambda t: jax.grad(loss)(t, data), (theta,), (g,))
    return g + 0.5 * h * hg


def metrics(theta: jax.Array, data: tuple[Any, Any], aux: Any) -> dict[str, jax.Array]:
    """In-loop metric of the engine: the squared gradient norm (the loss is always logged)."""
    return {"grad_norm_sq": grad_norm_sq(theta, data)}


def teacher_data(
    n: int, d: int, teacher_width: int, teacher_scale: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs ``X`` (``n x d``) and the outputs ``y`` of a random tanh teacher of
    width ``teacher_width`` whose first-layer weights have standard deviation
    ``teacher_scale / sqrt(d)`` (output weights ``N(0, 1 / teacher_width)``)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, teacher_width)) * teacher_scale / np.sqrt(d)
    a = rng.normal(size=teacher_width) / np.sqrt(teacher_width)
    return X, np.tanh(X @ W) @ a


def initial_params(d: int, width: int, init_scale: float, seed: int) -> np.ndarray:
    """A flat init: ``W ~ N(0, 1/d)``, ``b = 0``, ``a ~ N(0, init_scale^2 / width)``, drawn
    from a generator independent of the data's (``seed + 1``)."""
    rng = np.random.default_rng([seed, 1])
    W = rng.normal(size=(d, width)) / np.sqrt(d)
    a = rng.normal(size=width) * init_scale / np.sqrt(width)
    return np.concatenate([W.reshape(-1), np.zeros(width), a])


@jax.jit
def _eigenvalues(theta, X, y):
    H = jax.hessian(loss)(theta, (X, y))
    return jnp.linalg.eigvalsh(0.5 * (H + H.T))


def hessian_eigenvalues(theta: np.ndarray, data: tuple[Any, Any]) -> np.ndarray:
    """All eigenvalues of :math:`\\nabla^2 L(\\theta)` (ascending; ``P`` is small here)."""
    X, y = data
    return np.asarray(_eigenvalues(jnp.asarray(theta), jnp.asarray(X), jnp.asarray(y)))
