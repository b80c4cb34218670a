"""The flat-sharp experiment: the landscape's closed forms against jax.hessian, the noisy
optimizer, the engine's walkers against a NumPy GD loop, the Gibbs reference against a grid
sum, another base optimizer, and the smoke preset end to end."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from implicitbias import lab
from implicitbias.claims import evaluate
from implicitbias.errors import ConfigError
from implicitbias.experiments import flat_sharp as fs
from implicitbias.experiments.flat_sharp import FlatSharpConfig
from implicitbias.optim import noise
from implicitbias.optim.noisy import PATH, noisy, with_gradient_noise
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.landscapes import Landscape, max_ratio, shifts


# ------------------------------------------------------------------ the landscape
@pytest.mark.parametrize("dim", [1, 2])
def test_minima_and_hessians_are_the_closed_forms(dim):
    land = Landscape(dim)
    for name, theta in land.minima().items():
        t = jnp.asarray(theta)
        assert float(land(t)) == pytest.approx(0.0, abs=1e-15)
        np.testing.assert_allclose(jax.grad(land)(t), 0.0, atol=1e-13)
        np.testing.assert_allclose(
            jax.hessian(land)(t), land.hessians()[name], rtol=1e-12, atol=1e-12
        )
    assert land.stability_thresholds() == {"sharp": 0.1, "flat": 1.0}


@settings(max_examples=10, deadline=None)
@given(k_flat=st.floats(0.1, 10.0), ratio=st.floats(0.05, 0.95), width=st.floats(0.2, 1.5))
def test_any_valid_landscape_has_two_minima_and_one_barrier(k_flat, ratio, width):
    """For every allowed (k_flat, k_sharp / k_flat, width): L >= 0, zero only at +-1, with the
    closed-form curvatures, and exactly one interior local maximum (grid search)."""
    k_sharp = k_flat * (1.0 + ratio * (max_ratio(width) - 1.0))  # 5-95 % of the range
    land = Landscape(1, k_sharp, k_flat, width)
    x = np.linspace(-4, 4, 80_000)  # even count: no grid point is exactly +-1 or 0
    L = land.value(x[:, None])
    assert L.min() >= -1e-12
    d = land.derivative_1d(x)
    sign_changes = x[1:][np.diff(np.sign(d)) != 0]
    assert len(sign_changes) == 3, sign_changes  # min, max, min
    np.testing.assert_allclose(sign_changes[[0, 2]], [-1.0, 1.0], atol=1e-4)
    assert sign_changes[1] == pytest.approx(land.barrier(), abs=1e-4)
    h = jax.hessian(lambda t: land(t))
    assert float(h(jnp.array([-1.0]))[0, 0]) == pytest.approx(k_sharp, rel=1e-10)
    assert float(h(jnp.array([1.0]))[0, 0]) == pytest.approx(k_flat, rel=1e-10)


def test_invalid_landscapes_are_refused():
    with pytest.raises(ConfigError, match="k_sharp / k_flat <"):
        Landscape(1, 200.0, 2.0, 0.5)
    with pytest.raises(ConfigError, match="`dim`"):
        Landscape(3)
    with pytest.raises(ConfigError, match="k_sharp"):
        FlatSharpConfig.make("smoke", {"k_sharp": 1.0})
    with pytest.raises(ConfigError, match="num_examples"):
        FlatSharpConfig.make("smoke", {"batch_sizes": (1, 65)})
    with pytest.raises(ConfigError, match="includes 0"):
        FlatSharpConfig.make("smoke", {"sigmas": (1.0, 2.0)})


@pytest.mark.parametrize("dim", [1, 2])
def test_finite_sum_has_mean_L_and_hessian_noise(dim):
    land = Landscape(dim)
    u = shifts(64, dim, 0.5, 3)
    theta = jnp.asarray(np.linspace(-0.7, 0.4, dim))
    per_example = jnp.stack([land(theta, u[i : i + 1]) for i in range(64)])
    assert float(per_example.mean()) == pytest.approx(float(land(theta)), abs=1e-12)
    batch = u[:5]
    g = jax.grad(land)(theta, batch)
    expected = jax.grad(land)(theta) - jax.hessian(land)(theta) @ batch.mean(axis=0)
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ the noise
def test_gaussian_stream_is_standard_normal_and_members_independent():
    f = jax.jit(jax.vmap(lambda c: noise.gaussian_stream(c, 4)[0]))
    counters = noise._mix64(jnp.arange(5000, dtype=jnp.uint64) + jnp.uint64(noise._GAMMA))
    z = np.asarray(f(counters))
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z[:-1, 0], z[1:, 0])[0, 1]) < 0.05  # neighbouring members
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 0.05  # successive draws


def _update(tx, grads):
    return tx.update(grads, tx.init(grads))[0]


def test_noisy_gd_with_zero_sigma_is_gd_and_noise_has_scale_sigma():
    grads = jnp.array([0.5, -1.0])
    np.testing.assert_array_equal(_update(noisy(0.1, 0.0, 7), grads), -0.1 * grads)
    samples = np.asarray(
        jax.vmap(lambda k: _update(noisy(1.0, 3.0, k), jnp.zeros(2)))(jnp.arange(4000))
    )
    assert samples.std() == pytest.approx(3.0, rel=0.05)  # 8000 draws: se ~ 0.8 %


def test_noisy_with_base_gd_is_noisy_gd_bit_for_bit():
    grads = jnp.array([0.3, -2.0, 1.5])
    seeds = jnp.arange(6) + 10**7
    ours = jax.vmap(lambda k: _update(noisy(0.05, 2.0, k, base="gd"), grads))(seeds)
    ref = jax.vmap(lambda k: _update(noise.noisy_gd(0.05, 2.0, k), grads))(seeds)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))


def test_noise_enters_the_gradient_before_the_base_optimizer():
    """sign_gd on g + sigma xi: every coordinate moves by exactly eta, with the sign of the
    noisy gradient (the same normals as noise.gaussian_stream from the seed's start)."""
    grads = jnp.array([0.3, -2.0, 1.5, 0.0])
    upd = _update(noisy(0.1, 5.0, 3, base="sign_gd"), grads)
    start = noise.add_gaussian_noise(5.0, 3).init(grads).counter
    z, _ = noise.gaussian_stream(start, 4)
    np.testing.assert_array_equal(np.asarray(upd), -0.1 * np.sign(np.asarray(grads + 5.0 * z)))
    # sigma = 0 gives the base optimizer itself (here Adam, with its own hyperparameter).
    adam = optax.adam(0.1, b1=0.5)
    np.testing.assert_allclose(
        _update(noisy(0.1, 0.0, 3, base="adam", b1=0.5), grads), _update(adam, grads), rtol=1e-12
    )


def test_with_gradient_noise_keeps_the_base_by_value():
    spec = with_gradient_noise(OptimizerSpec.parse("lion(b2=0.95)"))
    assert spec == OptimizerSpec(PATH, {"base": "lion", "b2": 0.95})
    assert spec.reproducible
    closure = OptimizerSpec.coerce(lambda learning_rate: optax.sgd(learning_rate))
    wrapped = with_gradient_noise(closure)
    grads = jnp.array([1.0, -1.0])
    np.testing.assert_allclose(
        _update(wrapped.build(learning_rate=0.1, sigma=0.0, seed=1), grads), -0.1 * grads
    )
    with pytest.raises(ConfigError, match="optimizer.sigma"):
        with_gradient_noise(OptimizerSpec.parse("noisy_gd(sigma=1.0)"))


# ------------------------------------------------------------------ the smoke run
@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return lab.run(
        "flat-sharp",
        "smoke",
        {"stability_ratios": (0.5, 0.98, 1.02, 2.0)},
        out=tmp_path_factory.mktemp("runs"),
    )


def test_smoke_writes_the_run_folder(smoke):
    folder = smoke.path
    for stem in ("fractions", "stability", "course", "landscape_d1", "landscape_d2", "plane"):
        assert (folder / f"{stem}.png").stat().st_size > 1000, stem
    saved = json.loads((folder / "results.json").read_text())
    assert saved["status"] == "ok"
    assert saved["scalars"]["d1"]["barrier_x"] == pytest.approx(-0.186935, abs=1e-6)


def _gd_numpy(land: Landscape, x0: np.ndarray, lr: float, steps: int) -> np.ndarray:
    x = x0.copy()
    for _ in range(steps):
        x = x - lr * land.derivative_1d(x)
    return x


def test_noise_free_walkers_equal_a_numpy_gd_loop(smoke):
    land = Landscape(1)
    final = smoke.arrays["d1_eta_gd_final"][:, :, 0]
    starts = fs.initial_positions(FlatSharpConfig.make("smoke"), 1)[:, 0]
    for i, ratio in enumerate(smoke.config["eta_ratios"]):
        ref = _gd_numpy(land, starts[:50], ratio * 0.1, smoke.config["steps"])
        # Same arithmetic (closed-form derivative vs autodiff): round-off only, except
        # where GD is chaotic (eta above the sharp threshold, before settling): compare
        # basins there.
        if ratio < 1:
            np.testing.assert_allclose(final[i, :50], ref, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(final[i, :50] > land.barrier(), ref > land.barrier())


def test_stability_threshold_is_2_over_k_sharp(smoke):
    for tag in ("d1", "d2"):
        st_ = smoke.scalars[tag]["stability"]
        assert st_["converged_fraction"] == [1.0, 1.0, 0.0, 0.0]
        assert st_["bracket_error"] == pytest.approx(0.02, abs=1e-12)
        assert st_["brackets"] == 1.0


def test_fractions_are_recomputed_from_the_final_positions(smoke):
    final = smoke.arrays["d1_noise_final"]
    xb = Landscape(1).barrier()
    r = smoke.config["repeats"]
    for i in range(final.shape[0]):
        per = (final[i, :, 0] > xb).reshape(r, -1).mean(axis=1)
        assert smoke.scalars["d1"]["noise"]["flat_fraction"][i] == pytest.approx(per.mean())
        assert smoke.scalars["d1"]["noise"]["flat_fraction_std"][i] == pytest.approx(
            per.std(ddof=1)
        )


def test_gibbs_reference_against_a_grid_sum():
    for dim in (1, 2):
        land = Landscape(dim)
        T = 0.5
        x = np.linspace(-8, 8, 400_001)
        a, b = land.coefficients
        w = a + b * np.tanh(x / land.width)
        dens = np.exp(-land.value(np.stack([x] + [0 * x] * (dim - 1), 1)) / T)
        if dim == 2:
            dens = dens / np.sqrt(w)
        ref = dens[x > land.barrier()].sum() / dens.sum()
        assert fs.gibbs_flat_fraction(land, T) == pytest.approx(ref, abs=1e-6)


def test_claims_evaluate_on_the_smoke_run(smoke):
    for claim in fs.CLAIMS:
        out = evaluate(claim, smoke)
        assert out.error is None, claim.id
    assert smoke.get("d1.noise.increase_z") > 3  # sigma 14 vs 0: measured ~9


def test_claims_expectations_kinds_and_seeds():
    by_name = {c.id.split("/")[1]: c for c in fs.CLAIMS}
    # "rises with sigma" is a one-sided test of every step at the 5 % level, not z >= -2.
    monotone = by_name["noise-flat-monotone"].criterion
    assert (monotone.op, monotone.threshold) == (">=", pytest.approx(stats.norm.ppf(0.95), 1e-3))
    assert by_name["stability-threshold"].kind == "self-check"
    assert not by_name["stability-threshold"].seeded
    refuted = {n for n, c in by_name.items() if c.expect == "refuted"}
    assert refuted == {"noise-flat-monotone", "eta-flat", "sgd-small-batch-flat"}
    # Walker starts, gradient noise and minibatches are random draws: 5 seeds in verify.
    for name in ("noise-flat", "noise-flat-monotone", "eta-flat", "sgd-small-batch-flat"):
        assert by_name[name].seeded, name


# ------------------------------------------------------------------ another base optimizer
@pytest.fixture(scope="module")
def sign_descent(tmp_path_factory):
    overrides = {
        "optimizer": "sign_gd",
        "dims": (1,),
        "walkers": 40,
        "steps": 301,
        "sigmas": (0.0, 8.0),
        "eta_ratios": (0.5, 4.0),
        "batch_sizes": (1, 64),
        "sgd_etas": (0.02,),
        "stability_walkers": 4,
        "stability_ratios": (0.5, 2.0),
    }
    return lab.run("flat-sharp", "smoke", overrides, out=None)


def test_another_base_optimizer_is_used_everywhere(sign_descent):
    """Sign descent moves every walker by exactly eta per step: after an odd number of
    steps, (x_T - x_0) / eta is an odd integer, for the noise-free eta sweep (GD would not
    give integers) and with sigma = 8 added to the gradient before the sign."""
    cfg = FlatSharpConfig.make("smoke", {"walkers": 40})
    x0 = fs.initial_positions(cfg, 1)[:, 0]
    for i, ratio in enumerate(sign_descent.config["eta_ratios"]):
        moves = (sign_descent.arrays["d1_eta_gd_final"][i, :, 0] - x0) / (ratio * 0.1)
        np.testing.assert_allclose(moves, np.round(moves), atol=1e-6)
        assert np.all(np.round(moves) % 2 == 1)
    noisy_moves = (sign_descent.arrays["d1_noise_final"][1, :, 0] - x0) / 0.01
    np.testing.assert_allclose(noisy_moves, np.round(noisy_moves), atol=1e-6)
    assert sign_descent.get("optimizer.label") == "sign_gd"


def test_claims_are_not_applicable_to_another_base_optimizer(sign_descent):
    assert {c["id"] for c in sign_descent.claims} == set()  # smoke measures none
    for claim in fs.CLAIMS:
        out = evaluate(claim, sign_descent, FlatSharpConfig.make("smoke", {"optimizer": "lion"}))
        assert out.verdict == "not applicable", claim.id
        assert "plain gd" in out.reason
    two_d = FlatSharpConfig.make("smoke", {"dims": (2,)})
    assert evaluate(fs.CLAIMS[0], sign_descent, two_d).verdict == "not applicable"
    assert evaluate(fs.CLAIMS[0], sign_descent).error is None  # measurable all the same


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"optimizer": "lion(b1=1.5)"}, "optimizer.b1"),
        ({"optimizer": "gd", "optimizer.sigma": 1.0}, "optimizer.sigma"),
        ({"optimizer.seed": 3}, "optimizer.seed"),
        ({"optimizer": "noisy_gd(sigma=1.0)"}, "optimizer.sigma"),
    ],
)
def test_bad_optimizer_is_a_config_error(overrides, param):
    with pytest.raises(ConfigError) as info:
        FlatSharpConfig.make("smoke", overrides)
    assert info.value.param == param
