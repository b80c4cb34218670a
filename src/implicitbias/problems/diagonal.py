"""Depth-2 diagonal linear networks: the predictor, the loss, the init and in-loop metrics.

Two parameterizations of a linear predictor :math:`w \\in \\mathbb{R}^d`, stacked as the rows
of one array so that a batch of members is one ``(B, rows, d)`` array:

* ``square`` (2 rows): :math:`w = u\\odot u - v\\odot v`, init :math:`u = v = \\alpha\\mathbf 1`;
* ``product`` (4 rows): :math:`w = u_+\\odot v_+ - u_-\\odot v_-`, init
  :math:`u_\\pm = c\\alpha`, :math:`v_\\pm = \\alpha/c` (``imbalance`` ``c``).

The loss is the mean squared error :math:`\\frac{1}{2n}\\lVert Xw - y\\rVert^2`
(Woodworth et al. 2020, COLT, section 2).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

MODELS = ("square", "product")


def predictor(params: jnp.ndarray) -> jnp.ndarray:
    """``w`` from the stacked factors: ``(2, d)`` -> u*u - v*v, ``(4, d)`` -> u+v+ - u-v-."""
    if params.shape[0] == 2:
        return params[0] ** 2 - params[1] ** 2
    return params[0] * params[1] - params[2] * params[3]


def diagonal_loss(params: jnp.ndarray, data: tuple[jnp.ndarray, jnp.ndarray]) -> jnp.ndarray:
    """:math:`\\frac{1}{2n}\\lVert X w - y\\rVert^2` with ``w = predictor(params)``."""
    X, y = data
    return 0.5 * jnp.mean((X @ predictor(params) - y) ** 2)


def diagonal_metrics(params, data, aux) -> dict[str, jnp.ndarray]:
    """Relative distances of ``w`` to the Q_alpha (``q``), l1 and l2 interpolators; test
    error :math:`\\lVert w - w^*\\rVert^2/\\lVert w^*\\rVert^2`; relative residual; l1 norm."""
    X, y = data
    w = predictor(params)

    def rel(ref):
        return jnp.linalg.norm(w - ref) / jnp.linalg.norm(ref)

    return {
        "dist_q": rel(aux["q"]),
        "dist_l1": rel(aux["l1"]),
        "dist_l2": rel(aux["l2"]),
        "test": jnp.sum((w - aux["w_star"]) ** 2) / jnp.sum(aux["w_star"] ** 2),
        "residual": jnp.linalg.norm(X @ w - y) / jnp.linalg.norm(y),
        "l1_norm": jnp.sum(jnp.abs(w)),
    }


def initial_params(model: str, alphas: np.ndarray, d: int, imbalance: float) -> np.ndarray:
    """``(B, 2, d)`` for ``square`` (all ``alpha``), ``(B, 4, d)`` for ``product``
    (``u = c alpha``, ``v = alpha / c``)."""
    if model not in MODELS:
        raise ValueError(f"`model`: expected one of {MODELS}, got {model!r}")
    a = np.asarray(alphas, dtype=np.float64)[:, None, None]
    if model == "square":
        return np.broadcast_to(a, (a.shape[0], 2, d)).copy()
    scales = np.array([imbalance, 1 / imbalance, imbalance, 1 / imbalance])[None, :, None]
    return np.broadcast_to(a * scales, (a.shape[0], 4, d)).copy()
