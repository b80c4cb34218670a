"""Named optimizers: short optax chains ``direction -> (-learning_rate) * direction``.

Every factory is a module-level function (the engine caches compiled programs by the
factory's identity) taking keyword hyperparameters. Numeric hyperparameters may be Python
numbers or traced JAX scalars (the engine calls factories inside ``jax.vmap``); they are
validated only when they are concrete numbers.

``learning_rate`` may also be an optax schedule. When it is a number, ``schedule`` (with
``power`` and ``offset``) builds one with :func:`~implicitbias.optim.schedules.make_schedule`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import optax

from implicitbias.errors import ConfigError
from implicitbias.optim.geometry import (
    Norm,
    scale_by_global_norm,
    scale_by_sign,
    scale_by_steepest,
)
from implicitbias.optim.schedules import (
    SCHEDULES,
    ScheduleKind,
    check_positive,
    is_number,
    make_schedule,
)

Number = float | jax.Array
LearningRate = float | jax.Array | optax.Schedule


# --------------------------------------------------------------------------- helpers


def resolve_learning_rate(
    learning_rate: LearningRate,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.ScalarOrSchedule:
    """The scalar or schedule that optax receives.

    A callable ``learning_rate`` is used as is (then ``schedule`` must be ``"constant"``).
    A number with ``schedule="constant"`` is passed through unchanged (optax then keeps no
    step counter); any other ``schedule`` builds ``make_schedule(schedule, learning_rate)``.
    """
    if schedule not in SCHEDULES:
        raise ConfigError("schedule", "one of " + ", ".join(SCHEDULES), schedule, choices=SCHEDULES)
    if callable(learning_rate):
        if schedule != "constant":
            raise ConfigError("schedule", "'constant' when learning_rate is a schedule", schedule)
        return learning_rate
    check_positive("learning_rate", learning_rate)
    if schedule == "constant":
        return learning_rate
    return make_schedule(schedule, learning_rate, power=power, offset=offset)


def _check_unit_interval(name: str, value: Any) -> None:
    """``0 <= value < 1`` for concrete numbers (momentum, Adam's betas)."""
    if is_number(value) and not 0 <= value < 1:
        raise ConfigError(name, "a number in [0, 1)", value)


def _check_nonnegative(name: str, value: Any) -> None:
    if is_number(value) and not value >= 0:
        raise ConfigError(name, "a number >= 0", value)


def _descend(
    direction: optax.GradientTransformation, lr: optax.ScalarOrSchedule
) -> optax.GradientTransformation:
    """``update = -lr_t * direction(g)``."""
    return optax.chain(direction, optax.scale_by_learning_rate(lr))


# --------------------------------------------------------------------------- first order


def gd(
    learning_rate: LearningRate,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Gradient descent ``w_{t+1} = w_t - eta_t g_t``.

    Also stochastic gradient descent (:data:`sgd` is the same function): minibatches are
    drawn by the training engine, not by the optimizer.

    Args:
        learning_rate: ``eta`` (number, traced scalar or optax schedule).
        schedule: ``"constant"``, ``"inverse_sqrt"`` or ``"increasing"``
            (see :func:`~implicitbias.optim.schedules.make_schedule`).
        power: exponent of the ``"increasing"`` schedule.
        offset: step offset of the decaying/increasing schedules.
    """
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return optax.scale_by_learning_rate(lr)


sgd = gd
"""Alias of :func:`gd`: the engine does the minibatching, so SGD is GD on a minibatch."""


def heavy_ball(
    learning_rate: LearningRate,
    momentum: Number = 0.9,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Polyak's heavy-ball momentum.

    ``v_{t+1} = beta v_t + g_t``, ``w_{t+1} = w_t - eta_t v_{t+1}``; with a constant step
    this is ``w_{t+1} = w_t - eta g_t + beta (w_t - w_{t-1})`` (Polyak, 1964).

    Args:
        learning_rate: ``eta``.
        momentum: ``beta`` in ``[0, 1)``.
        schedule, power, offset: as in :func:`gd`.
    """
    _check_unit_interval("momentum", momentum)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return _descend(optax.trace(decay=momentum), lr)


def nesterov(
    learning_rate: LearningRate,
    momentum: Number = 0.9,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Nesterov momentum in the form of Sutskever et al. (ICML 2013).

    ``v_{t+1} = beta v_t + g_t``, ``w_{t+1} = w_t - eta_t (g_t + beta v_{t+1})``.

    Args:
        learning_rate: ``eta``.
        momentum: ``beta`` in ``[0, 1)``.
        schedule, power, offset: as in :func:`gd`.
    """
    _check_unit_interval("momentum", momentum)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return _descend(optax.trace(decay=momentum, nesterov=True), lr)


# --------------------------------------------------------------------------- adaptive


def adam(
    learning_rate: LearningRate,
    b1: Number = 0.9,
    b2: Number = 0.999,
    eps: Number = 1e-8,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Adam (Kingma & Ba, ICLR 2015), :func:`optax.adam`.

    ``m_t``, ``v_t`` are bias-corrected EMAs of ``g`` and ``g^2`` with rates ``b1``, ``b2``;
    ``w_{t+1} = w_t - eta_t m_t / (sqrt(v_t) + eps)``.
    """
    _check_unit_interval("b1", b1)
    _check_unit_interval("b2", b2)
    _check_nonnegative("eps", eps)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return optax.adam(lr, b1=b1, b2=b2, eps=eps)


def adamw(
    learning_rate: LearningRate,
    b1: Number = 0.9,
    b2: Number = 0.999,
    eps: Number = 1e-8,
    weight_decay: Number = 1e-2,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """AdamW (Loshchilov & Hutter, ICLR 2019), :func:`optax.adamw`.

    ``w_{t+1} = w_t - eta_t (m_t / (sqrt(v_t) + eps) + lambda w_t)``: the decoupled weight
    decay ``lambda = weight_decay`` is scaled by the learning rate, as in optax.
    """
    _check_unit_interval("b1", b1)
    _check_unit_interval("b2", b2)
    _check_nonnegative("eps", eps)
    _check_nonnegative("weight_decay", weight_decay)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return optax.adamw(lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)


# --------------------------------------------------------------------------- geometry


def sign_gd(
    learning_rate: LearningRate,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Sign gradient descent ``w_{t+1} = w_t - eta_t sign(g_t)``.

    The normalized l∞ steepest descent. With a constant step it only reaches a
    neighbourhood of radius ``O(eta sqrt(d))`` of a minimizer; use a decaying schedule to
    converge.
    """
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return _descend(scale_by_sign(), lr)


def normalized_gd(
    learning_rate: LearningRate,
    eps: Number = 0.0,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Normalized gradient descent ``w_{t+1} = w_t - eta_t g_t / (||g_t||_2 + eps)``.

    Nacson et al., "Convergence of Gradient Descent on Separable Data" (AISTATS 2019): on
    separable data normalized steps make the margin converge much faster than GD.
    """
    _check_nonnegative("eps", eps)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return _descend(scale_by_global_norm(eps), lr)


def steepest_descent(
    learning_rate: LearningRate,
    norm: Norm = "l2",
    normalized: bool = False,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Steepest descent for a norm (Gunasekar et al., ICML 2018).

    ``w_{t+1} = w_t + eta_t Δ_t`` with ``Δ_t = argmin_v <g_t, v> + ½ ||v||^2``, that is
    ``w_{t+1} = w_t - eta_t ||g_t||_* u_t`` where ``u_t`` is the unit-norm steepest
    direction (see :func:`~implicitbias.optim.geometry.steepest_direction`);
    ``normalized=True`` drops the factor ``||g_t||_*``.

    Args:
        learning_rate: ``eta``.
        norm: ``"l1"`` (greedy coordinate descent), ``"l2"`` (GD) or ``"linf"``.
        normalized: use the unit-norm direction ``u_t``.
        schedule, power, offset: as in :func:`gd`.
    """
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return _descend(scale_by_steepest(norm, normalized), lr)


def coordinate_descent(
    learning_rate: LearningRate,
    normalized: bool = False,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """l1 steepest descent: greedy (Gauss-Southwell) coordinate descent.

    ``w_{t+1} = w_t - eta_t ||g_t||_∞ sign(g_{t,i}) e_i`` with ``i = argmax_j |g_{t,j}|``
    (first index on ties); ``normalized=True`` drops ``||g_t||_∞``.
    """
    return steepest_descent(
        learning_rate, "l1", normalized, schedule=schedule, power=power, offset=offset
    )


steepest_l1 = coordinate_descent
"""Alias of :func:`coordinate_descent`."""


def steepest_l2(
    learning_rate: LearningRate,
    normalized: bool = False,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """l2 steepest descent: GD, or normalized GD when ``normalized=True``."""
    return steepest_descent(
        learning_rate, "l2", normalized, schedule=schedule, power=power, offset=offset
    )


def steepest_linf(
    learning_rate: LearningRate,
    normalized: bool = False,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """l∞ steepest descent ``w_{t+1} = w_t - eta_t ||g_t||_1 sign(g_t)``.

    ``normalized=True`` gives sign descent (:func:`sign_gd`).
    """
    return steepest_descent(
        learning_rate, "linf", normalized, schedule=schedule, power=power, offset=offset
    )


# --------------------------------------------------------------------------- registry


OPTIMIZERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "gd": gd,
    "sgd": sgd,
    "heavy_ball": heavy_ball,
    "nesterov": nesterov,
    "adam": adam,
    "adamw": adamw,
    "sign_gd": sign_gd,
    "normalized_gd": normalized_gd,
    "steepest_l1": steepest_l1,
    "steepest_l2": steepest_l2,
    "steepest_linf": steepest_linf,
}
"""Optimizer name -> factory ``(**hyperparameters) -> GradientTransformation``."""


def get_optimizer(name: str) -> Callable[..., optax.GradientTransformation]:
    """The factory registered under ``name`` in :data:`OPTIMIZERS`.

    Raises:
        ConfigError: unknown name (the message suggests the closest one).
    """
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            "optimizer", "one of " + ", ".join(OPTIMIZERS), name, choices=list(OPTIMIZERS)
        ) from None
