"""Checkpoints that let a long run resume where it stopped.

Inside ``with checkpoints(folder):`` every call of :func:`implicitbias.engine.train` gets
its own file, ``folder/train-000.npz``, ``train-001.npz``, ... in call order, and writes it
(atomically) after each chunk of the run: the parameters, the optimizer state and the
metrics logged so far. Running the same experiment again inside the same context skips
what the files already hold: finished calls return at once, an interrupted one continues
from its last chunk. A fingerprint of the call (functions, logged steps, shapes and the
bytes of the inputs) guards against resuming a different run.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np

from implicitbias.errors import ImplicitBiasError
from implicitbias.runs.atomic import write_bytes

_ACTIVE: contextvars.ContextVar[list | None] = contextvars.ContextVar("checkpoints", default=None)


@contextlib.contextmanager
def checkpoints(folder: str | Path) -> Iterator[Path]:
    """Checkpoint every ``train`` call made in the body into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    token = _ACTIVE.set([folder, 0])
    try:
        yield folder
    finally:
        _ACTIVE.reset(token)


def claim_path() -> Path | None:
    """The checkpoint file of the next ``train`` call, or ``None`` outside a context."""
    active = _ACTIVE.get()
    if active is None:
        return None
    folder, count = active
    active[1] = count + 1
    return folder / f"train-{count:03d}.npz"


def fingerprint(static_key: Any, points: np.ndarray, arrays: Any) -> str:
    """A digest of what determines a run: the loss, metrics, optimizer, sampler and probes
    by value (``static_key``, their :func:`~implicitbias._values.value_key`, which the
    engine also keys its compiled programs with: code, closures, hyperparameters; never a
    memory address), the logged steps and the bytes of the inputs. The same run gives the
    same digest in every process."""
    digest = hashlib.sha256()
    digest.update(repr(static_key).encode())
    digest.update(np.asarray(points).tobytes())
    for leaf in jax.tree.leaves(arrays):
        arr = np.asarray(leaf)
        digest.update(str((arr.shape, arr.dtype)).encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def save(
    path: Path, stamp: str, chunk: int, done: int, state: Any, kept: list, log_state: Any = None
) -> None:
    """Write the state after ``chunk`` calls (``done`` steps) and the metrics kept.

    ``log_state``, the state at the last logged step, is stored too when it is not
    ``state`` itself (the run stopped inside a log interval)."""
    arrays: dict[str, np.ndarray] = {
        "stamp": np.array(stamp),
        "chunk": np.array(chunk),
        "done": np.array(done),
    }
    for i, leaf in enumerate(jax.tree.leaves(state)):
        arrays[f"state/{i}"] = np.asarray(leaf)
    if log_state is not None and log_state is not state:
        for i, leaf in enumerate(jax.tree.leaves(log_state)):
            arrays[f"logstate/{i}"] = np.asarray(leaf)
    steps, metrics, snaps = concat_kept(kept)
    arrays["steps"] = steps
    arrays.update({f"metric/{k}": v for k, v in metrics.items()})
    if snaps is not None:
        for i, leaf in enumerate(jax.tree.leaves(snaps)):
            arrays[f"snap/{i}"] = leaf
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes(path, buf.getvalue())
    _fault_injection()


_WRITTEN = {"count": 0}


def _fault_injection() -> None:
    """``IMPLICITBIAS_KILL_AFTER_CHECKPOINTS=N``: SIGKILL this process right after the N-th
    checkpoint write (the resume tests use it to stop a run at a known point, as kill -9
    would); ``IMPLICITBIAS_KILL_SIGNAL=TERM`` (or ``INT``) sends that signal instead."""
    limit = os.environ.get("IMPLICITBIAS_KILL_AFTER_CHECKPOINTS")
    if not limit:
        return
    _WRITTEN["count"] += 1
    if _WRITTEN["count"] >= int(limit):
        name = os.environ.get("IMPLICITBIAS_KILL_SIGNAL", "KILL").upper()
        os.kill(os.getpid(), getattr(signal, f"SIG{name}", signal.SIGKILL))


def load(path: Path, stamp: str, state: Any) -> tuple[int, int, Any, Any, list]:
    """``(calls done, steps done, state, state at the last logged step, kept)`` from
    ``path``; ``state`` gives the shapes."""
    with np.load(path) as npz:
        if str(npz["stamp"]) != stamp:
            raise ImplicitBiasError(
                f"checkpoint {path} belongs to a different run (its config, data or code "
                "changed); remove it or start a new run"
            )
        leaves, treedef = jax.tree.flatten(state)
        restored = jax.tree.unflatten(treedef, [npz[f"state/{i}"] for i in range(len(leaves))])
        log_state = restored
        if "logstate/0" in npz.files:
            log_state = jax.tree.unflatten(
                treedef, [npz[f"logstate/{i}"] for i in range(len(leaves))]
            )
        metrics = {k[len("metric/") :]: npz[k] for k in npz.files if k.startswith("metric/")}
        snap_keys = sorted(
            (k for k in npz.files if k.startswith("snap/")), key=lambda k: int(k.split("/")[1])
        )
        snaps = None
        if snap_keys:
            snaps = jax.tree.unflatten(jax.tree.structure(state[0]), [npz[k] for k in snap_keys])
        kept = [(npz["steps"], metrics, snaps)] if len(npz["steps"]) else []
        return int(npz["chunk"]), int(npz["done"]), restored, log_state, kept


def concat_kept(kept: list) -> tuple[np.ndarray, dict, Any]:
    """Join per-chunk ``(steps, metrics, snapshots)`` along the logged-step axis."""
    steps = np.concatenate([k[0] for k in kept]) if kept else np.zeros(0, dtype=np.int64)
    metrics = {n: np.concatenate([k[1][n] for k in kept]) for n in (kept[0][1] if kept else {})}
    snaps = [k[2] for k in kept if k[2] is not None]
    joined = jax.tree.map(lambda *a: np.concatenate(a), *snaps) if snaps else None
    return steps, metrics, joined
