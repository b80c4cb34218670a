"""Deep matrix factorization: the end-to-end matrix, the losses, and in-loop metrics.

A member's parameters are a stack of ``L_max`` square factors ``(L_max, d, d)``; its depth
``L <= L_max`` is given by the boolean ``active`` in its data. The end-to-end matrix is

.. math:: W = W_L \\cdots W_1,

computed as the product of all ``L_max`` slots with the inactive ones replaced by the
identity. An inactive slot then has zero gradient, so GD never moves it, and members of
different depths share one compiled program (Arora et al. 2019 call ``W`` the end-to-end
matrix; depth 1 is optimizing ``W`` directly).

Losses (full batch), with ``scale`` = 1 (sum) or 1/(number of observations) (mean):

- completion: :math:`\\tfrac{s}{2}\\sum_{(i,j)\\in\\Omega}(W_{ij} - M_{ij})^2`;
- sensing: :math:`\\tfrac{s}{2}\\sum_k(\\langle A_k, W\\rangle - y_k)^2`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

TOP_SINGULAR = 8  # singular values logged at every logged step (the top min(d, 8))


def end_to_end(factors: jax.Array, active: jax.Array) -> jax.Array:
    """:math:`W_L\\cdots W_1` from ``factors (L_max, d, d)`` and ``active (L_max,)``."""
    eye = jnp.eye(factors.shape[-1], dtype=factors.dtype)
    W = jnp.where(active[0], factors[0], eye)
    for slot in range(1, factors.shape[0]):
        W = jnp.where(active[slot], factors[slot], eye) @ W
    return W


def completion_loss(factors: jax.Array, data: dict[str, jax.Array]) -> jax.Array:
    """Squared error on the observed entries (``data``: target, mask, active, scale)."""
    W = end_to_end(factors, data["active"])
    residual = data["mask"] * (W - data["target"])
    return 0.5 * data["scale"] * jnp.sum(residual**2)


def sensing_loss(factors: jax.Array, data: dict[str, jax.Array]) -> jax.Array:
    """Squared error of the Gaussian measurements (``data``: A, y, target, active, scale)."""
    W = end_to_end(factors, data["active"])
    residual = jnp.einsum("mij,ij->m", data["A"], W) - data["y"]
    return 0.5 * data["scale"] * jnp.sum(residual**2)


def effective_rank(sigma: jax.Array) -> jax.Array:
    """Roy & Vetterli 2007: :math:`\\exp(-\\sum_i p_i\\log p_i)`,
    :math:`p = \\sigma/\\sum\\sigma` (:math:`0\\log 0 = 0`)."""
    p = sigma / jnp.sum(sigma)
    positive = p > 0
    terms = jnp.where(positive, p * jnp.log(jnp.where(positive, p, 1.0)), 0.0)
    return jnp.exp(-jnp.sum(terms))


def _relative(x: jax.Array, ref: jax.Array) -> jax.Array:
    """``||x|| / ||ref||``; 0 when both vanish (e.g. no unobserved entries)."""
    tiny = jnp.finfo(x.dtype).tiny
    return jnp.linalg.norm(x) / jnp.maximum(jnp.linalg.norm(ref), tiny)


def recovery_metrics(factors: jax.Array, data: dict[str, jax.Array], aux: Any) -> dict:
    """Errors and spectrum of the end-to-end matrix, inside the compiled loop.

    Returns:
        ``relative_error`` :math:`\\lVert W - M\\rVert_F/\\lVert M\\rVert_F`;
        ``observed_error`` (relative residual of the observations); for masks
        ``unobserved_error`` (relative error on the entries not observed);
        ``nuclear_norm``; ``effective_rank``; ``sv1``... the top singular values.
    """
    W = end_to_end(factors, data["active"])
    M = data["target"]
    sigma = jnp.linalg.svd(W, compute_uv=False)
    out = {
        "relative_error": _relative(W - M, M),
        "nuclear_norm": jnp.sum(sigma),
        "effective_rank": effective_rank(sigma),
    }
    if "mask" in data:
        mask = data["mask"]
        out["observed_error"] = _relative(mask * (W - M), mask * M)
        out["unobserved_error"] = _relative((1 - mask) * (W - M), (1 - mask) * M)
    else:
        residual = jnp.einsum("mij,ij->m", data["A"], W) - data["y"]
        out["observed_error"] = _relative(residual, data["y"])
    for i in range(min(TOP_SINGULAR, sigma.shape[0])):
        out[f"sv{i + 1}"] = sigma[i]
    return out
