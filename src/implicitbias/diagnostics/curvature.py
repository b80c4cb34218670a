"""The Hessian toolkit: eigenpairs at both ends of the spectrum, per-block eigenvalues, the
trace, the spectral density, and the Gauss-Newton matrix -- each with a self-check.

Every routine works from curvature-vector products on any pytree of parameters, including
equinox models (the inexact-array leaves are the variables; every other leaf -- activation
functions, integer buffers -- is held fixed, as with ``eqx.partition(model,
eqx.is_inexact_array)``). None of them reports a bare iteration count as its accuracy:

* :func:`eigenpairs` returns, for each Ritz pair :math:`(\\theta, y)`, the residual
  :math:`\\lVert Hy - \\theta y\\rVert` computed by one further product per pair; some
  eigenvalue of :math:`H` lies within that distance of :math:`\\theta` (Parlett, *The
  Symmetric Eigenvalue Problem*). With ``tol`` the Lanczos iteration runs
  until the Lanczos residual estimates :math:`\\beta_j |s_{j,i}|` of the requested pairs are
  below ``tol`` times the largest Ritz value in magnitude.
* :func:`block_eigenpairs` does the same on each diagonal block :math:`H_{bb}`.
* :func:`trace` returns the estimate with its standard error, from the spread of its probes.
* :func:`spectral_density` (stochastic Lanczos quadrature) returns the Gauss nodes and
  weights of each probe, a smoothed density, and two bounds on the error of its distribution
  function: the quadrature part (the largest weight of each rule, averaged) and the sampling
  part (the standard deviation of the probe average).

Curvature: ``curvature="hessian"`` (default) uses :math:`\\nabla^2 L`; ``curvature="ggn"``
uses the generalized Gauss-Newton matrix :math:`G = J^\\top H_{\\mathrm{out}} J`, where ``J``
is the Jacobian of the model's output and :math:`H_{\\mathrm{out}}` the Hessian of the loss
with respect to that output (Schraudolph 2002; Martens 2020, "New insights and perspectives
on the natural gradient method"). For it, pass the loss as a pair ``(model_fn,
output_loss)``: ``model_fn(params) -> outputs`` and ``output_loss(outputs) -> scalar``
(the loss is their composition; a pair also works with ``curvature="hessian"``).

Vectors are flat, in the order of ``ravel_pytree`` of the array leaves (for a pytree of
arrays, the order of :func:`implicitbias.diagnostics.hessian.unflatten`);
:func:`unflatten_vector` turns one back into a pytree like ``params``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

from implicitbias.diagnostics.hessian import PROBE_CHUNK, hutchpp_parts, map_probes

Loss = Callable[[Any], jax.Array] | tuple[Callable[[Any], Any], Callable[[Any], jax.Array]]
CURVATURES = ("hessian", "ggn")


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------
class Eigenpairs(NamedTuple):
    """Ritz pairs at one end of the spectrum, with their self-check.

    Attributes:
        eigenvalues: ``(k,)``; descending for ``which="top"``, ascending for ``"bottom"``.
        eigenvectors: ``(k, P)`` flat unit vectors (row ``i`` belongs to ``eigenvalues[i]``).
        residuals: ``(k,)``, :math:`\\lVert H y_i - \\theta_i y_i\\rVert` computed with one
            product per pair: an eigenvalue of ``H`` lies within ``residuals[i]`` of
            ``eigenvalues[i]``.
        num_iters: Lanczos steps taken (an int; a traced int inside ``jit``).
        num_hvp: curvature-vector products spent: ``num_iters + k``.
        converged: whether every Lanczos residual estimate met ``tol`` (``True`` when no
            ``tol`` was given and the Krylov space is complete; otherwise ``None`` without
            ``tol``).
    """

    eigenvalues: jax.Array
    eigenvectors: jax.Array
    residuals: jax.Array
    num_iters: Any
    num_hvp: Any
    converged: Any


class TraceResult(NamedTuple):
    """A trace estimate with its standard error.

    Attributes:
        estimate: the estimate of :math:`\\operatorname{tr} H`.
        std_error: the standard error from the probes' sample standard deviation
            (Hutchinson: of :math:`z_i^\\top H z_i` over ``m``; Hutch++: of the residual
            terms over ``s``, the sketched part being exact); NaN with a single probe.
        num_hvp: products spent.
    """

    estimate: Any
    std_error: Any
    num_hvp: int


class SpectralDensity(NamedTuple):
    """Stochastic Lanczos quadrature: one Gauss rule per probe, and a smoothed density.

    Attributes:
        nodes: ``(num_probes, m)`` Ritz values of each probe's tridiagonal matrix.
        weights: ``(num_probes, m)`` squared first components of its eigenvectors; each row
            sums to 1. ``sum_j weights[l, j] * nodes[l, j] ** q`` equals
            :math:`v_l^\\top H^q v_l` exactly for ``q < 2 m`` (``v_l`` the unit probe).
        grid: ``(num_points,)`` points where the density is evaluated.
        density: ``(num_points,)`` :math:`\\frac1{n_v}\\sum_{l,j} w_{lj}\\,
            \\mathcal N(t; \\theta_{lj}, \\sigma^2)`, integrating to 1.
        sigma: the Gaussian kernel's width.
        quadrature_bound: :math:`\\frac1{n_v}\\sum_l \\max_j w_{lj}`, a bound on the
            Kolmogorov distance between the probes' averaged Gauss-rule distribution
            function and the average of the probes' exact spectral distribution functions
            (Chebyshev-Markov-Stieltjes inequalities: between consecutive nodes the exact
            function is within one adjacent weight of the rule's).
        sampling_std: :math:`\\sqrt{1/(2 n_v (P+2))}`, the largest standard deviation at any
            point of the average over Gaussian probes of the probes' spectral distribution
            functions (each is Beta-distributed there with variance
            :math:`2F(1-F)/(P+2)`) around the eigenvalue distribution function.
        num_hvp: products spent, ``num_probes * m``.
    """

    nodes: jax.Array
    weights: jax.Array
    grid: jax.Array
    density: jax.Array
    sigma: float
    quadrature_bound: float
    sampling_std: float
    num_hvp: int

    def cdf(self, t: Any) -> np.ndarray:
        """The averaged Gauss-rule distribution function at the points ``t``."""
        nodes = np.asarray(self.nodes).ravel()
        w = np.asarray(self.weights).ravel() / self.nodes.shape[0]
        t = np.asarray(t, np.float64)
        return (w[None, :] * (nodes[None, :] <= t.reshape(-1, 1))).sum(1).reshape(t.shape)


# ---------------------------------------------------------------------------------------
# operators
# ---------------------------------------------------------------------------------------
def _split_loss(loss_fn: Loss) -> tuple[Callable[[Any], jax.Array], Any]:
    """``(loss, pair)``: the scalar loss, and ``(model_fn, output_loss)`` or ``None``."""
    if isinstance(loss_fn, tuple):
        if len(loss_fn) != 2 or not all(callable(f) for f in loss_fn):
            raise TypeError(
                "`loss_fn`: expected a callable or a pair (model_fn, output_loss), "
                f"got a tuple of length {len(loss_fn)}."
            )
        model_fn, output_loss = loss_fn
        return (lambda p: output_loss(model_fn(p))), loss_fn
    if not callable(loss_fn):
        raise TypeError(f"`loss_fn`: expected a callable, got {type(loss_fn).__name__}.")
    return loss_fn, None


def partition(params: Any) -> tuple[jax.Array, Callable[[jax.Array], Any]]:
    """``(flat, rebuild)``: the inexact-array leaves of ``params`` as one flat vector, and
    the map from such a vector back to a full ``params`` (other leaves held fixed)."""
    arrays, static = eqx.partition(params, eqx.is_inexact_array)
    if not jax.tree.leaves(arrays):
        raise TypeError(
            "`params`: expected a pytree with floating-point array leaves, found none "
            f"(got {type(params).__name__})."
        )
    flat, unravel = ravel_pytree(arrays)
    return flat, (lambda x: eqx.combine(unravel(x), static))


def unflatten_vector(params: Any, vector: jax.Array) -> Any:
    """A flat vector (``(P,)``) as a pytree like ``params`` (non-array leaves copied)."""
    return partition(params)[1](vector)


def curvature_matvec(
    loss_fn: Loss, params: Any, *, curvature: str = "hessian"
) -> tuple[Callable[[jax.Array], jax.Array], jax.Array]:
    """``(matvec, flat)``: ``matvec(v) = C v`` on flat vectors, ``C`` the Hessian or the GGN
    at ``params``, and ``flat`` the parameters as a flat vector.

    Hessian: forward over reverse (``jax.linearize`` of the gradient; Pearlmutter 1994).
    GGN: ``J v`` by a forward-mode product of the model's output, ``H_out (J v)`` by a
    Hessian-vector product of ``output_loss``, and ``J^T`` of that by transposing the
    linearized model (Schraudolph 2002): about one forward and two backward passes.
    """
    if curvature not in CURVATURES:
        raise ValueError(f"`curvature`: expected one of {CURVATURES}, got {curvature!r}.")
    loss, pair = _split_loss(loss_fn)
    flat, rebuild = partition(params)
    out = jax.eval_shape(lambda x: loss(rebuild(x)), flat)
    if not (isinstance(out, jax.ShapeDtypeStruct) and out.shape == ()):
        shape = getattr(out, "shape", type(out).__name__)
        raise ValueError(f"`loss_fn`: expected a scalar loss, got shape {shape}.")
    if curvature == "hessian":

        def grad_flat(x):
            return jax.grad(lambda y: loss(rebuild(y)))(x)

        _, lin = jax.linearize(grad_flat, flat)
        return lin, flat
    if pair is None:
        raise ValueError(
            "`loss_fn`: curvature='ggn' needs the loss as a pair (model_fn, output_loss)."
        )
    model_fn, output_loss = pair
    z, jvp_fn = jax.linearize(lambda x: model_fn(rebuild(x)), flat)
    vjp_fn = jax.linear_transpose(jvp_fn, flat)

    def out_hvp(u):
        return jax.jvp(jax.grad(output_loss), (z,), (u,))[1]

    return (lambda v: vjp_fn(out_hvp(jvp_fn(v)))[0]), flat


def ggn_vp(model_fn: Callable, output_loss: Callable, params: Any, v: Any) -> Any:
    """:math:`J^\\top H_{\\mathrm{out}} J v` for a pytree ``v`` like ``params``'s arrays; a
    pytree like ``params``."""
    matvec, flat = curvature_matvec((model_fn, output_loss), params, curvature="ggn")
    arrays = eqx.filter(v, eqx.is_inexact_array)
    return unflatten_vector(params, matvec(ravel_pytree(arrays)[0].astype(flat.dtype)))


def dense_curvature(loss_fn: Loss, params: Any, *, curvature: str = "hessian") -> np.ndarray:
    """The dense ``(P, P)`` Hessian (``jax.hessian``) or GGN (explicit ``J^T H_out J`` from
    ``jax.jacfwd`` and ``jax.hessian``), for tests and small references only."""
    loss, pair = _split_loss(loss_fn)
    flat, rebuild = partition(params)
    if curvature == "hessian":
        return np.asarray(jax.jit(jax.hessian(lambda x: loss(rebuild(x))))(flat))
    if curvature != "ggn" or pair is None:
        raise ValueError("`curvature`: 'ggn' needs the loss as a pair (model_fn, output_loss).")
    model_fn, output_loss = pair
    z = model_fn(rebuild(flat))
    z_flat, unravel_z = ravel_pytree(z)
    J = np.asarray(jax.jacfwd(lambda x: ravel_pytree(model_fn(rebuild(x)))[0])(flat))
    H_out = np.asarray(jax.hessian(lambda u: output_loss(unravel_z(u)))(z_flat))
    return J.T @ H_out @ J


# ---------------------------------------------------------------------------------------
# Lanczos with a stopping rule
# ---------------------------------------------------------------------------------------
def _check_count(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or int(value) < low:
        raise ValueError(f"`{name}`: expected an integer >= {low}, got {value!r}.")
    return int(value)


def _padded_ritz(alpha, beta, n, k, which):
    """Ritz values/vectors of the leading ``n x n`` block of the tridiagonal matrix held in
    ``alpha``/``beta`` (length ``M``), with ``n`` traced.

    Rows ``>= n`` are decoupled and given a diagonal above any Ritz value, so that ``eigh``
    of the padded ``M x M`` matrix lists the ``n`` Ritz values first (ascending). Returns
    ``(theta (k,), S (M, k), estimates (k,), size)``: the estimates are the Lanczos
    residual norms ``|beta_{n-1} s_{n-1,i}|``, ``size`` the largest ``|Ritz value|``.
    """
    M = alpha.shape[0]
    idx = jnp.arange(M)
    live = idx < n
    a = jnp.where(live, alpha, 0.0)
    b = jnp.where(idx < n - 1, beta, 0.0)
    pad = 1.0 + 2.0 * (jnp.max(jnp.abs(a)) + 2.0 * jnp.max(jnp.abs(b)))
    T = jnp.diag(jnp.where(live, a, pad)) + jnp.diag(b[:-1], 1) + jnp.diag(b[:-1], -1)
    theta, S = jnp.linalg.eigh(T)
    pick = n - 1 - jnp.arange(k) if which == "top" else jnp.arange(k)
    S_k = S[:, pick]
    est = jnp.abs(beta[n - 1] * S_k[n - 1])
    size = jnp.maximum(jnp.abs(theta[0]), jnp.abs(theta[n - 1]))
    return theta[pick], S_k, est, size


def _lanczos_tol(matvec, v, key, m: int, k: int, which: str, tol: float):
    """Lanczos with full reorthogonalization from the unit vector ``v``: at most ``m``
    steps, stopping (when ``tol >= 0``) once the ``k`` requested Ritz pairs have residual
    estimates ``<= tol * max|theta|``. Returns ``(theta (k,), Y (k, P), steps, done)``.

    On breakdown (an invariant subspace) the next basis vector is a fresh random vector
    orthogonal to the basis and the coupling is zero, which keeps ``T = V^T H V`` exact.
    """
    p = v.shape[0]
    dtype = v.dtype
    eps = jnp.finfo(dtype).eps

    def orth(w, V):
        w = w - V.T @ (V @ w)
        return w - V.T @ (V @ w)

    def cond(c):
        j, done = c[0], c[-1]
        return (j < m) & ~done

    def body(c):
        j, V, alpha, beta, v, v_prev, b_prev, scale, _ = c
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
            norm = jnp.linalg.norm(fresh)
            return fresh / jnp.where(norm > 0, norm, 1.0)

        nxt = lax.cond(broke, restart, lambda _: w / jnp.where(broke, 1.0, b), None)
        b = jnp.where(broke, 0.0, b)
        alpha, beta = alpha.at[j].set(a), beta.at[j].set(b)
        if tol >= 0:
            _, _, est, size = _padded_ritz(alpha, beta, j + 1, k, which)
            done = (j + 1 >= k) & jnp.all(est <= tol * size)
        else:
            done = jnp.asarray(False)
        return j + 1, V, alpha, beta, nxt, v, b, scale, done

    zero = jnp.zeros((), dtype)
    init = (
        jnp.asarray(0),
        jnp.zeros((m, p), dtype),
        jnp.zeros(m, dtype),
        jnp.zeros(m, dtype),
        v,
        jnp.zeros_like(v),
        zero,
        zero,
        jnp.asarray(False),
    )
    n, V, alpha, beta, *_, done = lax.while_loop(cond, body, init)
    theta, S_k, _, _ = _padded_ritz(alpha, beta, n, k, which)
    Y = S_k.T @ V
    Y = Y / jnp.linalg.norm(Y, axis=1, keepdims=True)
    return theta, Y, n, done


def _eigen_flat(matvec, flat, key, m, k, which, tol, chunk):
    """Lanczos on a flat operator plus the explicit residual of each Ritz pair."""
    k_start, k_restart = jax.random.split(key)
    v = jax.random.normal(k_start, flat.shape, flat.dtype)
    v = v / jnp.linalg.norm(v)
    theta, Y, n, done = _lanczos_tol(matvec, v, k_restart, m, k, which, tol)
    HY = map_probes(matvec, Y, chunk)
    res = jnp.linalg.norm(HY - theta[:, None] * Y, axis=1)
    return theta, Y, res, n, done


def _is_traced(*trees):
    return any(isinstance(x, jax.core.Tracer) for t in trees for x in jax.tree.leaves(t))


@functools.lru_cache(maxsize=64)
def _jitted(fn: Callable, loss_fn: Hashable, *static: Hashable) -> Callable:
    """``eqx.filter_jit`` of ``fn(loss_fn, params, key, *args, *static)``, cached per loss
    (by identity) and static arguments; non-array leaves of ``params`` are static."""
    return eqx.filter_jit(lambda params, key, *args: fn(loss_fn, params, key, *args, *static))


def _call(fn, loss_fn, params, key, *args, static):
    """``fn`` inlined when traced (inside a caller's ``jit``), else compiled and cached."""
    if _is_traced(params, key, args):
        return fn(loss_fn, params, key, *args, *static), True
    return _jitted(fn, loss_fn, *static)(params, key, *args), False


def _check_tol(tol):
    if tol is None:
        return -1.0
    if isinstance(tol, bool) or not float(tol) >= 0:
        raise ValueError(f"`tol`: expected a number >= 0 or None, got {tol!r}.")
    return float(tol)


def _num_steps(num_iters, tol, k, p):
    """The (maximum) number of Lanczos steps, capped at ``P``; checks ``k``."""
    if num_iters is None:
        limit = 10 * (k + 10) if tol is not None else max(2 * k + 18, 20)
    else:
        limit = _check_count("num_iters", num_iters)
    m = min(limit, p)
    if not 1 <= k <= m:
        raise ValueError(
            f"`k`: expected an integer in [1, {m}] (at most the number of steps, itself "
            f"capped at the dimension P = {p}), got {k!r}."
        )
    return m


def _pack(theta, Y, res, n, done, k, tol, m, traced):
    if traced:
        return Eigenpairs(theta, Y, res, n, n + k, done if tol >= 0 else None)
    n = int(n)
    if tol >= 0:
        converged = bool(done)
    else:
        converged = True if m == Y.shape[1] else None
    return Eigenpairs(theta, Y, res, n, n + k, converged)


def _eigen_impl(loss_fn, params, key, m, k, which, tol, chunk, curvature):
    matvec, flat = curvature_matvec(loss_fn, params, curvature=curvature)
    return _eigen_flat(matvec, flat, key, m, k, which, tol, chunk)


def eigenpairs(
    loss_fn: Loss,
    params: Any,
    *,
    k: int = 1,
    which: str = "top",
    key: jax.Array,
    tol: float | None = None,
    num_iters: int | None = None,
    curvature: str = "hessian",
    chunk_size: int = PROBE_CHUNK,
) -> Eigenpairs:
    """The ``k`` largest (``which="top"``) or smallest algebraic (``"bottom"``: the most
    negative) eigenpairs of the Hessian (or GGN) by Lanczos with full reorthogonalization,
    each with its residual :math:`\\lVert Hy - \\theta y\\rVert`.

    Args:
        loss_fn: ``loss(params) -> scalar``, or a pair ``(model_fn, output_loss)``.
        params: a pytree (arrays, an equinox model).
        k: how many eigenpairs.
        which: ``"top"`` (descending) or ``"bottom"`` (ascending).
        key: PRNG key of the start vector.
        tol: stop once the Lanczos residual estimates of the ``k`` pairs are at most ``tol``
            times the largest Ritz value in magnitude, after at most ``num_iters`` steps
            (default ``10 (k + 10)``). ``None``: exactly ``num_iters`` steps (default
            ``max(2k + 18, 20)``). Both are capped at ``P``, where the Krylov space is
            complete and the pairs exact.
        num_iters: the (maximum) number of Lanczos steps, capped at ``P``.
        curvature: ``"hessian"`` or ``"ggn"``.
        chunk_size: the ``k`` residual products are mapped in chunks of this many vectors.

    Returns:
        :class:`Eigenpairs`; ``num_hvp = num_iters + k`` (the ``k`` residual checks).

    Cost: one product per Lanczos step plus ``k``; memory ``num_iters x P`` for the basis.
    """
    if which not in ("top", "bottom"):
        raise ValueError(f"`which`: expected 'top' or 'bottom', got {which!r}.")
    if curvature not in CURVATURES:
        raise ValueError(f"`curvature`: expected one of {CURVATURES}, got {curvature!r}.")
    k = _check_count("k", k)
    p = int(partition(params)[0].size)
    tol_f = _check_tol(tol)
    m = _num_steps(num_iters, tol, k, p)
    static = (m, k, which, tol_f, _check_count("chunk_size", chunk_size), curvature)
    (theta, Y, res, n, done), traced = _call(_eigen_impl, loss_fn, params, key, static=static)
    return _pack(theta, Y, res, n, done, k, tol_f, m, traced)


def top_eigenpairs(loss_fn: Loss, params: Any, *, k: int = 1, **kwargs) -> Eigenpairs:
    """:func:`eigenpairs` with ``which="top"``: the ``k`` largest, descending."""
    return eigenpairs(loss_fn, params, k=k, which="top", **kwargs)


def bottom_eigenpairs(loss_fn: Loss, params: Any, *, k: int = 1, **kwargs) -> Eigenpairs:
    """:func:`eigenpairs` with ``which="bottom"``: the ``k`` smallest algebraic (the most
    negative), ascending."""
    return eigenpairs(loss_fn, params, k=k, which="bottom", **kwargs)


# ---------------------------------------------------------------------------------------
# blocks
# ---------------------------------------------------------------------------------------
def block_indices(params: Any, blocks: Any = "leaves") -> dict[str, np.ndarray]:
    """The flat indices of each block of parameters, by label, in order of first leaf.

    ``blocks``: ``"leaves"`` (one block per array leaf, labelled by its key path, e.g.
    ``"[0][0]"`` or ``".layers[1].weight"``), ``"children"`` (one per child of the root:
    a layer of a list of ``(W, b)``, a key of a dict, a field of a module), or a callable
    ``label(path: str) -> str`` of the leaf's key path.
    """
    arrays, _ = eqx.partition(params, eqx.is_inexact_array)
    leaves = jax.tree_util.tree_leaves_with_path(arrays)
    if not leaves:
        raise TypeError("`params`: expected a pytree with floating-point array leaves.")
    out: dict[str, list] = {}
    start = 0
    for path, leaf in leaves:
        text = jax.tree_util.keystr(path)
        if blocks == "leaves":
            label = text
        elif blocks == "children":
            label = jax.tree_util.keystr(path[:1])
        elif callable(blocks):
            label = str(blocks(text))
        else:
            raise ValueError(
                f"`blocks`: expected 'leaves', 'children' or a callable, got {blocks!r}."
            )
        size = int(np.size(leaf))
        out.setdefault(label, []).append(np.arange(start, start + size))
        start += size
    return {label: np.concatenate(parts) for label, parts in out.items()}


def _block_impl(loss_fn, params, key, idx, m, k, which, tol, chunk, curvature):
    matvec, flat = curvature_matvec(loss_fn, params, curvature=curvature)

    def block_matvec(u):  # H_bb u: embed, multiply, restrict
        return matvec(jnp.zeros_like(flat).at[idx].set(u))[idx]

    return _eigen_flat(block_matvec, flat[idx], key, m, k, which, tol, chunk)


def block_eigenpairs(
    loss_fn: Loss,
    params: Any,
    *,
    blocks: Any = "leaves",
    k: int = 1,
    which: str = "top",
    key: jax.Array,
    tol: float | None = None,
    num_iters: int | None = None,
    curvature: str = "hessian",
    chunk_size: int = PROBE_CHUNK,
) -> dict[str, Eigenpairs]:
    """:func:`eigenpairs` of each diagonal block :math:`H_{bb}` (the curvature restricted
    to one layer's parameters, the others held fixed), by label (:func:`block_indices`).

    Each block's ``k`` is capped at its size; its eigenvectors are flat over the block's
    own parameters (``block_indices(params, blocks)[label]`` places them in the full flat
    vector). Cost: per block, its Lanczos steps plus ``k`` products of the full model
    (``H_bb u`` is ``H`` applied to ``u`` padded with zeros, restricted to the block).
    """
    if which not in ("top", "bottom"):
        raise ValueError(f"`which`: expected 'top' or 'bottom', got {which!r}.")
    k = _check_count("k", k)
    tol_f = _check_tol(tol)
    chunk = _check_count("chunk_size", chunk_size)
    out = {}
    for i, (label, idx) in enumerate(block_indices(params, blocks).items()):
        size = int(idx.size)
        kb = min(k, size)
        m = _num_steps(num_iters, tol, kb, size)
        static = (m, kb, which, tol_f, chunk, curvature)
        block_key = jax.random.fold_in(key, i)
        res, traced = _call(
            _block_impl, loss_fn, params, block_key, jnp.asarray(idx), static=static
        )
        out[label] = _pack(*res, kb, tol_f, m, traced)
    return out


# ---------------------------------------------------------------------------------------
# trace
# ---------------------------------------------------------------------------------------
def _trace_impl(loss_fn, params, key, method, count, chunk, curvature):
    matvec, flat = curvature_matvec(loss_fn, params, curvature=curvature)
    p = flat.size
    if method == "hutchinson":
        Z = jax.random.rademacher(key, (count, p), dtype=flat.dtype)
        terms = jnp.sum(Z * map_probes(matvec, Z, chunk), axis=1)
        exact = jnp.zeros((), flat.dtype)
    else:
        exact, terms = hutchpp_parts(matvec, p, flat.dtype, key, count, chunk)
    n = terms.shape[0]
    se = jnp.std(terms, ddof=1) / jnp.sqrt(n) if n > 1 else jnp.asarray(jnp.nan, flat.dtype)
    return exact + jnp.mean(terms), se


def trace(
    loss_fn: Loss,
    params: Any,
    *,
    num_matvecs: int,
    key: jax.Array,
    method: str = "hutch++",
    curvature: str = "hessian",
    chunk_size: int = PROBE_CHUNK,
) -> TraceResult:
    """:math:`\\operatorname{tr} H` (or of the GGN) by Hutch++ (Meyer, Musco, Musco &
    Woodruff 2021, Algorithm 1) or Hutchinson (1989), with its standard error.

    ``method="hutch++"``: ``s = num_matvecs // 3`` sketch, basis and residual probes
    (``3 s`` products); ``"hutchinson"``: ``num_matvecs`` Rademacher probes. The probes
    are mapped in chunks of ``chunk_size`` (:data:`PROBE_CHUNK`) with ``lax.map``, never
    one ``vmap`` over all of them. The estimate equals
    :func:`implicitbias.diagnostics.hutchpp_trace` / ``hutchinson_trace`` for the same key.
    """
    if method not in ("hutch++", "hutchinson"):
        raise ValueError(f"`method`: expected 'hutch++' or 'hutchinson', got {method!r}.")
    if curvature not in CURVATURES:
        raise ValueError(f"`curvature`: expected one of {CURVATURES}, got {curvature!r}.")
    m = _check_count("num_matvecs", num_matvecs, 3 if method == "hutch++" else 1)
    count = m // 3 if method == "hutch++" else m
    static = (method, count, _check_count("chunk_size", chunk_size), curvature)
    (est, se), traced = _call(_trace_impl, loss_fn, params, key, static=static)
    used = 3 * count if method == "hutch++" else count
    if traced:
        return TraceResult(est, se, used)
    return TraceResult(float(est), float(se), used)


# ---------------------------------------------------------------------------------------
# spectral density
# ---------------------------------------------------------------------------------------
def _slq_impl(loss_fn, params, key, m, num_probes, chunk, curvature):
    matvec, flat = curvature_matvec(loss_fn, params, curvature=curvature)
    k_probe, k_restart = jax.random.split(key)
    V0 = jax.random.normal(k_probe, (num_probes, flat.size), flat.dtype)
    V0 = V0 / jnp.linalg.norm(V0, axis=1, keepdims=True)
    keys = jax.random.split(k_restart, num_probes)

    def one(args):
        v, kk = args
        return slq_rule(matvec, v, kk, m)

    return lax.map(one, (V0, keys), batch_size=None if chunk == 1 else min(chunk, num_probes))


def slq_rule(matvec: Callable, v: jax.Array, key: jax.Array, m: int):
    """The ``m``-point Gauss rule of the spectral measure of ``matvec`` at the unit vector
    ``v``: ``(nodes (m,), weights (m,))`` from ``m`` Lanczos steps (Golub & Meurant 1994).

    ``nodes`` are the eigenvalues of the tridiagonal ``T_m``, ``weights`` the squared first
    components of its eigenvectors. After a breakdown (the Krylov space is invariant) the
    further nodes carry zero weight and the rule is exact for every polynomial.
    """
    # The same Lanczos loop as eigenpairs, all m steps; the tridiagonal is what is needed.
    p = v.shape[0]
    dtype = v.dtype
    eps = jnp.finfo(dtype).eps

    def orth(w, V):
        w = w - V.T @ (V @ w)
        return w - V.T @ (V @ w)

    def body(j, c):
        V, alpha, beta, v, v_prev, b_prev, scale = c
        V = V.at[j].set(v)
        w = matvec(v)
        a = jnp.vdot(v, w)
        w = orth(w - a * v - b_prev * v_prev, V)
        b = jnp.linalg.norm(w)
        scale = jnp.maximum(scale, jnp.abs(a) + b)
        broke = b <= 1e3 * eps * scale

        def restart(_):
            fresh = orth(jax.random.normal(jax.random.fold_in(key, j), (p,), dtype), V)
            norm = jnp.linalg.norm(fresh)
            return fresh / jnp.where(norm > 0, norm, 1.0)

        nxt = lax.cond(broke, restart, lambda _: w / jnp.where(broke, 1.0, b), None)
        b = jnp.where(broke, 0.0, b)
        return V, alpha.at[j].set(a), beta.at[j].set(b), nxt, v, b, scale

    zero = jnp.zeros((), dtype)
    init = (
        jnp.zeros((m, p), dtype),
        jnp.zeros(m, dtype),
        jnp.zeros(m, dtype),
        v,
        jnp.zeros_like(v),
        zero,
        zero,
    )
    _, alpha, beta, *_ = lax.fori_loop(0, m, body, init)
    T = jnp.diag(alpha) + jnp.diag(beta[:-1], 1) + jnp.diag(beta[:-1], -1)
    theta, S = jnp.linalg.eigh(T)
    return theta, S[0] ** 2


def spectral_density(
    loss_fn: Loss,
    params: Any,
    *,
    key: jax.Array,
    num_probes: int = 10,
    num_iters: int = 30,
    num_points: int = 512,
    sigma: float | None = None,
    grid: Any = None,
    curvature: str = "hessian",
    chunk_size: int = PROBE_CHUNK,
) -> SpectralDensity:
    """The spectral density of the Hessian (or GGN) by stochastic Lanczos quadrature
    (Lin, Saad & Yang 2016; Ghorbani, Krishnan & Xiao 2019).

    For each of ``num_probes`` Gaussian unit probes ``v``, ``num_iters`` Lanczos steps give
    a Gauss rule (nodes, weights) of the measure :math:`\\sum_i (q_i^\\top v)^2
    \\delta_{\\lambda_i}`, whose mean over ``v`` is the eigenvalue distribution
    :math:`\\frac1P\\sum_i \\delta_{\\lambda_i}`. The density is the probes' average of the
    rules smoothed by a Gaussian of width ``sigma`` (default: 1/100 of the span of the
    nodes, or 1e-3 of the largest node in magnitude if the span is 0), on ``grid``
    (default: ``num_points`` points over the nodes' span widened by ``5 sigma``).

    The probes are mapped in chunks of ``chunk_size`` with ``lax.map``. Cost:
    ``num_probes * num_iters`` products; memory ``chunk_size * num_iters * P``.
    """
    if curvature not in CURVATURES:
        raise ValueError(f"`curvature`: expected one of {CURVATURES}, got {curvature!r}.")
    n_v = _check_count("num_probes", num_probes)
    p = int(partition(params)[0].size)
    m = min(_check_count("num_iters", num_iters), p)
    npts = _check_count("num_points", num_points, 2)
    static = (m, n_v, _check_count("chunk_size", chunk_size), curvature)
    (nodes, weights), traced = _call(_slq_impl, loss_fn, params, key, static=static)
    if traced:
        raise TypeError("spectral_density: call it outside jit (the grid is built on the host).")
    nodes64, w64 = np.asarray(nodes, np.float64), np.asarray(weights, np.float64)
    lo, hi = float(nodes64.min()), float(nodes64.max())
    if sigma is None:
        sigma = (hi - lo) / 100.0 if hi > lo else 1e-3 * max(abs(hi), 1.0)
    sigma = float(sigma)
    if not sigma > 0:
        raise ValueError(f"`sigma`: expected a number > 0, got {sigma!r}.")
    t = np.linspace(lo - 5 * sigma, hi + 5 * sigma, npts) if grid is None else np.asarray(grid)
    z = (t[:, None] - nodes64.ravel()[None, :]) / sigma
    dens = (w64.ravel()[None, :] * np.exp(-0.5 * z**2)).sum(1) / (n_v * sigma * np.sqrt(2 * np.pi))
    return SpectralDensity(
        nodes=nodes,
        weights=weights,
        grid=jnp.asarray(t),
        density=jnp.asarray(dens),
        sigma=sigma,
        quadrature_bound=float(np.mean(w64.max(axis=1))),
        sampling_std=float(np.sqrt(1.0 / (2.0 * n_v * (p + 2)))),
        num_hvp=n_v * m,
    )
