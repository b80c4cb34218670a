"""Linear regression: the loss and the in-compiled-code metrics of min-norm experiments."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def least_squares(w: jax.Array, data: tuple[jax.Array, jax.Array]) -> jax.Array:
    """:math:`\\frac{1}{2n}\\lVert Xw - y\\rVert^2` over the examples of ``data = (X, y)``."""
    X, y = data
    return 0.5 * jnp.mean((X @ w - y) ** 2)


def interpolation_metrics(w: jax.Array, data: Any, aux: dict[str, jax.Array]) -> dict:
    """Distances that the min-norm claims read, computed inside the compiled loop.

    ``aux`` holds ``target`` (the interpolator this run should reach), ``w0`` (its init)
    and ``null`` (the projector onto the null space of ``X``).

    Returns:
        ``dist``: :math:`\\lVert w - w_{target}\\rVert / \\lVert w_{target}\\rVert`;
        ``null``: :math:`\\lVert P_{null}(w - w_0)\\rVert / \\lVert w_{target}\\rVert`
        (zero while GD stays in ``w0`` + row space); ``residual``:
        :math:`\\lVert Xw - y\\rVert / \\lVert y\\rVert`; ``norm``: :math:`\\lVert w\\rVert`.
    """
    X, y = data
    scale = jnp.linalg.norm(aux["target"])
    return {
        "dist": jnp.linalg.norm(w - aux["target"]) / scale,
        "null": jnp.linalg.norm(aux["null"] @ (w - aux["w0"])) / scale,
        "residual": jnp.linalg.norm(X @ w - y) / jnp.linalg.norm(y),
        "norm": jnp.linalg.norm(w),
    }
