"""Hessian diagnostics against independent references: matrices with known spectra
(quadratic losses), dense ``jax.hessian`` + ``eigh`` on tiny MLPs (float64), central finite
differences of the gradient, and the statistics of the trace estimators."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.flatten_util import ravel_pytree

from implicitbias.diagnostics import (
    exact_hessian,
    fixed_subset,
    hutchinson_trace,
    hutchpp_trace,
    hvp,
    hvp_norm_estimate,
    lanczos,
    power_iteration,
    ritz_history,
    sharpness,
    unflatten,
)
from implicitbias.problems.mlp import init_mlp, mlp_apply, mse_loss, num_params


def _matrix(eigs, seed=0) -> np.ndarray:
    """A symmetric matrix with the given spectrum in a random orthonormal basis."""
    q, _ = np.linalg.qr(np.random.RandomState(seed).randn(len(eigs), len(eigs)))
    return (q * np.asarray(eigs, dtype=np.float64)) @ q.T


def _quadratic(A):
    A = jnp.asarray(A)
    return lambda x: 0.5 * x @ A @ x


def _tiny_mlp(sizes=(3, 5, 2), n=12, seed=0, activation="tanh"):
    key = jax.random.PRNGKey(seed)
    kp, kx, ky = jax.random.split(key, 3)
    params = init_mlp(kp, sizes, activation=activation, dtype=jnp.float64)
    x = jax.random.normal(kx, (n, sizes[0]), jnp.float64)
    y = jax.random.normal(ky, (n, sizes[-1]), jnp.float64)
    return params, (lambda p: mse_loss(p, x, y, activation))


KEY = jax.random.PRNGKey(7)


# ------------------------------------------------------------------ products


def test_hvp_matches_dense_hessian_and_finite_differences():
    params, loss = _tiny_mlp()
    flat, unravel = ravel_pytree(params)
    H = exact_hessian(loss, params)
    v = np.random.RandomState(1).randn(flat.size)
    hv = ravel_pytree(hvp(loss, params, unravel(jnp.asarray(v))))[0]
    np.testing.assert_allclose(hv, H @ v, rtol=1e-12, atol=1e-12)
    # Central differences of the gradient: truncation error O(eps^2 |third derivative|).
    eps = 1e-5

    def g(x):
        return ravel_pytree(jax.grad(loss)(unravel(x)))[0]

    g = jax.jit(g)
    fd = (g(flat + eps * v) - g(flat - eps * v)) / (2 * eps)
    assert np.linalg.norm(fd - hv) <= 1e-7 * np.linalg.norm(hv)


def test_hvp_on_a_quadratic_is_the_matrix_product():
    A = _matrix(np.arange(1.0, 9.0))
    v = np.random.RandomState(2).randn(8)
    np.testing.assert_allclose(
        hvp(_quadratic(A), jnp.zeros(8), jnp.asarray(v)), A @ v, rtol=1e-13, atol=1e-13
    )


# ------------------------------------------------------------------ Lanczos


@functools.partial(jax.jit, static_argnames=("m", "k"))
def _top(A, key, *, m, k=1):
    """Lanczos on 0.5 x^T A x with A as an argument: one compiled program per shape."""
    return lanczos(
        lambda x: 0.5 * x @ A @ x, jnp.zeros(A.shape[0]), k=k, num_iters=m, key=key
    ).eigenvalues


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(-50, 50, allow_nan=False), min_size=8, max_size=8, unique=True),
    st.integers(0, 2**16),
)
def test_lanczos_with_a_complete_krylov_space_is_exact(eigs, seed):
    """With num_iters >= P the Krylov space is the whole space: Ritz values = eigenvalues."""
    eigs = np.sort(np.asarray(eigs))[::-1]
    A = _matrix(eigs, seed)
    scale = max(1.0, np.abs(eigs).max())
    np.testing.assert_allclose(
        _top(A, jax.random.PRNGKey(seed), m=8, k=3), eigs[:3], atol=1e-9 * scale
    )


def test_lanczos_counts_its_products_and_clips_them_to_the_dimension():
    A = _matrix(np.arange(6.0))
    res = lanczos(_quadratic(A), jnp.zeros(6), num_iters=40, key=KEY)
    assert res.num_hvp == 6  # (the 400 x 400 test below checks num_hvp == num_iters)
    np.testing.assert_allclose(res.eigenvalues, [5.0], rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**16))
def test_ritz_values_never_exceed_the_top_eigenvalue(seed):
    """Cauchy interlacing: the top Ritz value lies in [lambda_min, lambda_max] for any start
    vector and any number of steps, and grows with the number of steps."""
    eigs = np.linspace(-2.0, 7.0, 30)
    A = _matrix(eigs, seed)
    key = jax.random.PRNGKey(seed)
    small, bigger = _top(A, key, m=4)[0], _top(A, key, m=9)[0]
    assert eigs[0] - 1e-12 <= small <= bigger + 1e-12 <= eigs[-1] + 1e-11


def test_lanczos_top_k_on_a_large_matrix_with_a_gap():
    """P = 400, 12 outliers above a bulk in [0, 1]: 40 steps resolve the top 3 to 1e-8."""
    rs = np.random.RandomState(3)
    eigs = np.concatenate([rs.uniform(0, 1, 388), np.linspace(20, 9, 12)])
    A = _matrix(eigs, 4)
    res = lanczos(_quadratic(A), jnp.zeros(400), k=3, num_iters=40, key=KEY)
    assert res.num_hvp == 40
    np.testing.assert_allclose(res.eigenvalues, [20, 19, 18], rtol=1e-8)
    # Eigenvectors: unit norm and small residual ||A v - lambda v||.
    V = np.asarray(res.eigenvectors)
    np.testing.assert_allclose(np.linalg.norm(V, axis=1), 1.0, atol=1e-10)
    resid = np.linalg.norm(V @ A - res.eigenvalues[:, None] * V, axis=1)
    assert resid.max() <= 1e-3  # residual ~ sqrt(eigenvalue error * gap)


@pytest.mark.parametrize("activation", ["tanh", pytest.param("softplus", marks=pytest.mark.slow)])
def test_lanczos_matches_jax_hessian_on_a_tiny_mlp(activation):
    """float64, relative error <= 1e-6 against eigh of the dense Hessian."""
    params, loss = _tiny_mlp(sizes=(4, 6, 3), activation=activation)
    H = exact_hessian(loss, params)
    eigs = np.linalg.eigh(H)[0][::-1]
    P = num_params(params)
    assert P == 51
    # Complete Krylov space: every requested eigenvalue.
    full = lanczos(loss, params, k=5, num_iters=P, key=KEY)
    np.testing.assert_allclose(full.eigenvalues, eigs[:5], rtol=1e-6)
    # The top one from 30 steps only (it is well separated for these networks).
    part = lanczos(loss, params, k=1, num_iters=30, key=KEY)
    assert abs(part.eigenvalues[0] / eigs[0] - 1) <= 1e-6
    assert abs(sharpness(loss, params, num_iters=30) / eigs[0] - 1) <= 1e-6
    # The eigenvector, as a pytree, is the eigenvector of the dense Hessian (up to sign).
    v_tree = unflatten(params, full.eigenvectors[0])
    v = ravel_pytree(v_tree)[0]
    top = np.linalg.eigh(H)[1][:, -1]
    assert abs(abs(float(v @ top)) - 1) <= 1e-6


def test_warm_start_from_the_eigenvector_needs_one_product():
    params, loss = _tiny_mlp()
    eigvals, eigvecs = np.linalg.eigh(exact_hessian(loss, params))
    res = lanczos(loss, params, num_iters=1, key=KEY, v0=jnp.asarray(eigvecs[:, -1]))
    assert res.num_hvp == 1
    assert abs(res.eigenvalues[0] / eigvals[-1] - 1) <= 1e-12
    # A pytree warm start is the same vector.
    tree = unflatten(params, jnp.asarray(eigvecs[:, -1]))
    res2 = lanczos(loss, params, num_iters=1, key=KEY, v0=tree)
    assert abs(res2.eigenvalues[0] / eigvals[-1] - 1) <= 1e-12
    # A zero warm start means a random start (not a NaN).
    res3 = lanczos(loss, params, num_iters=5, key=KEY, v0=jnp.zeros(num_params(params)))
    assert np.isfinite(res3.eigenvalues).all()


def test_lanczos_on_a_rank_deficient_matrix_restarts_after_breakdown():
    """rank 3: the Krylov space closes after 3 steps; the further Ritz values are 0."""
    A = _matrix([5.0, 2.0, 1.0] + [0.0] * 17, 5)
    res = lanczos(_quadratic(A), jnp.zeros(20), k=5, num_iters=10, key=KEY)
    np.testing.assert_allclose(res.eigenvalues, [5, 2, 1, 0, 0], atol=1e-10)
    assert np.isfinite(res.eigenvectors).all()


def test_lanczos_inside_jit_and_vmap_equals_the_standalone_call():
    A = jnp.stack([jnp.asarray(_matrix(np.linspace(1, s, 8), s)) for s in (3, 6, 9)])
    keys = jax.random.split(KEY, 3)
    batched = jax.jit(jax.vmap(lambda a, k: _top(a, k, m=8)[0]))(A, keys)
    np.testing.assert_allclose(batched, [3, 6, 9], rtol=1e-10)
    single = lanczos(_quadratic(A[1]), jnp.zeros(8), num_iters=8, key=keys[1]).eigenvalues
    np.testing.assert_allclose(single[0], batched[1], rtol=1e-12)


def test_ritz_history_is_the_sequence_of_shorter_runs():
    A = _matrix(np.linspace(0, 5, 12) ** 2, 12)
    loss = _quadratic(A)  # one loss object: its programs are compiled once
    hist = ritz_history(loss, jnp.zeros(12), num_iters=12, key=KEY)
    for m in (4, 12):
        short = lanczos(loss, jnp.zeros(12), num_iters=m, key=KEY).eigenvalues[0]
        assert abs(hist[m - 1] - short) <= 1e-10 * abs(short)
    assert abs(hist[-1] - 25.0) <= 1e-9 and np.all(np.diff(hist) >= -1e-12)


def test_lanczos_rejects_a_bad_k():
    with pytest.raises(ValueError, match="`k`"):
        lanczos(_quadratic(np.eye(3)), jnp.zeros(3), k=4, num_iters=10, key=KEY)


# ------------------------------------------------------------------ power iteration


def test_power_iteration_converges_to_the_top_eigenvalue_and_counts_products():
    eigs = np.array([10.0, 8.0] + list(np.linspace(0, 5, 18)))
    A = _matrix(eigs, 6)
    res = power_iteration(_quadratic(A), jnp.zeros(20), num_iters=400, key=KEY)
    assert res.num_hvp == 400
    assert abs(res.eigenvalues[0] - 10) <= 1e-9
    stopped = power_iteration(_quadratic(A), jnp.zeros(20), num_iters=400, key=KEY, tol=1e-6)
    assert 2 < stopped.num_hvp < 400
    # The Rayleigh-quotient error is ~(8/10)^(2t): tol 1e-6 on successive estimates leaves
    # an error of the same order.
    assert abs(stopped.eigenvalues[0] / 10 - 1) <= 1e-5


def test_power_iteration_finds_the_largest_magnitude_not_the_largest_value():
    """The documented limitation: with lambda_min = -12 dominating, power iteration goes
    there while Lanczos returns the largest algebraic eigenvalue."""
    A = _matrix([-12.0, 4.0, 3.0, 1.0], 7)
    assert (
        abs(
            power_iteration(_quadratic(A), jnp.zeros(4), num_iters=200, key=KEY).eigenvalues[0] + 12
        )
        <= 1e-8
    )
    assert (
        abs(lanczos(_quadratic(A), jnp.zeros(4), num_iters=4, key=KEY).eigenvalues[0] - 4) <= 1e-10
    )


# ------------------------------------------------------------------ traces


def test_hutchinson_is_exact_on_diagonal_matrices():
    """Rademacher z: z^T D z = tr D for every draw."""
    d = np.linspace(-3, 9, 25)
    est = hutchinson_trace(_quadratic(np.diag(d)), jnp.zeros(25), num_samples=3, key=KEY)
    assert abs(est - d.sum()) <= 1e-11


def test_hutchinson_is_unbiased_within_its_known_standard_error():
    eigs = np.linspace(-1, 4, 40)
    A = _matrix(eigs, 8)
    m = 4000
    est = hutchinson_trace(_quadratic(A), jnp.zeros(40), num_samples=m, key=KEY)
    # Var[z^T A z] = 2 (||A||_F^2 - sum_i A_ii^2) for Rademacher z (Hutchinson 1989).
    sd = np.sqrt(2 * (np.sum(A**2) - np.sum(np.diag(A) ** 2)) / m)
    assert abs(est - eigs.sum()) <= 4 * sd  # a 4-sigma band; the key is fixed


def test_hutchpp_is_exact_when_the_sketch_captures_the_range():
    """rank 4 <= s = 5: Q spans the range, the residual part is 0."""
    A = _matrix([6.0, 3.0, -2.0, 1.0] + [0.0] * 26, 9)
    est = hutchpp_trace(_quadratic(A), jnp.zeros(30), num_matvecs=15, key=KEY)
    assert abs(est - 8.0) <= 1e-9


def test_hutchpp_is_unbiased_and_beats_hutchinson_on_a_decaying_spectrum():
    """PSD spectrum 1/i^2 (P = 60), 30 products each, 300 independent keys."""
    eigs = 1.0 / np.arange(1, 61) ** 2
    A = _matrix(eigs, 10)
    loss, x = _quadratic(A), jnp.zeros(60)
    keys = jax.random.split(KEY, 300)
    hpp = np.array([hutchpp_trace(loss, x, num_matvecs=30, key=k) for k in keys])
    hut = np.array([hutchinson_trace(loss, x, num_samples=30, key=k) for k in keys])
    tr = eigs.sum()
    for est in (hpp, hut):
        assert abs(est.mean() - tr) <= 4 * est.std() / np.sqrt(len(est))
    # Meyer et al.: O(1/m) vs O(1/sqrt m) relative error; at m = 30 Hutch++'s RMS error is
    # ~20x smaller (measured 0.0068 vs 0.146 relative).
    rms_hpp = np.sqrt(np.mean((hpp - tr) ** 2)) / tr
    rms_hut = np.sqrt(np.mean((hut - tr) ** 2)) / tr
    assert rms_hpp <= 0.25 * rms_hut


def test_trace_estimators_on_a_tiny_mlp_against_the_dense_hessian():
    params, loss = _tiny_mlp(sizes=(4, 6, 3))
    tr = np.trace(exact_hessian(loss, params))
    P = num_params(params)
    # With 3 * P products Hutch++'s sketch spans the whole space: exact.
    assert abs(hutchpp_trace(loss, params, num_matvecs=3 * P, key=KEY) - tr) <= 1e-8 * abs(tr)


def test_seed_estimator_is_an_average_not_the_top_eigenvalue():
    """||H u|| for u uniform on the sphere: E||Hu||^2 = ||H||_F^2 / P."""
    eigs = np.array([10.0] + [0.1] * 99)
    A = _matrix(eigs, 11)
    keys = jax.random.split(KEY, 2000)
    vals = np.array(
        jax.vmap(lambda k: hvp_norm_estimate(_quadratic(A), jnp.zeros(100), key=k))(keys)
    )
    mean_sq = np.mean(vals**2)
    expected = np.sum(eigs**2) / 100
    assert abs(mean_sq / expected - 1) <= 0.15  # sample mean of 2000 draws, heavy tailed
    assert np.median(vals) < 0.2 * eigs[0]  # far below lambda_max = 10


def test_fixed_subset_draws_without_replacement():
    x = jnp.arange(50.0)[:, None]
    y = jnp.arange(50)
    sx, sy = fixed_subset((x, y), 20, key=KEY)
    assert sx.shape == (20, 1) and len(set(np.asarray(sy).tolist())) == 20
    np.testing.assert_array_equal(np.asarray(sx[:, 0]).astype(int), np.asarray(sy))
    with pytest.raises(ValueError, match="`size`"):
        fixed_subset((x, y), 51, key=KEY)


def test_mlp_shapes_and_no_bias_layers():
    params = init_mlp(KEY, (5, 7, 2), bias=False, init="he")
    assert [W.shape for W, _ in params] == [(5, 7), (7, 2)]
    assert all(b is None for _, b in params)
    out = mlp_apply(params, jnp.ones((3, 5)), "relu")
    assert out.shape == (3, 2)
    with pytest.raises(ValueError, match="`activation`"):
        init_mlp(KEY, (2, 2), activation="sigmoidd")
