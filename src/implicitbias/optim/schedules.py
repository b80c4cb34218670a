"""Step-size schedules ``t -> eta_t`` as optax schedules (jit and vmap friendly).

``t`` is optax's update count: ``0`` for the first step. ``learning_rate`` may be a Python
number or a traced JAX scalar (for instance inside ``jax.vmap`` over learning rates); the
formulas only use ``jax.numpy`` arithmetic, so both work.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal

import jax
import jax.numpy as jnp
import optax

from implicitbias.errors import ConfigError

ScheduleKind = Literal["constant", "inverse_sqrt", "increasing"]
SCHEDULES: tuple[str, ...] = ("constant", "inverse_sqrt", "increasing")


def is_number(value: Any) -> bool:
    """True for a concrete Python/NumPy real number (not a JAX array, maybe traced)."""
    return isinstance(value, numbers.Real) and not isinstance(value, jax.Array | bool)


def check_positive(name: str, value: Any) -> None:
    """Raise :class:`ConfigError` if ``value`` is a concrete number that is not ``> 0``."""
    if is_number(value) and not value > 0:
        raise ConfigError(name, "a number > 0", value)


def _as_float(count: Any) -> jax.Array:
    return jnp.asarray(count).astype(jnp.result_type(float))


def constant(learning_rate: Any) -> optax.Schedule:
    """``eta_t = eta``."""

    def schedule(count: Any) -> jax.Array:
        return learning_rate * jnp.ones_like(_as_float(count))

    return schedule


def inverse_sqrt(learning_rate: Any, offset: Any = 1.0) -> optax.Schedule:
    """``eta_t = eta * sqrt(offset) / sqrt(offset + t)``, so ``eta_0 = eta``.

    Decays like ``t^{-1/2}``: the classic choice that lets sign or normalized descent,
    whose constant-step iterates only reach an ``O(eta)`` neighbourhood, converge.
    """

    def schedule(count: Any) -> jax.Array:
        return learning_rate * jnp.sqrt(offset / (offset + _as_float(count)))

    return schedule


def increasing(learning_rate: Any, power: Any = 1.0, offset: Any = 1.0) -> optax.Schedule:
    """``eta_t = eta * ((offset + t) / offset) ** power``, so ``eta_0 = eta``.

    Growing steps speed up the directional convergence of gradient descent on separable
    data (Nacson et al., "Convergence of Gradient Descent on Separable Data", AISTATS 2019).
    """

    def schedule(count: Any) -> jax.Array:
        return learning_rate * ((offset + _as_float(count)) / offset) ** power

    return schedule


def make_schedule(
    kind: ScheduleKind,
    learning_rate: float | jax.Array,
    *,
    power: float | jax.Array = 1.0,
    offset: float | jax.Array = 1.0,
) -> optax.Schedule:
    """Build the schedule ``count -> learning rate`` named ``kind``.

    With ``t`` the step index (``0`` first) and ``eta = learning_rate``:

    * ``"constant"``:     ``eta_t = eta``;
    * ``"inverse_sqrt"``: ``eta_t = eta * sqrt(offset) / sqrt(offset + t)``;
    * ``"increasing"``:   ``eta_t = eta * ((offset + t) / offset) ** power``.

    Every schedule gives ``eta_0 = eta``.

    Args:
        kind: the schedule's name.
        learning_rate: ``eta``; a number or a (possibly traced) JAX scalar.
        power: exponent of ``"increasing"``.
        offset: shift ``offset > 0`` of the step count (``"inverse_sqrt"``, ``"increasing"``).

    Returns:
        A callable ``count -> eta_count`` usable by optax.

    Raises:
        ConfigError: unknown ``kind``, or a concrete ``learning_rate`` or ``offset`` ``<= 0``.
    """
    if kind not in SCHEDULES:
        raise ConfigError("schedule", "one of " + ", ".join(SCHEDULES), kind, choices=SCHEDULES)
    check_positive("learning_rate", learning_rate)
    check_positive("offset", offset)
    if kind == "constant":
        return constant(learning_rate)
    if kind == "inverse_sqrt":
        return inverse_sqrt(learning_rate, offset)
    return increasing(learning_rate, power, offset)
