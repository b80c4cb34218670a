"""The closed-form least-squares references against numpy.linalg, SVD and plain GD loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from implicitbias import theory
from implicitbias.engine import train
from implicitbias.optim import gd
from implicitbias.problems.linear import least_squares


def _problem(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rs = np.random.RandomState(seed)
    return rs.randn(n, p), rs.randn(n)


def _lstsq_min_norm(X, y) -> np.ndarray:
    return np.linalg.lstsq(X, y, rcond=None)[0]


def _null_basis(X) -> np.ndarray:
    """``(p, p - rank)`` orthonormal basis of the null space of ``X``, from an SVD."""
    _, s, vt = np.linalg.svd(X)
    rank = int(np.sum(s > 1e-12 * s[0]))
    return vt[rank:].T


def _np_gd(X, y, w0, lr, steps) -> np.ndarray:
    w = np.array(w0, dtype=np.float64)
    for _ in range(steps):
        w = w - lr * X.T @ (X @ w - y) / X.shape[0]
    return w


def _diag_problem() -> tuple[np.ndarray, np.ndarray]:
    """``X`` (3 x 5) with ``X^T X / n`` = diag(0.5, 2, 4, 0, 0)."""
    n, d = 3, np.array([0.5, 2.0, 4.0])
    X = np.zeros((n, 5))
    X[np.arange(n), np.arange(n)] = np.sqrt(n * d)
    return X, d


# ------------------------------------------------------------------ pinv


@pytest.mark.parametrize("n, p", [(4, 9), (9, 4), (1, 3), (6, 6)])
def test_pinv_matches_the_svd_formula_and_lstsq(n, p):
    X, y = _problem(n, p, seed=n * 10 + p)
    u, s, vt = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(theory.pinv(X), vt.T @ np.diag(1 / s) @ u.T, rtol=0, atol=1e-12)
    w = theory.min_norm_solution(X, y)
    ref = _lstsq_min_norm(X, y)
    assert np.linalg.norm(w - ref) <= 1e-12 * np.linalg.norm(ref)


def test_pinv_of_a_rank_deficient_matrix_is_the_min_norm_least_squares_solution():
    rs = np.random.RandomState(1)
    X = rs.randn(6, 2) @ rs.randn(2, 8)  # rank 2
    y = rs.randn(6)
    w = theory.min_norm_solution(X, y)
    ref = _lstsq_min_norm(X, y)
    assert np.linalg.norm(w - ref) <= 1e-10 * np.linalg.norm(ref)  # conditioning of X
    assert np.linalg.norm(_null_basis(X).T @ w) <= 1e-10 * np.linalg.norm(w)


def test_min_norm_solution_interpolates_and_has_the_smallest_norm():
    X, y = _problem(5, 11, seed=2)
    w = theory.min_norm_solution(X, y)
    assert np.linalg.norm(X @ w - y) <= 1e-12 * np.linalg.norm(y)
    N = _null_basis(X)
    for c in np.random.RandomState(3).randn(20, N.shape[1]):
        assert np.linalg.norm(w + N @ c) > np.linalg.norm(w)


# ------------------------------------------------------------------ closest interpolator


def test_closest_interpolator_interpolates_and_is_the_nearest():
    X, y = _problem(5, 11, seed=4)
    rs = np.random.RandomState(5)
    w0 = 2.0 * rs.randn(11)
    w = theory.closest_interpolator(X, y, w0)
    assert np.linalg.norm(X @ w - y) <= 1e-12 * np.linalg.norm(y)
    # Reference from lstsq: w0 plus the min-norm solution of X d = y - X w0.
    ref = w0 + _lstsq_min_norm(X, y - X @ w0)
    assert np.linalg.norm(w - ref) <= 1e-12 * np.linalg.norm(ref)
    # Every other interpolator w + N c is farther from w0, by Pythagoras.
    N = _null_basis(X)
    base = np.linalg.norm(w - w0)
    for c in rs.randn(50, N.shape[1]) * np.geomspace(1e-3, 10, 50)[:, None]:
        other = w + N @ c
        assert np.linalg.norm(X @ other - y) <= 1e-10
        dist = np.linalg.norm(other - w0)
        assert dist > base
        assert abs(dist**2 - base**2 - c @ c) <= 1e-10 * dist**2


def test_closest_interpolator_from_zero_is_pinv_and_batches_rows():
    X, y = _problem(4, 10, seed=6)
    np.testing.assert_allclose(
        theory.closest_interpolator(X, y, np.zeros(10)), _lstsq_min_norm(X, y), rtol=0, atol=1e-12
    )
    w0 = np.random.RandomState(7).randn(3, 10)
    batch = theory.closest_interpolator(X, y, w0)
    assert batch.shape == (3, 10)
    for k in range(3):
        np.testing.assert_allclose(
            batch[k], theory.closest_interpolator(X, y, w0[k]), rtol=0, atol=1e-13
        )


def test_null_projector():
    X, _ = _problem(4, 10, seed=8)
    P = theory.null_projector(X)
    N = _null_basis(X)
    np.testing.assert_allclose(P, N @ N.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(P @ P, P, rtol=0, atol=1e-12)
    np.testing.assert_allclose(X @ P, 0, rtol=0, atol=1e-12)
    assert abs(np.trace(P) - 6) <= 1e-12


# ------------------------------------------------------------------ ridge


def test_ridge_tends_to_pinv_as_lambda_goes_to_zero():
    X, y = _problem(6, 15, seed=0)
    w_pinv = _lstsq_min_norm(X, y)
    lambdas = np.geomspace(1e2, 1e-12, 15)
    dist = np.array([np.linalg.norm(theory.ridge(X, y, lam) - w_pinv) for lam in lambdas])
    dist /= np.linalg.norm(w_pinv)
    assert np.all(np.diff(dist) < 0)
    assert dist[-1] < 1e-8
    # First order in lambda: ridge - pinv = -n lambda X^T (X X^T)^{-2} y + O(lambda^2).
    G = X @ X.T
    slope = 6 * np.linalg.norm(X.T @ np.linalg.solve(G, np.linalg.solve(G, y)))
    lam = 1e-8
    np.testing.assert_allclose(
        np.linalg.norm(theory.ridge(X, y, lam) - w_pinv), slope * lam, rtol=1e-4
    )  # O(lambda) and round-off
    path = theory.ridge_path(X, y, lambdas)
    assert path.shape == (15, 15)
    np.testing.assert_allclose(path[3], theory.ridge(X, y, lambdas[3]), rtol=0, atol=0)


@pytest.mark.parametrize("lam", [1e-3, 0.1, 1.0, 10.0])
@pytest.mark.parametrize("n, p", [(6, 15), (15, 6)])
def test_ridge_equals_the_primal_solve(lam, n, p):
    X, y = _problem(n, p, seed=n + p)
    primal = np.linalg.solve(X.T @ X + n * lam * np.eye(p), X.T @ y)
    w = theory.ridge(X, y, lam)
    assert np.linalg.norm(w - primal) <= 1e-10 * np.linalg.norm(primal)
    # Stationarity of ||Xw - y||^2 / (2n) + lam ||w||^2 / 2.
    grad = X.T @ (X @ w - y) / n + lam * w
    assert np.linalg.norm(grad) <= 1e-12 * max(1.0, np.linalg.norm(X.T @ y) / n)


# ------------------------------------------------------------------ spectrum and rates


def test_spectrum_and_smoothness_of_a_diagonal_problem():
    X, d = _diag_problem()
    np.testing.assert_allclose(theory.hessian_spectrum(X), d, rtol=1e-14)
    assert theory.smoothness(X) == pytest.approx(4.0, rel=1e-14)


@pytest.mark.parametrize(
    "lr, rate",
    [
        (0.3, 0.85),  # below 2 / (lambda_min+ + lambda_max) = 0.444: the bottom mode is slowest
        (0.45, 0.8),  # above it: the top mode, |1 - 0.45 * 4| = 0.8, is slowest
    ],
)
def test_gd_contraction_of_a_diagonal_problem(lr, rate):
    X, _ = _diag_problem()
    out = theory.gd_contraction(X, lr)
    assert out["lambda_min_plus"] == pytest.approx(0.5, rel=1e-14)
    assert out["lambda_max"] == pytest.approx(4.0, rel=1e-14)
    assert out["rate_min_plus"] == pytest.approx(1 - lr * 0.5, rel=1e-14)
    assert out["rate"] == pytest.approx(rate, rel=1e-14)


def test_gd_contraction_is_the_observed_worst_case_decay():
    X, _ = _diag_problem()
    lr = 0.45
    rate = theory.gd_contraction(X, lr)["rate"]
    # Along the top eigenvector the GD error is multiplied by |1 - lr * 4| each step.
    y = np.zeros(3)
    w0 = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    w = _np_gd(X, y, w0, lr, 30)
    assert np.linalg.norm(w) == pytest.approx(rate**30, rel=1e-10)


@pytest.mark.parametrize("lr_times_L", [1.0, 1.5])
def test_gd_error_closed_form_equals_a_numpy_gd_loop(lr_times_L):
    X, y = _problem(6, 15, seed=9)
    lr = lr_times_L / np.linalg.eigvalsh(X @ X.T / 6).max()
    w0 = np.random.RandomState(10).randn(15)
    w_inf = w0 + _lstsq_min_norm(X, y - X @ w0)
    steps = np.array([0, 1, 2, 3, 5, 10, 20, 40, 60, 100])
    closed = theory.gd_error_closed_form(X, lr, w0 - w_inf, steps)
    errors = np.array([np.linalg.norm(_np_gd(X, y, w0, lr, int(t)) - w_inf) for t in steps])
    early = steps <= 20
    # While e_t >= 5e-3 e_0 the round-off of w_t (~1e-16 absolute) is < 1e-12 relative.
    assert errors[early].min() > 5e-3 * errors[0]
    np.testing.assert_allclose(closed[early], errors[early], rtol=1e-12, atol=0)
    # Later only an absolute agreement in units of e_0 is meaningful.
    np.testing.assert_allclose(closed, errors, rtol=0, atol=1e-12 * errors[0])
    assert errors[-1] < 1e-3 * errors[0]  # the late steps really are late


def test_bottom_eigen_weight():
    X, _ = _diag_problem()
    assert theory.bottom_eigen_weight(X, np.array([2.0, 0, 0, 0, 0])) == pytest.approx(1.0)
    assert theory.bottom_eigen_weight(X, np.array([0, 1.0, 1.0, 0, 0])) <= 1e-15
    assert theory.bottom_eigen_weight(X, np.array([3.0, 0, 4.0, 0, 0])) == pytest.approx(0.6)


def test_fit_log_rate_recovers_a_known_rate():
    steps = np.arange(0, 400, 3)
    error = 2.5 * 0.93**steps
    fit = theory.fit_log_rate(steps, error, lo=1e-10, hi=1.0)
    assert fit["rate"] == pytest.approx(0.93, rel=1e-12)
    assert fit["r2"] == pytest.approx(1.0, abs=1e-12)
    assert fit["points"] == int(np.sum((error > 1e-10) & (error < 1.0)))


def test_fit_log_rate_with_noise_and_a_transient():
    rs = np.random.RandomState(11)
    steps = np.arange(0, 2000, 5)
    # A fast transient (rate 0.5) that the window [1e-12, 1e-3] excludes, then rate 0.99.
    error = 1e-3 * 0.99**steps + 10 * 0.5**steps
    error *= np.exp(1e-3 * rs.randn(len(steps)))
    fit = theory.fit_log_rate(steps, error, lo=1e-12, hi=1e-3)
    # Multiplicative noise of 1e-3 over ~400 points moves the slope by ~1e-7.
    assert fit["rate"] == pytest.approx(0.99, abs=1e-5)
    assert 0.999 < fit["r2"] <= 1.0


def test_fit_log_rate_needs_three_points():
    steps = np.arange(10)
    fit = theory.fit_log_rate(steps, 0.5**steps, lo=0.2, hi=1.0)  # 0.5, 0.25 only
    assert fit["points"] == 2
    assert math.isnan(fit["rate"]) and math.isnan(fit["r2"])


# ------------------------------------------------------------------ GD via the engine


_shapes = st.integers(1, 6).flatmap(lambda n: st.tuples(st.just(n), st.integers(n + 1, 12)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(shape=_shapes, seed=st.integers(0, 2**32 - 1), scale=st.floats(0.0, 3.0))
def test_engine_gd_converges_to_the_closest_interpolator(shape, seed, scale):
    n, p = shape
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, p)), rng.standard_normal(n)
    w0 = scale * rng.standard_normal(p)
    eig = np.linalg.eigvalsh(X @ X.T / n)
    L, lam_min = eig.max(), eig.min()
    target = w0 + _lstsq_min_norm(X, y - X @ w0)
    assert np.linalg.norm(target - theory.closest_interpolator(X, y, w0)) <= (
        1e-10 * np.linalg.norm(target)
    )
    # With lr = 1/L every mode contracts at least by rho = 1 - lambda_min / L per step.
    rho = 1.0 - lam_min / L
    e0 = np.linalg.norm(w0 - target)
    goal = 1e-10 * np.linalg.norm(target)
    steps = 1 if rho <= 1e-12 or e0 <= goal else math.ceil(math.log(goal / e0) / math.log(rho))
    assume(steps <= 200_000)  # rejects the rare very ill-conditioned draws
    traj = train(
        least_squares,
        w0[None],
        gd,
        steps=steps + 5,
        data=(X, y),
        hparams={"learning_rate": 1.0 / L},
        log_at=np.array([steps + 5]),
    )
    w = np.asarray(traj.params[0])
    assert np.linalg.norm(w - target) <= 1e-8 * np.linalg.norm(target)
