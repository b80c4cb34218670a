"""The edge-of-stability experiment, measured: seed 000's own NumPy loop as the reference for
the seed preset, an independent ODE solver for gradient flow, hand-written GD and heavy-ball
loops, the per-layer gradient scale, the stability thresholds, the analysis helpers on curves
with known answers, other optimizers from the command-line syntax, the Fashion-MNIST reader
on IDX fixtures, and the smoke preset end to end."""

from __future__ import annotations

import gzip
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree
from scipy.integrate import solve_ivp

from implicitbias import lab
from implicitbias.datasets import fashion_mnist
from implicitbias.diagnostics import exact_hessian
from implicitbias.errors import ConfigError
from implicitbias.experiments import edge_of_stability as eos
from implicitbias.experiments.edge_of_stability import analysis, training
from implicitbias.experiments.edge_of_stability.config import EdgeOfStabilityConfig
from implicitbias.optim.layerwise import layer_scaled, scale_by_layer
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.mlp import init_mlp, mse_loss
from implicitbias.runs.results import Results
from implicitbias.theory.gradient_flow import rk4_flow
from implicitbias.theory.stability import plain_gd, stability_threshold

NAME = "edge-of-stability"

# A tiny setting that runs in seconds: 40 steps, no flow, one member per optimizer.
TINY = {
    "n": 40,
    "hidden": "8",
    "steps": 40,
    "sharpness_every": 10,
    "lanczos_iters": 10,
    "learning_rates": "0.5",
    "momentum_learning_rates": "0.5",
    "flow": False,
}


def _seed_numpy(steps: int):
    """Seed 000 section 5, its code verbatim in structure (losses and its estimates)."""
    rs = np.random.RandomState(123)
    n, d, h = 50, 5, 20
    X = rs.randn(n, d)
    y = np.sin(X[:, 0]) + 0.5 * np.cos(X[:, 1])
    W1 = rs.randn(h, d) * np.sqrt(2.0 / d)
    W2 = rs.randn(1, h) * np.sqrt(2.0 / h)

    def loss_and_grad(W1, W2):
        H = X @ W1.T
        A = np.maximum(H, 0)
        r = (A @ W2.T).ravel() - y
        dW2 = (r[:, None] * A).mean(axis=0, keepdims=True)
        dA = np.outer(r, W2.ravel()) / n
        dW1 = (dA * (H > 0)).T @ X / n
        return 0.5 * np.mean(r**2), dW1, dW2

    losses, est = [], []
    for step in range(steps):
        L, g1, g2 = loss_and_grad(W1, W2)
        W1 = W1 - 0.5 * g1
        W2 = W2 - 0.5 * g2
        losses.append(L)
        if step % 50 == 0:
            v1, v2 = rs.randn(h, d), rs.randn(1, h)
            nv = np.sqrt(np.sum(v1**2) + np.sum(v2**2))
            v1, v2 = v1 / nv, v2 / nv
            _, a1, a2 = loss_and_grad(W1 + 1e-4 * v1, W2 + 1e-4 * v2)
            _, b1, b2 = loss_and_grad(W1 - 1e-4 * v1, W2 - 1e-4 * v2)
            est.append(np.sqrt(np.sum((a1 - b1) ** 2) + np.sum((a2 - b2) ** 2)) / 2e-4)
    return np.array(losses), np.array(est)


# ------------------------------------------------------------------ config


def test_config_checks_name_the_parameter():
    with pytest.raises(ConfigError, match="`steps`.*multiple of sharpness_every") as info:
        EdgeOfStabilityConfig.make("default", {"steps": 1001})
    assert info.value.param == "steps"
    with pytest.raises(ConfigError, match="`layer_lr_scales`") as info:
        EdgeOfStabilityConfig.make("default", {"layer_lr_scales": "1,1"})
    with pytest.raises(ConfigError, match="`hidden`"):
        EdgeOfStabilityConfig.make("seed-000", {"hidden": "10"})
    with pytest.raises(ConfigError, match="`learning_rates`"):
        EdgeOfStabilityConfig.make("default", {"learning_rates": "0.1,-1"})


def test_bad_optimizer_hyperparameters_are_config_errors():
    with pytest.raises(ConfigError) as info:
        EdgeOfStabilityConfig.make("smoke", {"optimizer": "adam", "optimizer.b9": "0.5"})
    assert info.value.param == "optimizer.b9"
    with pytest.raises(ConfigError) as info:
        EdgeOfStabilityConfig.make("smoke", {"momentum_optimizer.momentum": "1.5"})
    assert info.value.param == "momentum_optimizer.momentum"
    with pytest.raises(ConfigError) as info:
        EdgeOfStabilityConfig.make("smoke", {"optimizer": "gd(learning_rate=0.1)"})
    assert info.value.param == "optimizer.learning_rate"
    with pytest.raises(ConfigError) as info:
        EdgeOfStabilityConfig.make("smoke", {"optimizer": "no_such_optimizer"})
    assert info.value.param == "optimizer"


def test_presets_set_the_optimizers():
    cfg = EdgeOfStabilityConfig.make("momentum")
    assert cfg.optimizer == OptimizerSpec("gd")
    assert cfg.momentum_optimizer == OptimizerSpec("heavy_ball", (("momentum", 0.9),))
    default = EdgeOfStabilityConfig.make("default")
    assert default.momentum_optimizer.label == "heavy_ball(momentum=0.5)"


# ------------------------------------------------------------------ seed 000


def test_seed_preset_reproduces_the_seeds_numpy_loop():
    """Losses at every step and the seed's estimates (central differences of the gradient
    its code computes, whose first layer is divided by n twice) agree with its NumPy code."""
    cfg = EdgeOfStabilityConfig.make("seed-000", {"steps": 300, "flow": False})
    res = eos.run(cfg)
    losses, est = _seed_numpy(300)
    ours = res.metrics["loss"][:, 0]
    np.testing.assert_allclose(ours[:300], losses, rtol=1e-9, atol=1e-12)
    # The seed takes its estimate right after the update of steps 0, 50, ...
    np.testing.assert_allclose(res.metrics["seed_estimator"][1:300:50, 0], est, rtol=1e-6)
    assert np.isnan(res.metrics["seed_estimator"][2:51, 0]).all()
    # Its estimator is ||S H u|| for one random unit u; with the exact product it agrees
    # except where the +-1e-4 step crosses a ReLU kink.
    assert res.get("lanczos_check.max_rel_error") <= 1e-8  # P = 120: dense Hessian


# ------------------------------------------------------------------ dynamics


def _tiny():
    key = jax.random.PRNGKey(3)
    params = init_mlp(key, (3, 6, 2), dtype=jnp.float64)
    X = jax.random.normal(jax.random.PRNGKey(4), (16, 3), jnp.float64)
    Y = jax.random.normal(jax.random.PRNGKey(5), (16, 2), jnp.float64)
    return X, Y, params


def _tiny_members(**fields):
    X, Y, params = _tiny()
    cfg = EdgeOfStabilityConfig(
        steps=10, sharpness_every=5, lanczos_iters=38, flow=False, **fields
    )  # P = 38: Lanczos spans the whole space
    dirs = jnp.ones((2, ravel_pytree(params)[0].size)) / 10.0
    return training.train_members(cfg, X, Y, params, dirs)


@pytest.fixture(scope="module")
def merged():
    """gd with eta = 0.1, 0.4 and heavy ball with eta = 0.3, beta = 0.8: one engine call."""
    hb = OptimizerSpec("heavy_ball", (("momentum", 0.8),))
    return _tiny_members(
        learning_rates=(0.1, 0.4), momentum_learning_rates=(0.3,), momentum_optimizer=hb
    )


def test_gd_and_heavy_ball_members_match_hand_written_loops(merged):
    X, Y, params = _tiny()
    flat, unravel = ravel_pytree(params)
    loss_flat = jax.jit(lambda x: mse_loss(unravel(x), X, Y))
    grad = jax.jit(jax.grad(loss_flat))
    for b, (eta, beta) in enumerate([(0.1, 0.0), (0.4, 0.0), (0.3, 0.8)]):
        x, v, w, u = flat, 0.0, flat, 0.0
        for _ in range(10):
            v = beta * v + grad(x)  # optax.trace, then -eta
            x = x - eta * v
            u = beta * u - eta * grad(w)  # Cohen et al.'s form: the same for constant eta
            w = w + u
        mine = ravel_pytree(jax.tree.map(lambda a, b=b: a[b], merged.final))[0]
        np.testing.assert_allclose(mine, x, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(mine, w, rtol=1e-10, atol=1e-13)
        assert abs(merged.loss[b, -1] - loss_flat(x)) <= 1e-13
    # At t = 0 every member reports the top eigenvalue of the dense Hessian at the init.
    top = np.linalg.eigvalsh(exact_hessian(lambda p: mse_loss(p, X, Y), params))[-1]
    np.testing.assert_allclose(merged.sharpness[:, 0], top, rtol=1e-9)
    assert [s.label for s in merged.specs] == ["gd", "gd", "heavy_ball(momentum=0.8)"]


def test_gd_members_are_the_same_alone_and_next_to_heavy_ball(merged):
    """The default gd + heavy_ball is one heavy_ball call with momentum 0 for the gd
    members: their trajectory is GD's, bit for bit."""
    alone = _tiny_members(learning_rates=(0.1, 0.4), momentum_learning_rates=())
    assert [s.label for s in alone.specs] == ["gd", "gd"]
    np.testing.assert_array_equal(merged.loss[:2], alone.loss)
    np.testing.assert_array_equal(merged.sharpness[:2], alone.sharpness)
    np.testing.assert_array_equal(merged.seed_estimator[:2], alone.seed_estimator)


def test_layer_scale_multiplies_each_layers_gradient():
    params = [(jnp.ones((2, 3)), jnp.ones(3)), (jnp.ones((3, 1)), None)]
    grads = [(jnp.full((2, 3), 2.0), jnp.full(3, 4.0)), (jnp.full((3, 1), 8.0), None)]
    out, _ = scale_by_layer((0.5, 0.25)).update(grads, optax.EmptyState(), params)
    assert float(out[0][0][0, 0]) == 1.0 and float(out[0][1][0]) == 2.0
    assert float(out[1][0][0, 0]) == 2.0 and out[1][1] is None
    tx = layer_scaled(0.1, optimizer="heavy_ball(momentum=0.5)", scales=(0.5, 0.25))
    state = tx.init(params)
    first, state = tx.update(grads, state, params)
    second, _ = tx.update(grads, state, params)
    # heavy ball on S g: v1 = S g, v2 = 0.5 v1 + S g; update -0.1 v.
    assert float(first[1][0][0, 0]) == pytest.approx(-0.1 * 2.0, rel=1e-15)
    assert float(second[1][0][0, 0]) == pytest.approx(-0.1 * 3.0, rel=1e-15)
    with pytest.raises(ConfigError, match="`scales`"):
        scale_by_layer((1.0, 0.0))


def test_stability_thresholds():
    assert stability_threshold(OptimizerSpec("gd"), 0.5) == 4.0
    hb = OptimizerSpec("heavy_ball", (("momentum", 0.5),))
    assert stability_threshold(hb, 0.5) == pytest.approx(6.0, rel=1e-15)
    assert stability_threshold(OptimizerSpec("heavy_ball"), 1.0) == pytest.approx(3.8)
    nag = OptimizerSpec("nesterov", (("momentum", 0.5),))
    assert stability_threshold(nag, 1.0) == pytest.approx(1.5)
    assert stability_threshold(OptimizerSpec("adam"), 0.1) is None
    assert stability_threshold(OptimizerSpec.parse("user_optim:clipped_gd"), 0.1) is None
    decaying = OptimizerSpec("gd", (("schedule", "inverse_sqrt"),))
    assert stability_threshold(decaying, 0.1) is None and not plain_gd(decaying)
    assert plain_gd(OptimizerSpec("sgd")) and not plain_gd(hb)


def test_rk4_gradient_flow_matches_scipys_dop853():
    """An independent integrator (scipy's DOP853, rtol 1e-11) at tau = 4."""
    X, Y, params = _tiny()
    flat, unravel = ravel_pytree(params)
    grad = jax.jit(
        lambda x: ravel_pytree(jax.grad(lambda p: mse_loss(p, X, Y))(unravel(jnp.asarray(x))))[0]
    )
    ref = solve_ivp(
        lambda t, x: -np.asarray(grad(x)),
        (0, 4.0),
        np.asarray(flat),
        method="DOP853",
        rtol=1e-11,
        atol=1e-13,
        t_eval=[2.0, 4.0],
    )
    t, loss, _, _ = rk4_flow(
        lambda p: mse_loss(p, X, Y),
        params,
        h=0.05,
        horizon=4.0,
        every=10,
        iters=5,
        key=jax.random.PRNGKey(0),
    )
    assert t[-1] == pytest.approx(4.0)
    loss_flat = jax.jit(lambda x: mse_loss(unravel(x), X, Y))
    for tau, x in zip(ref.t, ref.y.T, strict=True):
        i = int(np.argmin(np.abs(t - tau)))
        ref_loss = float(loss_flat(jnp.asarray(x)))
        assert abs(loss[i] - ref_loss) <= 1e-8 * ref_loss  # RK4 error ~ h^4


# ------------------------------------------------------------------ analysis helpers


def test_member_summary_on_a_curve_with_known_answers():
    steps = 100
    s_steps = np.arange(0, steps + 1, 10)
    s = np.array([1, 2, 3, 4, 5, 6.1, 5.9, 6.05, 6.0, 5.95, 6.02])  # threshold 6
    loss = np.linspace(1.0, 0.1, steps + 1)
    loss[61::2] += 0.05  # ups after the crossing at step 50
    m = analysis.member_summary(loss, s_steps, s, 6.0, num_windows=5)
    assert m["first_reach_step"] == 50
    assert m["sharpening_spearman"] == pytest.approx(1.0)
    assert m["median_ratio_second_half"] == pytest.approx(np.median(s[5:]) / 6)
    assert 0.3 < m["up_fraction_after"] < 0.6
    assert m["window_last_over_first"] < 1
    never = analysis.member_summary(loss, s_steps, np.ones(11), 6.0, 5)
    assert never["first_reach_step"] is None and np.isnan(never["up_fraction_after"])


def test_a_diverged_member_makes_the_eos_claims_fail():
    """NaN must propagate: a diverged step size is not at the edge of stability."""
    ok = {
        "median_ratio_second_half": 1.02,
        "first_reach_step": 10,
        "sharpening_points": 5,
        "sharpening_spearman": 1.0,
        "up_fraction_after": 0.3,
        "window_last_over_first": 0.5,
        "diverged": False,
        "learning_rate": 0.1,
        "threshold": 20.0,
        "group": "optimizer",
    }
    bad = {**ok, "median_ratio_second_half": float("nan"), "diverged": True, "learning_rate": 0.9}
    hb_ok = {**ok, "group": "momentum_optimizer", "threshold": 38.0}
    hb_bad = {**bad, "group": "momentum_optimizer"}
    agg = analysis.aggregate([ok, bad, hb_ok, hb_bad])
    assert np.isnan(agg["max_abs_median_ratio_minus_1"])
    assert np.isnan(agg["momentum_max_abs_median_ratio_minus_1"])
    assert agg["diverged_members"] == [0.9, 0.9]
    agg = analysis.aggregate([ok, hb_ok])
    assert agg["max_abs_median_ratio_minus_1"] == pytest.approx(0.02)
    assert agg["momentum_max_abs_median_ratio_minus_1"] == pytest.approx(0.02)
    # 1.02 x 2(1 + 0.9)/eta is 1.938 x 2/eta.
    assert agg["momentum_median_ratio_to_2_over_eta"] == pytest.approx([1.938])


def test_flow_comparison_before_and_after_the_crossing():
    flow_t = np.linspace(0, 10, 1001)
    flow_loss = np.exp(-flow_t / 5)
    eta = 0.5
    t = np.arange(21)
    loss = np.exp(-eta * t / 5)
    loss[12:] *= 1.5  # departs at step 12
    out = analysis.flow_comparison(loss, eta, 12, flow_t, flow_loss, tol=0.05)
    assert out["max_rel_diff_before"] <= 1e-4  # linear interpolation error only
    assert out["max_rel_diff_after"] == pytest.approx(0.5, rel=1e-3)
    assert out["departure_step"] == 12


# ------------------------------------------------------------------ other optimizers


def _verdicts(results: Results) -> dict[str, str]:
    return {
        c["id"].split("/")[1]: (
            "error"
            if c["error"]
            else "not applicable"
            if c["reason"]
            else ("holds" if c["holds"] else "does not hold")
        )
        for c in results.claims
    }


def test_another_optimizer_from_the_command_line_syntax(tmp_runs):
    """adam(b2=0.99) for the main members, lion for the momentum members: the sharpness is
    tracked and reported, the 2/eta and 2(1+beta)/eta claims are not applicable."""
    overrides = {
        **TINY,
        "optimizer": "adam(b2=0.99)",
        "momentum_optimizer": "lion",
        "learning_rates": "0.01",
        "momentum_learning_rates": "0.001",
    }
    results = lab.run(NAME, "smoke", overrides, out=tmp_runs)
    assert results.get("optimizers.optimizer") == "adam(b2=0.99)"
    assert results.get("optimizers.momentum_optimizer") == "lion"
    members = results.scalars["members"]
    assert [m["optimizer"] for m in members] == ["adam(b2=0.99)", "lion"]
    assert [m["threshold_from"] for m in members] == ["none (2/eta of gd shown)"] * 2
    assert members[0]["threshold"] == pytest.approx(2 / 0.01)
    sharp = results.metrics["sharpness"]
    assert sharp.shape == (41, 2) and np.isfinite(sharp[::10]).all()
    assert np.isnan(sharp[1:10]).all()
    assert 0.1 < members[0]["sharpness_init"] < 100
    # The tracked sharpness is a real measurement for any optimizer: the dense Hessian
    # (P = 20 * 8 + 8 + 8 * 4 + 4 = 204) agrees with 10 warm-started Lanczos steps.
    assert results.get("lanczos_check.max_rel_error") <= 1e-6
    verdicts = _verdicts(results)
    for name in (
        "sharpness-at-2-over-eta",
        "progressive-sharpening",
        "loss-non-monotone",
        "loss-decreases-over-windows",
        "tracks-gradient-flow",
        "momentum-threshold",
    ):
        assert verdicts[name] == "not applicable", name
    assert verdicts["lanczos-exact"] == "holds"
    reasons = {c["id"].split("/")[1]: c["reason"] for c in results.claims}
    assert "gd" in reasons["sharpness-at-2-over-eta"]
    assert "heavy_ball" in reasons["momentum-threshold"]
    assert "flow_time" not in results.arrays  # gradient flow is GD's limit only
    assert {"sharpness", "loss"} <= set(eos.EXPERIMENT.figures(results))


def test_a_user_factory_and_heavy_ball_as_the_main_optimizer(tmp_runs):
    """A factory by import path (tests/user_optim.py, on the test path) for the main
    members; the momentum members stay heavy ball and keep their claim."""
    overrides = {**TINY, "optimizer": "user_optim:clipped_gd(max_norm=1.0)"}
    results = lab.run(NAME, "smoke", overrides, out=tmp_runs)
    verdicts = _verdicts(results)
    assert verdicts["sharpness-at-2-over-eta"] == "not applicable"
    assert verdicts["momentum-threshold"] in ("holds", "does not hold")
    assert results.scalars["members"][1]["threshold"] == pytest.approx(2 * 1.5 / 0.5)


# ------------------------------------------------------------------ Fashion-MNIST reader


def _fixture(root, n=30, seed=0):
    rs = np.random.RandomState(seed)
    images = rs.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    for img_name, label_name in fashion_mnist.FILES.values():
        fashion_mnist.write_idx(root / img_name, images)
        fashion_mnist.write_idx(root / label_name, labels)
    return images, labels


def test_idx_reader_on_a_fixture(tmp_path):
    images, labels = _fixture(tmp_path)
    # The header bytes, written by hand: magic 0x00000803 and three big-endian sizes.
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "rb") as f:
        head = f.read(16)
    assert head == bytes([0, 0, 8, 3, 0, 0, 0, 30, 0, 0, 0, 28, 0, 0, 0, 28])
    got_images, got_labels = fashion_mnist.load("train", root=tmp_path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    X, y = fashion_mnist.subset(12, seed=1, root=tmp_path)
    assert X.shape == (12, 784) and np.allclose(X.mean(axis=0), 0)
    pick = np.sort(np.random.RandomState(1).choice(30, 12, replace=False))
    np.testing.assert_array_equal(y, labels[pick])
    raw = images[pick].reshape(12, -1) / 255.0
    np.testing.assert_allclose(X, raw - raw.mean(axis=0))
    X2, y2 = fashion_mnist.subset(6, seed=0, root=tmp_path, classes=(3, 7))
    assert set(y2.tolist()) <= {0, 1}


def test_missing_data_names_the_install_command(tmp_path):
    with pytest.raises(
        fashion_mnist.DatasetMissingError, match="apt-get install dataset-fashion-mnist"
    ):
        fashion_mnist.load("train", root=tmp_path)
    cfg = EdgeOfStabilityConfig.make("fashion", {"data_root": str(tmp_path)})
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        eos.load_problem(cfg)


def test_idx_reader_rejects_bad_files(tmp_path):
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(fashion_mnist.IDXFormatError, match="not an IDX file"):
        fashion_mnist.read_idx(tmp_path / "bad.idx")
    (tmp_path / "short.idx").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))
    with pytest.raises(fashion_mnist.IDXFormatError, match="header says"):
        fashion_mnist.read_idx(tmp_path / "short.idx")


@pytest.mark.skipif(
    not fashion_mnist.DEFAULT_ROOT.is_dir(), reason="dataset-fashion-mnist is not installed"
)
def test_installed_fashion_mnist_has_the_documented_shapes():
    images, labels = fashion_mnist.load("test")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert np.bincount(labels).tolist() == [1000] * 10


def test_a_diverging_member_is_recorded_and_the_others_run_on(tmp_runs):
    overrides = {**TINY, "learning_rates": "0.5,1e6", "momentum_learning_rates": ""}
    results = lab.run(NAME, "smoke", overrides, out=tmp_runs)
    (record,) = results.scalars["divergences"]
    assert record["member"] == 1 and record["quantity"] == "loss"
    assert 0 < record["step"] <= 40 and "lower the step size 1e+06" in record["message"]
    assert results.get("eos.diverged_members") == [1e6]
    assert np.isfinite(results.metrics["loss"][:, 0]).all()
    assert not np.isfinite(results.metrics["loss"][record["step"] :, 1]).any()
    # A diverged member leaves the claim with no number: "could not be measured", never
    # "holds" (and not "does not hold" either: nothing was judged).
    assert np.isnan(results.get("eos.max_abs_median_ratio_minus_1"))
    assert _verdicts(results)["sharpness-at-2-over-eta"] == "error"
    claim = next(c for c in results.claims if c["id"].endswith("/sharpness-at-2-over-eta"))
    assert claim["error"].startswith("measured nan")


# ------------------------------------------------------------------ end to end


@pytest.mark.slow
def test_smoke_preset_writes_a_run_folder(tmp_runs):
    results = lab.run(NAME, "smoke", out=tmp_runs)
    folder = results.path
    assert (folder / "results.json").is_file() and (folder / "arrays.npz").is_file()
    for name in ("sharpness", "loss", "gd_vs_flow"):
        assert (folder / f"{name}.png").is_file()
    saved = json.loads((folder / "results.json").read_text())
    ids = {c["id"] for c in saved["claims"]}
    assert "edge-of-stability/lanczos-exact" in ids
    # The tracked sharpness agrees with the dense Hessian (P = 676, float64) to the
    # accuracy of the smoke budget: 10 warm-started Lanczos steps (measured 5.9e-4; the
    # quick preset's 20 steps give ~3e-8).
    assert results.get("lanczos_check.max_rel_error") <= 5e-3
    assert results.get("optimizers.optimizer") == "gd"
    np.testing.assert_array_equal(results.steps, np.arange(201))
    assert results.metrics["loss"].shape == (201, 3)
    assert np.isfinite(results.metrics["sharpness"][::10]).all()
    # Measured before the change to engine.train (the hand-written loop): the heavy-ball
    # member's sharpness median over the second half was 1.0839 x 2(1+beta)/eta; the
    # optax form of heavy ball changes it by round-off only (here < 1e-9).
    assert results.get("eos.momentum_max_abs_median_ratio_minus_1") == pytest.approx(
        0.0838823731, abs=1e-8
    )
    assert results.get("eos.max_abs_median_ratio_minus_1") == pytest.approx(0.0711775803, abs=1e-8)


# ------------------------------------------------------------------ Lanczos residual


def _dense_at_final(members, b=0):
    X, Y, _ = _tiny()
    final = jax.tree.map(lambda a: jnp.asarray(a[b]), members.final)
    H = exact_hessian(lambda p: mse_loss(p, X, Y, "tanh"), final)
    return np.linalg.eigh(H)


def test_ritz_residual_is_the_dense_residual():
    """``ritz_residual`` is ||Hv - theta v|| with H the dense Hessian, for any (theta, v)."""
    from implicitbias.experiments.edge_of_stability.probes import ritz_residual

    X, Y, params = _tiny()

    def loss(p):
        return mse_loss(p, X, Y, "tanh")

    H = exact_hessian(loss, params)
    v = np.array(jax.random.normal(jax.random.PRNGKey(9), (H.shape[0],), jnp.float64))
    v /= np.linalg.norm(v)
    theta = float(v @ H @ v)
    got = float(ritz_residual(loss, params, jnp.asarray(theta), jnp.asarray(v)))
    assert got == pytest.approx(np.linalg.norm(H @ v - theta * v), rel=1e-10)


def test_in_loop_lanczos_residual_against_a_dense_eigendecomposition():
    """The in-loop estimate's reported residual: ~0 with a complete Krylov space (and the
    estimate is then the dense top eigenvalue); after 3 steps it is large, and some dense
    eigenvalue lies within it of the estimate (Krylov-Bogoliubov)."""
    full = _tiny_members(learning_rates=(0.5,), momentum_learning_rates=())
    w, _ = _dense_at_final(full)
    assert full.sharpness[0, -1] == pytest.approx(w[-1], rel=1e-10)
    assert full.residual[0, -1] <= 1e-8 * w[-1]

    X, Y, params = _tiny()
    cfg = EdgeOfStabilityConfig(
        steps=10,
        sharpness_every=5,
        lanczos_iters=3,
        flow=False,
        learning_rates=(0.5,),
        momentum_learning_rates=(),
    )
    dirs = jnp.ones((2, ravel_pytree(params)[0].size)) / 10.0
    short = training.train_members(cfg, X, Y, params, dirs)
    w, _ = _dense_at_final(short)
    tracked, res = short.sharpness[0, -1], short.residual[0, -1]
    assert res > 1e-4 * w[-1]  # 3 of 38 Krylov steps: not converged, and it says so
    assert np.min(np.abs(w - tracked)) <= res * (1 + 1e-9)
    assert tracked <= w[-1] * (1 + 1e-12)  # a Ritz value never exceeds lambda_max
