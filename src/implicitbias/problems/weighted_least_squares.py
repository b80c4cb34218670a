"""Least squares on (possibly padded and weighted) minibatches, and its metrics.

A minibatch ``{"X", "y"}`` gives :math:`\\frac{1}{2B}\\lVert X_B w - y_B\\rVert^2`, whose
gradient :math:`X_B^\\top (X_B w - y_B) / B` is the step of seed 000 section 6's
``train_sgd``. To run several batch sizes in one compiled program, minibatches are padded
to one width and carry weights ``w_batch`` (``1/B`` on a member's first ``B`` rows, ``0``
after): :math:`\\frac12 \\sum_i \\omega_i (x_i^\\top w - y_i)^2` is then the same loss.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def half_mse(w: jax.Array, batch: dict) -> jax.Array:
    """:math:`\\frac{1}{2B}\\lVert X_B w - y_B\\rVert^2`; weighted by ``batch["w_batch"]``
    when the minibatch is padded."""
    r2 = (batch["X"] @ w - batch["y"]) ** 2
    if "w_batch" in batch:
        return 0.5 * jnp.sum(batch["w_batch"] * r2)
    return 0.5 * jnp.mean(r2)


def regression_metrics(w: jax.Array, data: dict, aux: dict) -> dict[str, jax.Array]:
    """Train and test MSE as seed 000 prints them (``mean(r^2)``), ``||w||`` and
    ``||w - w_hat||^2`` (``aux``: ``X_te``, ``y_te``, ``w_hat``)."""
    return {
        "train_mse": jnp.mean((data["X"] @ w - data["y"]) ** 2),
        "test_mse": jnp.mean((aux["X_te"] @ w - aux["y_te"]) ** 2),
        "norm": jnp.linalg.norm(w),
        "dist2": jnp.sum((w - aux["w_hat"]) ** 2),
    }
