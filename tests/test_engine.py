"""The training engine against plain NumPy loops on least squares, in float64.

References are written out here with NumPy (gradient ``X^T (Xw - y) / n`` of the loss
``||Xw - y||^2 / (2n)``), independent of JAX and of the package's theory module.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from implicitbias.engine import Minibatch, Sampler, compilation_count, log_points, train
from implicitbias.engine.checkpoint import checkpoints
from implicitbias.errors import ConfigError, DivergenceError
from implicitbias.optim import gd
from implicitbias.problems.linear import least_squares

N, P = 5, 12


def _problem(seed: int = 0, n: int = N, p: int = P) -> tuple[np.ndarray, np.ndarray]:
    rs = np.random.RandomState(seed)
    return rs.randn(n, p), rs.randn(n)


def _np_grad(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    return X.T @ (X @ w - y) / X.shape[0]


def _np_gd_path(X, y, w0, lr, steps) -> np.ndarray:
    """``(steps + 1, p)``: the iterates of plain GD, ``path[t]`` after ``t`` steps."""
    path = [np.array(w0, dtype=np.float64)]
    for _ in range(steps):
        path.append(path[-1] - lr * _np_grad(X, y, path[-1]))
    return np.stack(path)


def _np_loss(X, y, w) -> float:
    return 0.5 * float(np.mean((X @ w - y) ** 2))


def _smoothness(X: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(X.T @ X / X.shape[0]).max())


def _metrics(w, data, aux):
    return {"norm": jnp.linalg.norm(w), "dist": jnp.linalg.norm(w - aux)}


# ------------------------------------------------------------------ GD vs NumPy


def test_gd_matches_numpy_at_every_one_of_the_first_100_steps():
    X, y = _problem(0)
    lr = 1.0 / _smoothness(X)
    w0 = np.random.RandomState(1).randn(1, P)
    traj = train(
        least_squares,
        w0,
        gd,
        steps=100,
        data=(X, y),
        hparams={"learning_rate": lr},
        log_at=np.arange(1, 101),
        keep_params=True,
    )
    ref = _np_gd_path(X, y, w0[0], lr, 100)
    np.testing.assert_array_equal(traj.steps, np.arange(1, 101))
    snaps = np.asarray(traj.snapshots)
    assert snaps.shape == (100, 1, P)
    for t in range(1, 101):
        np.testing.assert_allclose(snaps[t - 1, 0], ref[t], rtol=0, atol=1e-12, err_msg=f"step {t}")
        assert abs(traj.metrics["loss"][t - 1, 0] - _np_loss(X, y, ref[t])) <= 1e-12
    np.testing.assert_allclose(traj.params[0], ref[100], rtol=0, atol=1e-12)
    # The run must have moved: otherwise the comparison above proves nothing.
    assert np.linalg.norm(ref[100] - ref[0]) > 0.1


def test_batch_of_learning_rates_equals_separate_numpy_runs():
    X, y = _problem(2)
    L = _smoothness(X)
    lrs = np.array([0.1, 0.5, 1.0, 1.9]) / L
    w0 = np.random.RandomState(3).randn(len(lrs), P)
    traj = train(
        least_squares,
        w0,
        gd,
        steps=150,
        data=(X, y),
        hparams={"learning_rate": lrs},
        num_logs=30,
        keep_params=True,
    )
    snaps = np.asarray(traj.snapshots)
    for m, lr in enumerate(lrs):
        ref = _np_gd_path(X, y, w0[m], lr, 150)
        np.testing.assert_allclose(snaps[:, m], ref[traj.steps], rtol=0, atol=1e-12)
        np.testing.assert_allclose(traj.params[m], ref[-1], rtol=0, atol=1e-12)
    # Different learning rates give different end points (members are not mixed up).
    assert np.linalg.norm(traj.params[0] - traj.params[2]) > 1e-3


def test_per_member_data_with_data_axis_0():
    (X1, y1), (X2, y2) = _problem(4), _problem(5)
    X, y = np.stack([X1, X2]), np.stack([y1, y2])
    lr = 0.5 / max(_smoothness(X1), _smoothness(X2))
    traj = train(
        least_squares,
        np.zeros((2, P)),
        gd,
        steps=80,
        data=(X, y),
        data_axis=0,
        hparams={"learning_rate": lr},
        num_logs=10,
    )
    for m, (Xm, ym) in enumerate([(X1, y1), (X2, y2)]):
        ref = _np_gd_path(Xm, ym, np.zeros(P), lr, 80)
        np.testing.assert_allclose(traj.params[m], ref[-1], rtol=0, atol=1e-12)


def test_metrics_at_step_0_equal_the_init_values():
    X, y = _problem(6)
    rs = np.random.RandomState(7)
    w0, ref_points = rs.randn(3, P), rs.randn(3, P)
    lr = 0.5 / _smoothness(X)
    traj = train(
        least_squares,
        w0,
        gd,
        steps=50,
        data=(X, y),
        hparams={"learning_rate": lr},
        metrics=_metrics,
        aux=ref_points,
        aux_axis=0,
        num_logs=20,
    )
    np.testing.assert_array_equal(traj.steps, log_points(50, 20, "log"))
    assert traj.steps[0] == 0
    for m in range(3):
        assert abs(traj.metrics["loss"][0, m] - _np_loss(X, y, w0[m])) <= 1e-12
        assert abs(traj.metrics["norm"][0, m] - np.linalg.norm(w0[m])) <= 1e-12
        assert abs(traj.metrics["dist"][0, m] - np.linalg.norm(w0[m] - ref_points[m])) <= 1e-12
        w_end = _np_gd_path(X, y, w0[m], lr, 50)[-1]
        assert abs(traj.metrics["norm"][-1, m] - np.linalg.norm(w_end)) <= 1e-12
    assert traj.num_members == 3
    np.testing.assert_array_equal(traj.final("norm"), traj.metrics["norm"][-1])


def test_vector_metrics_keep_the_log_then_member_then_value_axes():
    X, y = _problem(8)
    w0 = np.random.RandomState(9).randn(3, P)
    lr = 0.5 / _smoothness(X)

    def first_coords(w, data, aux):
        return {"head": w[:4]}

    traj = train(
        least_squares,
        w0,
        gd,
        steps=40,
        data=(X, y),
        hparams={"learning_rate": lr},
        metrics=first_coords,
        num_logs=8,
        keep_params=True,
    )
    head = traj.metrics["head"]
    assert head.shape == (len(traj.steps), 3, 4)
    np.testing.assert_allclose(head, np.asarray(traj.snapshots)[:, :, :4], rtol=0, atol=0)


# ------------------------------------------------------------------ log points


@pytest.mark.parametrize("spacing", ["log", "linear"])
@pytest.mark.parametrize("steps", [1, 2, 3, 10, 99, 1000, 10**7])
@pytest.mark.parametrize("num", [2, 3, 7, 200])
def test_log_points(steps, num, spacing):
    points = log_points(steps, num, spacing)
    assert points.dtype == np.int64
    assert points[0] == 0 and points[-1] == steps
    assert np.all(np.diff(points) > 0)  # increasing, hence unique
    assert len(points) <= num
    assert len(points) <= steps + 1


def test_log_points_small_runs_log_every_step():
    np.testing.assert_array_equal(log_points(10, 200, "linear"), np.arange(11))
    np.testing.assert_array_equal(log_points(10, 200, "log"), np.arange(11))
    # Log spacing keeps all the early steps and is sparse later.
    points = log_points(10**6, 200, "log")
    np.testing.assert_array_equal(points[:11], np.arange(11))
    assert 150 <= len(points) <= 200
    ratios = points[-50:][1:] / points[-50:][:-1]
    np.testing.assert_allclose(ratios, (10**6) ** (1 / 198), rtol=1e-3)  # geometric tail


@pytest.mark.parametrize(
    "kwargs, param",
    [
        (dict(steps=0), "steps"),
        (dict(steps=10, num=1), "num_logs"),
        (dict(steps=10, spacing="cubic"), "spacing"),
    ],
)
def test_log_points_rejects_bad_input(kwargs, param):
    with pytest.raises(ConfigError) as err:
        log_points(**kwargs)
    assert err.value.param == param


# ------------------------------------------------------------------ divergence

_DIVERGE_LRS = np.array([0.1, 5.0])  # L ~ 5.5 for _problem(0): 5.0 > 2/L diverges


def _np_first_bad_logged_step(X, y, lr, points) -> int:
    w = np.zeros(P)
    done = 0
    with np.errstate(all="ignore"):
        for point in points:
            for _ in range(point - done):
                w = w - lr * _np_grad(X, y, w)
            done = point
            if not (np.all(np.isfinite(w)) and np.isfinite(_np_loss(X, y, w))):
                return int(point)
    raise AssertionError("the NumPy reference did not diverge")


def test_divergence_raises_with_step_member_and_hint():
    X, y = _problem(0)
    assert _DIVERGE_LRS[1] > 2 / _smoothness(X) > _DIVERGE_LRS[0]
    points = log_points(200, 50, "log")
    with pytest.raises(DivergenceError) as err:
        train(
            least_squares,
            np.zeros((2, P)),
            gd,
            steps=200,
            data=(X, y),
            hparams={"learning_rate": _DIVERGE_LRS},
            num_logs=50,
            keep_params=True,
            divergence_hint="lower the learning rate",
        )
    div, traj = err.value.divergence, err.value.trajectory
    assert div.member == 1
    assert div.step == _np_first_bad_logged_step(X, y, _DIVERGE_LRS[1], points)
    message = str(err.value)
    assert f"step {div.step}" in message
    assert "batch member 1" in message
    assert "Hint: lower the learning rate" in message
    # Everything logged before the bad step is kept, and nothing at or after it.
    np.testing.assert_array_equal(traj.steps, points[points < div.step])
    assert traj.divergence == div
    for values in traj.metrics.values():
        assert values.shape == (len(traj.steps), 2)
        assert np.all(np.isfinite(values))
    assert np.all(np.isfinite(np.asarray(traj.snapshots)))
    # The kept values are the right ones (member 0 converges, member 1 grows).
    for m in range(2):
        ref = _np_gd_path(X, y, np.zeros(P), _DIVERGE_LRS[m], int(traj.steps[-1]))
        np.testing.assert_allclose(
            traj.metrics["loss"][:, m], [_np_loss(X, y, ref[t]) for t in traj.steps], rtol=1e-10
        )


def test_divergence_hint_may_depend_on_the_member():
    X, y = _problem(0)
    with pytest.raises(DivergenceError, match=r"Hint: member 1 needs a smaller step"):
        train(
            least_squares,
            np.zeros((2, P)),
            gd,
            steps=200,
            data=(X, y),
            hparams={"learning_rate": _DIVERGE_LRS},
            num_logs=50,
            divergence_hint=lambda m: f"member {m} needs a smaller step",
        )


def test_on_divergence_stop_returns_the_partial_trajectory():
    X, y = _problem(0)
    kwargs = dict(steps=200, data=(X, y), hparams={"learning_rate": _DIVERGE_LRS}, num_logs=50)
    with pytest.raises(DivergenceError) as err:
        train(least_squares, np.zeros((2, P)), gd, **kwargs)
    traj = train(least_squares, np.zeros((2, P)), gd, on_divergence="stop", **kwargs)
    assert traj.divergence is not None
    assert traj.divergence == err.value.divergence
    assert traj.steps[-1] < traj.divergence.step < 200
    np.testing.assert_array_equal(traj.steps, err.value.trajectory.steps)
    np.testing.assert_array_equal(traj.metrics["loss"], err.value.trajectory.metrics["loss"])


def test_on_divergence_continue_runs_to_the_end():
    X, y = _problem(0)
    traj = train(
        least_squares,
        np.zeros((2, P)),
        gd,
        steps=200,
        data=(X, y),
        hparams={"learning_rate": _DIVERGE_LRS},
        num_logs=50,
        on_divergence="continue",
    )
    assert traj.divergence is None
    np.testing.assert_array_equal(traj.steps, log_points(200, 50, "log"))
    assert not np.isfinite(traj.metrics["loss"][-1, 1])
    assert np.all(np.isfinite(traj.metrics["loss"][:, 0]))
    ref = _np_gd_path(X, y, np.zeros(P), _DIVERGE_LRS[0], 200)
    np.testing.assert_allclose(traj.params[0], ref[-1], rtol=0, atol=1e-12)


def test_divergence_trajectory_params_are_those_of_the_last_kept_step():
    X, y = _problem(0)
    traj = train(
        least_squares,
        np.zeros((2, P)),
        gd,
        steps=200,
        data=(X, y),
        hparams={"learning_rate": _DIVERGE_LRS},
        num_logs=50,
        keep_params=True,
        num_chunks=1,
        on_divergence="stop",
    )
    assert traj.steps[-1] > 0
    # Trajectory documents `params` as the parameters at steps[-1].
    np.testing.assert_allclose(traj.params, np.asarray(traj.snapshots)[-1], rtol=0, atol=0)


# ------------------------------------------------------------------ sampling


@functools.cache
def _indices_fn(sampler: Sampler, n: int):
    return jax.jit(jax.vmap(lambda key, t: sampler.indices(key, t, n), in_axes=(None, 0)))


def _indices(sampler: Sampler, key, steps, n: int) -> np.ndarray:
    """Indices of the steps ``range(steps)`` (or of the given array of steps)."""
    t = jnp.arange(steps) if np.ndim(steps) == 0 else jnp.asarray(steps)
    return np.asarray(_indices_fn(sampler, n)(jnp.asarray(key), t))


def test_sampler_with_replacement_is_in_range_and_reproducible():
    n, b = 7, 3
    sampler = Minibatch(b, replace=True)
    key = jax.random.PRNGKey(11)
    idx = _indices(sampler, key, 500, n)
    assert idx.shape == (500, b)
    assert idx.min() >= 0 and idx.max() < n
    assert set(np.unique(idx)) == set(range(n))  # 1500 draws from 7 values hit all
    np.testing.assert_array_equal(idx, _indices(sampler, key, 500, n))
    # Step t alone (not the call history) decides the indices.
    np.testing.assert_array_equal(_indices(sampler, key, np.array([123, 7]), n), idx[[123, 7]])
    other = _indices(sampler, jax.random.PRNGKey(12), 500, n)
    assert np.mean(other != idx) > 0.5
    # With replacement, some minibatch repeats an index (P(no repeat in 500) ~ 1e-86).
    assert any(len(set(row)) < b for row in idx)


@pytest.mark.parametrize("n, b", [(12, 3), (12, 12), (10, 1)])
def test_random_reshuffling_visits_each_index_once_per_epoch(n, b):
    sampler = Minibatch(b, replace=False)
    per_epoch = n // b
    epochs = 6
    idx = _indices(sampler, jax.random.PRNGKey(3), epochs * per_epoch, n)
    orders = []
    for e in range(epochs):
        visited = idx[e * per_epoch : (e + 1) * per_epoch].ravel()
        np.testing.assert_array_equal(np.sort(visited), np.arange(n))
        orders.append(tuple(visited))
    assert len(set(orders)) > 1  # each epoch reshuffles (n >= 6: equal orders ~ 1/720^5)


def test_random_reshuffling_skips_the_remainder_without_repeats():
    n, b = 10, 3  # 3 minibatches per epoch, one example left out each epoch
    idx = _indices(Minibatch(b, replace=False), jax.random.PRNGKey(5), 3 * 4, n)
    for e in range(4):
        visited = idx[3 * e : 3 * e + 3].ravel()
        assert len(set(visited)) == 9
        assert visited.min() >= 0 and visited.max() < n


@pytest.mark.parametrize("replace", [True, False])
def test_sgd_matches_a_numpy_loop_on_the_same_indices(replace):
    X, y = _problem(8, n=6)
    b, steps, lr = 2, 60, 0.05
    sampler = Minibatch(b, replace=replace)
    keys = np.stack([np.asarray(jax.random.PRNGKey(21)), np.asarray(jax.random.PRNGKey(22))])
    w0 = np.random.RandomState(9).randn(2, P)
    traj = train(
        least_squares,
        w0,
        gd,
        steps=steps,
        data=(X, y),
        sampler=sampler,
        key=keys,
        hparams={"learning_rate": lr},
        log_at=np.arange(1, steps + 1),
        keep_params=True,
    )
    snaps = np.asarray(traj.snapshots)
    for m in range(2):
        idx = _indices(sampler, jnp.asarray(keys[m]), steps, X.shape[0])
        w = w0[m].copy()
        for t in range(steps):
            Xb, yb = X[idx[t]], y[idx[t]]
            w = w - lr * Xb.T @ (Xb @ w - yb) / b
            np.testing.assert_allclose(snaps[t, m], w, rtol=0, atol=1e-12)
    assert np.linalg.norm(traj.params[0] - traj.params[1]) > 1e-6


def test_sgd_with_the_full_batch_without_replacement_is_gd():
    X, y = _problem(10)
    lr = 1.0 / _smoothness(X)
    w0 = np.random.RandomState(1).randn(1, P)
    traj = train(
        least_squares,
        w0,
        gd,
        steps=120,
        data=(X, y),
        sampler=Minibatch(N, replace=False),
        key=jax.random.PRNGKey(0),
        hparams={"learning_rate": lr},
        num_logs=20,
        keep_params=True,
    )
    ref = _np_gd_path(X, y, w0[0], lr, 120)
    # Only the order of the summed examples differs: round-off.
    np.testing.assert_allclose(
        np.asarray(traj.snapshots)[:, 0], ref[traj.steps], rtol=0, atol=1e-12
    )


def test_per_member_keys_give_different_sgd_paths_and_equal_keys_equal_paths():
    X, y = _problem(12)
    kwargs = dict(
        steps=50, data=(X, y), sampler=Minibatch(1), hparams={"learning_rate": 0.05}, num_logs=10
    )
    w0 = np.zeros((2, P))
    split = train(least_squares, w0, gd, key=jax.random.PRNGKey(4), **kwargs)
    assert np.linalg.norm(split.params[0] - split.params[1]) > 1e-3
    same_key = np.stack([np.asarray(jax.random.PRNGKey(4))] * 2)
    same = train(least_squares, w0, gd, key=same_key, **kwargs)
    np.testing.assert_array_equal(same.params[0], same.params[1])


# ------------------------------------------------------------------ compilation cache


def test_a_second_identical_call_does_not_recompile():
    def loss(w, data):  # a fresh function: its program cannot be cached yet
        X, y = data
        return 0.5 * jnp.mean((X @ w - y) ** 2)

    X, y = _problem(13)
    kwargs = dict(steps=300, data=(X, y), num_logs=40)
    before = compilation_count()
    first = train(loss, np.zeros((2, P)), gd, hparams={"learning_rate": 0.1}, **kwargs)
    assert compilation_count() == before + 1  # one program serves every chunk
    assert first.compile_seconds > 0
    again = train(loss, np.zeros((2, P)), gd, hparams={"learning_rate": 0.1}, **kwargs)
    assert compilation_count() == before + 1
    assert again.compile_seconds == 0.0
    np.testing.assert_array_equal(first.params, again.params)
    # New values of the same shapes (init, learning rates) reuse the program too.
    other = train(loss, np.ones((2, P)), gd, hparams={"learning_rate": [0.05, 0.2]}, **kwargs)
    assert compilation_count() == before + 1
    ref = _np_gd_path(X, y, np.ones(P), 0.2, 300)
    np.testing.assert_allclose(other.params[1], ref[-1], rtol=0, atol=1e-12)


# ------------------------------------------------------------------ bad inputs


class _Traced:
    """A loss that counts how often JAX traces it (any work at all traces it)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, w, data):
        self.calls += 1
        return least_squares(w, data)


_X, _Y = _problem(14)
_BAD = {
    "params without a batch axis": (dict(params=np.float64(0.0)), "params"),
    "leaves with different batch sizes": (
        dict(params={"a": np.zeros((2, 3)), "b": np.zeros((3, 3))}),
        "params",
    ),
    "hparams of the wrong length": (
        dict(hparams={"learning_rate": np.array([0.1, 0.2, 0.3])}),
        "hparams['learning_rate']",
    ),
    "batch_size > n": (dict(sampler=Minibatch(N + 1)), "batch_size"),
    "batch_size 0": (dict(sampler=Minibatch(0)), "batch_size"),
    "log_at not ending at steps": (dict(log_at=np.array([0, 5, 9])), "log_at"),
    "log_at decreasing": (dict(log_at=np.array([0, 6, 5, 10])), "log_at"),
    "log_at repeated": (dict(log_at=np.array([0, 5, 5, 10])), "log_at"),
    "log_at negative": (dict(log_at=np.array([-1, 5, 10])), "log_at"),
    "log_at 2-D": (dict(log_at=np.array([[0, 10]])), "log_at"),
    "a wrong number of keys": (
        dict(key=np.zeros((3, 2), dtype=np.uint32), sampler=Minibatch(2)),
        "key",
    ),
    "on_divergence unknown": (dict(on_divergence="ignore"), "on_divergence"),
}


@pytest.mark.parametrize("case", list(_BAD))
def test_bad_inputs_raise_config_error_before_any_work(case):
    changes, param = _BAD[case]
    kwargs = dict(params=np.zeros((2, P)), steps=10, data=(_X, _Y), hparams={"learning_rate": 0.1})
    kwargs.update(changes)
    loss = _Traced()
    before = compilation_count()
    with pytest.raises(ConfigError) as err:
        train(loss, optimizer=gd, **kwargs)
    assert err.value.param == param
    assert str(err.value).startswith(f"`{param}`: expected ")
    assert loss.calls == 0
    assert compilation_count() == before


def test_empty_log_at_raises_config_error():
    with pytest.raises(ConfigError):
        train(
            least_squares,
            np.zeros((1, P)),
            gd,
            steps=10,
            data=(_X, _Y),
            hparams={"learning_rate": 0.1},
            log_at=np.array([], dtype=np.int64),
        )


def test_non_integer_log_at_is_rejected():
    with pytest.raises(ConfigError):
        train(
            least_squares,
            np.zeros((1, P)),
            gd,
            steps=10,
            data=(_X, _Y),
            hparams={"learning_rate": 0.1},
            log_at=np.array([0.5, 10.0]),
        )


def test_typed_prng_key_is_accepted():
    X, y = _problem(15)
    old = train(
        least_squares,
        np.zeros((2, P)),
        gd,
        steps=20,
        data=(X, y),
        sampler=Minibatch(2),
        key=jax.random.PRNGKey(3),
        hparams={"learning_rate": 0.05},
        num_logs=5,
    )
    new = train(
        least_squares,
        np.zeros((2, P)),
        gd,
        steps=20,
        data=(X, y),
        sampler=Minibatch(2),
        key=jax.random.key(3),
        hparams={"learning_rate": 0.05},
        num_logs=5,
    )
    np.testing.assert_array_equal(new.params, old.params)


def test_log_points_absurd_counts_are_fast_or_refused():
    """10^6 points on a 100-step run build no 10^6-long array; 10^9 points are refused."""
    np.testing.assert_array_equal(log_points(100, 10**6, "log"), np.arange(101))
    with pytest.raises(ConfigError, match="num_logs"):
        log_points(100, 10**9)


# ------------------------------------------------------------------ calls bounded in time


def _cut_kwargs(X, y, **extra):
    return dict(
        steps=3000,
        data=(X, y),
        hparams={"learning_rate": np.array([0.05, 0.1])},
        metrics=_metrics,
        aux=np.zeros(P),
        num_logs=12,  # log-spaced: the last interval alone is over 1000 steps
        keep_params=True,
        **extra,
    )


def test_results_do_not_depend_on_how_the_run_is_cut_into_calls(monkeypatch):
    """A tiny time budget cuts long log intervals into silent pieces; every logged value,
    snapshot and the final parameters are bit-identical to one-call and default runs, and
    equal to the NumPy loop."""
    import importlib

    train_module = importlib.import_module("implicitbias.engine.train")
    X, y = _problem(2)
    w0 = np.random.RandomState(3).randn(2, P)
    seen: list[tuple[int, bool]] = []
    real = train_module.next_call

    def spy(*args):
        out = real(*args)
        seen.append((int(out[0].sum()), bool(out[1].any())))
        return out

    monkeypatch.setattr(train_module, "next_call", spy)
    cut = train(least_squares, w0, gd, chunk_seconds=1e-9, **_cut_kwargs(X, y))
    monkeypatch.setattr(train_module, "next_call", real)
    silent = [n for n, logs in seen if not logs]
    assert len(silent) > 100 and set(silent) == {1}  # one step per call once timed
    assert sum(n for n, _ in seen) == 3000
    whole = train(least_squares, w0, gd, num_chunks=1, **_cut_kwargs(X, y))
    default = train(least_squares, w0, gd, **_cut_kwargs(X, y))
    for other in (whole, default):
        np.testing.assert_array_equal(cut.steps, other.steps)
        for name in ("loss", "norm", "dist"):
            np.testing.assert_array_equal(cut.metrics[name], other.metrics[name])
        np.testing.assert_array_equal(np.asarray(cut.snapshots), np.asarray(other.snapshots))
        np.testing.assert_array_equal(cut.params, other.params)
    for m, lr in enumerate((0.05, 0.1)):
        ref = _np_gd_path(X, y, w0[m], lr, 3000)
        np.testing.assert_allclose(cut.params[m], ref[-1], rtol=1e-10, atol=1e-12)


def test_divergence_inside_a_cut_interval_keeps_the_last_logged_step():
    """Member 1 diverges inside a long log interval that is cut into silent pieces: the
    divergence is reported at the same logged step as without cuts, and the parameters
    returned are those of the last logged step (not of a silent piece)."""
    X, y = _problem(0)
    kwargs = dict(
        steps=2000,
        data=(X, y),
        hparams={"learning_rate": np.array([0.1, 3.0 / _smoothness(X)])},
        log_at=np.array([0, 1, 2, 2000]),
        keep_params=True,
        on_divergence="stop",
    )
    cut = train(least_squares, np.zeros((2, P)), gd, chunk_seconds=1e-9, **kwargs)
    whole = train(least_squares, np.zeros((2, P)), gd, num_chunks=1, **kwargs)
    a, b = cut.divergence, whole.divergence
    assert a is not None and b is not None
    assert (a.step, a.member, a.quantity) == (b.step, b.member, b.quantity) == (2000, 1, "loss")
    assert not np.isfinite(a.value) and not np.isfinite(b.value)
    np.testing.assert_array_equal(cut.steps, [0, 1, 2])
    np.testing.assert_array_equal(cut.params, whole.params)
    np.testing.assert_array_equal(cut.params, np.asarray(cut.snapshots)[-1])


def test_a_run_stopped_inside_a_log_interval_resumes_to_the_same_numbers(tmp_path, monkeypatch):
    """Interrupted after a checkpoint written in the middle of a log interval, the run
    resumes from that step (not from the interval's start) and ends bit-identical."""
    import importlib

    from implicitbias.engine import checkpoint

    train_module = importlib.import_module("implicitbias.engine.train")
    X, y = _problem(2)
    w0 = np.random.RandomState(3).randn(2, P)
    whole = train(least_squares, w0, gd, **_cut_kwargs(X, y))
    real_save = checkpoint.save
    saved: list[int] = []

    def save_then_stop(path, stamp, chunk, done, state, kept, log_state=None):
        real_save(path, stamp, chunk, done, state, kept, log_state)
        saved.append(done)
        if log_state is not state and len(saved) > 40:  # inside the last interval
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save", save_then_stop)
    monkeypatch.setattr(train_module, "CHECKPOINT_SECONDS", 0.0)  # a checkpoint every call
    with checkpoints(tmp_path), pytest.raises(KeyboardInterrupt):
        train(least_squares, w0, gd, chunk_seconds=1e-9, **_cut_kwargs(X, y))
    monkeypatch.setattr(checkpoint, "save", real_save)
    stopped_at = saved[-1]
    points = log_points(3000, 12, "log")
    assert stopped_at not in points  # really inside an interval
    with np.load(tmp_path / "train-000.npz") as npz:
        assert int(npz["done"]) == stopped_at and "logstate/0" in npz.files

    calls: list[int] = []
    real_next = train_module.next_call
    monkeypatch.setattr(
        train_module,
        "next_call",
        lambda *a: (calls.append(int(a[2])), real_next(*a))[1],
    )
    with checkpoints(tmp_path):
        again = train(least_squares, w0, gd, **_cut_kwargs(X, y))
    assert calls[0] == stopped_at  # it went on from the checkpoint's step
    np.testing.assert_array_equal(again.steps, whole.steps)
    for name in ("loss", "norm", "dist"):
        np.testing.assert_array_equal(again.metrics[name], whole.metrics[name])
    np.testing.assert_array_equal(again.params, whole.params)


def test_checkpoints_are_written_at_most_every_few_seconds_and_always_at_the_end(
    tmp_path, monkeypatch
):
    """Calls come every ~2 s, but checkpoints (which rewrite the state and every metric
    logged so far) only every CHECKPOINT_SECONDS, plus the first and the last call."""
    import importlib

    from implicitbias.engine import checkpoint

    X, y = _problem(2)
    w0 = np.random.RandomState(3).randn(2, P)
    written: list[int] = []
    real_save = checkpoint.save
    monkeypatch.setattr(
        checkpoint, "save", lambda *a, **k: (written.append(a[3]), real_save(*a, **k))[1]
    )
    monkeypatch.setattr(
        importlib.import_module("implicitbias.engine.train"), "CHECKPOINT_SECONDS", 1e9
    )
    with checkpoints(tmp_path):
        train(least_squares, w0, gd, chunk_seconds=1e-9, **_cut_kwargs(X, y))
    assert len(written) == 2 and written[-1] == 3000  # the first call and the last
    with np.load(tmp_path / "train-000.npz") as npz:
        assert int(npz["done"]) == 3000


# ------------------------------------------------------------------ block-mapped batches


def _same(a, b):
    np.testing.assert_array_equal(a.steps, b.steps)
    assert a.metrics.keys() == b.metrics.keys()
    for name in a.metrics:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        np.testing.assert_array_equal(x, y)
    if a.snapshots is not None:
        np.testing.assert_array_equal(np.asarray(a.snapshots), np.asarray(b.snapshots))


@pytest.mark.parametrize("block", [2, 4, 7, 16])
def test_block_mapped_gd_is_bit_identical_to_one_vmap(block):
    """Blocks of 2, 4, 7 (the last padded) and 16 members give the numbers of one vmap
    over all 23, bit for bit, and the NumPy loop to round-off."""
    X, y = _problem(4)
    w0 = np.random.RandomState(5).randn(23, P)
    lrs = np.linspace(0.02, 0.15, 23)
    kwargs = dict(
        steps=300,
        data=(X, y),
        hparams={"learning_rate": lrs},
        metrics=_metrics,
        aux=np.zeros(P),
        num_logs=20,
        keep_params=True,
    )
    whole = train(least_squares, w0, gd, block_size=0, **kwargs)
    blocked = train(least_squares, w0, gd, block_size=block, **kwargs)
    assert whole.block_size == 0 and blocked.block_size == block
    _same(whole, blocked)
    ref = _np_gd_path(X, y, w0[11], lrs[11], 300)
    np.testing.assert_allclose(blocked.params[11], ref[-1], rtol=1e-10, atol=1e-12)


def test_block_mapped_sgd_with_member_data_aux_and_probe_is_bit_identical():
    """Per-member data (data_axis=0), a nested aux with shared and per-member parts, a
    minibatch sampler with per-member keys, a stateful probe and adam: still bit-identical."""
    from implicitbias.engine import Probe
    from implicitbias.optim import adam

    rs = np.random.RandomState(6)
    b = 10
    Xs, ys = rs.randn(b, 8, 5), rs.randn(b, 8)
    aux = {"per": rs.randn(b, 5), "shared": {"scale": np.asarray(2.0)}}

    def metrics(w, data, aux):
        return {"d": aux["shared"]["scale"] * jnp.sum((w - aux["per"]) ** 2)}

    def count(params, data, aux, state, key, step):
        return {"calls": state + 1.0, "u": jax.random.uniform(key)}, state + 1.0

    probe = Probe(count, lambda p, a: jnp.zeros(()), every=3)
    kwargs = dict(
        steps=120,
        data=(Xs, ys),
        data_axis=0,
        aux=aux,
        aux_axis={"per": 0, "shared": None},
        hparams={"learning_rate": 0.01},
        metrics=metrics,
        probe=probe,
        sampler=Minibatch(3),
        key=jax.random.PRNGKey(7),
        log_at=np.arange(0, 121, 3),
        keep_params=True,
    )
    whole = train(least_squares, rs.randn(b, 5), adam, block_size=0, **kwargs)
    again = train(least_squares, np.asarray(whole.params) * 0 + 0, adam, block_size=0, **kwargs)
    assert not np.array_equal(whole.metrics["loss"], again.metrics["loss"])  # inputs matter
    w0 = np.random.RandomState(6).randn(b, 5)
    whole = train(least_squares, w0, adam, block_size=0, **kwargs)
    blocked = train(least_squares, w0, adam, block_size=3, **kwargs)
    _same(whole, blocked)


def test_block_mapped_divergence_is_reported_for_the_same_member_and_step():
    X, y = _problem(0)
    lrs = np.array([0.1, 0.1, 0.1, 0.1, 5.0])  # the last member, in a padded block, diverges
    kwargs = dict(steps=200, data=(X, y), hparams={"learning_rate": lrs}, num_logs=50)
    with pytest.raises(DivergenceError) as whole:
        train(least_squares, np.zeros((5, P)), gd, block_size=0, **kwargs)
    with pytest.raises(DivergenceError) as blocked:
        train(least_squares, np.zeros((5, P)), gd, block_size=2, **kwargs)
    a, b = whole.value.divergence, blocked.value.divergence
    assert (a.step, a.member, a.quantity) == (b.step, b.member, b.quantity)
    assert a.member == 4
    _same(whole.value.trajectory, blocked.value.trajectory)


def test_auto_blocks_only_when_the_state_outgrows_the_cache():
    from implicitbias.engine.train import _BLOCK_STATE_BYTES, choose_block

    small = np.zeros((100, 10))  # 8 kB of float64 state in all
    assert choose_block(small, (), 100) == 0
    big = np.zeros((10_000, 100))  # 8 MB: blocks of 256 kB = 327 members
    assert choose_block(big, (), 10_000) == _BLOCK_STATE_BYTES // 800 == 327
    # adam's two moments triple the state per member
    assert choose_block(big, (big, big), 10_000) == max(32, _BLOCK_STATE_BYTES // 2400)
    # 4 MB, but blocks of the 32-member minimum would be fewer than two
    assert choose_block(np.zeros((50, 10_000)), (), 50) == 0


@pytest.mark.parametrize("bad", [-1, 1, 1.5, "fast", True])
def test_bad_block_size_is_a_config_error(bad):
    X, y = _problem(0)
    with pytest.raises(ConfigError, match="block_size"):
        train(
            least_squares,
            np.zeros((2, P)),
            gd,
            steps=5,
            data=(X, y),
            hparams={"learning_rate": 0.1},
            block_size=bad,
        )


def test_meta_json_lists_every_training_call_and_its_layout(tmp_path):
    import json

    from implicitbias import lab

    res = lab.run("min-norm", "smoke", {}, out=tmp_path)
    meta = json.loads((res.path / "meta.json").read_text())
    calls = meta["engine"]
    assert len(calls) >= 2 and all(c["block_size"] == 0 for c in calls)
    assert {c["description"] for c in calls} >= {"min-norm: gd"}
    assert all(c["members"] >= 1 and c["steps"] >= 1 for c in calls)
