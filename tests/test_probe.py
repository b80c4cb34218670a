"""Engine probes: stateful diagnostics at selected logged steps, inside the compiled run."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from implicitbias.engine import Probe, train
from implicitbias.engine.checkpoint import checkpoints
from implicitbias.optim import gd


def _loss(w, data):
    X, y = data
    return 0.5 * jnp.mean((X @ w - y) ** 2)


def _counter(params, data, aux, state, key, step):
    """Counts its own calls and reports the squared norm of the parameters and the step."""
    count = state + 1.0
    return {"calls": count, "sq_norm": jnp.sum(params**2), "step": step}, count


def _zero(params, aux):
    return jnp.zeros((), params.dtype)


def _problem():
    rs = np.random.RandomState(0)
    X, y = rs.randn(6, 4), rs.randn(6)
    return X, y, rs.randn(3, 4) * 0.1


@pytest.mark.parametrize("every,offset", [(1, 0), (4, 0), (4, 1), (5, 3)])
def test_probe_runs_exactly_at_its_steps_and_carries_state(every, offset):
    X, y, inits = _problem()
    steps = 20
    probe = Probe(_counter, _zero, every=every, offset=offset)
    traj = train(
        _loss,
        inits,
        gd,
        steps=steps,
        data=(X, y),
        hparams={"learning_rate": 0.1},
        log_at=np.arange(steps + 1),
        keep_params=True,
        probe=probe,
        num_chunks=3,
    )
    ran = traj.steps % every == offset
    calls, sq = traj.metrics["calls"], traj.metrics["sq_norm"]
    assert np.all(np.isnan(calls[~ran])) and np.all(np.isnan(sq[~ran]))
    # The state counts the calls so far: 1, 2, 3, ... at the steps where it ran (across
    # chunk boundaries too).
    expected = np.arange(1, ran.sum() + 1, dtype=float)
    np.testing.assert_array_equal(calls[ran], np.repeat(expected[:, None], 3, axis=1))
    snaps = np.asarray(traj.snapshots)
    np.testing.assert_allclose(sq[ran], np.sum(snaps[ran] ** 2, axis=-1), rtol=1e-12)
    np.testing.assert_array_equal(traj.metrics["step"][ran], np.repeat(traj.steps[ran, None], 3, 1))


def test_probe_state_is_checkpointed_and_resumed(tmp_path):
    X, y, inits = _problem()
    kwargs = dict(
        steps=30,
        data=(X, y),
        hparams={"learning_rate": 0.1},
        log_at=np.arange(31),
        probe=Probe(_counter, _zero, every=3),
        num_chunks=5,
    )
    whole = train(_loss, inits, gd, **kwargs)
    with checkpoints(tmp_path):
        train(_loss, inits, gd, **kwargs)
    # Keep the checkpoint of the finished run but pretend only 2 chunks were done.
    path = tmp_path / "train-000.npz"
    with np.load(path) as npz:
        saved = dict(npz)
    assert int(saved["chunk"]) == 5
    with checkpoints(tmp_path):
        again = train(_loss, inits, gd, **kwargs)
    np.testing.assert_array_equal(again.metrics["calls"], whole.metrics["calls"])


def test_probe_arguments_are_checked():
    with pytest.raises(ValueError, match="every"):
        Probe(_counter, _zero, every=0)
    with pytest.raises(ValueError, match="offset"):
        Probe(_counter, _zero, every=3, offset=3)


def test_a_batch_of_one_takes_a_nested_aux_with_a_shared_subtree():
    """``aux_axis={"per": 0, "shared": None}`` where ``shared`` is itself a dict: the
    single-member path squeezes only the per-member leaves (vmap's in_axes prefix rule)."""
    X, y, inits = _problem()

    def metrics(w, data, aux):
        return {"d": jnp.sum((w - aux["per"]) ** 2) + aux["shared"]["a"] + aux["shared"]["b"]}

    aux = {"per": inits[:1] * 0.0 + 1.0, "shared": {"a": jnp.asarray(2.0), "b": jnp.ones(())}}
    traj = train(
        _loss,
        inits[:1],
        gd,
        steps=3,
        data=(X, y),
        hparams={"learning_rate": 0.1},
        metrics=metrics,
        aux=aux,
        aux_axis={"per": 0, "shared": None},
        num_logs=2,
    )
    final = np.asarray(traj.params)[0]
    np.testing.assert_allclose(traj.metrics["d"][-1, 0], np.sum((final - 1.0) ** 2) + 3.0)
