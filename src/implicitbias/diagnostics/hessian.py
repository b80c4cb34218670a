"""Curvature of a loss through Hessian-vector products: sharpness, top-k spectrum, trace.

Nothing here forms the Hessian. Every routine only needs products :math:`Hv`, computed as the
forward-mode derivative of the gradient (``jax.jvp`` of ``jax.grad``; Pearlmutter 1994), which
costs about two gradient evaluations and works on any pytree of parameters.

* :func:`lanczos` -- the top-``k`` eigenvalues (largest algebraic) and eigenvectors by the
  Lanczos iteration with full reorthogonalization (Golub & Van Loan, *Matrix Computations*,
  sec. 10.1; as used for neural-network spectra by Ghorbani et al. 2019 and Yao et al. 2020,
  PyHessian). The loop is a ``lax.fori_loop``: called outside ``jit`` the whole routine is
  compiled once per (loss, shapes, ``k``, ``num_iters``); called inside a traced function
  (a compiled training loop) it is inlined there.
* :func:`power_iteration` -- the classical baseline. It converges to the eigenvalue of
  largest *magnitude* (equal to the top one when the Hessian is not dominated by a negative
  eigenvalue) at the rate :math:`|\\lambda_2/\\lambda_1|^t`; Lanczos needs roughly the square
  root of that many products (Kuczynski & Wozniakowski 1992).
* :func:`hutchinson_trace` (Hutchinson 1989) and :func:`hutchpp_trace` (Meyer, Musco, Musco
  & Woodruff 2021, Hutch++), unbiased estimates of :math:`\\operatorname{tr} H`.

Conventions: ``loss_fn(params) -> scalar`` (close over the data; for a fixed data subset,
close over :func:`fixed_subset`'s output). Vectors in the results are *flat*: a flat vector
lists the leaves of ``params`` in the order of ``jax.flatten_util.ravel_pytree(params)``;
:func:`unflatten` turns one back into a pytree like ``params``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

LossFn = Callable[[Any], jax.Array]


class LanczosResult(NamedTuple):
    """Top eigenpairs of the Hessian.

    Attributes:
        eigenvalues: ``(k,)``, the ``k`` largest algebraic Ritz values, descending.
        eigenvectors: ``(k, P)`` flat unit vectors (row ``i`` belongs to ``eigenvalues[i]``),
            in ``ravel_pytree(params)`` order; :func:`unflatten` gives pytrees.
        num_hvp: Hessian-vector products spent (an int; a traced int array for
            :func:`power_iteration` with ``tol`` inside ``jit``).
    """

    eigenvalues: jax.Array
    eigenvectors: jax.Array
    num_hvp: Any


# ---------------------------------------------------------------------------------------
# products
# ---------------------------------------------------------------------------------------
def hvp(loss_fn: LossFn, params: Any, v: Any) -> Any:
    """The Hessian-vector product :math:`\\nabla^2 L(\\theta)\\,v`, a pytree like ``params``.

    Forward-over-reverse: ``jax.jvp(jax.grad(loss_fn), (params,), (v,))``; ``v`` is a pytree
    with the structure of ``params``.
    """
    return jax.jvp(jax.grad(loss_fn), (params,), (v,))[1]


def flat_hvp(loss_fn: LossFn, params: Any) -> tuple[Callable[[jax.Array], jax.Array], int]:
    """``(matvec, P)``: ``matvec(v_flat) = H v_flat`` on flat vectors of length ``P``.

    The gradient's linearization is built once (``jax.linearize``), so repeated products
    reuse the forward pass.
    """
    flat, unravel = ravel_pytree(params)

    def grad_flat(x):
        return ravel_pytree(jax.grad(loss_fn)(unravel(x)))[0]

    _, lin = jax.linearize(grad_flat, flat)
    return lin, int(flat.size)


def unflatten(params: Any, vector: jax.Array) -> Any:
    """A flat vector (``(P,)``, ``ravel_pytree`` order) as a pytree like ``params``."""
    return ravel_pytree(params)[1](vector)


def fixed_subset(data: Any, size: int, *, key: jax.Array) -> Any:
    """The same ``size`` random examples (without replacement) of every leaf of ``data``.

    For sharpness on a fixed subset of a large training set: draw it once, close the loss
    over it.
    """
    n = int(jax.tree.leaves(data)[0].shape[0])
    if not 1 <= size <= n:
        raise ValueError(f"`size`: expected an integer in [1, {n}], got {size!r}.")
    idx = jax.random.choice(key, n, (size,), replace=False)
    return jax.tree.map(lambda a: jnp.asarray(a)[idx], data)


def _is_traced(*trees: Any) -> bool:
    return any(isinstance(x, jax.core.Tracer) for t in trees for x in jax.tree.leaves(t))


def _start_vector(v0: Any, key: jax.Array, flat: jax.Array) -> jax.Array:
    """A unit start vector: ``v0`` (flat ``(P,)``, ``(k, P)`` rows summed, or a pytree) or
    a Gaussian draw from ``key``."""
    if v0 is None:
        v = jax.random.normal(key, flat.shape, flat.dtype)
    else:
        leaves = jax.tree.leaves(v0)
        if len(leaves) == 1 and jnp.ndim(leaves[0]) == 2 and leaves[0].shape[1] == flat.size:
            v = jnp.sum(jnp.asarray(leaves[0], flat.dtype), axis=0)
        elif len(leaves) == 1 and jnp.shape(leaves[0]) == flat.shape:
            v = jnp.asarray(leaves[0], flat.dtype)
        else:
            v = ravel_pytree(v0)[0].astype(flat.dtype)
        # A zero warm start (e.g. before the first estimate) falls back to a random one.
        norm = jnp.linalg.norm(v)
        v = jnp.where(norm > 0, v, jax.random.normal(key, flat.shape, flat.dtype))
    return v / jnp.linalg.norm(v)


# ---------------------------------------------------------------------------------------
# Lanczos
# ---------------------------------------------------------------------------------------
def _lanczos_flat(matvec, v, key, m: int, k: int):
    """``m`` Lanczos steps from the unit vector ``v``; the ``k`` top Ritz pairs.

    Full reorthogonalization (two Gram-Schmidt passes against every stored basis vector)
    keeps the basis orthonormal to rounding, so no spurious copies of converged
    eigenvalues appear. On breakdown (an invariant subspace, ``beta ~ 0``) the next basis
    vector is a fresh random one orthogonal to the basis and the coupling is set to zero,
    which keeps :math:`T = V^\\top H V` exact.
    """
    p = v.shape[0]
    dtype = v.dtype
    eps = jnp.finfo(dtype).eps

    def orth(w, V):
        w = w - V.T @ (V @ w)
        return w - V.T @ (V @ w)

    def body(j, carry):
        V, alpha, beta, v, v_prev, b_prev, scale = carry
        V = V.at[j].set(v)
        w = matvec(v)
        a = jnp.vdot(v, w)
        w = w - a * v - b_prev * v_prev
        w = orth(w, V)
        b = jnp.linalg.norm(w)
        scale = jnp.maximum(scale, jnp.abs(a) + b)
        broke = b <= 1e3 * eps * scale

        def restart(_):
            fresh = orth(jax.random.normal(jax.random.fold_in(key, j), (p,), dtype), V)
            return fresh / jnp.linalg.norm(fresh)

        nxt = lax.cond(broke, restart, lambda _: w / jnp.where(broke, 1.0, b), None)
        b = jnp.where(broke, 0.0, b)
        return V, alpha.at[j].set(a), beta.at[j].set(b), nxt, v, b, scale

    init = (
        jnp.zeros((m, p), dtype),
        jnp.zeros(m, dtype),
        jnp.zeros(m, dtype),
        v,
        jnp.zeros_like(v),
        jnp.zeros((), dtype),
        jnp.zeros((), dtype),
    )
    V, alpha, beta, *_ = lax.fori_loop(0, m, body, init)
    T = jnp.diag(alpha) + jnp.diag(beta[:-1], 1) + jnp.diag(beta[:-1], -1)
    theta, S = jnp.linalg.eigh(T)  # ascending
    top = theta[::-1][:k]
    vecs = (S[:, ::-1][:, :k]).T @ V
    return top, vecs, (alpha, beta)


def lanczos(
    loss_fn: LossFn,
    params: Any,
    *,
    k: int = 1,
    num_iters: int = 20,
    key: jax.Array,
    v0: Any = None,
) -> LanczosResult:
    """Top-``k`` Hessian eigenpairs (largest algebraic) by Lanczos with full
    reorthogonalization.

    Args:
        loss_fn: ``loss_fn(params) -> scalar``.
        params: a pytree; the Hessian is that of ``loss_fn`` at ``params``.
        k: how many eigenpairs (``1 <= k <= num_iters``).
        num_iters: Lanczos steps = Hessian-vector products (clipped to the number of
            parameters ``P``, where the Krylov space is complete and the result exact).
        key: PRNG key for the random start vector (and restarts after a breakdown).
        v0: warm start: a flat ``(P,)`` vector, a ``(k, P)`` block (its rows are summed) or
            a pytree like ``params`` -- e.g. the previous top eigenvector while tracking
            sharpness during training. A zero ``v0`` means a random start.

    Returns:
        A :class:`LanczosResult` (``eigenvectors`` flat, ``(k, P)``).
    """
    flat, _ = ravel_pytree(params)
    p = int(flat.size)
    m = min(int(num_iters), p)
    if not 1 <= k <= m:
        raise ValueError(f"`k`: expected an integer in [1, min(num_iters, P) = {m}], got {k!r}.")
    if _is_traced(params, v0, key):
        vals, vecs, _ = _lanczos_traced(loss_fn, params, key, v0, m, k)
    else:
        vals, vecs, _ = _compiled(_lanczos_traced, loss_fn, m, k)(params, key, v0)
    return LanczosResult(vals, vecs, m)


def ritz_history(
    loss_fn: LossFn, params: Any, *, num_iters: int, key: jax.Array, v0: Any = None
) -> np.ndarray:
    """The top Ritz value after each of ``num_iters`` Lanczos steps, ``(num_iters,)``.

    Entry ``j`` is what :func:`lanczos` with ``num_iters = j + 1`` (same ``key``) returns:
    the largest eigenvalue of the leading ``(j+1) x (j+1)`` block of the tridiagonal
    matrix. For convergence studies (how many products reach a given accuracy).
    """
    m = min(int(num_iters), int(ravel_pytree(params)[0].size))
    _, _, (alpha, beta) = _compiled(_lanczos_traced, loss_fn, m, 1)(params, key, v0)
    alpha, beta = np.asarray(alpha, np.float64), np.asarray(beta, np.float64)
    out = np.empty(m)
    for j in range(m):
        T = np.diag(alpha[: j + 1]) + np.diag(beta[:j], 1) + np.diag(beta[:j], -1)
        out[j] = np.linalg.eigvalsh(T)[-1]
    return out


def _lanczos_traced(loss_fn, params, key, v0, m, k):
    flat, _ = ravel_pytree(params)
    k_start, k_restart = jax.random.split(key)
    matvec, _ = flat_hvp(loss_fn, params)
    return _lanczos_flat(matvec, _start_vector(v0, k_start, flat), k_restart, m, k)


@functools.lru_cache(maxsize=64)
def _compiled(fn, loss_fn, *static):
    """``jax.jit`` of ``fn(loss_fn, params, key, v0, *static)``, cached per loss function
    (by identity) and static arguments; jit's own cache handles shapes and dtypes."""
    return jax.jit(lambda params, key, v0: fn(loss_fn, params, key, v0, *static))


# ---------------------------------------------------------------------------------------
# power iteration
# ---------------------------------------------------------------------------------------
def power_iteration(
    loss_fn: LossFn,
    params: Any,
    *,
    num_iters: int,
    key: jax.Array,
    v0: Any = None,
    tol: float | None = None,
) -> LanczosResult:
    """Dominant Hessian eigenpair by power iteration (the baseline for :func:`lanczos`).

    :math:`v \\leftarrow Hv/\\lVert Hv\\rVert`; the estimate is the Rayleigh quotient
    :math:`v^\\top H v`. It converges to the eigenvalue of largest magnitude.

    Args:
        num_iters: maximum number of Hessian-vector products.
        tol: stop once two successive estimates differ by at most ``tol`` times the
            latest (``None``: always ``num_iters`` products).

    Returns:
        A :class:`LanczosResult` with ``k = 1``; ``num_hvp`` counts the products used.
    """
    if int(num_iters) < 1:
        raise ValueError(f"`num_iters`: expected an integer >= 1, got {num_iters!r}.")
    tol_arr = -1.0 if tol is None else float(tol)
    if _is_traced(params, v0, key):
        val, vec, used = _power_traced(loss_fn, params, key, v0, int(num_iters), tol_arr)
    else:
        val, vec, used = _compiled(_power_traced, loss_fn, int(num_iters), tol_arr)(params, key, v0)
        used = int(used)
    return LanczosResult(val[None], vec[None], used)


def _power_traced(loss_fn, params, key, v0, num_iters, tol):
    flat, _ = ravel_pytree(params)
    matvec, _ = flat_hvp(loss_fn, params)
    v = _start_vector(v0, key, flat)
    dtype = flat.dtype

    def cond(c):
        i, _, lam, prev = c
        converged = jnp.abs(lam - prev) <= tol * jnp.abs(lam)
        return (i < num_iters) & ~((i >= 2) & converged)

    def body(c):
        i, v, lam, _ = c
        w = matvec(v)
        new = jnp.vdot(v, w)
        return i + 1, w / jnp.linalg.norm(w), new, lam

    nan = jnp.asarray(jnp.nan, dtype)
    i, v, lam, _ = lax.while_loop(cond, body, (jnp.asarray(0), v, nan, nan))
    return lam, v, i


# ---------------------------------------------------------------------------------------
# trace
# ---------------------------------------------------------------------------------------
PROBE_CHUNK = 1
"""Default number of trace probes pushed through one vmapped Hessian-vector product.

The probes are mapped with ``lax.map(..., batch_size=chunk_size)``: a sequential loop over
chunks of ``chunk_size`` probes, vmapped inside a chunk. One ``vmap`` over all ``m`` probes
materialises intermediates of size (probes x examples x width) at once; a loop over single
probes keeps one product's intermediates live and measured faster on the benchmark MLP. A
larger chunk can pay on small models, where a single product leaves the cores idle."""


def map_probes(
    matvec: Callable[[jax.Array], jax.Array], rows: jax.Array, chunk_size: int
) -> jax.Array:
    """``matvec`` applied to each row of ``rows`` (``(m, P)`` -> ``(m, P)``), in sequential
    chunks of ``chunk_size`` vmapped rows (:data:`PROBE_CHUNK`)."""
    chunk = int(chunk_size)
    if chunk < 1:
        raise ValueError(f"`chunk_size`: expected an integer >= 1, got {chunk_size!r}.")
    if chunk == 1:
        return lax.map(matvec, rows)
    return lax.map(matvec, rows, batch_size=min(chunk, int(rows.shape[0])))


def _rademacher(key, shape, dtype):
    return jax.random.rademacher(key, shape, dtype=dtype)


def hutchinson_trace(
    loss_fn: LossFn,
    params: Any,
    *,
    num_samples: int,
    key: jax.Array,
    chunk_size: int = PROBE_CHUNK,
) -> jax.Array | float:
    """Hutchinson's estimate :math:`\\frac1m\\sum_i z_i^\\top H z_i`, :math:`z_i` Rademacher.

    Unbiased; its variance is :math:`\\frac2m(\\lVert H\\rVert_F^2 - \\sum_i H_{ii}^2)`
    (Hutchinson 1989). ``num_samples`` Hessian-vector products, mapped in chunks of
    ``chunk_size`` probes (:data:`PROBE_CHUNK`); the probes, hence the estimate, do not
    depend on ``chunk_size``.
    """
    if int(num_samples) < 1:
        raise ValueError(f"`num_samples`: expected an integer >= 1, got {num_samples!r}.")
    static = (int(num_samples), int(chunk_size))
    if _is_traced(params, key):
        return _hutchinson_traced(loss_fn, params, key, None, *static)
    return float(_compiled(_hutchinson_traced, loss_fn, *static)(params, key, None))


def _hutchinson_traced(loss_fn, params, key, _unused, m, chunk=PROBE_CHUNK):
    flat, _ = ravel_pytree(params)
    matvec, _ = flat_hvp(loss_fn, params)
    Z = _rademacher(key, (m, flat.size), flat.dtype)
    return jnp.mean(jnp.sum(Z * map_probes(matvec, Z, chunk), axis=1))


def hutchpp_trace(
    loss_fn: LossFn,
    params: Any,
    *,
    num_matvecs: int,
    key: jax.Array,
    chunk_size: int = PROBE_CHUNK,
) -> jax.Array | float:
    """Hutch++ (Meyer et al. 2021, Algorithm 1): exact trace on a sketched top subspace plus
    Hutchinson on the rest.

    With ``s = num_matvecs // 3``: ``Q = orth(H S)`` for Rademacher ``S`` (``P x s``), then
    :math:`\\operatorname{tr}(Q^\\top H Q) + \\frac1s\\operatorname{tr}(G^\\top (I-QQ^\\top)
    H (I-QQ^\\top) G)` for Rademacher ``G`` (``P x s``). Unbiased; for a PSD ``H`` its
    relative error is :math:`O(1/m)` rather than Hutchinson's :math:`O(1/\\sqrt m)`. Uses
    ``3 s`` Hessian-vector products (``num_matvecs >= 3``), mapped in chunks of
    ``chunk_size`` probes (:data:`PROBE_CHUNK`).
    """
    s = int(num_matvecs) // 3
    if s < 1:
        raise ValueError(f"`num_matvecs`: expected an integer >= 3, got {num_matvecs!r}.")
    if _is_traced(params, key):
        return _hutchpp_traced(loss_fn, params, key, None, s, int(chunk_size))
    return float(_compiled(_hutchpp_traced, loss_fn, s, int(chunk_size))(params, key, None))


def hutchpp_parts(matvec, p: int, dtype, key: jax.Array, s: int, chunk: int):
    """Hutch++ on a flat operator: ``(exact part tr(Q^T H Q), per-probe residual terms
    g_i^T H g_i (s,))``; the estimate is ``exact + mean(terms)``."""
    mv = functools.partial(map_probes, matvec, chunk_size=chunk)  # rows in, rows out
    k1, k2 = jax.random.split(key)
    S = _rademacher(k1, (s, p), dtype)
    Q, _ = jnp.linalg.qr(mv(S).T)  # (P, s), orthonormal columns
    G = _rademacher(k2, (s, p), dtype)
    G = G - (G @ Q) @ Q.T  # rows projected off span(Q)
    return jnp.sum(Q.T * mv(Q.T)), jnp.sum(G * mv(G), axis=1)


def _hutchpp_traced(loss_fn, params, key, _unused, s, chunk=PROBE_CHUNK):
    flat, _ = ravel_pytree(params)
    matvec, p = flat_hvp(loss_fn, params)
    exact, terms = hutchpp_parts(matvec, p, flat.dtype, key, s, chunk)
    return exact + jnp.sum(terms) / s


# ---------------------------------------------------------------------------------------
# sharpness
# ---------------------------------------------------------------------------------------
def sharpness(
    loss_fn: LossFn,
    params: Any,
    *,
    key: jax.Array | None = None,
    num_iters: int = 20,
    v0: Any = None,
) -> jax.Array | float:
    """The top Hessian eigenvalue :math:`\\lambda_{\\max}(\\nabla^2 L)` by :func:`lanczos`.

    A Python float outside ``jit``, a traced scalar inside. ``key`` defaults to
    ``PRNGKey(0)``.
    """
    key = jax.random.PRNGKey(0) if key is None else key
    top = lanczos(loss_fn, params, k=1, num_iters=num_iters, key=key, v0=v0).eigenvalues[0]
    return top if _is_traced(params, v0, key, top) else float(top)


def hvp_norm_estimate(loss_fn: LossFn, params: Any, *, key: jax.Array) -> jax.Array:
    """:math:`\\lVert H u\\rVert` for one random unit vector ``u`` -- the estimator of seed 000
    section 5 (there by central differences of the gradient).

    It is *not* the top eigenvalue: for ``u`` uniform on the sphere,
    :math:`E\\lVert Hu\\rVert^2 = \\lVert H\\rVert_F^2/P`, an average over the spectrum.
    Kept to report what that estimator measures next to :func:`lanczos`.
    """
    flat, unravel = ravel_pytree(params)
    u = jax.random.normal(key, flat.shape, flat.dtype)
    u = u / jnp.linalg.norm(u)
    return jnp.linalg.norm(ravel_pytree(hvp(loss_fn, params, unravel(u)))[0])


def exact_hessian(loss_fn: LossFn, params: Any) -> np.ndarray:
    """The dense ``(P, P)`` Hessian in ``ravel_pytree`` order (``jax.hessian``), for tests and
    small references only."""
    flat, unravel = ravel_pytree(params)
    return np.asarray(jax.jit(jax.hessian(lambda x: loss_fn(unravel(x))))(flat))
