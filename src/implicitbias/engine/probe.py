"""Diagnostics with state that run inside the compiled training program.

A :class:`Probe` is a metric that carries state from one logged step to the next (a
warm-started Lanczos vector, a running estimate) and may run only at some logged steps
(every ``k`` steps), so that an expensive diagnostic is computed inside the engine's
compiled program instead of in a second training loop.

At the logged step ``t`` (the step count after the interval), the probe runs when
``t % every == offset``; elsewhere its values are NaN and its state is unchanged. The
step counter is shared by all batch members, so under ``vmap`` the choice is a real
branch (``lax.cond``), not a select that computes both sides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

ProbeFn = Callable[[Any, Any, Any, Any, jax.Array, jax.Array], tuple[Mapping[str, jax.Array], Any]]


@dataclasses.dataclass(frozen=True)
class Probe:
    """A stateful diagnostic at selected logged steps.

    Attributes:
        fn: ``fn(params, data, aux, state, key, step) -> ({name: value}, state)`` for one
            member; ``key`` is the member's key folded with the step (fresh randomness per
            call) and ``step`` the logged step (a traced integer: the call index is
            ``(step - offset) // every``, so a probe keeps no counter of its own).
            Values are floating-point scalars or arrays of a fixed shape.
        init: ``init(params, aux) -> state`` at the start of the run.
        every: run at logged steps ``t`` with ``t % every == offset`` (log those steps).
        offset: see ``every``.
    """

    fn: ProbeFn
    init: Callable[[Any, Any], Any]
    every: int = 1
    offset: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"`every`: expected an integer >= 1, got {self.every!r}")
        if not isinstance(self.offset, int) or not 0 <= self.offset < self.every:
            raise ValueError(f"`offset`: expected an integer in [0, every), got {self.offset!r}")

    def maybe_run(
        self, params, data, aux, state, key, t, valid=True
    ) -> tuple[dict[str, jax.Array], Any]:
        """The probe's values and new state at step ``t`` (NaN and the old state if it skips;
        it always skips when ``valid`` is false: a padding interval of the engine)."""
        args = (params, data, aux, state, jax.random.fold_in(key, t), t)
        shapes = jax.eval_shape(self.fn, *args)[0]

        def run(a):
            values, new = self.fn(*a)
            return {k: jnp.asarray(v, _float(shapes[k].dtype)) for k, v in values.items()}, new

        def skip(a):
            nan = {k: jnp.full(v.shape, jnp.nan, _float(v.dtype)) for k, v in shapes.items()}
            return nan, a[3]

        return lax.cond(valid & (t % self.every == self.offset), run, skip, args)


def _float(dtype: Any) -> Any:
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.result_type(float)
