"""Spectral descent: steepest descent in the spectral (operator) norm, by an exact SVD.

For a matrix gradient :math:`G = U \\Sigma V^\\top` (thin SVD, rank :math:`r`), the unit
spectral-norm direction of steepest ascent is the polar factor

.. math:: \\arg\\max_{\\lVert D\\rVert_{op} \\le 1} \\langle G, D\\rangle = U_r V_r^\\top,
          \\qquad \\langle G, U_r V_r^\\top\\rangle = \\lVert G\\rVert_*,

and the unnormalized steepest-descent step
:math:`\\arg\\min_D \\langle G, D\\rangle + \\tfrac12 \\lVert D\\rVert_{op}^2` is
:math:`-\\lVert G\\rVert_* U_r V_r^\\top` (the "sharp operator" :math:`G^\\#` of Carlson et al.
2015; the nuclear norm is the dual of the spectral norm). Muon approximates
:math:`U V^\\top` by Newton–Schulz iterations; here it is exact (``jnp.linalg.svd``).

**Leaves.** Every leaf is read as a matrix:

* a 2-D leaf as it is;
* a vector of shape ``(n,)`` as the ``1 x n`` matrix :math:`g^\\top`, whose SVD is
  :math:`1 \\cdot \\lVert g\\rVert_2 \\cdot (g/\\lVert g\\rVert_2)^\\top`: its direction is
  :math:`g/\\lVert g\\rVert_2` and its nuclear norm :math:`\\lVert g\\rVert_2`. (As ``n x 1``
  the answer would be the same.) So on vectors normalized spectral descent is normalized
  GD *per leaf*, and the unnormalized step is exactly GD;
* a scalar as a ``1 x 1`` matrix: direction :math:`\\operatorname{sign}(g)`;
* a tensor of shape ``(d0, d1, ..., dk)`` with :math:`k \\ge 2` as the
  ``d0 x (d1 ... dk)`` matrix (the convention Muon uses for convolution kernels), and
  the direction is reshaped back.

**Several leaves.** Each leaf gets its own polar factor. The normalized direction (every
leaf :math:`U_l V_l^\\top`) is the steepest direction for the norm
:math:`\\max_l \\lVert W_l\\rVert_{op}` (Bernstein & Newhouse's modular norm with equal
weights); the unnormalized one (leaf :math:`l` gets :math:`\\lVert G_l\\rVert_* U_l V_l^\\top`)
is the steepest-descent step for :math:`\\sqrt{\\sum_l \\lVert W_l\\rVert_{op}^2}`, whose
dual norm is :math:`\\sqrt{\\sum_l \\lVert G_l\\rVert_*^2}`.

**Rank deficiency.** Singular values at most ``max(m, n) * eps * sigma_max`` (NumPy's
``matrix_rank`` cut-off) are treated as zero and their singular vectors dropped, so the
direction is :math:`U_r V_r^\\top` (the minimum-Frobenius-norm maximizer) and a zero
gradient gives a zero update, never NaN.

References:
    D. Carlson, V. Cevher, L. Carin. "Stochastic Spectral Descent for Restricted Boltzmann
    Machines". AISTATS 2015 (and Carlson et al., "Preconditioned Spectral Descent for Deep
    Learning", NeurIPS 2015).
    J. Bernstein, L. Newhouse. "Old Optimizer, New Norm: An Anthology". arXiv:2409.20325,
    2024.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax


def as_matrix(leaf: jax.Array) -> jax.Array:
    """The matrix a leaf is read as (see the module docstring): ``()`` -> ``1 x 1``,
    ``(n,)`` -> ``1 x n``, ``(m, n)`` as is, ``(d0, ...)`` -> ``d0 x prod(rest)``."""
    if leaf.ndim <= 1:
        return jnp.reshape(leaf, (1, -1))
    return jnp.reshape(leaf, (leaf.shape[0], -1))


def polar_factor(matrix: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(U_r V_r^T, ||matrix||_*)`` of a 2-D array, from its thin SVD.

    Singular values ``<= max(m, n) * eps * sigma_max`` count as zero (their singular
    vectors are dropped); the zero matrix gives ``(0, 0)``.
    """
    u, s, vt = jnp.linalg.svd(matrix, full_matrices=False)
    cutoff = max(matrix.shape) * jnp.finfo(matrix.dtype).eps * s[0]
    keep = (s > cutoff).astype(matrix.dtype)
    return (u * keep) @ vt, jnp.sum(s)


def spectral_direction(grads: Any, normalized: bool = True) -> Any:
    """Leafwise spectral steepest direction (positive sign): ``U V^T`` if ``normalized``,
    else ``||G||_* U V^T``; every leaf is read as a matrix by :func:`as_matrix`."""

    def leaf_direction(g: jax.Array) -> jax.Array:
        direction, nuclear = polar_factor(as_matrix(g))
        if not normalized:
            direction = nuclear * direction
        return jnp.reshape(direction, g.shape).astype(g.dtype)

    return jax.tree.map(leaf_direction, grads)


def scale_by_spectral(normalized: bool = True) -> optax.GradientTransformation:
    """Replace each leaf ``G = U S V^T`` of the update by ``U V^T`` (``normalized``) or by
    ``||G||_* U V^T``: spectral descent (Carlson et al. 2015; Bernstein & Newhouse 2024).

    Stateless; chain it with :func:`optax.scale_by_learning_rate`. See the module
    docstring for leaves that are not 2-D and for rank-deficient gradients.
    """

    def init(params: Any) -> optax.EmptyState:
        del params
        return optax.EmptyState()

    def update(updates: Any, state: optax.EmptyState, params: Any = None):
        del params
        return spectral_direction(updates, normalized), state

    return optax.GradientTransformation(init, update)
