"""Tests of implicitbias.optim: one convergence battery over every optimizer, plus unit tests.

Add an optimizer (or a variant) to the battery by adding one ``Case`` line to ``CASES``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from implicitbias.engine import compilation_count, train
from implicitbias.errors import ConfigError
from implicitbias.optim import (
    OPTIMIZERS,
    adafactor,
    adam,
    adamw,
    coordinate_descent,
    dual_norm,
    gd,
    get_optimizer,
    grokfast_ema,
    grokfast_ma,
    heavy_ball,
    lion,
    make_schedule,
    muon,
    nesterov,
    noisy_gd,
    normalized_gd,
    pnorm_gd,
    scale_by_global_norm,
    scale_by_sign,
    scale_by_steepest,
    sgd,
    sign_gd,
    spectral_gd,
    steepest_descent,
    steepest_l1,
    steepest_l2,
    steepest_linf,
)

jax.config.update("jax_enable_x64", True)

# --------------------------------------------------------------------------- the problem

D = 5
LAMBDA_MIN, LAMBDA_MAX = 1.0, 10.0  # eigenvalues of A: condition number 10


def _quadratic_problem() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(D, D)))
    a = q @ np.diag(np.geomspace(LAMBDA_MIN, LAMBDA_MAX, D)) @ q.T
    c = rng.normal(size=D)
    c *= 3.0 / np.linalg.norm(c)
    return (a + a.T) / 2, c


A, C = _quadratic_problem()
INITIAL_DISTANCE = float(np.linalg.norm(C))  # = 3: every run starts at w = 0


def _flat(params: Any) -> jax.Array:
    return jnp.concatenate([params["a"], params["b"]], axis=-1)


def quadratic(params: Any, data: Any) -> jax.Array:
    """f(w) = ½ (w - c)^T A (w - c), with w split into two leaves (global norms matter)."""
    a, c = data
    r = _flat(params) - c
    return 0.5 * r @ a @ r


def _init(batch: int = 1) -> dict[str, np.ndarray]:
    return {"a": np.zeros((batch, 2)), "b": np.zeros((batch, D - 2))}


def _run(optimizer: Any, hparams: dict[str, Any], steps: int) -> np.ndarray:
    traj = train(
        quadratic,
        _init(),
        optimizer,
        steps=steps,
        data=(A, C),
        hparams=hparams,
        num_logs=2,
        spacing="linear",
        num_chunks=1,
        progress=False,
    )
    return np.asarray(_flat(traj.params))[0]


# --------------------------------------------------------------------------- the battery


class Case(NamedTuple):
    """One optimizer configuration of the battery.

    ``hparams`` go through the engine, so the factory sees them as traced JAX scalars;
    ``static`` (strings, booleans) is bound with ``functools.partial``.
    """

    name: str
    hparams: dict[str, float]
    steps: int
    tol: float  # bound on ||w_T - c||_2
    static: dict[str, Any] = {}
    id: str = ""


# Step sizes: L = 10 and mu = 1 for the l2 norm, so GD-type methods use eta < 2 / L.
CASES = [
    # Linear rate max|1 - eta lambda| = 0.9: 0.9^300 * 3 ~ 1e-13.
    Case("gd", {"learning_rate": 0.1}, 300, 1e-8),
    Case("sgd", {"learning_rate": 0.1}, 300, 1e-8),
    # eta_t = 0.15 sqrt(10 / (10 + t)) decays to 0.02; sum_t eta_t ~ 18, exp(-18) ~ 1e-8.
    Case(
        "gd",
        {"learning_rate": 0.15, "offset": 10.0},
        500,
        1e-6,
        {"schedule": "inverse_sqrt"},
        "gd-inverse_sqrt",
    ),
    # eta_t = 0.05 (1 + t / 300) stays below 2 / L = 0.2; sum_t eta_t ~ 22.
    Case(
        "gd",
        {"learning_rate": 0.05, "offset": 300.0},
        300,
        1e-7,
        {"schedule": "increasing"},
        "gd-increasing",
    ),
    Case("gd", {"learning_rate": 0.1}, 300, 1e-8, {"schedule": "constant"}, "gd-constant"),
    # Heavy ball / Nesterov with beta = 0.5 converge linearly, faster than GD.
    Case("heavy_ball", {"learning_rate": 0.1, "momentum": 0.5}, 300, 1e-8),
    Case("nesterov", {"learning_rate": 0.1, "momentum": 0.5}, 300, 1e-8),
    # Adam: once g is small, m / sqrt(v) ~ g / sqrt(v) with v lagging behind, a damped
    # preconditioned GD; measured ~3e-6 after 1500 steps and ~1e-14 after 3000.
    Case("adam", {"learning_rate": 0.01, "b1": 0.9, "b2": 0.999}, 3000, 1e-6),
    # AdamW balances m / sqrt(v) = -lambda w, so |g| ~ lambda |w| sqrt(v_t): w approaches c
    # only as fast as v forgets the early large gradients (~1 / (1 - b2) = 1000 steps).
    # Measured 5e-4 after 3000 steps; tol = 2e-3, still 1e-3 of the initial distance.
    Case("adamw", {"learning_rate": 0.01, "weight_decay": 1e-3}, 3000, 2e-3),
    # Sign GD, constant step: each coordinate moves by exactly eta per step, so the iterate
    # ends oscillating in a box of side O(eta) around c: tol = 5 sqrt(d) eta ~ 0.02.
    Case("sign_gd", {"learning_rate": 0.002}, 3000, 5 * math.sqrt(D) * 0.002),
    # Sign GD, eta_t = 0.05 sqrt(10 / (10 + t)) -> 0.0035 at t = 2000: tol = 5 sqrt(d) eta_T.
    Case(
        "sign_gd",
        {"learning_rate": 0.05, "offset": 10.0},
        2000,
        0.04,
        {"schedule": "inverse_sqrt"},
        "sign_gd-inverse_sqrt",
    ),
    # Normalized GD, constant step: every step has length eta, so it ends within ~eta of c.
    Case("normalized_gd", {"learning_rate": 0.005}, 2000, 2 * 0.005),
    Case(
        "normalized_gd",
        {"learning_rate": 0.1, "offset": 10.0},
        3000,
        0.01,
        {"schedule": "inverse_sqrt"},
        "normalized_gd-inverse_sqrt",
    ),
    # Greedy coordinate descent: coordinate-wise smoothness A_ii <= 10, eta = 0.1; linear
    # rate ~ 1 - eta mu / d = 0.98 in f, so 1000 steps give ~1e-9 in f.
    Case("steepest_l1", {"learning_rate": 0.1}, 1000, 1e-3),
    # Normalized coordinate steps have length eta_t -> 0.1 sqrt(10 / 2010) = 0.007.
    Case(
        "steepest_l1",
        {"learning_rate": 0.1, "offset": 10.0},
        2000,
        0.05,
        {"normalized": True, "schedule": "inverse_sqrt"},
        "steepest_l1-normalized",
    ),
    Case("steepest_l2", {"learning_rate": 0.1}, 300, 1e-8),
    Case(
        "steepest_l2",
        {"learning_rate": 0.005},
        2000,
        2 * 0.005,
        {"normalized": True},
        "steepest_l2-normalized",
    ),
    # l_inf smoothness L_inf = max_{s in {-1,1}^d} s^T A s <= d L = 50, so eta = 0.02 < 2 /
    # L_inf; f decreases by a factor 1 - 2 eta mu (1 - eta L_inf / 2) = 0.98 per step.
    Case("steepest_linf", {"learning_rate": 0.02}, 2000, 1e-5),
    Case(
        "steepest_descent",
        {"learning_rate": 0.02},
        2000,
        1e-5,
        {"norm": "linf"},
        "steepest_descent-linf",
    ),
    Case("coordinate_descent", {"learning_rate": 0.1}, 1000, 1e-3),
    # Lion moves every coordinate by exactly eta (a sign method): as sign GD, it ends in a
    # box of side O(eta) around c (measured 3e-3); tol = 5 sqrt(d) eta ~ 0.02.
    Case("lion", {"learning_rate": 0.002}, 3000, 5 * math.sqrt(D) * 0.002),
    # eta_t -> 0.05 sqrt(10 / 2010) = 0.0035 (measured 8e-3); tol = 5 sqrt(d) eta_T ~ 0.04.
    Case(
        "lion",
        {"learning_rate": 0.05, "offset": 10.0},
        2000,
        0.04,
        {"schedule": "inverse_sqrt"},
        "lion-inverse_sqrt",
    ),
    # Both leaves of the quadratic are vectors, so Muon runs optax's NAdamW (weight decay 0)
    # on them: it converges like Adam (measured 8e-15). Muon's 2-D update is tested in
    # tests/test_optim_new.py.
    Case("muon", {"learning_rate": 0.01}, 3000, 1e-6),
    # Adafactor without momentum: the update g / sqrt(v) is clipped to RMS <= 1 and scaled
    # by eta max(RMS(w), 1e-3) ~ 0.013, so the iterate oscillates around c at that scale
    # (measured 4e-3 after 3000 steps); tol = 0.03.
    Case("adafactor", {"learning_rate": 0.01}, 3000, 0.03),
    # With momentum 0.9 the oscillation is damped: measured 1.5e-15.
    Case(
        "adafactor",
        {"learning_rate": 0.01, "momentum": 0.9},
        3000,
        1e-6,
        id="adafactor-momentum",
    ),
    # Spectral descent reads each vector leaf as a 1 x n matrix, so the normalized step is
    # normalized GD per leaf: each of the two leaves ends within ~2 eta of its part of c
    # (as normalized_gd above); tol = 2 sqrt(2) eta (measured 6e-3).
    Case("spectral_gd", {"learning_rate": 0.005}, 2000, 2 * math.sqrt(2) * 0.005),
    # Unnormalized, ||g||_* U V^T = ||g||_2 g / ||g||_2 = g on a vector: GD exactly.
    Case(
        "spectral_gd",
        {"learning_rate": 0.1},
        300,
        1e-8,
        {"normalized": False},
        "spectral_gd-unnormalized",
    ),
    # p-norm GD (mirror descent, psi = |w|_p^p / p). Near c it is GD preconditioned by
    # D^-1, D = diag((p-1)|c_i|^(p-2)): it converges when eta rho(D^-1 A) < 2. For p = 3,
    # eta rho = 1.08 at eta = 0.05 (2.17 at eta = 0.1, which does not converge) and the
    # slowest mode contracts by 1 - 0.016 per step (measured 2.5e-14 after 2000 steps).
    Case("pnorm_gd", {"learning_rate": 0.05}, 2000, 1e-8),
    # p = 1.5, passed as a traced hyperparameter: eta rho(D^-1 A) = 1.43, slowest mode
    # 1 - 0.23 per step (measured 3e-16 after 300 steps).
    Case("pnorm_gd", {"learning_rate": 0.1, "p": 1.5}, 300, 1e-8, id="pnorm_gd-p1.5"),
    # sigma = 0.01: stationary Cov = eta sigma^2 / (lambda (2 - eta lambda)) per eigenvector,
    # E||w - c||^2 ~ 1.2e-5 (rms 3.5e-3; measured 5e-3); tol = 0.02 ~ 6x the rms.
    Case("noisy_gd", {"learning_rate": 0.1, "sigma": 0.01, "seed": 3}, 300, 0.02),
    # sigma = 0 is GD exactly (the noise is still drawn, times 0).
    Case(
        "noisy_gd",
        {"learning_rate": 0.1, "sigma": 0.0, "seed": 3},
        300,
        1e-8,
        id="noisy_gd-sigma0",
    ),
    # Gradient noise in front of any base optimizer: base gd is noisy_gd itself (same
    # tolerance as above); base heavy_ball (momentum 0.5) with the same noise: the
    # stationary spread grows by about 1/(1 - beta^2) ~ 1.3x; tol = 0.03.
    Case("noisy", {"learning_rate": 0.1, "sigma": 0.01, "seed": 3}, 300, 0.02),
    Case(
        "noisy",
        {"learning_rate": 0.1, "sigma": 0.01, "seed": 3},
        400,
        0.03,
        {"base": "heavy_ball", "momentum": 0.5},
        id="noisy-heavy_ball",
    ),
    # Grokfast in front of AdamW without weight decay (so that c stays the fixed point; the
    # decay is covered by the adamw case): measured 5e-14 (EMA) and 1e-4 (MA, window 10,
    # whose delayed average makes Adam oscillate until ~3000 steps).
    Case("grokfast_ema", {"learning_rate": 0.01, "weight_decay": 0.0}, 3000, 1e-6),
    Case(
        "grokfast_ma",
        {"learning_rate": 0.003, "weight_decay": 0.0},
        4000,
        2e-3,
        {"window": 10},
        "grokfast_ma-window10",
    ),
]

FACTORIES = {
    **OPTIMIZERS,
    "steepest_descent": steepest_descent,
    "coordinate_descent": coordinate_descent,
}


def test_battery_covers_every_registered_optimizer():
    assert set(OPTIMIZERS) <= {case.name for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.id or c.name for c in CASES])
def test_converges_on_quadratic(case: Case):
    # A tolerance that cannot fail would make the test vacuous.
    assert case.tol < INITIAL_DISTANCE / 50
    factory = FACTORIES[case.name]
    optimizer = functools.partial(factory, **case.static) if case.static else factory
    w = _run(optimizer, case.hparams, case.steps)
    assert np.all(np.isfinite(w))
    distance = float(np.linalg.norm(w - C))
    assert distance < case.tol, f"{case.id or case.name}: ||w - c|| = {distance:.3g}"


def test_second_call_does_not_recompile():
    before = compilation_count()
    w1 = _run(heavy_ball, {"learning_rate": 0.05, "momentum": 0.5}, 37)
    middle = compilation_count()
    w2 = _run(heavy_ball, {"learning_rate": 0.08, "momentum": 0.5}, 37)
    after = compilation_count()
    assert middle - before <= 1
    assert after == middle
    assert not np.allclose(w1, w2)  # the new learning rate was used


def test_vmap_over_learning_rates_matches_single_runs():
    lrs = np.array([0.02, 0.05, 0.1])
    traj = train(
        quadratic,
        _init(3),
        sign_gd,
        steps=20,
        data=(A, C),
        hparams={"learning_rate": lrs},
        num_logs=2,
        progress=False,
    )
    batched = np.asarray(_flat(traj.params))
    for i, lr in enumerate(lrs):
        np.testing.assert_allclose(batched[i], _run(sign_gd, {"learning_rate": lr}, 20))


# --------------------------------------------------------------------------- geometry

# Flattened (leaf order "a", "b"): [-4, 1, 0.5, 4, 3, 0]; |g| ties at indices 0 and 3.
G = {"a": jnp.array([-4.0, 1.0]), "b": jnp.array([[0.5, 4.0], [3.0, 0.0]])}
G_L1, G_L2, G_LINF = 12.5, 6.5, 4.0
SIGN = {"a": np.array([-1.0, 1.0]), "b": np.array([[1.0, 1.0], [1.0, 0.0]])}
FIRST_MAX = {"a": np.array([-1.0, 0.0]), "b": np.zeros((2, 2))}  # first maximal index wins


def _scaled(tree: Any, s: float) -> Any:
    return jax.tree.map(lambda x: s * np.asarray(x), tree)


def _apply(tx: optax.GradientTransformation, grads: Any) -> Any:
    updates, _ = tx.update(grads, tx.init(grads))
    return updates


@pytest.mark.parametrize(
    ("norm", "normalized", "expected"),
    [
        ("l1", True, FIRST_MAX),
        ("l1", False, _scaled(FIRST_MAX, G_LINF)),
        ("l2", True, _scaled(G, 1 / G_L2)),
        ("l2", False, G),
        ("linf", True, SIGN),
        ("linf", False, _scaled(SIGN, G_L1)),
    ],
)
def test_steepest_direction_by_hand(norm, normalized, expected):
    out = _apply(scale_by_steepest(norm, normalized), G)
    jax.tree.map(lambda o, e: np.testing.assert_allclose(o, e, rtol=1e-12), out, expected)


def test_dual_norms_by_hand():
    assert float(dual_norm(G, "l1")) == G_LINF
    assert float(dual_norm(G, "l2")) == G_L2
    assert float(dual_norm(G, "linf")) == G_L1


def _norm(tree: Any, norm: str) -> float:
    flat = np.concatenate([np.ravel(x) for x in jax.tree.leaves(tree)])
    return float(np.linalg.norm(flat, {"l1": 1, "l2": 2, "linf": np.inf}[norm]))


_floats = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(
    a=st.lists(_floats, min_size=1, max_size=4),
    b=st.lists(_floats, min_size=1, max_size=4),
    norm=st.sampled_from(["l1", "l2", "linf"]),
)
def test_dual_norm_identity(a, b, norm):
    """<g, Δ> = ||g||_*^2 and ||Δ|| = ||g||_* for the unnormalized steepest direction."""
    g = {"a": jnp.array(a), "b": jnp.array(b)}
    delta = _apply(scale_by_steepest(norm), g)
    inner = sum(
        float(jnp.vdot(x, y))
        for x, y in zip(jax.tree.leaves(g), jax.tree.leaves(delta), strict=True)
    )
    dual = _norm(g, {"l1": "linf", "l2": "l2", "linf": "l1"}[norm])
    assert inner == pytest.approx(dual**2, rel=1e-12, abs=1e-12)
    assert _norm(delta, norm) == pytest.approx(dual, rel=1e-12, abs=1e-12)


ZERO = {"a": jnp.zeros(2), "b": jnp.zeros((2, 2))}


@pytest.mark.parametrize(
    "tx",
    [
        scale_by_sign(),
        scale_by_global_norm(),
        sign_gd(0.1),
        normalized_gd(0.1),
        *[scale_by_steepest(n, z) for n in ("l1", "l2", "linf") for z in (False, True)],
    ],
)
def test_zero_gradient_gives_zero_update(tx):
    out = _apply(tx, ZERO)
    for leaf in jax.tree.leaves(out):
        assert np.all(np.asarray(leaf) == 0.0)


def test_zero_gradient_under_jit_is_finite():
    out = jax.jit(lambda g: _apply(normalized_gd(0.1, eps=0.0), g))(ZERO)
    assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(out))


# --------------------------------------------------------------------------- schedules

_SCHEDULE_FORMULAS = {
    "constant": lambda lr, t, p, o: lr,
    "inverse_sqrt": lambda lr, t, p, o: lr / math.sqrt(o + t) * math.sqrt(o),
    "increasing": lambda lr, t, p, o: lr * ((o + t) / o) ** p,
}


@pytest.mark.parametrize("kind", list(_SCHEDULE_FORMULAS))
@pytest.mark.parametrize(("power", "offset"), [(1.0, 1.0), (0.5, 4.0)])
def test_schedule_values(kind, power, offset):
    schedule = make_schedule(kind, 0.3, power=power, offset=offset)
    for t in (0, 1, 99):
        expected = _SCHEDULE_FORMULAS[kind](0.3, t, power, offset)
        assert float(schedule(t)) == pytest.approx(expected, rel=1e-12)
    assert float(schedule(0)) == pytest.approx(0.3)


@pytest.mark.parametrize("kind", list(_SCHEDULE_FORMULAS))
def test_schedule_with_traced_learning_rate(kind):
    lrs = jnp.array([0.1, 0.2, 0.4])

    @jax.jit
    @jax.vmap
    def at_99(lr):
        return make_schedule(kind, lr, power=0.5, offset=4.0)(jnp.asarray(99))

    expected = [_SCHEDULE_FORMULAS[kind](float(lr), 99, 0.5, 4.0) for lr in lrs]
    np.testing.assert_allclose(at_99(lrs), expected, rtol=1e-12)


def test_gd_schedule_is_used_by_the_update():
    tx = gd(0.5, schedule="increasing", power=1.0, offset=1.0)
    g = jnp.ones(2)
    state = tx.init(g)
    steps = []
    for _ in range(3):
        u, state = tx.update(g, state)
        steps.append(float(-u[0]))
    np.testing.assert_allclose(steps, [0.5, 1.0, 1.5])


# --------------------------------------------------------------------------- registry


def test_get_optimizer_returns_module_level_factories():
    assert get_optimizer("adam") is adam
    assert get_optimizer("sgd") is sgd is gd
    assert get_optimizer("steepest_l1") is steepest_l1 is coordinate_descent
    for name, factory in OPTIMIZERS.items():
        assert "<" not in factory.__qualname__, name  # not a lambda or a closure
        assert isinstance(factory(learning_rate=0.1), optax.GradientTransformation)


def test_get_optimizer_unknown_name_suggests_closest():
    with pytest.raises(ConfigError, match="adam") as info:
        get_optimizer("adma")
    assert info.value.param == "optimizer"


@pytest.mark.parametrize(
    ("make", "param"),
    [
        (lambda: gd(-0.1), "learning_rate"),
        (lambda: gd(0.0), "learning_rate"),
        (lambda: heavy_ball(0.1, momentum=1.0), "momentum"),
        (lambda: nesterov(0.1, momentum=-0.1), "momentum"),
        (lambda: adam(0.1, b2=1.5), "b2"),
        (lambda: adamw(0.1, weight_decay=-1.0), "weight_decay"),
        (lambda: steepest_descent(0.1, norm="l3"), "norm"),
        (lambda: steepest_linf(0.1, schedule="cosine"), "schedule"),
        (lambda: make_schedule("inverse_sqrt", 0.1, offset=0.0), "offset"),
        (lambda: gd(optax.constant_schedule(0.1), schedule="increasing"), "schedule"),
        (lambda: lion(0.1, b1=1.0), "b1"),
        (lambda: lion(0.1, weight_decay=-0.1), "weight_decay"),
        (lambda: muon(0.1, beta=1.0), "beta"),
        (lambda: muon(0.1, adam_b2=-0.5), "adam_b2"),
        (lambda: muon(0.1, ns_steps=0), "ns_steps"),
        (lambda: muon(0.0), "learning_rate"),
        (lambda: adafactor(0.1, clipping_threshold=0.0), "clipping_threshold"),
        (lambda: adafactor(0.1, momentum=1.0), "momentum"),
        (lambda: adafactor(0.1, min_dim_size_to_factor=2.5), "min_dim_size_to_factor"),
        (lambda: noisy_gd(0.1, sigma=-1.0), "sigma"),
        (lambda: noisy_gd(0.1, seed=1.5), "seed"),
        (lambda: grokfast_ema(0.1, alpha=1.0), "alpha"),
        (lambda: grokfast_ema(0.1, b2=1.0), "b2"),
        (lambda: grokfast_ma(0.1, window=0), "window"),
        (lambda: grokfast_ma(0.1, window=2.0), "window"),
        (lambda: grokfast_ma(0.1, weight_decay=-1.0), "weight_decay"),
        (lambda: pnorm_gd(0.1, p=1.0), "p"),
        (lambda: pnorm_gd(0.1, p=0.5), "p"),
        (lambda: pnorm_gd(0.0), "learning_rate"),
        (lambda: spectral_gd(0.1, normalized="yes"), "normalized"),
        (lambda: spectral_gd(-1.0), "learning_rate"),
    ],
)
def test_bad_hyperparameters_raise_config_error(make, param):
    with pytest.raises(ConfigError) as info:
        make()
    assert info.value.param == param


def test_schedule_as_learning_rate_and_steepest_l2_is_gd():
    g = {"a": jnp.array([1.0, -2.0])}
    sched = optax.constant_schedule(0.1)
    expected = _apply(gd(0.1), g)
    for tx in (gd(sched), steepest_l2(0.1), steepest_descent(0.1, norm="l2")):
        out = _apply(tx, g)
        np.testing.assert_allclose(out["a"], expected["a"])
