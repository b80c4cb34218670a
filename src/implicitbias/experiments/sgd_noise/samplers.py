"""Minibatch samplers of the sgd-noise runs (values that satisfy the engine's ``Sampler``).

Both pad every member's minibatch to one width (``batch_size``, the largest batch size of
the sweep) and leave the weighting to ``data["weights"]`` (``1/B`` on a member's first
``B`` entries, 0 after), so that every batch size runs in one compiled program.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


def index_tables(n: int, batch: int, steps: int, seeds: list[int]) -> np.ndarray:
    """``(len(seeds), steps, batch)``: ``RandomState(s).choice(n, batch, replace=False)``
    once per step, as seed 000 section 6's ``train_sgd`` draws them."""
    out = np.empty((len(seeds), steps, batch), dtype=np.int32)
    for i, s in enumerate(seeds):
        rng = np.random.RandomState(s)
        for t in range(steps):
            out[i, t] = rng.choice(n, size=batch, replace=False)
    return out


class TableSampler(NamedTuple):
    """Minibatches read from a precomputed ``data["table"]`` of indices (one row per step).

    :class:`~implicitbias.engine.Minibatch` draws from JAX keys; this one replays NumPy's
    ``RandomState.choice`` streams (:func:`index_tables`), so the seed's runs are
    reproduced exactly.
    """

    batch_size: int

    def take(self, data: Any, key: jax.Array, step: jax.Array, n: int) -> Any:
        del key, n
        idx = data["table"][step]
        return {
            "X": jnp.take(data["X"], idx, axis=0),
            "y": jnp.take(data["y"], idx, axis=0),
            "w_batch": data["weights"],
        }


class PaddedSampler(NamedTuple):
    """``batch_size`` distinct random examples per step (a fresh draw each step, as seed
    000's ``choice(..., replace=False)``), from the member's key and the step."""

    batch_size: int

    def take(self, data: Any, key: jax.Array, step: jax.Array, n: int) -> Any:
        idx = jax.random.permutation(jax.random.fold_in(key, step), n)[: self.batch_size]
        return {
            "X": jnp.take(data["X"], idx, axis=0),
            "Y": jnp.take(data["Y"], idx, axis=0),
            "w_batch": data["weights"],
        }
