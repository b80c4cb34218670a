"""The in-training diagnostics of the edge-of-stability experiment, as engine probes.

Both run inside the engine's compiled program (:class:`~implicitbias.engine.Probe`):

* :func:`sharpness_probe`, at the steps ``t = 0, every, ..., steps``: the sharpness
  :math:`\\lambda_{\\max}(\\nabla^2 L(\\theta_t))` by Lanczos with full reorthogonalization
  (:func:`implicitbias.diagnostics.lanczos`), warm-started from the previous top
  eigenvector, which the probe state carries (and the checkpoints keep), and the residual
  :math:`\\lVert Hv - Sv\\rVert` of that estimate (one more Hessian-vector product,
  ``sharpness_residual``; :func:`ritz_residual`). With per-layer
  gradient multipliers ``S`` it also tracks :math:`\\lambda_{\\max}(S^{1/2} H S^{1/2})`, the
  sharpness that governs the stability of GD on the scaled gradient.
* :func:`seed_estimator_probe`, at ``t = 1, every + 1, ...``, i.e. right after the update
  of step ``t - 1`` (where seed 000's loop takes it): seed 000's estimator
  :math:`\\lVert S (g(\\theta + \\epsilon u) - g(\\theta - \\epsilon u)) / (2\\epsilon)\\rVert`
  (:math:`\\epsilon = 10^{-4}`, ``u`` a random unit vector, ``g`` the gradient) and the same
  quantity with the exact Hessian-vector product, :math:`\\lVert S H u\\rVert`.

Each member's Lanczos start keys are ``split(member_key, estimates + 1)``, the ``i``-th for
the ``i``-th estimate, ``i = step // every`` (the member keys are passed in ``aux``), so
that the numbers do not depend on which logged steps the engine folds into its own probe
key.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from implicitbias.diagnostics import hvp, lanczos
from implicitbias.engine import Probe
from implicitbias.problems.mlp import mse_loss

FD_STEP = 1e-4
"""Seed 000's central-difference step."""


def mse(params: Any, data: tuple[jax.Array, jax.Array], *, activation: str) -> jax.Array:
    """The square loss :math:`\\frac1{2n}\\sum_i\\lVert f(x_i) - y_i\\rVert^2` on
    ``data = (X, Y)``."""
    X, Y = data
    return mse_loss(params, X, Y, activation)


def _sharpness_init(params, aux, *, rows):
    flat = ravel_pytree(params)[0]
    return jnp.zeros((rows, flat.size), flat.dtype)


def _sharpness(
    params, data, aux, u, key, step, *, activation, iters, every, estimates, preconditioned
):
    del key  # the start keys come from the member's key, in order (module docstring)
    k = jax.random.split(aux["key"], estimates + 1)[step // every]

    def loss(p):
        return mse(p, data, activation=activation)

    res = lanczos(loss, params, k=1, num_iters=iters, key=k, v0=u[0])
    values = {
        "sharpness": res.eigenvalues[0],
        "sharpness_residual": ritz_residual(loss, params, res.eigenvalues[0], res.eigenvectors[0]),
    }
    if not preconditioned:
        return values, res.eigenvectors[:1]
    # Hessian of q -> L(S^{1/2} q) at q = S^{-1/2} theta: S^{1/2} H S^{1/2}.
    root = ravel_pytree(params)[1](aux["root"])
    q = jax.tree.map(jnp.divide, params, root)
    pre = lanczos(
        lambda q: loss(jax.tree.map(jnp.multiply, q, root)),
        q,
        k=1,
        num_iters=iters,
        key=jax.random.fold_in(k, 1),
        v0=u[1],
    )
    values["preconditioned_sharpness"] = pre.eigenvalues[0]
    return values, jnp.stack([res.eigenvectors[0], pre.eigenvectors[0]])


def ritz_residual(loss, params, value: jax.Array, vector: jax.Array) -> jax.Array:
    """:math:`\\lVert Hv - \\theta v\\rVert` of a Ritz pair ``(theta, v)`` (``v`` flat, unit),
    by one more Hessian-vector product.

    For a symmetric ``H`` some eigenvalue lies within this distance of ``theta`` (the
    Krylov-Bogoliubov bound; Parlett, *The Symmetric Eigenvalue Problem*). A residual that
    is large next to ``theta`` says the estimate has not converged; a small one says it is
    close to *an* eigenvalue (the top one when ``v`` has not missed the top eigenvector).
    """
    unravel = ravel_pytree(params)[1]
    hv = ravel_pytree(hvp(loss, params, unravel(vector)))[0]
    return jnp.linalg.norm(hv - value * vector)


def sharpness_probe(
    *, activation: str, iters: int, every: int, estimates: int, preconditioned: bool
) -> Probe:
    """Warm-started Lanczos sharpness at ``t = 0, every, ..., steps`` (``estimates + 1``
    calls); also that of :math:`S^{1/2} H S^{1/2}` when ``preconditioned``.

    ``aux`` holds ``key`` (the member's PRNG key) and ``root`` (the diagonal of
    :math:`S^{1/2}`, flat in ``ravel_pytree`` order).
    """
    fn = functools.partial(
        _sharpness,
        activation=activation,
        iters=iters,
        every=every,
        estimates=estimates,
        preconditioned=preconditioned,
    )
    init = functools.partial(_sharpness_init, rows=2 if preconditioned else 1)
    return Probe(fn=fn, init=init, every=every, offset=0)


def _seed_init(params, aux):
    del params, aux
    return ()


def _seed(params, data, aux, state, key, step, *, activation, every, estimates):
    del key
    # The i-th call is at step i * every + 1 (with every = 1 also at step 0, index -1).
    direction = aux["dirs"][jnp.clip((step - 1) // every, 0, estimates - 1)]
    scale = aux["scale_flat"]
    flat, unravel = ravel_pytree(params)

    def loss(p):
        return mse(p, data, activation=activation)

    g = jax.grad(loss)
    plus = ravel_pytree(g(unravel(flat + FD_STEP * direction)))[0]
    minus = ravel_pytree(g(unravel(flat - FD_STEP * direction)))[0]
    fd = jnp.linalg.norm(scale * (plus - minus)) / (2 * FD_STEP)
    exact = jnp.linalg.norm(scale * ravel_pytree(hvp(loss, params, unravel(direction)))[0])
    return {"seed_estimator": fd, "seed_estimator_exact": exact}, state


def seed_estimator_probe(*, activation: str, every: int, estimates: int) -> Probe:
    """Seed 000's estimator at ``t = 1, every + 1, ...`` with direction ``aux["dirs"][i]``
    for its ``i``-th call, the gradient multiplied by ``aux["scale_flat"]``.

    With ``every = 1`` the probe also runs at ``t = 0``; that call is not one of the
    seed's (its value is dropped by the caller).
    """
    fn = functools.partial(_seed, activation=activation, every=every, estimates=estimates)
    return Probe(fn=fn, init=_seed_init, every=every, offset=1 % every)
