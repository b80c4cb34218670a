"""The public Hessian toolkit (``implicitbias.hessian``) against independent references:
dense ``jax.hessian`` + ``numpy.linalg.eigh`` on tiny models (float64), explicit Jacobians
for the Gauss-Newton matrix, and tolerances derived from each estimator's known variance
or from the bound it reports."""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.flatten_util import ravel_pytree

from implicitbias import hessian as hs
from implicitbias.problems.mlp import init_mlp, mlp_apply, mse_loss

KEY = jax.random.PRNGKey(3)


def _matrix(eigs, seed=0) -> np.ndarray:
    """A symmetric matrix with the given spectrum in a random orthonormal basis."""
    q, _ = np.linalg.qr(np.random.RandomState(seed).randn(len(eigs), len(eigs)))
    return (q * np.asarray(eigs, dtype=np.float64)) @ q.T


def _tiny_mlp(sizes=(4, 6, 3), n=12, seed=0):
    kp, kx, ky = jax.random.split(jax.random.PRNGKey(seed), 3)
    params = init_mlp(kp, sizes, activation="tanh", dtype=jnp.float64)
    x = jax.random.normal(kx, (n, sizes[0]), jnp.float64)
    y = jax.random.normal(ky, (n, sizes[-1]), jnp.float64)
    return params, x, y


PARAMS, X, Y = _tiny_mlp()


def LOSS(p):  # one module-level loss: its programs compile once per test session
    return mse_loss(p, X, Y, "tanh")


H_MLP = hs.exact_hessian(LOSS, PARAMS)
EIG_MLP = np.linalg.eigvalsh(H_MLP)  # ascending
P_MLP = H_MLP.shape[0]


def _nearest_gap(theta, eigs):
    return np.min(np.abs(np.asarray(theta)[:, None] - eigs[None, :]), axis=1)


# ------------------------------------------------------------------ eigenpairs


@functools.partial(jax.jit, static_argnames=("m", "k", "which"))
def _pairs(A, key, *, m, k, which):
    """eigenpairs on 0.5 x^T A x with A an argument: one program per shape (traced path)."""
    res = hs.eigenpairs(
        lambda x: 0.5 * x @ A @ x, jnp.zeros(A.shape[0]), k=k, which=which, key=key, num_iters=m
    )
    return res.eigenvalues, res.eigenvectors, res.residuals


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.floats(-20, 20, allow_nan=False), min_size=16, max_size=16, unique=True),
    st.integers(0, 2**16),
    st.sampled_from(["top", "bottom"]),
)
def test_ritz_values_are_within_their_residual_of_an_eigenvalue(eigs, seed, which):
    """Random symmetric quadratics, 6 of 16 possible steps: every Ritz value lies within
    its reported residual of an eigenvalue, the residual is ||A y - theta y|| recomputed
    here, and Cauchy interlacing puts the Ritz values inside the spectrum's ends."""
    eigs = np.sort(np.asarray(eigs))
    A = _matrix(eigs, seed)
    theta, Y, res = (
        np.asarray(a) for a in _pairs(A, jax.random.PRNGKey(seed), m=6, k=2, which=which)
    )
    scale = max(1.0, np.abs(eigs).max())
    explicit = np.linalg.norm(Y @ A - theta[:, None] * Y, axis=1)
    np.testing.assert_allclose(res, explicit, atol=1e-10 * scale)
    np.testing.assert_allclose(np.linalg.norm(Y, axis=1), 1.0, atol=1e-10)
    assert np.all(_nearest_gap(theta, eigs) <= res + 1e-10 * scale)
    if which == "top":
        assert np.all(theta <= eigs[::-1][:2] + 1e-10 * scale) and theta[0] >= theta[1]
    else:
        assert np.all(theta >= eigs[:2] - 1e-10 * scale) and theta[0] <= theta[1]


def test_tolerance_stops_early_and_is_met():
    """A gapped spectrum (P = 200): tol = 1e-9 stops long before the 60 allowed steps, reports
    convergence, and the explicit residuals meet the tolerance."""
    rs = np.random.RandomState(1)
    eigs = np.concatenate([rs.uniform(-1, 1, 190), np.linspace(30, 20, 5), -np.linspace(25, 15, 5)])
    A = jnp.asarray(_matrix(eigs, 2))

    def loss(p):
        return 0.5 * p["x"] @ A @ p["x"]

    params = {"x": jnp.zeros(200)}
    for which, ref in (("top", np.sort(eigs)[::-1][:3]), ("bottom", np.sort(eigs)[:3])):
        res = hs.eigenpairs(loss, params, k=3, which=which, key=KEY, tol=1e-9, num_iters=60)
        assert res.converged is True
        assert 3 < res.num_iters < 60 and res.num_hvp == res.num_iters + 3
        assert np.all(np.asarray(res.residuals) <= 1e-8 * 30)
        np.testing.assert_allclose(res.eigenvalues, ref, rtol=1e-12)
    # Without enough steps the tolerance is not met, and it says so.
    short = hs.eigenpairs(loss, params, k=3, key=KEY, tol=1e-12, num_iters=8)
    assert short.converged is False and short.num_iters == 8


def test_both_ends_on_a_tiny_mlp_against_dense_eigh():
    """The tanh MLP's Hessian is indefinite: top-3 and bottom-3 (negative) eigenvalues."""
    assert EIG_MLP[0] < 0 < EIG_MLP[-1]
    top = hs.top_eigenpairs(LOSS, PARAMS, k=3, key=KEY, tol=1e-10, num_iters=P_MLP)
    bot = hs.bottom_eigenpairs(LOSS, PARAMS, k=3, key=KEY, tol=1e-10, num_iters=P_MLP)
    scale = np.abs(EIG_MLP).max()
    np.testing.assert_allclose(top.eigenvalues, EIG_MLP[::-1][:3], atol=1e-8 * scale)
    np.testing.assert_allclose(bot.eigenvalues, EIG_MLP[:3], atol=1e-8 * scale)
    for r in (top, bot):
        assert r.converged and np.all(np.asarray(r.residuals) <= 1e-8 * scale)
        V = np.asarray(r.eigenvectors)
        explicit = np.linalg.norm(V @ H_MLP - np.asarray(r.eigenvalues)[:, None] * V, axis=1)
        np.testing.assert_allclose(r.residuals, explicit, atol=1e-10 * scale)
    # A fixed number of steps: the residuals still bound the error.
    few = hs.eigenpairs(LOSS, PARAMS, k=2, which="bottom", key=KEY, num_iters=10)
    assert few.num_iters == 10 and few.num_hvp == 12 and few.converged is None
    assert np.all(_nearest_gap(few.eigenvalues, EIG_MLP) <= np.asarray(few.residuals) + 1e-12)


def _eqx_model():
    km, kx, ky = jax.random.split(jax.random.PRNGKey(5), 3)
    model = eqx.nn.MLP(3, 2, 5, 1, activation=jnp.tanh, dtype=jnp.float64, key=km)
    x = jax.random.normal(kx, (10, 3), jnp.float64)
    y = jax.random.normal(ky, (10, 2), jnp.float64)
    return model, x, y


EQX_MODEL, EQX_X, EQX_Y = _eqx_model()


def EQX_LOSS(model):
    return jnp.mean((jax.vmap(model)(EQX_X) - EQX_Y) ** 2)


def _eqx_dense():
    """Independent dense reference: eqx.partition + ravel_pytree + jax.hessian."""
    arrays, static = eqx.partition(EQX_MODEL, eqx.is_array)
    flat, unravel = ravel_pytree(arrays)
    return np.asarray(jax.hessian(lambda f: EQX_LOSS(eqx.combine(unravel(f), static)))(flat))


def test_equinox_model_eigenpairs_trace_and_blocks():
    H = _eqx_dense()
    np.testing.assert_allclose(hs.dense_curvature(EQX_LOSS, EQX_MODEL), H, atol=1e-12)
    eigs = np.linalg.eigvalsh(H)
    p = H.shape[0]
    top = hs.top_eigenpairs(EQX_LOSS, EQX_MODEL, k=2, key=KEY, num_iters=p)
    bot = hs.bottom_eigenpairs(EQX_LOSS, EQX_MODEL, k=2, key=KEY, num_iters=p)
    np.testing.assert_allclose(top.eigenvalues, eigs[::-1][:2], atol=1e-10)
    np.testing.assert_allclose(bot.eigenvalues, eigs[:2], atol=1e-10)
    # The eigenvector as a model: same non-array leaves, its arrays the Hessian's eigenvector.
    v_model = hs.unflatten_vector(EQX_MODEL, top.eigenvectors[0])
    assert isinstance(v_model, eqx.nn.MLP) and v_model.activation is EQX_MODEL.activation
    vec = ravel_pytree(eqx.filter(v_model, eqx.is_array))[0]
    np.testing.assert_allclose(H @ vec, eigs[-1] * vec, atol=1e-9)
    # With 3 P products Hutch++'s sketch spans the space: the exact trace.
    tr = hs.trace(EQX_LOSS, EQX_MODEL, num_matvecs=3 * p, key=KEY)
    assert abs(tr.estimate - np.trace(H)) <= 1e-9 * abs(np.trace(H)) and tr.num_hvp == 3 * p

    # Per-layer blocks of the module, labelled by a callable of the key path.
    def label(path):
        return "weight" if path.endswith("weight") else "bias"

    blocks = hs.block_eigenpairs(EQX_LOSS, EQX_MODEL, blocks=label, k=1, key=KEY, num_iters=40)
    idx = hs.block_indices(EQX_MODEL, label)
    assert list(blocks) == ["weight", "bias"] and idx["weight"].size == 3 * 5 + 5 * 2
    for name, r in blocks.items():
        sub = H[np.ix_(idx[name], idx[name])]
        assert abs(r.eigenvalues[0] - np.linalg.eigvalsh(sub)[-1]) <= 1e-10


# ------------------------------------------------------------------ blocks


@pytest.mark.parametrize(("blocks", "which"), [("children", "top"), ("leaves", "bottom")])
def test_block_eigenpairs_are_those_of_the_diagonal_blocks(blocks, which):
    """Each block's top (bottom) eigenvalues equal eigh of H[b, b] of the dense Hessian
    (complete Krylov space per block), and the blocks partition the parameters."""
    idx = hs.block_indices(PARAMS, blocks)
    assert np.array_equal(np.sort(np.concatenate(list(idx.values()))), np.arange(P_MLP))
    assert len(idx) == (2 if blocks == "children" else 4)
    out = hs.block_eigenpairs(
        LOSS, PARAMS, blocks=blocks, k=2, which=which, key=KEY, num_iters=P_MLP
    )
    assert list(out) == list(idx)
    for label, r in out.items():
        sub = np.linalg.eigvalsh(H_MLP[np.ix_(idx[label], idx[label])])
        ref = sub[::-1][:2] if which == "top" else sub[:2]
        np.testing.assert_allclose(r.eigenvalues, ref[: len(r.eigenvalues)], atol=1e-9)
        assert np.all(np.asarray(r.residuals) <= 1e-8) and r.converged is True
    if blocks == "children":
        # A block is not the whole matrix: layer 0's top eigenvalue is not H's.
        assert abs(out["[0]"].eigenvalues[0] - EIG_MLP[-1]) > 1e-3


def test_block_labels_from_a_callable():
    out = hs.block_indices(PARAMS, lambda path: "weights" if path.endswith("[0]") else "biases")
    assert set(out) == {"weights", "biases"} and out["weights"].size == 4 * 6 + 6 * 3


# ------------------------------------------------------------------ trace


def _hutchpp_reference(H, key, s):
    """Hutch++ with the probes drawn exactly as the library draws them, on a dense H."""
    p = H.shape[0]
    k1, k2 = jax.random.split(key)
    S = np.asarray(jax.random.rademacher(k1, (s, p), dtype=jnp.float64))
    Q, _ = np.linalg.qr(H @ S.T)
    G = np.asarray(jax.random.rademacher(k2, (s, p), dtype=jnp.float64))
    G = G - (G @ Q) @ Q.T
    return np.trace(Q.T @ H @ Q) + np.sum(G * (G @ H)) / s


@pytest.mark.parametrize("chunk", [1, 7])
def test_chunked_trace_estimators_equal_the_all_probes_formula(chunk):
    """The lax.map chunks change the schedule, not the probes: the estimates equal the
    dense formulas on the same probes to round-off, for chunks that do and do not divide
    the probe count."""
    m = 20
    Z = np.asarray(jax.random.rademacher(KEY, (m, P_MLP), dtype=jnp.float64))
    ref = np.mean(np.sum(Z * (Z @ H_MLP), axis=1))
    got = hs.hutchinson_trace(LOSS, PARAMS, num_samples=m, key=KEY, chunk_size=chunk)
    assert abs(got - ref) <= 1e-10 * np.abs(H_MLP).sum()
    new = hs.trace(LOSS, PARAMS, num_matvecs=m, key=KEY, method="hutchinson", chunk_size=chunk)
    assert abs(new.estimate - ref) <= 1e-10 * np.abs(H_MLP).sum()
    ref_pp = _hutchpp_reference(H_MLP, KEY, 10)
    got_pp = hs.hutchpp_trace(LOSS, PARAMS, num_matvecs=30, key=KEY, chunk_size=chunk)
    assert abs(got_pp - ref_pp) <= 1e-9 * np.abs(H_MLP).sum()
    new_pp = hs.trace(LOSS, PARAMS, num_matvecs=30, key=KEY, chunk_size=chunk)
    assert abs(new_pp.estimate - ref_pp) <= 1e-9 * np.abs(H_MLP).sum()


def test_trace_within_its_standard_error_of_the_exact_trace():
    """Hutchinson: Var = 2(||H||_F^2 - sum H_ii^2)/m (Hutchinson 1989); the estimate is
    within 4 such standard deviations of tr H, and the reported standard error (from the
    probes' spread) matches it: with m = 400 the sample variance's relative standard
    deviation is sqrt((kurtosis - 1)/m) ~ 0.1 here, so 0.7-1.4 is a > 3-sigma band on the
    standard error. Hutch++: conditionally on Q its residual term has variance
    2(||R||_F^2 - sum R_ii^2)/s <= 2||H||_F^2/s, R the projected Hessian."""
    tr = np.trace(H_MLP)
    fro2 = np.sum(H_MLP**2)
    m = 400
    sd = np.sqrt(2 * (fro2 - np.sum(np.diag(H_MLP) ** 2)) / m)
    hut = hs.trace(LOSS, PARAMS, num_matvecs=m, key=KEY, method="hutchinson")
    assert abs(hut.estimate - tr) <= 4 * sd
    assert 0.7 <= hut.std_error / sd <= 1.4
    s = 10
    hpp = hs.trace(LOSS, PARAMS, num_matvecs=3 * s, key=KEY)
    assert abs(hpp.estimate - tr) <= 4 * np.sqrt(2 * fro2 / s)
    assert np.isfinite(hpp.std_error) and hpp.num_hvp == 3 * s


# ------------------------------------------------------------------ spectral density


def test_gauss_rule_reproduces_the_probe_moments_exactly():
    """sum_j w_j theta_j^q = v^T H^q v for q < 2m (the m-point Gauss rule is exact for
    degree <= 2m - 1): to round-off; q = 2m is not, in general."""
    H = jnp.asarray(H_MLP)
    v = jax.random.normal(KEY, (P_MLP,), jnp.float64)
    v = v / jnp.linalg.norm(v)
    m = 6
    nodes, w = (
        np.asarray(a) for a in jax.jit(lambda v: hs.slq_rule(lambda u: H @ u, v, KEY, m))(v)
    )
    np.testing.assert_allclose(w.sum(), 1.0, atol=1e-13)
    lam, Qe = np.linalg.eigh(H_MLP)
    c2 = (Qe.T @ np.asarray(v)) ** 2
    scale = np.abs(lam).max()
    for q in range(2 * m):
        exact = np.sum(c2 * lam**q)
        assert abs(np.sum(w * nodes**q) - exact) <= 1e-10 * scale**q, q
    q = 2 * m
    exact = np.sum(c2 * lam**q)
    assert abs(np.sum(w * nodes**q) - exact) > 1e-6 * exact


def test_spectral_density_against_the_exact_eigenvalue_distribution():
    """P = 51, 20 Gaussian probes, 10 steps. The Kolmogorov distance between the averaged
    Gauss rules' distribution function and the exact eigenvalue distribution is at most
    (quadrature) the mean largest weight, by the Chebyshev-Markov-Stieltjes inequalities,
    plus (sampling) 5 standard deviations of the probe average at a point (Beta with
    variance <= 1/(2 n_v (P + 2))). The mean of v^T H v is tr H / P with variance
    2 Var(lambda)/(n_v (P + 2)) (Dirichlet(1/2) weights): within 4 such standard
    deviations. The smoothed density integrates to 1."""
    n_v, m = 20, 10
    d = hs.spectral_density(LOSS, PARAMS, key=KEY, num_probes=n_v, num_iters=m)
    assert d.nodes.shape == (n_v, m) and d.num_hvp == n_v * m
    np.testing.assert_allclose(np.asarray(d.weights).sum(1), 1.0, atol=1e-12)
    pts = np.sort(np.concatenate([EIG_MLP, np.asarray(d.nodes).ravel()]))
    pts = np.concatenate([pts, pts - 1e-9 * np.abs(pts).max()])
    exact_cdf = (EIG_MLP[None, :] <= pts[:, None]).mean(1)
    ks = np.max(np.abs(d.cdf(pts) - exact_cdf))
    bound = d.quadrature_bound + 5 * d.sampling_std
    assert ks <= bound, (ks, d.quadrature_bound, d.sampling_std)
    assert bound < 0.5  # the bound says something
    first = np.sum(np.asarray(d.weights) * np.asarray(d.nodes), axis=1).mean()
    sd = np.sqrt(2 * EIG_MLP.var() / (n_v * (P_MLP + 2)))
    assert abs(first - EIG_MLP.mean()) <= 4 * sd
    assert abs(np.trapezoid(d.density, d.grid) - 1) <= 1e-6
    # Complete Krylov spaces: the rules are the probes' exact measures; only sampling is left.
    full = hs.spectral_density(LOSS, PARAMS, key=KEY, num_probes=n_v, num_iters=P_MLP)
    ks_full = np.max(np.abs(full.cdf(pts) - exact_cdf))
    assert ks_full <= 5 * full.sampling_std


# ------------------------------------------------------------------ Gauss-Newton


def _mlp_out(p):
    return mlp_apply(p, X, "tanh")


def _ce(z):
    """Softmax cross-entropy against the argmax of Y."""
    labels = jnp.argmax(Y, axis=1)
    return -jnp.mean(jax.nn.log_softmax(z)[jnp.arange(z.shape[0]), labels])


def test_ggn_equals_explicit_jacobian_product():
    """G = J^T H_out J with J from jax.jacrev and H_out written out for softmax
    cross-entropy: blockdiag(diag(p_i) - p_i p_i^T) / n."""
    flat, unravel = ravel_pytree(PARAMS)
    J = np.asarray(jax.jacrev(lambda f: _mlp_out(unravel(f)).ravel())(flat))  # (n*c, P)
    z = np.asarray(_mlp_out(PARAMS))
    pr = np.exp(z - z.max(1, keepdims=True))
    pr /= pr.sum(1, keepdims=True)
    n, c = z.shape
    H_out = np.zeros((n * c, n * c))
    for i in range(n):
        H_out[i * c : (i + 1) * c, i * c : (i + 1) * c] = (
            np.diag(pr[i]) - np.outer(pr[i], pr[i])
        ) / n
    G = J.T @ H_out @ J
    pair = (_mlp_out, _ce)
    np.testing.assert_allclose(hs.dense_curvature(pair, PARAMS, curvature="ggn"), G, atol=1e-12)
    v = np.random.RandomState(4).randn(P_MLP)
    gv = ravel_pytree(hs.ggn_vp(_mlp_out, _ce, PARAMS, unravel(jnp.asarray(v))))[0]
    np.testing.assert_allclose(gv, G @ v, atol=1e-12)
    eigs = np.linalg.eigvalsh(G)
    top = hs.top_eigenpairs(pair, PARAMS, k=2, key=KEY, num_iters=P_MLP, curvature="ggn")
    np.testing.assert_allclose(top.eigenvalues, eigs[::-1][:2], rtol=1e-9)
    # PSD (convex output loss), unlike the Hessian of the same loss.
    bot = hs.bottom_eigenpairs(pair, PARAMS, key=KEY, num_iters=P_MLP, curvature="ggn")
    assert bot.eigenvalues[0] >= -1e-12 and abs(bot.eigenvalues[0] - eigs[0]) <= 1e-10
    assert np.linalg.eigvalsh(hs.dense_curvature(pair, PARAMS))[0] < -1e-6
    tr = hs.trace(pair, PARAMS, num_matvecs=3 * P_MLP, key=KEY, curvature="ggn")
    assert abs(tr.estimate - np.trace(G)) <= 1e-9 * np.trace(G)


def test_ggn_equals_the_hessian_for_a_linear_model_with_square_loss():
    kx, ky, kw = jax.random.split(KEY, 3)
    x = jax.random.normal(kx, (15, 4), jnp.float64)
    y = jax.random.normal(ky, (15, 2), jnp.float64)
    params = {"W": jax.random.normal(kw, (4, 2), jnp.float64), "b": jnp.zeros(2)}

    def model(p):
        return x @ p["W"] + p["b"]

    def sq(z):
        return 0.5 * jnp.mean(jnp.sum((z - y) ** 2, axis=1))

    pair = (model, sq)
    G = hs.dense_curvature(pair, params, curvature="ggn")
    H = hs.dense_curvature(pair, params)
    np.testing.assert_allclose(G, H, atol=1e-13)
    assert np.abs(H).max() > 0.1
    ggn = hs.top_eigenpairs(pair, params, k=3, key=KEY, num_iters=10, curvature="ggn")
    hes = hs.top_eigenpairs(pair, params, k=3, key=KEY, num_iters=10)
    np.testing.assert_allclose(ggn.eigenvalues, hes.eigenvalues, rtol=1e-12)
    np.testing.assert_allclose(ggn.eigenvalues, np.linalg.eigvalsh(H)[::-1][:3], rtol=1e-10)


# ------------------------------------------------------------------ bad input


def test_bad_input_gets_a_one_line_error_naming_the_argument():
    with pytest.raises(ValueError, match="`loss_fn`"):
        hs.eigenpairs(lambda p: p["x"] * 2.0, {"x": jnp.ones(3)}, key=KEY)
    with pytest.raises(TypeError, match="`params`"):
        hs.trace(lambda p: sum(p), [1.0, 2.0], num_matvecs=3, key=KEY)
    with pytest.raises(ValueError, match="`k`"):
        hs.eigenpairs(LOSS, PARAMS, k=P_MLP + 1, key=KEY, num_iters=P_MLP)
    with pytest.raises(ValueError, match="`num_matvecs`"):
        hs.trace(LOSS, PARAMS, num_matvecs=-3, key=KEY)
    with pytest.raises(ValueError, match="`num_probes`"):
        hs.spectral_density(LOSS, PARAMS, key=KEY, num_probes=0)
    with pytest.raises(ValueError, match="`loss_fn`"):
        hs.eigenpairs(LOSS, PARAMS, key=KEY, curvature="ggn")
    with pytest.raises(ValueError, match="`tol`"):
        hs.eigenpairs(LOSS, PARAMS, key=KEY, tol=-1.0)
    with pytest.raises(ValueError, match="`blocks`"):
        hs.block_indices(PARAMS, "layers")
