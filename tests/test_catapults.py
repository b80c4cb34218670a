"""The catapults experiment, measured: the NTK top eigenvalue against a hand-written NumPy
Jacobian and central differences, the uv model's one-step update against its closed form,
and the regime boundaries of the smoke run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from implicitbias import lab
from implicitbias._precision import precision
from implicitbias.experiments import catapults as cat
from implicitbias.experiments.catapults.sweep import bracket, classify, outside


def _tiny(seed=0, m=5, d=3, n=4):
    rng = np.random.default_rng(seed)
    params = {"U": rng.standard_normal((m, d)), "v": rng.standard_normal(m)}
    return params, rng.standard_normal((n, d))


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_ntk_top_matches_a_hand_written_numpy_jacobian(activation):
    params, X = _tiny()
    J = cat.numpy_jacobian(params, X, activation)
    expected = np.linalg.eigvalsh(J @ J.T)[-1] / len(X)
    with precision(True):
        got = cat.ntk_top(params, X, activation)
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_hand_written_jacobian_matches_central_differences(activation):
    params, X = _tiny(seed=1)
    m, d = params["U"].shape
    flat = np.concatenate([params["U"].ravel(), params["v"]])

    def f(w):
        return np.asarray(
            cat.network({"U": w[: m * d].reshape(m, d), "v": w[m * d :]}, X, activation)
        )

    h = 1e-6
    with precision(True):
        fd = np.stack(
            [(f(flat + h * e) - f(flat - h * e)) / (2 * h) for e in np.eye(flat.size)], axis=1
        )
    # Central differences: O(h^2) ~ 1e-12 plus round-off ~ 1e-16 / h = 1e-10; no
    # preactivation of this draw lies within h of the ReLU kink.
    np.testing.assert_allclose(cat.numpy_jacobian(params, X, activation), fd, atol=1e-8)


def test_ntk_eigenvalue_is_the_gauss_newton_top_eigenvalue_of_the_mean_loss():
    """lambda = lambda_max(J J^T)/n is the top eigenvalue of J^T J / n, the loss Hessian at a
    point where f = y (checked by finite differences of the gradient at such a point)."""
    import jax
    from jax.flatten_util import ravel_pytree

    params, X = _tiny(seed=2, m=6, d=2, n=3)
    with precision(True):
        y = np.asarray(cat.network(params, X, "linear"))  # interpolated: residual 0
        flat, unravel = ravel_pytree(params)

        def loss(w):
            return cat.square_loss(unravel(w), {"X": X, "y": y}, "linear")

        H = np.asarray(jax.hessian(loss)(flat))
        lam = cat.ntk_top(params, X, "linear")
    assert np.linalg.eigvalsh(H)[-1] == pytest.approx(lam, rel=1e-10)


def test_uv_one_step_update_matches_its_closed_form():
    """f' = f (1 - eta lambda + eta^2 f^2 / m) and lambda' = lambda + (eta f^2/m)(eta lambda
    - 4) for f = v.u / sqrt(m), L = f^2 / 2 (the derivation in model.py)."""
    import jax

    rng = np.random.default_rng(3)
    m, eta = 50, 0.7
    params = {"U": rng.standard_normal((m, 1)), "v": rng.standard_normal(m)}
    data = {"X": np.ones((1, 1)), "y": np.zeros(1)}
    with precision(True):
        g = jax.grad(cat.square_loss)(params, data, "linear")
        new = {k: params[k] - eta * np.asarray(g[k]) for k in params}
        f, f_new = (float(cat.network(p, data["X"], "linear")[0]) for p in (params, new))
        lam, lam_new = (cat.ntk_top(p, data["X"], "linear") for p in (params, new))
    assert f_new == pytest.approx(f * (1 - eta * lam + eta**2 * f**2 / m), rel=1e-12)
    assert lam_new == pytest.approx(lam + eta * f**2 / m * (eta * lam - 4), rel=1e-12)


def test_classify_and_brackets():
    loss = np.array([[1.0, 1.0, 1.0, 1.0], [0.5, 2.0, 5.0, np.nan], [0.1, 1e-12, 9.0, 1.0]])
    flags = classify(loss, converged_tol=1e-8)
    assert flags["spiked"].tolist() == [False, True, True, True]
    assert flags["monotone"].tolist() == [True, False, False, False]
    assert flags["converged"].tolist() == [False, True, False, False]
    assert flags["diverged"].tolist() == [False, False, True, True]
    cs = np.array([0.5, 0.9, 1.1, 2.5])
    assert bracket(cs, flags["spiked"]) == (0.5, 0.9)
    assert bracket(cs, np.zeros(4, bool)) == (pytest.approx(np.nan, nan_ok=True),) * 2
    assert outside(1.0, 0.9, 1.1) == 0.0
    assert outside(1.0, 1.1, 1.2) == pytest.approx(np.log(1.1))
    assert outside(1.0, np.nan, 0.9) == np.inf


@pytest.fixture(scope="module")
def smoke():
    return lab.run("catapults", preset="smoke")


def test_smoke_regime_boundaries(smoke):
    """The smoke run (2 draws, grid ratio 1.24 in c): the spike starts in the grid cell that
    holds c = 1 for the network and the uv model, the uv model diverges in the cell holding
    c = 2 (eta_max = 4/lambda_0), and the regimes come in order."""
    cs = np.asarray(smoke.get("problem.cs"))
    ratio = cs[1] / cs[0]
    for lo, hi in smoke.get("network.spike_bracket"):
        assert lo < 1.0 < hi and hi / lo == pytest.approx(ratio)
    assert smoke.get("uv.spike_outside_critical") == [0.0, 0.0]
    assert smoke.get("uv.diverge_outside_4") == [0.0, 0.0]
    assert smoke.get("network.out_of_order") == [0, 0]
    assert smoke.get("uv.out_of_order") == [0, 0]
    # The ReLU network's eta_max lies above 4/lambda_0 on this setting (refuted claim).
    assert min(smoke.get("network.diverge_boundary")) > 2.0


def test_smoke_lazy_and_catapult_members(smoke):
    below = smoke.arrays["cs"] < 1.0
    spiked = smoke.arrays["network_spiked"].astype(bool)
    assert not spiked[:, below].any()
    assert max(smoke.get("network.lazy_ntk_change_max")) <= 0.1
    cat_members = smoke.arrays["network_converged"].astype(bool) & spiked
    ratio = smoke.arrays["network_eta_lambda_T_over_2"][cat_members]
    assert cat_members.sum() >= 2 and np.all(ratio <= 1.0)
    # lambda_T below 2/eta means the NTK fell by at least 1 - 1/c in a catapult member.
    c = np.broadcast_to(smoke.arrays["cs"], cat_members.shape)[cat_members]
    drop = -smoke.arrays["network_ntk_change"][cat_members]
    assert np.all(drop >= 1 - 1 / c - 1e-12)
    outcomes = {o["id"].split("/")[1]: o for o in smoke.claims}
    assert outcomes["uv-max-4-over-lambda0"]["holds"]
    assert outcomes["ntk-matches-hand-jacobian"]["holds"]
    assert not outcomes["network-max-4-over-lambda0"]["holds"]


def test_one_batched_run_per_sweep(smoke):
    """Every (draw, eta) is a member of one run: the loss arrays hold them all, logged at
    every step, and the first logged loss is the same across the etas of a draw (one init)."""
    loss = smoke.arrays["network_loss"]
    assert loss.shape[1:] == (2, 14)
    assert loss.shape[0] == smoke.get("problem.steps") + 1
    np.testing.assert_allclose(loss[0], loss[0, :, :1] * np.ones((1, 14)), rtol=0)


def test_config_rejects_an_empty_grid():
    from implicitbias.errors import ConfigError

    with pytest.raises(ConfigError, match="c_min"):
        dataclasses.replace(cat.CatapultsConfig(), c_min=9.0).validate()
