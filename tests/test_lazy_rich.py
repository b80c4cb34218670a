"""The lazy-rich experiment, measured: the tangent-kernel reference against a hand-written
NumPy Jacobian and finite differences, the kernel interpolator against the pseudo-inverse
of the linearized model, and the smoke run's 1/alpha law and kernel limit."""

from __future__ import annotations

import numpy as np
import pytest

from implicitbias import lab
from implicitbias._precision import precision
from implicitbias.errors import ConfigError
from implicitbias.experiments import lazy_rich as lr


def _tiny(seed=0, m=3, d=2, n=4):
    rng = np.random.default_rng(seed)
    params = {"W": rng.standard_normal((m, d)), "a": rng.standard_normal(m)}
    return params, rng.standard_normal((n, d))


def _numpy_jacobian(params, X):
    """d f / d(W, a) of f(x) = m^-1/2 sum_i a_i tanh(W_i x / sqrt d), by hand, in the
    order of ravel_pytree ("W" row-major, then "a")."""
    W, a = params["W"], params["a"]
    m, d = W.shape
    t = np.tanh(X @ W.T / np.sqrt(d))  # (n, m)
    dW = (a * (1 - t**2))[:, :, None] * X[:, None, :] / np.sqrt(d * m)  # (n, m, d)
    da = t / np.sqrt(m)
    return np.concatenate([dW.reshape(len(X), -1), da], axis=1)


def test_jacobian_matches_a_hand_written_numpy_jacobian():
    params, X = _tiny()
    with precision(True):
        J = lr.jacobian(params, X, "tanh")
    np.testing.assert_allclose(J, _numpy_jacobian(params, X), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_jacobian_matches_central_differences(activation):
    params, X = _tiny(seed=1, m=4, d=3, n=5)
    flat = np.concatenate([params["W"].ravel(), params["a"]])

    def f(v):
        p = {"W": v[:12].reshape(4, 3), "a": v[12:]}
        return np.asarray(lr.network(p, X, activation))

    h = 1e-6
    fd = np.stack([(f(flat + h * e) - f(flat - h * e)) / (2 * h) for e in np.eye(flat.size)], 1)
    with precision(True):
        J = lr.jacobian(params, X, activation)
    # Central differences: error O(h^2) ~ 1e-12 plus round-off ~ 1e-16 / h = 1e-10; no
    # preactivation of this draw lies within h of the ReLU kink.
    np.testing.assert_allclose(J, fd, atol=1e-8)


def test_kernel_interpolator_is_the_min_norm_solution_of_the_linearized_model():
    """K(x, X) K^-1 y equals J_test pinv(J) y (the min-norm Delta w with J Delta w = y, by
    NumPy's SVD), and it interpolates the training targets."""
    params, X = _tiny(seed=2, m=6, d=3, n=5)
    X_test = np.random.default_rng(3).standard_normal((7, 3))
    y = np.random.default_rng(4).standard_normal(5)
    with precision(True):
        J, J_test = lr.jacobian(params, X), lr.jacobian(params, X_test)
    ref = lr.kernel_regression(J, J_test, y)
    delta = np.linalg.pinv(J) @ y
    np.testing.assert_allclose(ref["predictions"], J_test @ delta, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(J @ (J.T @ ref["coef"]), y, atol=1e-10)
    assert ref["weight_norm"] == pytest.approx(np.linalg.norm(delta), rel=1e-9)
    assert ref["rkhs_norm"] == pytest.approx(np.linalg.norm(delta), rel=1e-9)
    assert ref["train_residual"] < 1e-12


def test_centered_loss_is_the_scaled_square_loss():
    """L_alpha(w) = (1/alpha^2) (1/2n) ||alpha (f(w) - f(w0)) - y||^2, written out."""
    params, X = _tiny(seed=5)
    w0, _ = _tiny(seed=6)
    y = np.arange(len(X), dtype=float)
    with precision(True):
        f = np.asarray(lr.network(params, X))
        f0 = np.asarray(lr.network(w0, X))
        for alpha in (0.1, 3.0):
            data = {"X": X, "y": y, "f0": f0, "alpha": alpha}
            expect = np.sum((alpha * (f - f0) - y) ** 2) / (2 * len(X)) / alpha**2
            assert float(lr.centered_loss(params, data)) == pytest.approx(expect, rel=1e-12)


def test_config_rejects_an_underparameterized_student_and_an_empty_fit_range():
    with pytest.raises(ConfigError, match="width"):
        lr.LazyRichConfig.make("smoke", {"n": 500})
    with pytest.raises(ConfigError, match="fit_alpha_min"):
        lr.LazyRichConfig.make("smoke", {"fit_alpha_min": 250.0})


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return lab.run("lazy-rich", "smoke", out=tmp_path_factory.mktemp("runs"))


def test_smoke_weights_move_like_one_over_alpha(smoke):
    slopes = np.asarray(smoke.get("sweep.weight_change_slope"))
    # Lab's tolerance 0.05 (see the claim); the smoke run measures |slope + 1| ~ 2e-3.
    assert np.all(np.abs(slopes + 1) <= 0.05), slopes
    change = smoke.arrays["relative_weight_change"]
    assert np.all(np.diff(change, axis=1) < 0)  # falls at every alpha step
    # alpha ||w_T - w0|| -> ||J0^T K^-1 y||, the kernel solve's minimal displacement.
    ratio = np.asarray(smoke.get("sweep.alpha_times_weight_change_over_kernel_prediction"))
    np.testing.assert_allclose(ratio, 1.0, atol=1e-2)


def test_smoke_approaches_the_tangent_kernel_predictor(smoke):
    dist = smoke.arrays["kernel_distance"]
    assert np.all(np.diff(dist, axis=1) < 0), dist
    assert np.all(dist[:, -1] <= 1e-2), dist[:, -1]
    # The lazy member's test error is the kernel's (the kernel limit in one number).
    err = smoke.arrays["test_error"][:, -1]
    np.testing.assert_allclose(err, smoke.arrays["kernel_test_error"], rtol=1e-2)
    assert np.all(np.asarray(smoke.get("sweep.train_residual_max")) <= 1e-6)
    # Rich end: the weights move by more than their init norm, far from the kernel.
    assert np.all(np.asarray(smoke.get("sweep.relative_weight_change_at_smallest_alpha")) > 1)
    assert np.all(dist[:, 0] > 0.1)


def test_every_alpha_shares_its_draws_init_and_runs_in_one_batch(smoke):
    """One engine call for the whole sweep (draws x alphas members)."""
    runs = smoke.meta.get("engine", [])
    cfg = lr.LazyRichConfig.make("smoke")
    assert len(runs) == 1
    assert runs[0]["members"] == cfg.draws * cfg.num_alphas


def test_claims_are_not_applicable_to_other_optimizers():
    cfg = lr.LazyRichConfig.make("smoke", {"optimizer": "adam"})
    assert not any(c.applicable(cfg) for c in lr.CLAIMS)
    assert all(c.applicable(lr.LazyRichConfig.make("smoke")) for c in lr.CLAIMS)
