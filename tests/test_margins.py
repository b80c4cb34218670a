"""The max-margin references (theory/margins.py) against independent solvers (scipy's
L-BFGS-B on the SVM dual, HiGHS on LP reformulations), known answers, and the classification
losses of problems/classification.py against NumPy formulas."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize as so

from implicitbias import theory
from implicitbias.problems import classification as cls

# (seed, d, n): d in 2..5, n in 6..30.
DRAWS = [
    (0, 2, 6),
    (1, 3, 13),
    (2, 4, 20),
    (3, 5, 27),
    (4, 2, 9),
    (5, 3, 16),
    (6, 4, 30),
    (7, 5, 8),
]


def _separable_set(seed: int, d: int, n: int, gap: float = 0.1):
    """Points 2 * N(0, I) with |x . w*| >= gap for a random unit w*, labelled sign(x . w*):
    separable through the origin by construction, with l2 margin >= gap."""
    rs = np.random.RandomState(seed)
    w_star = rs.randn(d)
    w_star /= np.linalg.norm(w_star)
    rows: list[np.ndarray] = []
    while len(rows) < n:
        x = 2.0 * rs.randn(d)
        if abs(x @ w_star) >= gap:
            rows.append(x)
    X = np.array(rows)
    y = np.sign(X @ w_star)
    if np.all(y == y[0]):  # pragma: no cover - not the case for the draws above
        X[0], y[0] = -X[0], -y[0]
    return X, y, w_star


def _svm_dual(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The homogeneous hard-margin SVM from its dual, max sum(a) - |sum a_i y_i x_i|^2 / 2
    over a >= 0 (no equality constraint: there is no bias), by L-BFGS-B; w = sum a_i y_i x_i.
    """
    Z = y[:, None] * X
    K = Z @ Z.T
    res = so.minimize(
        lambda a: 0.5 * a @ K @ a - a.sum(),
        np.zeros(len(y)),
        jac=lambda a: K @ a - 1.0,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * len(y),
        options={"ftol": 0.0, "gtol": 1e-13, "maxiter": 100_000, "maxcor": 50},
    )
    # L-BFGS-B may stop with ABNORMAL (line search) at this gtol; check optimality itself:
    # the KKT conditions of the dual, y_i x_i . w = 1 where a_i > 0 and >= 1 where a_i = 0.
    a, w = res.x, Z.T @ res.x
    m = Z @ w
    assert np.all(a >= 0) and np.all(m >= 1 - 1e-6)
    assert np.all(np.abs(m[a > 1e-8] - 1) <= 1e-6)
    return w


def _lp(X: np.ndarray, y: np.ndarray, norm: str):
    """min ||w||_p s.t. y_i x_i . w >= 1 as an LP in z = (w, aux).

    l1: z = (w, u), min sum(u) with -u <= w <= u. linf: z = (w, t), min t with -t <= w_j <= t.
    """
    n, d = X.shape
    Z = y[:, None] * X
    eye = np.eye(d)
    if norm == "l1":
        c = np.r_[np.zeros(d), np.ones(d)]
        A = np.block([[-Z, np.zeros((n, d))], [eye, -eye], [-eye, -eye]])
    else:
        c = np.r_[np.zeros(d), 1.0]
        ones = np.ones((d, 1))
        A = np.block([[-Z, np.zeros((n, 1))], [eye, -ones], [-eye, -ones]])
    b = np.r_[-np.ones(n), np.zeros(2 * d)]
    bounds = [(None, None)] * len(c)
    res = so.linprog(c, A_ub=A, b_ub=b, bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return res, c, A, b, bounds


def _face_width(res, c, A, b, bounds, d: int) -> float:
    """How far w can move over the (near-)optimal face: for each coordinate, the range of w_j
    subject to the LP constraints and c.z <= opt (1 + 1e-9). Stronger than perturbing the
    objective: a width ~0 means the LP's w is unique."""
    A2 = np.vstack([A, c])
    b2 = np.r_[b, res.fun + 1e-9 * max(1.0, abs(res.fun))]
    width = 0.0
    for j in range(d):
        e = np.zeros(len(c))
        e[j] = 1.0
        lo = so.linprog(e, A_ub=A2, b_ub=b2, bounds=bounds, method="highs").fun
        hi = -so.linprog(-e, A_ub=A2, b_ub=b2, bounds=bounds, method="highs").fun
        width = max(width, hi - lo)
    return width


# ------------------------------------------------------------------ l2 against the SVM dual


@pytest.mark.parametrize(("seed", "d", "n"), DRAWS)
def test_l2_max_margin_matches_the_scipy_dual(seed, d, n):
    X, y, w_star = _separable_set(seed, d, n)
    ref = _svm_dual(X, y)
    mm = theory.max_margin(X, y, "l2")
    # Clarabel solves to ~1e-8 and L-BFGS-B on the dual to ~1e-8 here (measured 1e-11 ..
    # 2e-8 on these draws); 1e-5 leaves room for the looser of the two.
    np.testing.assert_allclose(mm.direction, ref / np.linalg.norm(ref), rtol=0, atol=1e-5)
    assert mm.margin == pytest.approx(1.0 / np.linalg.norm(ref), rel=1e-5)
    # The returned fields agree with each other and with the data.
    margins = y * (X @ mm.w)
    assert margins.min() == pytest.approx(1.0, abs=1e-6)
    assert mm.l2_margin == pytest.approx(mm.margin, rel=1e-6)
    assert mm.margin >= 0.1 - 1e-6  # w* separates with margin >= gap, the SVM does better
    np.testing.assert_array_equal(mm.support, np.flatnonzero(margins <= 1 + 1e-6))
    assert theory.normalized_margin(mm.w, X, y) == pytest.approx(mm.l2_margin, rel=1e-12)
    assert theory.normalized_margin(w_star, X, y) <= mm.l2_margin + 1e-7


# ------------------------------------------------------------------ l1, linf against HiGHS


@pytest.mark.parametrize("norm", ["l1", "linf"])
@pytest.mark.parametrize(("seed", "d", "n"), DRAWS)
def test_l1_linf_max_margin_match_highs(seed, d, n, norm):
    X, y, _ = _separable_set(seed, d, n)
    res, c, A, b, bounds = _lp(X, y, norm)
    mm = theory.max_margin(X, y, norm)
    # Both solvers reach ~1e-9 on the optimal value (measured <= 7e-9 relative).
    assert 1.0 / mm.margin == pytest.approx(res.fun, rel=1e-6)
    p = 1 if norm == "l1" else np.inf
    assert 1.0 / mm.margin == pytest.approx(np.linalg.norm(mm.w, ord=p), rel=1e-12)
    assert np.min(y * (X @ mm.w)) >= 1 - 1e-7
    # The direction is only defined where the LP solution is unique; every draw above has
    # a unique one (face width ~1e-8 from the 1e-9 objective slack, against O(1) for a
    # non-unique face), but a draw without would be skipped, not compared.
    if _face_width(res, c, A, b, bounds, d) > 1e-6:
        pytest.skip("the LP's optimal face is not a point: no unique direction to compare")
    w_lp = res.x[:d]
    np.testing.assert_allclose(mm.w, w_lp, rtol=0, atol=1e-6 * np.linalg.norm(w_lp))
    np.testing.assert_allclose(mm.direction, w_lp / np.linalg.norm(w_lp), rtol=0, atol=1e-6)


def test_face_width_detects_a_non_unique_lp():
    """The uniqueness check can fail: for one point (1, 1) the linf problem
    min t s.t. w1 + w2 >= 1, |w_j| <= t has the single solution (1/2, 1/2); the l1 problem
    min |w1| + |w2| has the whole segment w1 + w2 = 1, w >= 0."""
    X, y = np.array([[1.0, 1.0]]), np.array([1.0])
    assert _face_width(*_lp(X, y, "l1"), d=2) == pytest.approx(1.0, abs=1e-7)
    assert _face_width(*_lp(X, y, "linf"), d=2) < 1e-6


def test_lp_norms_order_the_margins():
    """||w||_inf <= ||w||_2 <= ||w||_1 pointwise, so the max margins order the other way
    round: gamma_1 <= gamma_2 <= gamma_inf."""
    X, y, _ = _separable_set(11, 4, 25)
    g1, g2, ginf = (theory.max_margin(X, y, p).margin for p in ("l1", "l2", "linf"))
    assert g1 <= g2 * (1 + 1e-7) and g2 <= ginf * (1 + 1e-7)
    assert g1 < g2 < ginf  # strict on this draw (measured ratios 0.5 and 0.6)


# ------------------------------------------------------------------ known answers

KNOWN_X = np.array([[1.0, 1.0], [-1.0, -1.0], [2.0, 3.0], [3.0, 2.0], [-2.0, -3.0], [-3.0, -2.0]])
KNOWN_Y = np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])


def test_l2_known_answer():
    """Every constraint reads w . (1,1) >= 1 or w . (2,3) >= 1 or w . (3,2) >= 1; the
    smallest w is (1/2, 1/2): direction (1,1)/sqrt 2, margin sqrt 2, support {0, 1}."""
    mm = theory.max_margin(KNOWN_X, KNOWN_Y, "l2")
    np.testing.assert_allclose(mm.direction, [2**-0.5, 2**-0.5], rtol=0, atol=1e-7)
    np.testing.assert_allclose(mm.w, [0.5, 0.5], rtol=0, atol=1e-7)
    assert mm.margin == pytest.approx(math.sqrt(2), rel=1e-7)
    assert mm.l2_margin == pytest.approx(math.sqrt(2), rel=1e-7)
    np.testing.assert_array_equal(mm.support, [0, 1])


def test_l1_linf_known_answer():
    """Same data: linf gives (1/2, 1/2) (norm 1/2); l1 gives ||w||_1 = 1 (any w >= 0 with
    w1 + w2 = 1 satisfies all constraints, since (2,3) and (3,2) dominate (1,1))."""
    linf = theory.max_margin(KNOWN_X, KNOWN_Y, "linf")
    np.testing.assert_allclose(linf.w, [0.5, 0.5], rtol=0, atol=1e-7)
    assert linf.margin == pytest.approx(2.0, rel=1e-7)
    l1 = theory.max_margin(KNOWN_X, KNOWN_Y, "l1")
    assert l1.margin == pytest.approx(1.0, rel=1e-7)
    assert np.all(l1.w >= -1e-8) and l1.w.sum() == pytest.approx(1.0, rel=1e-7)


def test_max_margin_rejects_bad_norm_and_non_separable_data():
    with pytest.raises(ValueError, match="`norm`"):
        theory.max_margin(KNOWN_X, KNOWN_Y, "l3")
    X = np.array([[1.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="not separable"):
        theory.max_margin(X, np.array([1.0, -1.0]), "l2")


# ------------------------------------------------------------------ bias, separability


def test_add_bias_makes_a_threshold_separable():
    """All points on the ray s (1, 1), s > 0, labelled by s < 2 vs s > 2: w . x = s w.(1,1)
    has one sign for all of them, so no homogeneous separator; with a constant feature,
    w = (1/2, 1/2, -2) separates (w . x = s - 2)."""
    s = np.array([0.5, 1.0, 1.5, 2.5, 3.0, 4.0])
    X = np.outer(s, [1.0, 1.0])
    y = np.where(s > 2, 1.0, -1.0)
    Xb = theory.add_bias(X)
    assert Xb.shape == (6, 3) and Xb.dtype == np.float64
    np.testing.assert_array_equal(Xb[:, :2], X)
    np.testing.assert_array_equal(Xb[:, 2], np.ones(6))
    without, with_bias = theory.separability(X, y), theory.separability(Xb, y)
    assert without.separable is False and without.margin <= 1e-7
    assert with_bias.separable is True
    assert np.all(y * (Xb @ with_bias.w) > 0)
    # By hand: with a = w1 + w2 and b = w3, the binding points s = 2.5 and s = 1.5 give
    # 2.5 a + b >= t and -1.5 a - b >= t, so t = a / 2 at b = -2a; |b| <= 1 caps a at 1/2:
    # t* = 1/4.
    assert with_bias.margin == pytest.approx(0.25, rel=1e-7)


@pytest.mark.parametrize(("seed", "d", "n"), DRAWS[:4])
def test_separability_on_separable_data(seed, d, n):
    X, y, _ = _separable_set(seed, d, n)
    sep = theory.separability(X, y)
    assert sep.separable is True and sep.margin > 0
    assert np.all(y * (X @ sep.w) > 0)
    assert np.max(np.abs(sep.w)) <= 1 + 1e-7
    assert sep.margin == pytest.approx(np.min(y * (X @ sep.w)), rel=1e-12)
    # The LP max t s.t. y_i x_i . w >= t, |w|_inf <= 1 is the linf max-margin problem
    # rescaled: t* = 1 / min ||w||_inf.
    assert sep.margin == pytest.approx(theory.max_margin(X, y, "linf").margin, rel=1e-6)


@pytest.mark.parametrize("case", ["xor", "duplicate"])
def test_separability_on_non_separable_data(case):
    if case == "xor":
        X = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
        y = np.array([1.0, 1.0, -1.0, -1.0])
    else:  # a separable set plus one point repeated with the opposite label
        X, y, _ = _separable_set(0, 3, 10)
        X, y = np.vstack([X, X[:1]]), np.r_[y, -y[:1]]
    sep = theory.separability(X, y)
    assert sep.separable is False
    # w = 0 always gives t = 0, and no w gives t > 0: the optimum is 0 up to the solver.
    assert abs(sep.margin) <= 1e-7


# ------------------------------------------------------------------ angles


def test_angle_degrees_is_accurate_near_zero():
    eps = 1e-9
    a, b = np.array([1.0, 0.0]), np.array([math.cos(eps), math.sin(eps)])
    exact = math.degrees(eps)  # 5.729577951308232e-08
    assert theory.angle_degrees(a, b) == pytest.approx(exact, rel=1e-6)
    # arccos of the cosine loses it entirely: this is what the atan2 form avoids.
    assert math.degrees(math.acos(min(1.0, a @ b / np.linalg.norm(b)))) == 0.0
    # Scaling does not matter.
    assert theory.angle_degrees(3 * a, 1e-3 * b) == pytest.approx(exact, rel=1e-6)


def test_angle_degrees_antipodal_orthogonal_and_symmetric():
    rs = np.random.RandomState(0)
    v = rs.randn(5)
    assert theory.angle_degrees(v, -2 * v) == pytest.approx(180.0, abs=1e-12)
    assert theory.angle_degrees(v, v) == pytest.approx(0.0, abs=1e-12)
    assert theory.angle_degrees([1.0, 0.0], [0.0, 2.0]) == pytest.approx(90.0, abs=1e-12)
    for _ in range(20):
        a, b = rs.randn(4), rs.randn(4)
        ua, ub = a / np.linalg.norm(a), b / np.linalg.norm(b)
        # Kahan's form, accurate everywhere: 2 atan2(|ua - ub|, |ua + ub|).
        ref = math.degrees(2 * math.atan2(np.linalg.norm(ua - ub), np.linalg.norm(ua + ub)))
        assert theory.angle_degrees(a, b) == pytest.approx(ref, rel=1e-12, abs=1e-12)
        assert theory.angle_degrees(a, b) == pytest.approx(
            theory.angle_degrees(b, a), rel=1e-13, abs=1e-13
        )
        # The JAX version used in the training loop (against a unit vector) agrees.
        assert float(cls.angle_to(jnp.asarray(a), jnp.asarray(ub))) == pytest.approx(
            ref, rel=1e-12, abs=1e-12
        )


def test_fit_against_recovers_a_line_and_reports_too_few_points():
    t = np.geomspace(10, 1e6, 50)
    angle = 5 / np.log(t) + 0.2
    fit = theory.fit_against(1 / np.log(t), angle)
    assert fit["a"] == pytest.approx(5.0, rel=1e-10)
    assert fit["b"] == pytest.approx(0.2, rel=1e-10)
    assert fit["r2"] == pytest.approx(1.0, abs=1e-12) and fit["points"] == 50
    noisy = angle + 0.01 * np.random.RandomState(0).randn(50)
    assert theory.fit_against(1 / np.log(t), noisy)["r2"] < 1 - 1e-6
    short = theory.fit_against([1.0, 2.0], [1.0, 2.0])
    assert math.isnan(short["a"]) and short["points"] == 2


# ------------------------------------------------------------------ losses


def _data(seed: int = 0, n: int = 12, d: int = 3):
    rs = np.random.RandomState(seed)
    X = rs.randn(n, d)
    y = np.where(rs.rand(n) < 0.5, 1.0, -1.0)
    return X, y, rs.randn(d)


def _stable_softplus_neg(m: np.ndarray) -> np.ndarray:
    """log(1 + e^{-m}) by cases: log1p(e^{-m}) for m >= 0, -m + log1p(e^{m}) for m < 0."""
    out = np.empty_like(m)
    pos = m >= 0
    out[pos] = np.log1p(np.exp(-m[pos]))
    out[~pos] = -m[~pos] + np.log1p(np.exp(m[~pos]))
    return out


def test_losses_match_numpy():
    X, y, w = _data()
    m = y * (X @ w)
    data = (jnp.asarray(X), jnp.asarray(y))
    wj = jnp.asarray(w)
    assert float(cls.exponential_mean(wj, data)) == pytest.approx(np.mean(np.exp(-m)), rel=1e-13)
    assert float(cls.exponential_sum(wj, data)) == pytest.approx(np.sum(np.exp(-m)), rel=1e-13)
    assert float(cls.logistic_mean(wj, data)) == pytest.approx(
        np.mean(np.log(1 + np.exp(-m))), rel=1e-13
    )
    assert float(cls.logistic_sum(wj, data)) == pytest.approx(
        np.sum(np.log(1 + np.exp(-m))), rel=1e-13
    )
    assert cls.LOSSES == {
        ("exponential", "mean"): cls.exponential_mean,
        ("exponential", "sum"): cls.exponential_sum,
        ("logistic", "mean"): cls.logistic_mean,
        ("logistic", "sum"): cls.logistic_sum,
    }


def test_logistic_losses_do_not_overflow_at_large_margins():
    # Margins up to +-2000 (e^{2000} overflows float64) with w = (1, 0).
    m_set = np.array([-2000.0, -800.0, -30.0, -1e-3, 0.0, 0.7, 30.0, 800.0, 2000.0])
    y = np.where(np.arange(9) % 2 == 0, 1.0, -1.0)
    X = np.c_[y * m_set, np.random.RandomState(1).randn(9)]
    w = np.array([1.0, 0.0])
    m = y * (X @ w)
    np.testing.assert_array_equal(m, m_set)
    ref = _stable_softplus_neg(m)
    assert np.all(np.isfinite(ref))
    data, wj = (jnp.asarray(X), jnp.asarray(y)), jnp.asarray(w)
    mean, total = float(cls.logistic_mean(wj, data)), float(cls.logistic_sum(wj, data))
    assert math.isfinite(mean) and math.isfinite(total)
    assert mean == pytest.approx(ref.mean(), rel=1e-13)
    assert total == pytest.approx(ref.sum(), rel=1e-13)
    grad = np.asarray(jax.grad(cls.logistic_mean)(wj, data))
    # d/dw log(1 + e^{-m}) = -sigmoid(-m) y x, with sigmoid(-m) = 1/(1 + e^{m}).
    sig = 0.5 * (1 - np.tanh(0.5 * m))
    ref_grad = -(X.T @ (sig * y)) / len(y)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=0)


def _grads(w, X, y):
    data, wj = (jnp.asarray(X), jnp.asarray(y)), jnp.asarray(w)
    return (
        np.asarray(jax.grad(cls.exponential_mean)(wj, data)),
        np.asarray(jax.grad(cls.exponential_shifted)(wj, data)),
    )


def _shifted_grad_numpy(w, X, y):
    m = y * (X @ w)
    return -(X.T @ (np.exp(-(m - m.min())) * y)) / len(y)


def test_exponential_shifted_has_the_direction_of_the_exponential_gradient():
    X, y, _ = _separable_set(3, 4, 20)
    w = theory.max_margin(X, y, "l2").w * 3.0 + 0.1 * np.random.RandomState(0).randn(4)
    m = y * (X @ w)
    assert 1 < m.min() < 10  # moderate margins: neither gradient underflows
    g_mean, g_shift = _grads(w, X, y)
    cosine = g_mean @ g_shift / (np.linalg.norm(g_mean) * np.linalg.norm(g_shift))
    assert cosine >= 1 - 1e-12
    # More precisely, the shifted gradient is e^{m_min} times the other.
    np.testing.assert_allclose(g_shift, np.exp(m.min()) * g_mean, rtol=1e-12, atol=0)
    np.testing.assert_allclose(g_shift, _shifted_grad_numpy(w, X, y), rtol=1e-12, atol=0)
    # Its value: mean of e^{-(m - m_min)}, at least 1/n (the minimizing example gives 1).
    value = float(cls.exponential_shifted(jnp.asarray(w), (jnp.asarray(X), jnp.asarray(y))))
    assert value == pytest.approx(np.mean(np.exp(-(m - m.min()))), rel=1e-13)
    assert value >= 1 / len(y)


def test_exponential_shifted_does_not_underflow_at_large_margins():
    X, y, _ = _separable_set(3, 4, 20)
    w_hat = theory.max_margin(X, y, "l2").w
    w = 2000.0 * w_hat  # min margin 2000: e^{-2000} is 0 in float64
    m = y * (X @ w)
    assert m.min() == pytest.approx(2000.0, rel=1e-6)
    g_mean, g_shift = _grads(w, X, y)
    assert np.all(g_mean == 0.0)  # the plain exponential gradient underflows exactly
    assert np.all(np.isfinite(g_shift)) and np.linalg.norm(g_shift) > 0.01
    np.testing.assert_allclose(g_shift, _shifted_grad_numpy(w, X, y), rtol=1e-12, atol=1e-300)
    # At the SVM solution the direction points along -(sum over support vectors of y x):
    # positive alignment with w_hat (a descent direction increases every support margin).
    assert -g_shift @ w_hat > 0


def test_margin_metrics_match_numpy():
    X, y, _ = _separable_set(5, 3, 16)
    mm = theory.max_margin(X, y, "l2")
    w = mm.w + 0.3 * np.random.RandomState(1).randn(3)
    aux = {"direction": jnp.asarray(mm.direction), "gamma": jnp.asarray(mm.l2_margin)}
    out = cls.margin_metrics(jnp.asarray(w), (jnp.asarray(X), jnp.asarray(y)), aux)
    assert float(out["angle"]) == pytest.approx(theory.angle_degrees(w, mm.direction), rel=1e-12)
    assert float(out["norm"]) == pytest.approx(np.linalg.norm(w), rel=1e-14)
    assert float(out["gap"]) == pytest.approx(
        mm.l2_margin - np.min(y * (X @ w)) / np.linalg.norm(w), rel=1e-12
    )
    assert float(out["gap"]) > 0  # w is not the max-margin direction
