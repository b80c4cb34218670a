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
from implicitbias.optim import noise
from implicitbias.optim.geometry import (
    Norm,
    scale_by_global_norm,
    scale_by_sign,
    scale_by_steepest,
)
from implicitbias.optim.grokfast import ema_filter, ma_filter
from implicitbias.optim.mirror import pnorm_mirror_step
from implicitbias.optim.noisy import noisy
from implicitbias.optim.schedules import (
    SCHEDULES,
    ScheduleKind,
    check_positive,
    is_number,
    make_schedule,
)
from implicitbias.optim.spectral import scale_by_spectral

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


def _check_int(name: str, value: Any, low: int) -> None:
    """A structural hyperparameter: a Python ``int >= low`` (never traced)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConfigError(name, f"an integer >= {low}", value)


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


def lion(
    learning_rate: LearningRate,
    b1: Number = 0.9,
    b2: Number = 0.99,
    weight_decay: Number = 0.0,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    r"""Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023).

    :func:`optax.lion`: a sign method whose momentum is interpolated twice,

    .. math::

        u_t = \operatorname{sign}(b_1 m_{t-1} + (1 - b_1) g_t),\qquad
        m_t = b_2 m_{t-1} + (1 - b_2) g_t,\qquad
        w_{t+1} = w_t - \eta_t (u_t + \lambda w_t),

    with ``m_0 = 0`` and no bias correction. Every coordinate moves by exactly ``eta_t``
    (when ``lambda = 0``), as in sign descent, so Lion's implicit bias is that of the l∞
    geometry (Chen, Liu et al., "Lion Secretly Solves Constrained Optimization", 2023).

    Args:
        learning_rate: ``eta``.
        b1: interpolation weight of the update, in ``[0, 1)`` (paper and optax: 0.9).
        b2: momentum decay, in ``[0, 1)`` (paper and optax: 0.99).
        weight_decay: decoupled ``lambda >= 0``, multiplied by ``eta_t``. Our default is
            0.0, not optax's 1e-3: explicit regularisation would mix with the implicit bias
            that this lab measures.
        schedule, power, offset: as in :func:`gd`.
    """
    _check_unit_interval("b1", b1)
    _check_unit_interval("b2", b2)
    _check_nonnegative("weight_decay", weight_decay)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return optax.lion(lr, b1=b1, b2=b2, weight_decay=weight_decay)


def muon(
    learning_rate: LearningRate,
    beta: Number = 0.95,
    eps: Number = 1e-8,
    weight_decay: Number = 0.0,
    adam_b1: Number = 0.9,
    adam_b2: Number = 0.999,
    adam_eps_root: Number = 0.0,
    adam_weight_decay: Number = 0.0,
    *,
    ns_steps: int = 5,
    nesterov: bool = True,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    r"""Muon (Jordan et al. 2024, "Muon: An optimizer for hidden layers in neural networks").

    :func:`optax.contrib.muon` with optax's defaults. Each **2-D** parameter ``W`` of shape
    ``(fan_in, fan_out)`` gets the orthogonalized momentum update

    .. math::

        m_t = \beta m_{t-1} + (1 - \beta) g_t,\qquad
        \hat m_t = \beta \frac{m_t}{1 - \beta^{t+1}} + (1 - \beta) \frac{g_t}{1 - \beta^t}
        \ (\text{Nesterov; } \hat m_t = m_t / (1 - \beta^t) \text{ otherwise}),

        O_t = \mathrm{NS}_5\!\Big(\frac{\hat m_t}{\|\hat m_t\|_F + \varepsilon}\Big),\qquad
        W_{t+1} = W_t - \eta_t \big(\sqrt{\max(1, \mathrm{fan\_out}/\mathrm{fan\_in})}\,O_t
        + \lambda W_t\big),

    where ``NS`` is ``ns_steps`` Newton–Schulz quintic steps
    ``X <- a X + (b A + c A^2) X``, ``A = X X^T``, ``(a, b, c) = (3.4445, -4.7750, 2.0315)``
    (on the transpose when ``fan_in > fan_out``). These coefficients push the singular
    values of ``X`` into about ``[0.68, 1.13]`` instead of converging to 1, so ``O_t`` is
    close to, not equal to, the polar factor ``U V^T`` of ``m̂_t = U S V^T``: Muon is
    approximately steepest descent in the spectral norm (Bernstein & Newhouse, "Old
    Optimizer, New Norm: An Anthology", 2024).

    **Every parameter that is not 2-D** (biases, scalars, 3-D tensors) is updated by optax's
    AdamW instead, with ``b1 = adam_b1``, ``b2 = adam_b2``, ``eps = eps`` (shared with the
    Frobenius normalization above), ``eps_root = adam_eps_root``, weight decay
    ``adam_weight_decay`` (0 by default), the same learning rate (and schedule), and
    Nesterov momentum when ``nesterov`` is true (the default, i.e. NAdamW). A problem whose
    parameters are all vectors therefore runs (N)AdamW, not Muon.

    Args:
        learning_rate: ``eta`` (also Adam's learning rate for the non-2-D parameters).
        beta: momentum decay in ``[0, 1)`` (optax: 0.95).
        eps: ``>= 0``, added to ``||m̂||_F`` and to Adam's denominator (optax: 1e-8).
        weight_decay: decoupled ``lambda >= 0`` of the 2-D parameters, times ``eta_t``
            (optax: 0.0).
        adam_b1, adam_b2: Adam's betas for the non-2-D parameters (optax: 0.9, 0.999).
        adam_eps_root: Adam's ``eps_root`` (optax: 0.0).
        adam_weight_decay: AdamW's decay of the non-2-D parameters (optax: 0.0).
        ns_steps: number of Newton–Schulz steps, a static int ``>= 1`` (optax: 5).
        nesterov: Nesterov momentum for both parts (optax: True); static.
        schedule, power, offset: as in :func:`gd`.
    """
    for name, value in (("beta", beta), ("adam_b1", adam_b1), ("adam_b2", adam_b2)):
        _check_unit_interval(name, value)
    for name, value in (
        ("eps", eps),
        ("weight_decay", weight_decay),
        ("adam_eps_root", adam_eps_root),
        ("adam_weight_decay", adam_weight_decay),
    ):
        _check_nonnegative(name, value)
    _check_int("ns_steps", ns_steps, 1)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return optax.contrib.muon(
        lr,
        ns_steps=ns_steps,
        beta=beta,
        eps=eps,
        weight_decay=weight_decay,
        nesterov=bool(nesterov),
        adam_b1=adam_b1,
        adam_b2=adam_b2,
        adam_eps_root=adam_eps_root,
        adam_weight_decay=adam_weight_decay,
    )


def adafactor(
    learning_rate: LearningRate,
    decay_rate: Number = 0.8,
    clipping_threshold: Number = 1.0,
    eps: Number = 1e-30,
    momentum: Number | None = None,
    *,
    min_dim_size_to_factor: int = 128,
    multiply_by_parameter_scale: bool = True,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    r"""Adafactor (Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory
    Cost", ICML 2018), :func:`optax.adafactor` with optax's defaults.

    With ``beta2_t = 1 - (t + 1)^{-decay_rate}`` (``t = 0`` first), a parameter ``W`` of
    shape ``(n, m)`` whose two largest dimensions are both ``>= min_dim_size_to_factor``
    keeps only row and column statistics,

    .. math::

        R_t = \beta_{2,t} R_{t-1} + (1 - \beta_{2,t})\,\mathrm{mean}_{cols}(G_t^2 + \epsilon),
        \quad
        C_t = \beta_{2,t} C_{t-1} + (1 - \beta_{2,t})\,\mathrm{mean}_{rows}(G_t^2 + \epsilon),

        \hat V_t = R_t C_t^\top / \mathrm{mean}(R_t)\qquad(\text{rank one}),

    while every other parameter (vectors, small matrices) keeps the full
    ``V_t = beta2_t V_{t-1} + (1 - beta2_t)(G_t^2 + eps)``. Then

    .. math::

        U_t = G_t / \sqrt{\hat V_t},\qquad
        \tilde U_t = U_t / \max(1, \mathrm{RMS}(U_t) / d),\qquad
        W_{t+1} = W_t - \eta_t\,\max(\mathrm{RMS}(W_t), 10^{-3})\,\tilde U_t,

    where ``d = clipping_threshold`` and the factor ``max(RMS(W), 1e-3)`` is present only
    with ``multiply_by_parameter_scale`` (the paper's relative step size; with it, a
    parameter at 0 moves by ``1e-3 eta`` at first). With ``momentum`` the clipped update goes
    through an EMA without debiasing (kept in the parameters' dtype here; optax's default
    would be float32). No weight decay. Note: optax computes ``beta2_t`` in float32 even
    under ``jax_enable_x64``.

    Args:
        learning_rate: ``eta``.
        decay_rate: exponent of ``beta2_t``, ``>= 0`` (optax and paper: 0.8).
        clipping_threshold: ``d > 0`` of the update clipping (optax and paper: 1.0).
        eps: ``>= 0`` added to ``G^2`` (optax: 1e-30).
        momentum: ``None`` (optax's default, no momentum) or a decay in ``[0, 1)``.
        min_dim_size_to_factor: static int; factor only when the two largest dimensions
            are at least this (optax: 128).
        multiply_by_parameter_scale: static; scale steps by ``max(RMS(W), 1e-3)`` (optax:
            True).
        schedule, power, offset: as in :func:`gd`.
    """
    _check_nonnegative("decay_rate", decay_rate)
    check_positive("clipping_threshold", clipping_threshold)
    _check_nonnegative("eps", eps)
    if momentum is not None:
        _check_unit_interval("momentum", momentum)
    _check_int("min_dim_size_to_factor", min_dim_size_to_factor, 1)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return optax.adafactor(
        lr,
        min_dim_size_to_factor=min_dim_size_to_factor,
        decay_rate=decay_rate,
        multiply_by_parameter_scale=bool(multiply_by_parameter_scale),
        clipping_threshold=clipping_threshold,
        momentum=momentum,
        dtype_momentum=None,
        eps=eps,
    )


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


def spectral_gd(
    learning_rate: LearningRate,
    *,
    normalized: bool = True,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Spectral descent: steepest descent in the spectral norm, with an exact SVD.

    Each leaf ``G = U S V^T`` (thin SVD, ``jnp.linalg.svd``) is replaced by ``U V^T``
    (``normalized=True``, the default: every non-zero singular value of the step is
    ``eta_t``) or by ``||G||_* U V^T`` (``normalized=False``: the dual-norm scaling of the
    steepest-descent step ``argmin_D <G, D> + ½ ||D||_op^2``), then
    ``w_{t+1} = w_t - eta_t * that``
    (:func:`~implicitbias.optim.spectral.scale_by_spectral`). Muon is the momentum version
    of the normalized step with ``U V^T`` approximated by Newton–Schulz iterations.

    Leaves that are not 2-D are read as matrices: a vector ``g`` of shape ``(n,)`` as the
    ``1 x n`` matrix, so its direction is ``g / ||g||_2`` (normalized GD on that leaf) and
    its unnormalized step is ``g`` itself (GD); a scalar as ``1 x 1`` (``sign(g)``); a
    tensor ``(d0, d1, ...)`` as ``d0 x (d1 * ...)``. Each leaf has its own polar factor.
    Singular values below ``max(m, n) * eps * sigma_max`` are dropped (a zero gradient
    gives a zero step).

    Carlson, Cevher & Carin, "Stochastic Spectral Descent for Restricted Boltzmann
    Machines", AISTATS 2015; Bernstein & Newhouse, "Old Optimizer, New Norm: An
    Anthology", 2024.

    Args:
        learning_rate: ``eta``.
        normalized: static bool; ``U V^T`` (True) or ``||G||_* U V^T`` (False).
        schedule, power, offset: as in :func:`gd`.
    """
    if not isinstance(normalized, bool):
        raise ConfigError("normalized", "True or False (a static bool)", normalized)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return _descend(scale_by_spectral(normalized), lr)


def pnorm_gd(
    learning_rate: LearningRate,
    p: Number = 3.0,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    r"""p-norm GD: mirror descent with the potential :math:`\psi(w) = \frac1p\lVert
    w\rVert_p^p` (Sun, Ahn, Thrampoulidis & Azizan, "Mirror Descent Maximizes Generalized
    Margin and Can Be Implemented Efficiently", NeurIPS 2022).

    Coordinatewise,

    .. math::

        z_{t+1} = \operatorname{sign}(w_t)|w_t|^{p-1} - \eta_t g_t,\qquad
        w_{t+1} = \operatorname{sign}(z_{t+1})|z_{t+1}|^{1/(p-1)}

    (:func:`~implicitbias.optim.mirror.pnorm_mirror_step`; the transformation uses
    ``params`` and returns ``w_{t+1} - w_t``). ``p = 2`` is GD. On under-determined least
    squares from ``w_0`` the iterates keep :math:`\nabla\psi(w_t) - \nabla\psi(w_0)` in the
    row space of ``X``, so an interpolating limit is the interpolator closest to ``w_0`` in
    the Bregman divergence of ``psi``, from ``w_0 = 0`` the min-l_p-norm one (Gunasekar et
    al., ICML 2018, section 2.1; Azizan & Hassibi, ICLR 2019); on separable data it goes to
    the l_p max-margin direction (Sun et al. 2022). For ``p > 2`` the local step near a zero
    coordinate is unbounded (``psi`` is flat there); for ``p`` near 1 the inverse map
    ``|z|^{1/(p-1)}`` overflows quickly.

    Args:
        learning_rate: ``eta`` (in the dual space).
        p: the potential's exponent, ``> 1`` (default 3; may be a traced scalar).
        schedule, power, offset: as in :func:`gd`.
    """
    if is_number(p) and not p > 1:
        raise ConfigError("p", "a number > 1", p)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return optax.chain(optax.scale_by_learning_rate(lr), pnorm_mirror_step(p))


# --------------------------------------------------------------------------- noise


def noisy_gd(
    learning_rate: LearningRate,
    sigma: Number = 0.0,
    seed: int | jax.Array = 0,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Noisy gradient descent ``w_{t+1} = w_t - eta_t (g_t + sigma xi_t)``, ``xi_t ~ N(0, I)``.

    :func:`implicitbias.optim.noise.noisy_gd`: the normals come from a splitmix64 stream
    whose start is hashed from ``seed``, so members of a ``vmap`` with different (traced)
    seeds draw independent noise. With ``sigma = 0`` it is :func:`gd`. With the constant
    schedule the numbers are bit-identical to the flat/sharp experiment's generator. Needs
    ``jax_enable_x64``. Isotropic gradient noise as a model of SGD's: Keskar et al.,
    ICLR 2017; Zhu et al., ICML 2019.

    Args:
        learning_rate: ``eta``.
        sigma: noise scale ``>= 0``.
        seed: integer selecting the noise stream (may be traced).
        schedule, power, offset: as in :func:`gd`.
    """
    _check_nonnegative("sigma", sigma)
    if is_number(seed) and not float(seed).is_integer():
        raise ConfigError("seed", "an integer", seed)
    lr = resolve_learning_rate(learning_rate, schedule, power, offset)
    return noise.noisy_gd(lr, sigma, seed)


# --------------------------------------------------------------------------- grokfast


def grokfast_ema(
    learning_rate: LearningRate,
    alpha: Number = 0.98,
    lamb: Number = 2.0,
    b1: Number = 0.9,
    b2: Number = 0.999,
    eps: Number = 1e-8,
    weight_decay: Number = 1e-2,
    *,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Grokfast-EMA (Lee et al. 2024, "Grokfast: Accelerated Grokking by Amplifying Slow
    Gradients") in front of :func:`adamw`.

    ``h_t = alpha h_{t-1} + (1 - alpha) g_t`` (``h_0 = g_0``), and :func:`adamw` receives
    ``g_t + lamb h_t`` (:func:`~implicitbias.optim.grokfast.ema_filter`). The AdamW defaults
    are :func:`adamw`'s (0.9, 0.999, 1e-8, 1e-2); the grokking experiment passes
    ``b2 = 0.98`` and ``weight_decay = 1`` explicitly.

    Args:
        learning_rate: ``eta``.
        alpha: EMA decay in ``[0, 1)`` (paper: 0.98).
        lamb: amplification ``>= 0`` (paper: 2.0).
        b1, b2, eps, weight_decay: as in :func:`adamw`.
        schedule, power, offset: as in :func:`gd`.
    """
    adam = adamw(
        learning_rate, b1, b2, eps, weight_decay, schedule=schedule, power=power, offset=offset
    )
    return optax.chain(ema_filter(alpha, lamb), adam)


def grokfast_ma(
    learning_rate: LearningRate,
    window: int = 100,
    lamb: Number = 5.0,
    b1: Number = 0.9,
    b2: Number = 0.999,
    eps: Number = 1e-8,
    weight_decay: Number = 1e-2,
    *,
    warmup: bool = True,
    schedule: ScheduleKind = "constant",
    power: Number = 1.0,
    offset: Number = 1.0,
) -> optax.GradientTransformation:
    """Grokfast-MA (Lee et al. 2024) in front of :func:`adamw`.

    :func:`adamw` receives ``g_t + lamb mean(g_{t-window+1}, ..., g_t)``
    (:func:`~implicitbias.optim.grokfast.ma_filter`; with ``warmup``, plain ``g_t`` until
    ``window`` gradients are stored). The AdamW defaults are :func:`adamw`'s (0.9, 0.999,
    1e-8, 1e-2); the grokking experiment passes ``b2 = 0.98`` and ``weight_decay = 1``
    explicitly.

    Args:
        learning_rate: ``eta``.
        window: number of gradients averaged (paper: 100). Structural: a Python int that
            sets the buffer shape, so bind it with ``functools.partial`` before handing the
            factory to the engine (it cannot be a traced hyperparameter).
        lamb: amplification ``>= 0`` (paper: 5.0).
        b1, b2, eps, weight_decay: as in :func:`adamw`.
        warmup: see :func:`~implicitbias.optim.grokfast.ma_filter`; static.
        schedule, power, offset: as in :func:`gd`.
    """
    adam = adamw(
        learning_rate, b1, b2, eps, weight_decay, schedule=schedule, power=power, offset=offset
    )
    return optax.chain(ma_filter(window, lamb, warmup), adam)


# --------------------------------------------------------------------------- registry


OPTIMIZERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "gd": gd,
    "sgd": sgd,
    "heavy_ball": heavy_ball,
    "nesterov": nesterov,
    "adam": adam,
    "adamw": adamw,
    "lion": lion,
    "muon": muon,
    "adafactor": adafactor,
    "sign_gd": sign_gd,
    "normalized_gd": normalized_gd,
    "coordinate_descent": coordinate_descent,
    "noisy": noisy,
    "steepest_l1": steepest_l1,
    "steepest_l2": steepest_l2,
    "steepest_linf": steepest_linf,
    "spectral_gd": spectral_gd,
    "pnorm_gd": pnorm_gd,
    "noisy_gd": noisy_gd,
    "grokfast_ema": grokfast_ema,
    "grokfast_ma": grokfast_ma,
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
