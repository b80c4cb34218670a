"""Mirror descent with the p-norm potential ("p-norm GD").

With the potential :math:`\\psi(w) = \\frac1p \\lVert w\\rVert_p^p` (:math:`p > 1`), the
mirror map and its inverse act coordinatewise,

.. math::

    \\nabla\\psi(w) = \\operatorname{sign}(w)\\,|w|^{p-1},\\qquad
    (\\nabla\\psi)^{-1}(z) = \\nabla\\psi^*(z) = \\operatorname{sign}(z)\\,|z|^{1/(p-1)},

and one step of mirror descent is

.. math::

    z_{t+1} = \\nabla\\psi(w_t) - \\eta_t g_t,\\qquad w_{t+1} = (\\nabla\\psi)^{-1}(z_{t+1}).

The step is as cheap as a GD step (Sun, Ahn, Thrampoulidis & Azizan 2022 call it *p-norm
GD*). For ``p = 2`` both maps are the identity and it is GD. The iterates always satisfy
:math:`\\nabla\\psi(w_t) - \\nabla\\psi(w_0) \\in \\operatorname{span}\\{g_0, \\dots,
g_{t-1}\\}`; on least squares :math:`\\frac1{2n}\\lVert Xw - y\\rVert^2` that span lies in the
row space of :math:`X`, so a limit that interpolates is the interpolator closest to
:math:`w_0` in the Bregman divergence :math:`D_\\psi` (from :math:`w_0 = 0`: the
min-:math:`\\ell_p`-norm interpolator). Reference solver:
:func:`implicitbias.theory.bregman.closest_bregman_interpolator`.

Numerics: the maps use ``|x| ** e`` in the parameters' dtype. For ``p`` close to 1 the
inverse map's exponent ``1/(p-1)`` is large and it overflows quickly; for ``p > 2`` its
slope is unbounded near ``z = 0`` (small coordinates take large primal steps).

References:
    H. Sun, K. Ahn, C. Thrampoulidis, N. Azizan. "Mirror Descent Maximizes Generalized
    Margin and Can Be Implemented Efficiently". NeurIPS 2022.
    S. Gunasekar, J. Lee, D. Soudry, N. Srebro. "Characterizing Implicit Bias in Terms of
    Optimization Geometry". ICML 2018, section 2.1 (mirror descent on under-determined
    least squares).
    N. Azizan, B. Hassibi. "Stochastic Gradient/Mirror Descent: Minimax Optimality and
    Implicit Regularization". ICLR 2019.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

Map = Callable[[jax.Array], jax.Array]


def pnorm_mirror_map(w: jax.Array, p: float | jax.Array) -> jax.Array:
    """:math:`\\nabla\\psi(w) = \\operatorname{sign}(w)|w|^{p-1}` for
    :math:`\\psi = \\frac1p\\lVert w\\rVert_p^p`."""
    return jnp.sign(w) * jnp.abs(w) ** (p - 1)


def pnorm_inverse_map(z: jax.Array, p: float | jax.Array) -> jax.Array:
    """:math:`(\\nabla\\psi)^{-1}(z) = \\operatorname{sign}(z)|z|^{1/(p-1)}`."""
    return jnp.sign(z) * jnp.abs(z) ** (1 / (p - 1))


def mirror_step(forward: Map, inverse: Map) -> optax.GradientTransformation:
    """Read the incoming update as a step in the dual (mirror) space and return the
    primal update.

    Given the update ``u`` (typically ``-eta g`` from :func:`optax.scale_by_learning_rate`)
    and the parameters ``w``, returns ``inverse(forward(w) + u) - w``, so that
    ``optax.apply_updates`` lands on ``w_next = inverse(forward(w) + u)``. ``forward``
    and ``inverse`` act leafwise (coordinatewise for the p-norm potential).

    Stateless; ``update`` needs ``params``.
    """

    def init(params: Any) -> optax.EmptyState:
        del params
        return optax.EmptyState()

    def update(updates: Any, state: optax.EmptyState, params: Any = None):
        if params is None:
            raise ValueError(
                "mirror descent needs the parameters: call update(grads, state, params)"
            )

        def leaf(u: jax.Array, w: jax.Array) -> jax.Array:
            return (inverse(forward(w) + u) - w).astype(w.dtype)

        return jax.tree.map(leaf, updates, params), state

    return optax.GradientTransformation(init, update)


def pnorm_mirror_step(p: float | jax.Array) -> optax.GradientTransformation:
    """:func:`mirror_step` for the potential :math:`\\frac1p\\lVert w\\rVert_p^p`
    (``p > 1``, possibly a traced scalar)."""
    return mirror_step(
        lambda w: pnorm_mirror_map(w, p),
        lambda z: pnorm_inverse_map(z, p),
    )
