"""Tests of p-norm GD (mirror descent), spectral descent and the Bregman reference.

p-norm GD is checked against the interpolator that theory says it picks (Gunasekar et al.
2018, section 2.1: the Bregman-closest interpolator), computed by cvxpy in
:mod:`implicitbias.theory.bregman`; spectral descent against NumPy's SVD. The convergence
battery over every registered optimizer is in ``test_optim.py``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from implicitbias import engine, theory
from implicitbias.optim import (
    OPTIMIZERS,
    gd,
    pnorm_gd,
    pnorm_mirror_step,
    scale_by_spectral,
    spectral_direction,
    spectral_gd,
)
from implicitbias.optim.mirror import pnorm_inverse_map, pnorm_mirror_map
from implicitbias.problems.linear import least_squares
from implicitbias.theory import bregman

jax.config.update("jax_enable_x64", True)

N, D = 8, 20


def _problem(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(N, D)), rng.normal(size=N)
    return X, y, 0.5 * rng.normal(size=D)


X, Y, W0 = _problem()


def _train(inits: np.ndarray, optimizer, hparams: dict, steps: int) -> np.ndarray:
    traj = engine.train(
        least_squares,
        inits,
        optimizer,
        steps=steps,
        data=(X, Y),
        hparams=hparams,
        num_logs=2,
        num_chunks=1,
        progress=False,
    )
    return np.asarray(traj.params)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# --------------------------------------------------------------------------- p-norm GD


def test_registered():
    assert OPTIMIZERS["pnorm_gd"] is pnorm_gd
    assert OPTIMIZERS["spectral_gd"] is spectral_gd


def test_pnorm_gd_reaches_the_bregman_interpolator():
    """From 0 (min-l_p) and from w0 (Bregman-closest), p = 3 and p = 1.5, in one batch.

    Steps: eta = 0.01 for p = 3 (0.1 does not converge here: psi is flat near 0, so small
    coordinates take large primal steps) and 0.1 for p = 1.5 (at 0.03 the coordinates near
    0, where psi is steep, are still 5e-8 off after 6000 steps). Measured after 6000 steps:
    relative distances 8e-15 and 1e-11 (p = 3, from 0 and from w0), 2e-14 and 7e-15
    (p = 1.5); tolerance 1e-9. The references are 0.2-0.6 (relative) from the Euclidean
    closest interpolators, and the min-l3 and min-l1.5 ones 0.48 apart.
    """
    ps = np.array([3.0, 3.0, 1.5, 1.5])
    inits = np.stack([np.zeros(D), W0, np.zeros(D), W0])
    lrs = np.array([0.01, 0.01, 0.1, 0.1])
    final = _train(inits, pnorm_gd, {"learning_rate": lrs, "p": ps}, 6000)
    l2 = theory.min_norm_solution(X, Y)
    for w, p, w0 in zip(final, ps, inits, strict=True):
        ref = bregman.closest_bregman_interpolator(X, Y, p, w0)
        assert ref.kkt < 1e-10 and ref.residual < 1e-12
        assert _rel(w, ref.w) < 1e-9, (p, np.any(w0), _rel(w, ref.w))
        # the comparison means something: the references differ from GD's answer
        assert _rel(ref.w, theory.closest_interpolator(X, Y, w0)) > 0.1
    assert _rel(final[0], l2) > 0.1
    assert _rel(final[0], final[2]) > 0.1


def test_pnorm_gd_keeps_the_dual_iterate_in_the_row_space():
    """grad psi(w_t) - grad psi(w0) stays in row(X) at every step, converged or not."""
    inits = np.stack([W0, W0])
    ps = np.array([3.0, 1.5])
    for steps in (1, 7, 40):
        final = _train(inits, pnorm_gd, {"learning_rate": np.array([0.01, 0.1]), "p": ps}, steps)
        for w, p in zip(final, ps, strict=True):
            assert bregman.kkt_residual(X, w, W0, p) < 1e-12


def test_pnorm_gd_with_p2_is_gd():
    """psi = |w|^2 / 2: both maps are the identity. The update ``(w - eta g) - w`` may round
    differently from ``-eta g`` (relative 1e-16 per step; measured: bit-identical over these
    300 steps), so the test allows 1e-12."""
    inits = np.stack([np.zeros(D), W0])
    lr = {"learning_rate": np.array([0.05, 0.05])}
    w_gd = _train(inits, gd, lr, 300)
    w_p2 = _train(inits, pnorm_gd, {**lr, "p": np.array([2.0, 2.0])}, 300)
    np.testing.assert_allclose(w_p2, w_gd, rtol=1e-12, atol=1e-14)
    # and one step with a concrete p = 2.0
    g = np.linspace(-1, 1, D)
    tx = pnorm_gd(0.1, p=2.0)
    update, _ = tx.update(g, tx.init(W0), W0)
    np.testing.assert_allclose(W0 + update, W0 - 0.1 * g, rtol=0, atol=1e-15)


def test_pnorm_step_by_hand():
    w, g = np.array([2.0, -1.0, 0.0]), np.array([1.0, -2.0, 3.0])
    tx = pnorm_gd(0.5, p=3.0)
    update, _ = tx.update(g, tx.init(w), w)
    z = np.sign(w) * w**2 - 0.5 * g  # [3.5, 0, -1.5]
    expected = np.sign(z) * np.sqrt(np.abs(z))
    np.testing.assert_allclose(w + update, expected, rtol=1e-15)


def test_mirror_step_needs_params():
    tx = pnorm_mirror_step(3.0)
    with pytest.raises(ValueError, match="parameters"):
        tx.update(jnp.ones(3), tx.init(jnp.ones(3)))


def test_pnorm_gd_schedule_is_used():
    """With the 'increasing' schedule the dual step grows: eta_t = eta (1 + t)."""
    tx = pnorm_gd(0.5, p=3.0, schedule="increasing")
    w, state = jnp.zeros(1), tx.init(jnp.zeros(1))
    duals = []
    for _ in range(3):
        update, state = tx.update(jnp.ones(1), state, w)
        w = w + update
        duals.append(float(pnorm_mirror_map(w, 3.0)[0]))
    np.testing.assert_allclose(duals, [-0.5, -1.5, -3.0], rtol=1e-14)


_p = st.floats(1.2, 6.0)
# |x| in [1e-6, 50] or 0: far below 1e-6 the maps under- or overflow (|z|^(1/(p-1)) with
# p = 1.2 raises to the 5th power), which is float64's range, not an error of the maps.
_x = st.one_of(
    st.just(0.0),
    st.builds(lambda m, s: s * m, st.floats(1e-6, 50.0), st.sampled_from([-1.0, 1.0])),
)


@settings(max_examples=60, deadline=None)
@given(p=_p, xs=st.lists(_x, min_size=1, max_size=6))
def test_mirror_map_and_inverse_are_inverses(p, xs):
    x = jnp.asarray(xs, dtype=jnp.float64)
    np.testing.assert_allclose(pnorm_inverse_map(pnorm_mirror_map(x, p), p), x, rtol=1e-11)
    np.testing.assert_allclose(pnorm_mirror_map(pnorm_inverse_map(x, p), p), x, rtol=1e-11)
    # the NumPy maps of the reference agree with the JAX maps of the optimizer
    np.testing.assert_allclose(bregman.mirror_map(xs, p), pnorm_mirror_map(x, p), rtol=1e-14)


@settings(max_examples=40, deadline=None)
@given(p=_p, a=st.lists(_x, min_size=3, max_size=3), b=st.lists(_x, min_size=3, max_size=3))
def test_bregman_divergence_is_nonnegative(p, a, b):
    assert bregman.bregman_divergence(a, b, p) >= -1e-9 * (1 + bregman.potential(a, p))
    assert bregman.bregman_divergence(a, a, p) == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------- the reference


@pytest.mark.parametrize("p", [1.5, 2.0, 3.0, 4.0])
@pytest.mark.parametrize("from_w0", [False, True])
def test_bregman_reference_is_optimal(p, from_w0):
    """KKT holds, and every feasible move along the null space increases D_psi."""
    w0 = W0 if from_w0 else np.zeros(D)
    ref = bregman.closest_bregman_interpolator(X, Y, p, w0)
    assert ref.residual < 1e-12
    assert ref.kkt < 1e-8  # cvxpy alone reaches ~1e-5; the polish ~1e-15
    assert ref.kkt <= max(ref.kkt_cvxpy, 1e-14)
    null = theory.null_projector(X)
    rng = np.random.default_rng(0)
    for _ in range(20):
        move = null @ rng.normal(size=D)
        for t in (1e-3, 1e-1):
            other = ref.w + t * move / np.linalg.norm(move)
            assert bregman.bregman_divergence(other, w0, p) > ref.divergence
    if p == 2.0:  # D_psi = |w - w0|^2 / 2: the Euclidean closest interpolator
        np.testing.assert_allclose(ref.w, theory.closest_interpolator(X, Y, w0), atol=1e-12)


def test_bregman_reference_rejects_bad_input():
    with pytest.raises(ValueError, match="p"):
        bregman.min_lp_interpolator(X, Y, 1.0)
    with pytest.raises(ValueError, match="shape|expected"):
        bregman.min_lp_interpolator(X, Y[:3], 3.0)


# --------------------------------------------------------------------------- spectral


def _numpy_polar(m: np.ndarray) -> tuple[np.ndarray, float]:
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    return u @ vt, float(s.sum())


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
@pytest.mark.parametrize("normalized", [True, False])
def test_spectral_direction_is_polar_factor(shape, normalized):
    g = np.random.default_rng(sum(shape)).normal(size=shape)
    polar, nuclear = _numpy_polar(g)
    expected = polar if normalized else nuclear * polar
    tx = spectral_gd(0.1, normalized=normalized)
    update, _ = tx.update({"w": g}, tx.init({"w": g}))
    np.testing.assert_allclose(update["w"], -0.1 * expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(1, 6), (6, 1), (6,)])
def test_spectral_vector_leaf_is_normalized_gd(shape):
    """A 1 x n, n x 1 or (n,) leaf: direction g / |g|_2; unnormalized step g (GD)."""
    g = np.random.default_rng(3).normal(size=shape)
    unit = spectral_direction({"g": g})["g"]
    np.testing.assert_allclose(unit, g / np.linalg.norm(g), rtol=1e-13)
    full = spectral_direction({"g": g}, normalized=False)["g"]
    np.testing.assert_allclose(full, g, rtol=1e-13)


def test_spectral_scalar_and_tensor_leaves():
    g = np.random.default_rng(4).normal(size=(2, 3, 4))
    out = spectral_direction({"s": np.array(-2.5), "t": g})
    assert float(out["s"]) == -1.0
    polar, _ = _numpy_polar(g.reshape(2, 12))
    np.testing.assert_allclose(out["t"], polar.reshape(2, 3, 4), rtol=1e-12, atol=1e-14)


def test_spectral_rank_deficient_and_zero():
    a, b = np.array([1.0, -2.0, 2.0, 0.0]), np.array([3.0, 0.0, 4.0])
    out = spectral_direction({"r": np.outer(a, b), "z": np.zeros((3, 2))})
    np.testing.assert_allclose(out["r"], np.outer(a, b) / 15.0, atol=1e-14)  # |a| |b| = 15
    assert np.all(np.asarray(out["z"]) == 0.0)


def test_spectral_zero_gradient_under_jit_is_finite():
    tx = spectral_gd(0.1)
    zero = {"w": jnp.zeros((3, 3)), "b": jnp.zeros(3)}
    out = jax.jit(lambda g: tx.update(g, tx.init(g))[0])(zero)
    for leaf in jax.tree.leaves(out):
        assert np.all(np.asarray(leaf) == 0.0)


_entries = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 4),
    cols=st.integers(1, 4),
    data=st.data(),
)
def test_spectral_dual_norm_identity(rows, cols, data):
    """<G, D> = ||G||_* and ||D||_op = 1 (0 for G = 0) for D = U V^T; the unnormalized step
    has <G, D> = ||G||_*^2 and ||D||_op = ||G||_*."""
    g = np.array(data.draw(st.lists(_entries, min_size=rows * cols, max_size=rows * cols)))
    g = g.reshape(rows, cols)
    nuclear = float(np.linalg.svd(g, compute_uv=False).sum())
    unit = np.asarray(spectral_direction(jnp.asarray(g)))
    full = np.asarray(spectral_direction(jnp.asarray(g), normalized=False))
    tol = 1e-10 * (1 + nuclear)
    assert float(np.sum(g * unit)) == pytest.approx(nuclear, abs=tol)
    assert np.linalg.norm(unit, 2) <= 1 + 1e-12
    assert float(np.sum(g * full)) == pytest.approx(nuclear**2, abs=tol * (1 + nuclear))
    assert np.linalg.norm(full, 2) == pytest.approx(nuclear, abs=tol)


def test_spectral_transform_is_stateless_and_chains():
    tx = optax.chain(scale_by_spectral(), optax.scale_by_learning_rate(0.2))
    g = {"w": np.eye(3) * np.array([3.0, 2.0, 1.0])}
    update, _ = tx.update(g, tx.init(g))
    np.testing.assert_allclose(update["w"], -0.2 * np.eye(3), atol=1e-15)
