"""The training engine: a whole trajectory in one compiled program, batched with vmap.

Layout of the compiled program (one per chunk of the run, the same program for every chunk)::

    vmap over batch members:
        lax.scan over log intervals:
            lax.fori_loop over the steps of the interval:   # optimizer steps
                grad -> optax update -> apply
            metrics(params)                                  # inside the compiled code

Python only loops over a handful of chunks, to draw a progress bar and to stop at the
first non-finite value. Padded intervals (length -1) take no step and run no probe, so all
chunks share one shape.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from implicitbias._precision import x64_enabled
from implicitbias._values import value_key
from implicitbias.engine import checkpoint
from implicitbias.engine.probe import Probe
from implicitbias.engine.sampling import Sampler
from implicitbias.engine.schedule import Spacing, log_points, next_call, plan_chunks
from implicitbias.engine.trajectory import Divergence, Trajectory
from implicitbias.errors import ConfigError, DivergenceError
from implicitbias.optim.spec import OptimizerSpec

LossFn = Callable[[Any, Any], jax.Array]
MetricsFn = Callable[[Any, Any, Any], Mapping[str, jax.Array]]
OptimizerLike = (
    OptimizerSpec | optax.GradientTransformation | Callable[..., optax.GradientTransformation]
)

_COMPILED: dict[Any, Any] = {}
_RUNS: contextvars.ContextVar[list | None] = contextvars.ContextVar("engine_runs", default=None)


@contextlib.contextmanager
def recording() -> Iterator[list[dict[str, Any]]]:
    """Collect one record per :func:`train` call made in the body (its description,
    members, steps, block size and times): what a run folder's ``meta.json`` lists."""
    token = _RUNS.set([])
    try:
        yield _RUNS.get()
    finally:
        _RUNS.reset(token)


#: Steps of a run's first compiled call, which measures the speed (later calls take about
#: ``chunk_seconds`` of work each).
_FIRST_CALL_STEPS = 64
#: Default wall time of one compiled call, in seconds.
CHUNK_SECONDS = 2.0
#: Working-set bound of ``block_size="auto"`` (bytes of parameters and optimizer state of
#: one block of members): about a core's L2 cache.
_BLOCK_STATE_BYTES = 256 * 1024
#: A checkpoint is written after a call when this many seconds have passed since the last
#: one, and always after the first and the last call of a run.
CHECKPOINT_SECONDS = 10.0
_STATS = {"compilations": 0}


def compilation_count() -> int:
    """How many programs the engine has compiled in this process (for cache tests)."""
    return _STATS["compilations"]


def _as_optimizer(optimizer: OptimizerLike) -> OptimizerSpec | optax.GradientTransformation:
    """A transformation as it is; anything else as a spec (:meth:`OptimizerSpec.coerce`:
    factories become specs by name, import path or value)."""
    if isinstance(optimizer, optax.GradientTransformation):
        return optimizer
    return OptimizerSpec.coerce(optimizer)


def _make_tx(optimizer: OptimizerLike, hp: Mapping[str, Any]) -> optax.GradientTransformation:
    if isinstance(optimizer, optax.GradientTransformation):
        return optimizer
    return optimizer.build(**hp)


def _member_init(params, hp, *, optimizer):
    return _make_tx(optimizer, hp).init(params)


def _member_chunk(
    params, opt_state, probe_state, key, data, aux, hp, start, lengths, logged, *, static
):
    """Run one call's pieces (log intervals, or a silent part of a long one) for a member."""
    loss, metrics, optimizer, sampler, keep_params, n_examples, probe = static
    tx = _make_tx(optimizer, hp)
    grad_fn = jax.grad(loss)

    def one_step(t, carry):
        p, s = carry
        batch = data if sampler is None else sampler.take(data, key, t, n_examples)
        updates, s = tx.update(grad_fn(p, batch), s, p)
        return optax.apply_updates(p, updates), s

    def measure(p):
        values = {"loss": loss(p, data)}
        if metrics is not None:
            values.update(metrics(p, data, aux))
        return values

    def interval(carry, piece):
        p, s, q, t = carry
        length, log = piece  # a piece that does not log measures nothing and runs no probe
        p, s = lax.fori_loop(t, t + length, one_step, (p, s))
        shapes = jax.eval_shape(measure, p)
        # `log` is shared by all members (unbatched), so under vmap this stays a branch.
        values = lax.cond(log, measure, lambda _: _blank(shapes), p)
        new_q = []
        for pr, state in zip(probe, q, strict=True):
            probed, state = pr.maybe_run(p, data, aux, state, key, t + length, log)
            values.update(probed)
            new_q.append(state)
        q = tuple(new_q)
        leaves = jax.tree.leaves(p)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))
        finite = finite & jnp.isfinite(values["loss"])
        out = (values, finite, p if keep_params else None)
        return (p, s, q, t + length), out

    carry = (params, opt_state, probe_state, start)
    (params, opt_state, probe_state, _), outs = lax.scan(interval, carry, (lengths, logged))
    return params, opt_state, probe_state, outs


def _blank(shapes: Any) -> Any:
    """NaN (zero for integers) values of the given shapes: what a silent piece logs."""
    return jax.tree.map(
        lambda v: jnp.full(
            v.shape, jnp.nan if jnp.issubdtype(v.dtype, jnp.inexact) else 0, v.dtype
        ),
        shapes,
    )


def _signature(tree: Any) -> Any:
    leaves, treedef = jax.tree.flatten(tree)
    return treedef, tuple((np.shape(x), jnp.result_type(x)) for x in leaves)


def _compiled_chunk(static, static_key, axes, args, block: int = 0):
    """The call program for ``static`` (whose value key the caller computes once a run);
    ``block > 0`` maps blocks of that many members one after another (:func:`block_map`)."""
    key = (static_key, repr(axes), _signature(args), x64_enabled(), block)
    if key not in _COMPILED:
        data_axis, aux_axis = axes
        in_axes = (0, 0, 0, 0, data_axis, aux_axis, 0, None, None, None)
        size = _batch_size(args[0])

        def member(p, s, q, k, d, a, h, start, lengths, logged):
            return _member_chunk(p, s, q, k, d, a, h, start, lengths, logged, static=static)

        if block:
            program = block_map(member, in_axes, size, block)
        else:
            program = batch_map(member, in_axes=in_axes, size=size)
        t0 = time.perf_counter()
        compiled = jax.jit(program).lower(*args).compile()
        _COMPILED[key] = (compiled, time.perf_counter() - t0)
        _STATS["compilations"] += 1
        return compiled, _COMPILED[key][1]
    return _COMPILED[key][0], 0.0


def _marks(arg: Any, axis: Any) -> Any:
    """A tree like ``arg`` with ``"m"`` at leaves that have a member axis, ``"s"`` at shared
    ones (``axis`` is 0, ``None`` or a prefix tree of them, as vmap's ``in_axes``)."""
    if axis is None:
        return jax.tree.map(lambda _: "s", arg)
    if isinstance(axis, int):
        if axis != 0:
            raise ConfigError("data_axis", "0 or None", axis)
        return jax.tree.map(lambda _: "m", arg)
    return jax.tree.map(lambda ax, a: _marks(a, ax), axis, arg, is_leaf=lambda x: x is None)


def block_map(fn: Callable, in_axes: tuple, size: int, block: int) -> Callable:
    """``jax.vmap(fn, in_axes)`` computed block by block: the ``size`` members are cut into
    ``ceil(size / block)`` blocks of ``block`` (the last padded with copies of the last
    member, whose results are dropped), and ``lax.map`` runs the vmapped ``fn`` on one block
    after another. Each block then runs all the steps of a call with its state in cache,
    where one vmap over a large batch streams every member's state through memory at every
    step. Each member's arithmetic is that of the plain vmap (bit-identical results, tested
    for blocks of 2 and more: a batch of one compiles to other kernels)."""
    blocks = -(-size // block)
    padded = blocks * block

    def split(x):
        if padded > size:
            x = jnp.concatenate([x, jnp.repeat(x[-1:], padded - size, axis=0)], axis=0)
        return x.reshape((blocks, block) + x.shape[1:])

    def run(*args):
        leaves, treedef = jax.tree.flatten(args)
        marks = jax.tree.leaves([_marks(a, ax) for a, ax in zip(args, in_axes, strict=True)])
        mapped = [split(x) for x, m in zip(leaves, marks, strict=True) if m == "m"]

        def one(block_leaves):
            it = iter(block_leaves)
            full = [next(it) if m == "m" else x for x, m in zip(leaves, marks, strict=True)]
            return jax.vmap(fn, in_axes=in_axes)(*jax.tree.unflatten(treedef, full))

        out = lax.map(one, mapped)
        return jax.tree.map(lambda y: y.reshape((padded,) + y.shape[2:])[:size], out)

    return run


def choose_block(params: Any, opt_state: Any, size: int) -> int:
    """The block size :func:`train` uses with ``block_size="auto"``: 0 (one vmap over all
    members) unless the members' parameters and optimizer state together exceed
    ``_BLOCK_STATE_BYTES`` (beyond a core's L2 cache), then blocks whose state fits in it
    (at least 32 members), when that leaves at least two blocks."""
    per_member = sum(
        int(np.prod(np.shape(x)[1:])) * jnp.dtype(x.dtype).itemsize
        for x in jax.tree.leaves((params, opt_state))
        if np.ndim(x) >= 1
    )
    if per_member * size <= _BLOCK_STATE_BYTES:
        return 0
    block = max(32, _BLOCK_STATE_BYTES // max(per_member, 1))
    return int(block) if size >= 2 * block else 0


def batch_map(fn: Callable, in_axes: tuple, size: int) -> Callable:
    """``jax.vmap(fn, in_axes)``; for a batch of one, the same ``fn`` on squeezed inputs.

    Both give identical results; the second spares XLA the batch-of-one matrix products
    that vmap produces (about 15 % per step on tiny problems). Outputs get a leading axis
    of size one either way.
    """
    if size != 1:
        return jax.vmap(fn, in_axes=in_axes)

    def squeeze(arg, axis):
        if axis is None:
            return arg
        if isinstance(axis, int):
            return jax.tree.map(lambda x: jnp.squeeze(x, axis), arg)
        # ``axis`` is a prefix of ``arg``'s structure, so it leads the map.
        return jax.tree.map(lambda ax, a: squeeze(a, ax), axis, arg, is_leaf=lambda x: x is None)

    def single(*args):
        out = fn(*(squeeze(a, ax) for a, ax in zip(args, in_axes, strict=True)))
        return jax.tree.map(lambda x: jnp.expand_dims(x, 0), out)

    return single


def _compiled_init(optimizer, probe, axes, args):
    """The optimizer and probe states of every member, compiled once per value and shapes."""
    key = ("init", value_key((optimizer, probe)), repr(axes), _signature(args), x64_enabled())
    if key not in _COMPILED:

        def member(p, h, a):
            state = _member_init(p, h, optimizer=optimizer)
            return state, tuple(pr.init(p, a) for pr in probe)

        fn = jax.vmap(member, in_axes=(0, 0, axes[1]))
        _COMPILED[key] = (jax.jit(fn).lower(*args).compile(), 0.0)
    return _COMPILED[key][0]


def _batch_size(params: Any) -> int:
    leaves = jax.tree.leaves(params)
    if not leaves or any(np.ndim(x) == 0 for x in leaves):
        raise ConfigError("params", "a pytree whose leaves have a leading batch axis", params)
    sizes = {int(np.shape(x)[0]) for x in leaves}
    if len(sizes) != 1:
        raise ConfigError("params", "leaves with one common leading batch size", sorted(sizes))
    return sizes.pop()


def _hparams(hparams: Mapping[str, Any] | None, b: int) -> dict[str, jax.Array]:
    out = {}
    for name, value in (hparams or {}).items():
        arr = jnp.asarray(value)
        if arr.ndim == 0:
            arr = jnp.broadcast_to(arr, (b,))
        if arr.shape[0] != b:
            raise ConfigError(
                f"hparams[{name!r}]", f"a scalar or an array of length {b}", f"shape {arr.shape}"
            )
        out[name] = arr
    return out


def _keys(key: jax.Array | None, b: int) -> jax.Array:
    if key is None:
        key = jax.random.PRNGKey(0)
    key = jnp.asarray(key)
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):  # new-style typed keys
        key = jax.random.key_data(key)
    if key.ndim == 1:
        return jax.random.split(key, b)
    if key.shape[0] != b:
        raise ConfigError("key", f"one key or {b} keys", f"shape {key.shape}")
    return key


def _num_examples(data: Any, data_axis: int | None) -> int:
    leaves = jax.tree.leaves(data)
    if not leaves:
        raise ConfigError("data", "a pytree of arrays with an example axis", data)
    return int(np.shape(leaves[0])[0 if data_axis is None else 1])


def _show_progress(progress: bool | None) -> bool | None:
    if progress is not None:
        return progress
    if os.environ.get("IMPLICITBIAS_PROGRESS", "").lower() in ("0", "false", "no", "off"):
        return False
    return None  # decide after the first chunk


def _first_bad(finite: np.ndarray, valid: np.ndarray) -> tuple[int, int] | None:
    bad = (~finite) & valid[:, None]
    if not bad.any():
        return None
    row = int(np.argmax(bad.any(axis=1)))
    return row, int(np.argmax(bad[row]))


def train(
    loss: LossFn,
    params: Any,
    optimizer: OptimizerLike,
    *,
    steps: int,
    data: Any = None,
    data_axis: int | None = None,
    aux: Any = None,
    aux_axis: Any = None,
    hparams: Mapping[str, Any] | None = None,
    metrics: MetricsFn | None = None,
    probe: Probe | tuple[Probe, ...] | None = None,
    sampler: Sampler | None = None,
    key: jax.Array | None = None,
    log_at: np.ndarray | None = None,
    num_logs: int = 200,
    spacing: Spacing = "log",
    keep_params: bool = False,
    num_chunks: int = 16,
    chunk_seconds: float = CHUNK_SECONDS,
    progress: bool | None = None,
    description: str = "training",
    divergence_hint: str | Callable[[int], str] = "",
    on_divergence: str = "raise",
    block_size: int | str = "auto",
) -> Trajectory:
    """Train a batch of models with one compiled program and return their trajectory.

    Args:
        loss: ``loss(params, batch) -> scalar``, a *mean* over the examples of ``batch`` (so
            that a minibatch gives an unbiased gradient); for one member, unbatched.
        params: initial parameters, a pytree whose leaves have a leading batch axis ``B``
            (``B = 1`` for a single run; the code path is the same).
        optimizer: an :class:`~implicitbias.optim.spec.OptimizerSpec` (or a factory, made
            into one), built as ``spec.build(**hparams_of_member)`` inside the compiled
            code so that learning rates and other hyperparameters can differ across
            members; or an ``optax.GradientTransformation`` shared by all members. Compiled
            programs and checkpoints are keyed by the spec's value.
        steps: number of optimizer steps.
        data: pytree of arrays with a leading example axis (per member if ``data_axis=0``).
        aux: extra arrays for ``metrics`` (references, inits); ``aux_axis`` is a vmap
            ``in_axes`` prefix for it (``0`` per member, ``None`` shared, or a dict).
        hparams: name -> scalar (shared) or ``(B,)`` array, passed to the optimizer factory.
        metrics: ``metrics(params, data, aux) -> {name: scalar}`` at each logged step, on
            the full data. ``loss`` is always logged.
        probe: a stateful diagnostic (or a tuple of them) run inside the compiled program
            at the logged steps it selects (:class:`~implicitbias.engine.probe.Probe`:
            e.g. warm-started Lanczos every ``k`` steps); its values join the metrics (NaN
            at the logged steps where it did not run) and its state is checkpointed.
        sampler: minibatch sampler; ``None`` is full-batch.
        key: one PRNG key (split into ``B``) or ``B`` keys; used by the sampler.
        log_at: explicit step indices to log (sorted, unique, ending at ``steps``); else
            ``num_logs`` points with ``spacing``.
        keep_params: also return the parameters at every logged step.
        num_chunks: a call takes at most ``steps // num_chunks`` steps (for the progress
            bar, checkpoints and the divergence check); all calls share one program.
        chunk_seconds: a call also takes no more than about this much wall time, once the
            first (short) call has measured the speed; a log interval longer than that is
            cut into silent pieces. Results do not depend on how the run is cut.
        progress: ``True``/``False`` forces the progress bar; ``None`` shows it when the run
            is projected to take more than two seconds (``IMPLICITBIAS_PROGRESS=0``
            disables it).
        divergence_hint: advice added to the divergence message, or ``member -> advice``.
        block_size: ``0`` runs every member in one vmap; ``N >= 2`` maps blocks of ``N``
            members one after another, each block running all the steps of a call
            (:func:`block_map`; the same numbers, bit for bit); ``"auto"`` picks blocks when
            the members' state outgrows a core's cache (:func:`choose_block`). The choice
            is in the trajectory (``block_size``) and in a run folder's ``meta.json``.
        on_divergence: ``"raise"`` (a :class:`DivergenceError` holding the trajectory kept so
            far), ``"stop"`` (return that trajectory with ``divergence`` set) or
            ``"continue"`` (keep running every member; NaNs stay in the metrics).

    Returns:
        A :class:`Trajectory`.
    """
    if on_divergence not in ("raise", "stop", "continue"):
        raise ConfigError(
            "on_divergence",
            "'raise', 'stop' or 'continue'",
            on_divergence,
            choices=["raise", "stop", "continue"],
        )
    b = _batch_size(params)
    points = log_points(steps, num_logs, spacing) if log_at is None else np.asarray(log_at)
    if (
        points.ndim != 1
        or points.size == 0
        or not np.issubdtype(points.dtype, np.integer)
        or points[-1] != steps
        or np.any(np.diff(points) <= 0)
        or points[0] < 0
    ):
        raise ConfigError(
            "log_at", f"increasing integer step indices >= 0 ending at {steps}", points
        )
    data = jax.tree.map(jnp.asarray, data)
    aux = jax.tree.map(jnp.asarray, aux)
    params = jax.tree.map(jnp.asarray, params)
    n_examples = _num_examples(data, data_axis) if sampler is not None else 0
    if sampler is not None and not 1 <= sampler.batch_size <= n_examples:
        raise ConfigError("batch_size", f"an integer in [1, {n_examples}]", sampler.batch_size)
    hp = _hparams(hparams, b)
    optimizer = _as_optimizer(optimizer)
    probe = () if probe is None else (probe,) if isinstance(probe, Probe) else tuple(probe)
    # Keys are only drawn on when a sampler or probe needs them; a constant avoids PRNG
    # start-up.
    needs_keys = sampler is not None or bool(probe)
    keys = _keys(key, b) if needs_keys else jnp.zeros((b, 2), dtype=jnp.uint32)

    lengths_all = np.diff(np.concatenate([[0], points])).astype(np.int64)
    # Steps per compiled call: at most 1/num_chunks of the run, and no more than about
    # `chunk_seconds` of work once the speed is known (the first call is short to measure
    # it), so that Ctrl-C, checkpoints and the progress bar come every few seconds.
    target = max(1, steps // max(1, num_chunks))
    width = max(len(c) for c in plan_chunks(lengths_all, num_chunks))
    budget = min(target, _FIRST_CALL_STEPS)
    static = (loss, metrics, optimizer, sampler, keep_params, n_examples, probe)
    static_key = value_key(static)  # hashes closure arrays: once a run, not once a call

    opt_state, probe_state = _compiled_init(
        optimizer, probe, (data_axis, aux_axis), (params, hp, aux)
    )(params, hp, aux)
    state = (params, opt_state, probe_state)
    if block_size == "auto":
        block = choose_block(params, opt_state, b)
    elif (
        isinstance(block_size, int | np.integer)
        and not isinstance(block_size, bool)
        and block_size != 1
        and block_size >= 0
    ):
        block = int(block_size) if 0 < block_size < b else 0
    else:
        raise ConfigError("block_size", "0, an integer >= 2 or 'auto'", block_size)
    # The state at the last logged step: what a run that diverges returns, also when the
    # call that finds the divergence starts inside a log interval.
    log_state = state

    kept: list[tuple[np.ndarray, dict, Any]] = []  # (steps, metrics, snapshots) per call
    compile_s = run_s = 0.0
    divergence = None
    show = _show_progress(progress)
    bar = None
    done = pos = calls = 0
    ckpt = checkpoint.claim_path()
    if ckpt is not None:
        stamp = checkpoint.fingerprint(static_key, points, (params, hp, keys, data, aux))
        if ckpt.is_file():
            calls, done, state, log_state, kept = checkpoint.load(ckpt, stamp, state)
            pos = int(np.searchsorted(points, done, side="right"))
    index_dtype = jnp.int64 if x64_enabled() else jnp.int32
    saved_at = -np.inf  # the first call is always saved
    try:
        while pos < len(points):
            lens, logged, index, next_pos = next_call(points, pos, done, budget, width)
            args = (
                state[0],
                state[1],
                state[2],
                keys,
                data,
                aux,
                hp,
                jnp.asarray(done, dtype=index_dtype),
                jnp.asarray(lens, dtype=index_dtype),
                jnp.asarray(logged),
            )
            compiled, c_s = _compiled_chunk(static, static_key, (data_axis, aux_axis), args, block)
            compile_s += c_s
            t0 = time.perf_counter()
            new_params, new_opt, new_probe, outs = compiled(*args)
            values, snaps, bad, upto = _unpack(outs, logged, on_divergence)  # waits
            elapsed = time.perf_counter() - t0
            run_s += elapsed
            n_call = int(lens.sum())
            kept.append((points[index[:upto][logged[:upto]]], values, snaps))
            if bad is not None:
                # Re-run this call up to the last logged row before the divergence, so that
                # `params` are those of the last kept step (the same program; later rows
                # take no step).
                if upto > 0:
                    truncated, quiet = lens.copy(), logged.copy()
                    truncated[upto:], quiet[upto:] = 0, False
                    redo = compiled(
                        *args[:-2],
                        jnp.asarray(truncated, dtype=index_dtype),
                        jnp.asarray(quiet),
                    )
                    state = (redo[0], redo[1], redo[2])
                else:
                    state = log_state
                divergence = _divergence(
                    bad, np.where(logged, points[index], -1), outs, divergence_hint
                )
                break
            done += n_call
            pos = next_pos
            calls += 1
            state = (new_params, new_opt, new_probe)
            if logged.any():
                log_state = state  # a call that logs ends at its last logged step
            if ckpt is not None and (
                pos == len(points) or time.perf_counter() - saved_at >= CHECKPOINT_SECONDS
            ):
                checkpoint.save(ckpt, stamp, calls, done, state, kept, log_state)
                saved_at = time.perf_counter()
            if n_call > 0 and elapsed > 0:
                per_step = elapsed / n_call
                budget = int(np.clip(chunk_seconds / per_step, 1, target))
                if show is None:
                    show = (steps - done) * per_step > 2.0
            if show and bar is None:
                bar = _ProgressBar(description, steps)
            if bar is not None:
                bar.update(done)
    finally:
        if bar is not None:
            bar.close()

    trajectory = _assemble(kept, state[0], divergence, compile_s, run_s, block)
    log = _RUNS.get()
    if log is not None:
        log.append(
            {
                "description": description,
                "members": b,
                "steps": int(steps),
                "block_size": block,
                "compile_seconds": round(compile_s, 3),
                "run_seconds": round(run_s, 3),
            }
        )
    if divergence is not None and on_divergence == "raise":
        raise DivergenceError(divergence.message(), divergence=divergence, trajectory=trajectory)
    return trajectory


def _unpack(outs, logged: np.ndarray, on_divergence: str):
    """Host copies of one call's logged rows, cut at the first non-finite one.

    Returns ``(metrics {name: (C', B)}, snapshots or None, (row, member) or None, upto)``
    where the rows kept are the logged ones before row ``upto``, ``C'`` of them.
    """
    values, finite, snaps = outs
    finite = np.asarray(finite).T  # (B, R) -> (R, B); waits for the program
    bad = _first_bad(finite, logged) if on_divergence != "continue" else None
    upto = len(logged) if bad is None else bad[0]
    rows = np.nonzero(logged[:upto])[0]
    values = {k: np.swapaxes(np.asarray(v), 0, 1)[rows] for k, v in values.items()}  # (C, B, ...)
    if snaps is not None:
        snaps = jax.tree.map(lambda a: np.swapaxes(np.asarray(a), 0, 1)[rows], snaps)
    return values, snaps, bad, upto


def _divergence(bad, chunk_points, outs, hint) -> Divergence:
    row, member = bad
    value = float(np.asarray(outs[0]["loss"])[member, row])
    advice = hint(member) if callable(hint) else hint
    quantity = "loss" if not np.isfinite(value) else "parameters"
    return Divergence(int(chunk_points[row]), member, quantity, value, advice)


def _assemble(kept, params, divergence, compile_s, run_s, block=0) -> Trajectory:
    steps, metrics, snapshots = checkpoint.concat_kept(kept)
    params = jax.tree.map(np.asarray, params)
    return Trajectory(steps, metrics, params, snapshots, divergence, compile_s, run_s, block)


class _ProgressBar:
    """A rich progress bar on stderr, in steps."""

    def __init__(self, description: str, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(description, total=total)

    def update(self, done: int) -> None:
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        self._progress.stop()
