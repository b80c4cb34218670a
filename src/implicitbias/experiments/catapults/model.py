r"""The wide two-layer network, its square loss, its data, and the empirical NTK.

Network (NTK parametrization; one example ``x`` in :math:`\mathbb R^d`, ``m`` hidden units,
parameters ``w = (U, v)``):

.. math::  f(w; x) = \frac{1}{\sqrt m} \sum_{i=1}^m v_i\,
           \sigma\!\Big(\frac{U_i \cdot x}{\sqrt d}\Big), \qquad U_{ij}, v_i \sim N(0, 1),

with :math:`\sigma` = ReLU (or the identity: the two-layer linear network). Loss: the mean
square loss :math:`L(w) = \frac{1}{2n}\sum_k (f(w; x_k) - y_k)^2`.

Its curvature scale: with :math:`J` the ``(n, p)`` Jacobian of ``f`` over the training
inputs and :math:`\Theta = J J^\top` the empirical NTK, the Gauss-Newton part of the Hessian
of ``L`` is :math:`J^\top J / n`, whose top eigenvalue is :math:`\lambda = \lambda_{\max}
(\Theta)/n` (the NTK of the *mean* loss). Linearized GD moves the residual by
:math:`r \to (I - \eta\Theta/n) r`, stable iff :math:`\eta < 2/\lambda`; at an
interpolating minimum the Hessian *is* :math:`J^\top J/n`, so GD can only converge to one
with :math:`\lambda_T \le 2/\eta`. Everything here scales :math:`\lambda` that way.

The uv model (the solvable model; one input ``x = 1``, ``d = 1``, target 0, identity
activation): :math:`f = v\cdot u/\sqrt m`, :math:`L = f^2/2`, :math:`\lambda = (|u|^2 +
|v|^2)/m`, and one GD step gives exactly (the lab's derivation)

.. math::  f' = f\,(1 - \eta\lambda + \eta^2 f^2/m), \qquad
           \lambda' = \lambda + \frac{\eta f^2}{m}\,(\eta\lambda - 4).

So for :math:`\eta\lambda_0 < 2` the loss decays (lazily at large ``m``); for
:math:`2 < \eta\lambda_0 < 4` ``|f|`` first grows (the spike) while :math:`\lambda` falls,
until :math:`\eta\lambda < 2` and ``f`` converges to 0; for :math:`\eta\lambda_0 > 4`
:math:`\lambda` grows with ``|f|`` and GD diverges: :math:`\eta_{\max} = 4/\lambda_0`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

ACTIVATIONS = {"relu": jax.nn.relu, "linear": lambda z: z}


def network(params, X, activation: str = "relu"):
    """``f(w; X)``, ``(n,)``, one member (``params = {"U": (m, d), "v": (m,)}``)."""
    U, v = params["U"], params["v"]
    z = X @ U.T / np.sqrt(U.shape[1])
    return ACTIVATIONS[activation](z) @ v / np.sqrt(v.shape[0])


def square_loss(params, data, activation: str = "relu"):
    r""":math:`\frac{1}{2n}\lVert f(w; X) - y\rVert^2` (``data``: ``X``, ``y``)."""
    return 0.5 * jnp.mean((network(params, data["X"], activation) - data["y"]) ** 2)


def gram(params, X, activation: str = "relu"):
    """The empirical NTK ``J J^T`` (``(n, n)``), ``J`` from ``jax.jacobian`` of ``f`` over
    the flattened parameters."""
    flat, unravel = ravel_pytree(params)
    J = jax.jacobian(lambda w: network(unravel(w), X, activation))(flat)
    return J @ J.T


def ntk_top(params, X, activation: str = "relu") -> float:
    """``lambda = lambda_max(J J^T) / n`` at ``params`` (one member), by NumPy's eigvalsh."""
    one = jax.tree.map(lambda a: np.asarray(a)[None], params)
    return float(ntk_top_batched(one, np.asarray(X)[None], activation)[0])


@functools.partial(jax.jit, static_argnames="activation")
def _grams(params, X, activation: str):
    return jax.lax.map(lambda pX: gram(pX[0], pX[1], activation), (params, X))


def ntk_top_batched(params, X, activation: str = "relu") -> np.ndarray:
    """``(B,)`` NTK top eigenvalues ``lambda_max(J J^T) / n`` of a batch of members
    (``params`` leaves and ``X`` with a leading member axis): the Gram matrices one member at
    a time (``lax.map``), eigvalsh in NumPy. NaN where the parameters are not finite."""
    grams = np.asarray(_grams(jax.tree.map(jnp.asarray, params), jnp.asarray(X), activation))
    out = np.full(grams.shape[0], np.nan)
    for b, K in enumerate(grams):
        if np.all(np.isfinite(K)):
            out[b] = np.linalg.eigvalsh(K)[-1] / X.shape[1]
    return out


def numpy_jacobian(params, X, activation: str = "relu") -> np.ndarray:
    """``(n, p)`` Jacobian of ``f`` written out by hand in NumPy, in ``ravel_pytree``'s order
    (``U`` row-major, then ``v``): ``df/dU_ij = v_i s'(z_i) x_j / sqrt(m d)``,
    ``df/dv_i = s(z_i) / sqrt(m)``, ``z = U x / sqrt(d)``."""
    U, v = np.asarray(params["U"]), np.asarray(params["v"])
    m, d = U.shape
    z = X @ U.T / np.sqrt(d)  # (n, m)
    if activation == "relu":
        s, ds = np.maximum(z, 0.0), (z > 0).astype(float)
    else:
        s, ds = z, np.ones_like(z)
    dU = (v * ds)[:, :, None] * X[:, None, :] / np.sqrt(m * d)
    return np.concatenate([dU.reshape(len(X), -1), s / np.sqrt(m)], axis=1)


def numpy_ntk_top(params, X, activation: str = "relu") -> float:
    """``lambda_max(J J^T) / n`` with the hand-written NumPy Jacobian (the check of
    :func:`ntk_top`)."""
    J = numpy_jacobian(params, X, activation)
    return float(np.linalg.eigvalsh(J @ J.T)[-1]) / len(X)


def draw(cfg, index: int) -> dict[str, np.ndarray]:
    """One draw (``index``): inputs ``x ~ N(0, I_d)``, a linear teacher ``y = x.beta /
    |beta|`` (fitted by the linear and the ReLU network alike), the init ``U, v ~ N(0, 1)``."""
    rng = np.random.default_rng([cfg.seed, index])
    X = rng.standard_normal((cfg.n, cfg.d))
    beta = rng.standard_normal(cfg.d)
    return {
        "X": X,
        "y": X @ beta / np.linalg.norm(beta),
        "U": rng.standard_normal((cfg.width, cfg.d)),
        "v": rng.standard_normal(cfg.width),
    }


def uv_draw(cfg, index: int) -> dict[str, np.ndarray]:
    """The uv model's draw: ``x = 1``, ``y = 0``, ``u, v ~ N(0, 1)`` of ``uv_width``."""
    rng = np.random.default_rng([cfg.seed, 1000 + index])
    return {
        "X": np.ones((1, 1)),
        "y": np.zeros(1),
        "U": rng.standard_normal((cfg.uv_width, 1)),
        "v": rng.standard_normal(cfg.uv_width),
    }
