"""Update directions given by the geometry of a norm (steepest descent and relatives).

Every transform here is stateless and returns a *positive* direction: the caller chains
it with :func:`optax.scale_by_learning_rate`, which multiplies by ``-learning_rate``.

All norms treat the whole gradient pytree as ONE flat vector ``g`` (the concatenation of
its leaves in :func:`jax.tree.leaves` order), so ``||g||`` is a global norm across leaves.

Reference:
    S. Gunasekar, J. Lee, D. Soudry, N. Srebro. "Characterizing Implicit Bias in Terms of
    Optimization Geometry". ICML 2018.
"""

from __future__ import annotations

from typing import Any, Literal

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from implicitbias.errors import ConfigError

Norm = Literal["l1", "l2", "linf"]
NORMS: tuple[str, ...] = ("l1", "l2", "linf")


# --------------------------------------------------------------------------- global norms


def global_l2(tree: Any) -> jax.Array:
    """Euclidean norm ``sqrt(sum_i g_i^2)`` of the flattened pytree."""
    return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree)))


def global_l1(tree: Any) -> jax.Array:
    """``sum_i |g_i|`` over the flattened pytree."""
    return sum(jnp.sum(jnp.abs(x)) for x in jax.tree.leaves(tree))


def global_linf(tree: Any) -> jax.Array:
    """``max_i |g_i|`` over the flattened pytree."""
    return jnp.max(jnp.stack([jnp.max(jnp.abs(x)) for x in jax.tree.leaves(tree)]))


def dual_norm(tree: Any, norm: Norm) -> jax.Array:
    """The dual norm ``||g||_*`` of ``norm``: l1 <-> linf, l2 <-> l2."""
    _check_norm(norm)
    return {"l1": global_linf, "l2": global_l2, "linf": global_l1}[norm](tree)


def _safe(denominator: jax.Array) -> jax.Array:
    """``denominator``, or 1 where it is 0, so that ``0 / 0`` becomes ``0 / 1 = 0``."""
    return jnp.where(denominator > 0, denominator, jnp.ones_like(denominator))


def _check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ConfigError("norm", "one of 'l1', 'l2', 'linf'", norm, choices=NORMS)


# --------------------------------------------------------------------------- directions


def sign_direction(grads: Any) -> Any:
    """``sign(g)`` leafwise, with ``sign(0) = 0``."""
    return jax.tree.map(jnp.sign, grads)


def normalized_direction(grads: Any, eps: float | jax.Array = 0.0) -> Any:
    """``g / (||g||_2 + eps)``; zero when ``g = 0`` (never NaN)."""
    scale = 1.0 / _safe(global_l2(grads) + eps)
    return jax.tree.map(lambda g: (g * scale).astype(g.dtype), grads)


def greedy_coordinate(grads: Any) -> Any:
    """``sign(g_i) e_i`` at the first index ``i`` maximizing ``|g_i|`` in the flat vector.

    Ties are broken by the first maximal index of the flattened pytree (``jnp.argmax``);
    the result is zero when ``g = 0``.
    """
    flat, unravel = ravel_pytree(grads)
    i = jnp.argmax(jnp.abs(flat))
    onehot = jnp.arange(flat.shape[0]) == i
    return unravel(jnp.where(onehot, jnp.sign(flat), jnp.zeros_like(flat)))


def steepest_direction(grads: Any, norm: Norm, normalized: bool = False) -> Any:
    """Steepest-descent direction of ``grads`` with respect to ``norm`` (positive sign).

    The unit-norm steepest direction is ``u = argmax_{||v|| <= 1} <g, v>``:

    * ``l2``:   ``u = g / ||g||_2``;
    * ``linf``: ``u = sign(g)``;
    * ``l1``:   ``u = sign(g_i) e_i`` with ``i = argmax_j |g_j|`` (greedy coordinate).

    The unnormalized step of Gunasekar et al. (2018, eq. 4) is
    ``argmin_v <g, v> + ½ ||v||^2 = -||g||_* u``; this function returns ``||g||_* u``
    (``g`` for l2, ``||g||_1 sign(g)`` for linf, ``||g||_inf sign(g_i) e_i`` for l1), which
    satisfies ``<g, Δ> = ||g||_*^2`` and ``||Δ|| = ||g||_*``.

    Args:
        grads: gradient pytree.
        norm: ``"l1"``, ``"l2"`` or ``"linf"``.
        normalized: return ``u`` instead of ``||g||_* u``.

    Returns:
        A pytree shaped like ``grads``; zero when ``g = 0``.
    """
    _check_norm(norm)
    if norm == "l2":
        return normalized_direction(grads) if normalized else grads
    unit = sign_direction(grads) if norm == "linf" else greedy_coordinate(grads)
    if normalized:
        return unit
    scale = dual_norm(grads, norm)
    return jax.tree.map(lambda u: (u * scale).astype(u.dtype), unit)


# --------------------------------------------------------------------------- transforms


def _stateless(direction) -> optax.GradientTransformation:
    """Wrap ``direction(updates) -> updates`` as a stateless transformation."""

    def init(params: Any) -> optax.EmptyState:
        del params
        return optax.EmptyState()

    def update(updates: Any, state: optax.EmptyState, params: Any = None):
        del params
        return direction(updates), state

    return optax.GradientTransformation(init, update)


def scale_by_sign() -> optax.GradientTransformation:
    """Replace the update ``g`` by ``sign(g)`` (the l∞ steepest direction; sign descent).

    Returns:
        A stateless ``GradientTransformation``; ``sign(0) = 0``.
    """
    return _stateless(sign_direction)


def scale_by_global_norm(eps: float | jax.Array = 0.0) -> optax.GradientTransformation:
    """Replace ``g`` by ``g / (||g||_2 + eps)`` with a global l2 norm across leaves.

    This is the direction of normalized gradient descent (Nacson et al., "Convergence of
    Gradient Descent on Separable Data", AISTATS 2019). A zero gradient gives a zero update.

    Args:
        eps: added to the norm; may be a traced scalar.

    Returns:
        A stateless ``GradientTransformation``.
    """
    return _stateless(lambda g: normalized_direction(g, eps))


def scale_by_steepest(norm: Norm, normalized: bool = False) -> optax.GradientTransformation:
    """Replace ``g`` by its steepest-descent direction for ``norm``.

    See :func:`steepest_direction` for the formulas (Gunasekar et al., ICML 2018):
    ``normalized=False`` gives ``Δ = ||g||_* u`` with ``<g, Δ> = ||g||_*^2``;
    ``normalized=True`` gives the unit-norm direction ``u``.

    Args:
        norm: ``"l1"`` (greedy coordinate descent), ``"l2"`` (gradient descent) or
            ``"linf"`` (sign descent scaled by ``||g||_1``).
        normalized: use the unit-norm direction.

    Returns:
        A stateless ``GradientTransformation``.

    Raises:
        ConfigError: ``norm`` is not one of ``"l1"``, ``"l2"``, ``"linf"``.
    """
    _check_norm(norm)
    return _stateless(lambda g: steepest_direction(g, norm, normalized))
