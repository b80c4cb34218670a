"""The edge-of-stability experiment, measured: seed 000's own NumPy loop as the reference for
the seed preset, an independent ODE solver for gradient flow, a hand-written heavy-ball loop,
the analysis helpers on curves with known answers, the Fashion-MNIST reader on IDX fixtures,
and the smoke preset end to end."""

from __future__ import annotations

import gzip
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from scipy.integrate import solve_ivp

from implicitbias import lab
from implicitbias.datasets import fashion_mnist
from implicitbias.errors import ConfigError
from implicitbias.experiments import edge_of_stability as eos
from implicitbias.experiments import edge_of_stability_dynamics as dyn
from implicitbias.experiments.edge_of_stability import EdgeOfStabilityConfig
from implicitbias.problems.mlp import init_mlp, mse_loss


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


# ------------------------------------------------------------------ seed 000


def test_seed_preset_reproduces_the_seeds_numpy_loop():
    """Losses at every step and the seed's estimates (central differences of the gradient
    its code computes, whose first layer is divided by n twice) agree with its NumPy code."""
    cfg = EdgeOfStabilityConfig.make("seed-000", {"steps": 300, "flow": False})
    res = eos.run(cfg)
    losses, est = _seed_numpy(300)
    ours = res.arrays["loss_every_step"][:, 0]
    np.testing.assert_allclose(ours[:300], losses, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.arrays["seed_estimator"][:, 0, 0], est, rtol=1e-6)
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


def test_heavy_ball_members_match_a_hand_written_loop():
    X, Y, params = _tiny()
    etas, betas = [0.1, 0.3], [0.0, 0.8]
    dirs = jnp.ones((2, ravel_pytree(params)[0].size)) / 10.0
    losses, sharp, _, final = dyn.run_gd(
        X,
        Y,
        params,
        etas,
        betas,
        dirs,
        activation="tanh",
        steps=10,
        every=5,
        iters=38,
        key=jax.random.PRNGKey(0),
    )
    flat, unravel = ravel_pytree(params)
    loss_flat = jax.jit(lambda x: mse_loss(unravel(x), X, Y))
    grad = jax.jit(jax.grad(loss_flat))
    for b, (eta, beta) in enumerate(zip(etas, betas, strict=True)):
        x, v = flat, 0.0
        for _ in range(10):
            v = beta * v - eta * grad(x)
            x = x + v
        mine = ravel_pytree(jax.tree.map(lambda a, b=b: a[b], final))[0]
        np.testing.assert_allclose(mine, x, rtol=1e-12, atol=1e-14)
        assert abs(losses[b, -1] - loss_flat(x)) <= 1e-13
    # P = 38 Lanczos steps span the whole space: at t = 0 every member reports the top
    # eigenvalue of the dense Hessian at the shared init.
    from implicitbias.diagnostics import exact_hessian

    top = np.linalg.eigvalsh(exact_hessian(lambda p: mse_loss(p, X, Y), params))[-1]
    np.testing.assert_allclose(sharp[:, 0, 0], top, rtol=1e-9)


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
    t, loss, _, _ = dyn.run_flow(
        X,
        Y,
        params,
        activation="tanh",
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
    m = dyn.member_summary(loss, s_steps, s, 6.0, num_windows=5)
    assert m["first_reach_step"] == 50
    assert m["sharpening_spearman"] == pytest.approx(1.0)
    assert m["median_ratio_second_half"] == pytest.approx(np.median(s[5:]) / 6)
    assert 0.3 < m["up_fraction_after"] < 0.6
    assert m["window_last_over_first"] < 1
    never = dyn.member_summary(loss, s_steps, np.ones(11), 6.0, 5)
    assert never["first_reach_step"] is None and np.isnan(never["up_fraction_after"])


def test_a_diverged_member_makes_the_eos_claims_fail():
    """NaN must propagate: a diverged step size is not at the edge of stability."""
    from implicitbias.runs.results import Results

    ok = {
        "median_ratio_second_half": 1.02,
        "first_reach_step": 10,
        "sharpening_points": 5,
        "sharpening_spearman": 1.0,
        "up_fraction_after": 0.3,
        "window_last_over_first": 0.5,
        "diverged": False,
        "learning_rate": 0.1,
        "momentum": 0.0,
    }
    bad = {**ok, "median_ratio_second_half": float("nan"), "diverged": True, "learning_rate": 0.9}
    hb_ok = {**ok, "momentum": 0.9}
    res = Results("edge-of-stability", "", {})
    eos._aggregate(res, [ok, bad, hb_ok, {**bad, "momentum": 0.9}], [0, 0, 0.9, 0.9])
    assert np.isnan(res.get("eos.max_abs_median_ratio_minus_1"))
    assert np.isnan(res.get("eos.momentum_max_abs_median_ratio_minus_1"))
    assert res.get("eos.diverged_members") == [0.9, 0.9]
    eos._aggregate(res, [ok, hb_ok], [0, 0.9])
    assert res.get("eos.max_abs_median_ratio_minus_1") == pytest.approx(0.02)
    assert res.get("eos.momentum_max_abs_median_ratio_minus_1") == pytest.approx(0.02)


def test_flow_comparison_before_and_after_the_crossing():
    flow_t = np.linspace(0, 10, 1001)
    flow_loss = np.exp(-flow_t / 5)
    eta = 0.5
    t = np.arange(21)
    loss = np.exp(-eta * t / 5)
    loss[12:] *= 1.5  # departs at step 12
    out = dyn.flow_comparison(loss, eta, 12, flow_t, flow_loss, tol=0.05)
    assert out["max_rel_diff_before"] <= 1e-4  # linear interpolation error only
    assert out["max_rel_diff_after"] == pytest.approx(0.5, rel=1e-3)
    assert out["departure_step"] == 12


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


# ------------------------------------------------------------------ end to end


def test_smoke_preset_writes_a_run_folder(tmp_runs):
    results = lab.run("edge-of-stability", "smoke", out=tmp_runs)
    folder = results.path
    assert (folder / "results.json").is_file() and (folder / "arrays.npz").is_file()
    for name in ("sharpness", "loss", "gd_vs_flow"):
        assert (folder / f"{name}.png").is_file()
    saved = json.loads((folder / "results.json").read_text())
    ids = {c["id"] for c in saved["claims"]}
    assert "edge-of-stability/lanczos-exact" in ids
    # The tracked sharpness agrees with the dense Hessian (P = 676, float64) to the
    # accuracy of the smoke budget: 10 warm-started Lanczos steps (measured 6e-4; the
    # quick preset's 20 steps give ~3e-8).
    assert results.get("lanczos_check.max_rel_error") <= 5e-3
    steps = results.arrays["steps"]
    assert results.metrics["sharpness"].shape == (len(steps), 3)
    assert results.arrays["loss_every_step"].shape == (201, 3)
