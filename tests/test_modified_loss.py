"""The modified-loss experiment, measured: the RK4 integrator against the matrix
exponential and against the lab's gradient-flow solver, the modified-loss gradient against
finite differences, the engine's GD against a direct iteration, the fit helpers on exact
power laws, and the orders in h on the smoke preset."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

from implicitbias._precision import precision
from implicitbias.experiments import modified_loss as ml
from implicitbias.experiments.modified_loss import problem
from implicitbias.theory.gradient_flow import rk4_flow


@pytest.fixture(scope="module")
def small():
    """A 6-example, 2-input problem and a width-5 init (P = 20 parameters)."""
    data = problem.teacher_data(6, 2, 3, 2.0, seed=4)
    return data, problem.initial_params(2, 5, 1.0, seed=4)


@pytest.fixture(scope="module")
def smoke():
    with precision(True):
        return ml.run(ml.ModifiedLossConfig.make("smoke"))


def test_rk4_matches_the_matrix_exponential_on_a_quadratic():
    """Linear flow x' = -A x (the gradient flow of x^T A x / 2): x(t) = exp(-tA) x0."""
    rng = np.random.default_rng(0)
    B = rng.normal(size=(5, 5))
    A = B @ B.T / 5 + 0.1 * np.eye(5)
    x0 = rng.normal(size=5)
    with precision(True):
        x, path = ml.rk4_solve(
            lambda z: -jnp.asarray(A) @ z, jnp.asarray(x0), dt=0.01, records=4, every=50
        )
    for j, t in enumerate(0.5 * np.arange(5)):
        # RK4's global error is O(dt^4) = 1e-8 times the solution's 4th derivative (|A|^4 ~ 10)
        np.testing.assert_allclose(np.asarray(path[j]), expm(-t * A) @ x0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.asarray(x), expm(-2.0 * A) @ x0, rtol=0, atol=1e-9)


def test_plain_flow_matches_the_lab_gradient_flow_solver(small):
    """h = 0 is gradient flow of L: its losses equal those of theory.gradient_flow.rk4_flow
    (the same RK4 step, a separate implementation), at every record."""
    data, theta0 = small
    with precision(True):
        flows = ml.modified_flows(theta0, data, np.array([0.0]), horizon=1.0, records=10, every=20)
        _, losses, _, _ = rk4_flow(
            lambda t: problem.loss(t, data),
            jnp.asarray(theta0),
            h=1.0 / 200,
            horizon=1.0,
            every=20,
            iters=2,
            key=jax.random.PRNGKey(0),
        )
    np.testing.assert_allclose(flows["loss"][0], losses[::20], rtol=1e-12, atol=0)


def test_modified_gradient_matches_finite_differences(small):
    """grad(L + h/4 ||grad L||^2) = grad L + h/2 H grad L, against central differences of
    the modified loss (step 1e-6: truncation ~1e-12, round-off ~1e-10 relative)."""
    data, theta0 = small
    h, eps = 0.3, 1e-6
    with precision(True):
        theta = jnp.asarray(theta0)
        analytic = np.asarray(problem.modified_gradient(theta, data, h))
        autodiff = np.asarray(jax.grad(problem.modified_loss)(theta, data, h))
        basis = np.eye(theta0.size)
        fd = np.array(
            [
                (
                    problem.modified_loss(theta + eps * e, data, h)
                    - problem.modified_loss(theta - eps * e, data, h)
                )
                / (2 * eps)
                for e in basis
            ]
        )
    np.testing.assert_allclose(analytic, autodiff, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(analytic, fd, rtol=1e-6, atol=1e-9)
    # h = 0 is the plain gradient
    with precision(True):
        plain = np.asarray(problem.modified_gradient(theta, data, 0.0))
        np.testing.assert_allclose(
            plain, np.asarray(jax.grad(problem.loss)(theta, data)), rtol=1e-14, atol=0
        )


def test_power_fit_recovers_an_exact_power_law():
    hs = 0.1 / 2.0 ** np.arange(6)
    fit = ml.power_fit(hs, 3.0 * hs**2)
    assert fit["slope"] == pytest.approx(2.0, abs=1e-12)
    assert fit["intercept"] == pytest.approx(np.log(3.0), abs=1e-12)
    assert fit["r2"] == pytest.approx(1.0, abs=1e-12)


def test_same_loss_ratio_interpolates_the_flow_curve():
    flow_loss = np.array([1.0, 0.5, 0.25])  # decreasing along the flow
    flow_norm = np.array([4.0, 2.0, 1.0])
    ratio = ml.same_loss_ratio(
        np.array([0.75, 0.3, 0.1]), np.array([1.5, 1.2, 9.0]), flow_loss, flow_norm
    )
    np.testing.assert_allclose(ratio, [1.5 / 3.0, 1.2 / 1.2])  # 0.1 is outside: dropped


def test_engine_gd_matches_direct_iteration(smoke):
    """The batched engine run read at k_j equals theta <- theta - h grad L iterated k_j
    times (the largest and the smallest h of the smoke preset)."""
    data = (smoke.arrays["X"], smoke.arrays["y"])
    grad = jax.jit(jax.grad(problem.loss))
    for j in (0, len(smoke.arrays["hs"]) - 1):
        h, k = float(smoke.arrays["hs"][j]), int(smoke.arrays["step_counts"][j])
        with precision(True):
            theta = jnp.asarray(smoke.arrays["theta0"])
            for _ in range(k):
                theta = theta - h * grad(theta, data)
        np.testing.assert_allclose(
            smoke.arrays["theta_gd"][j], np.asarray(theta), rtol=0, atol=1e-12
        )


def test_smoke_orders_in_h(smoke):
    """On the smoke preset: GD is O(h) from gradient flow and O(h^2) from the modified flow,
    closer to the modified flow at every h; the claims' tolerance 0.1 on the slopes."""
    dist = smoke.scalars["distance"]
    assert abs(dist["slope_plain"] - 1.0) <= 0.1
    assert abs(dist["slope_modified"] - 2.0) <= 0.1
    assert dist["min_r2"] >= 0.99
    assert dist["min_ratio_plain_to_modified"] > 1.0
    assert dist["rk4_error_over_smallest_distance"] <= 0.01
    assert smoke.scalars["gradient_norm"]["compared_points"] > 0


def test_claims_are_not_applicable_to_other_optimizers():
    cfg = ml.ModifiedLossConfig.make("smoke", {"optimizer": "adam"})
    gd = ml.ModifiedLossConfig.make("smoke")
    for claim in ml.CLAIMS:
        assert claim.applicable(gd)
        if claim.id != "modified-loss/rk4-converged":
            assert not claim.applicable(cfg), claim.id
