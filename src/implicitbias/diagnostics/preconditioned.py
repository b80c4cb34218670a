"""Adam's preconditioner, read from an optimizer state, and the preconditioned sharpness.

Cohen, Ghorbani, Krishnan, Agarwal, Medapati, Badura, Suo, Cardoze, Nado, Dahl & Gilmer
2022, "Adaptive Gradient Methods at the Edge of Stability" (arXiv 2207.14484), view
full-batch Adam as EMA momentum :math:`m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t`
preconditioned by a diagonal matrix,

.. math::

    \\theta_{t+1} = \\theta_t - \\eta\\, P_t^{-1} m_t,\\qquad
    P_t = (1 - \\beta_1^t)\\,\\big(\\operatorname{diag}(\\sqrt{\\hat\\nu_t}) + \\epsilon I\\big),
    \\qquad \\hat\\nu_t = \\frac{\\nu_t}{1 - \\beta_2^t},

(the bias correction of :math:`m` folded into :math:`P`: this is the one diagonal
:math:`P` for which Adam's update is exactly :math:`-\\eta P^{-1} m` with the raw EMA
:math:`m`, which the tests check against optax). With :math:`P` frozen this is EMA
momentum on the quadratic with Hessian :math:`P^{-1/2} H P^{-1/2}` in :math:`q =
P^{1/2}\\theta`, stable iff

.. math::  \\lambda_1(P^{-1} H) < \\frac{2 + 2\\beta_1}{(1 - \\beta_1)\\,\\eta}
    \\quad(= 38/\\eta \\text{ for } \\beta_1 = 0.9).

Their finding (abstract): the *preconditioned sharpness* :math:`\\lambda_1(P_t^{-1} H_t)`
equilibrates at this threshold (the "adaptive edge of stability"). (Sources read: the
abstract, arxiv.org/html/2207.14484v2, for the threshold and the frozen-preconditioner
picture; the form of :math:`P` above is the one that makes Adam EMA momentum, as the
threshold requires; the paper's section defining it was not available to us.)

:math:`P^{-1} H` is similar to the symmetric :math:`P^{-1/2} H P^{-1/2}`, the Hessian of
:math:`q \\mapsto L(P^{-1/2} q)` at :math:`q = P^{1/2}\\theta`, whose top eigenvalue
:func:`preconditioned_sharpness` finds by Lanczos on Hessian-vector products
(:func:`implicitbias.diagnostics.lanczos`); :func:`dense_preconditioned_sharpness` is the
dense reference for tests.

The state is found by type: :func:`find_adam_state` returns the
``optax.ScaleByAdamState`` (fields ``count``, ``mu``, ``nu``) of any optax optimizer built
on ``scale_by_adam`` (adam, adamw, nadam(w), lamb, ...) when it preconditions every
parameter; Muon's (``nu`` only for its non-matrix parameters) does not count. For the
variants (NAdam's Nesterov term, LAMB's trust ratio, AdamW's decay) :math:`P` is still
Adam's, read from their state; the threshold is Adam's. ``eps_root`` is taken as 0.
:func:`export_adam_state` wraps an optimizer so that ``nu`` and ``count`` leave the
optimizer state as extra parameter leaves that the loss does not read, where code that
sees only the parameters (the engine's trajectory and probes) can read them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from implicitbias.diagnostics.hessian import LanczosResult, exact_hessian, lanczos

LossFn = Callable[[Any], jax.Array]

NET, NU, COUNT = "net", "adam_nu", "adam_count"
"""The keys of the parameters that :func:`export_adam_state` trains: the network, and
Adam's ``nu`` and ``count`` copied out of the optimizer state after each update."""


def adam_threshold(learning_rate: float, b1: float) -> float:
    """:math:`(2 + 2\\beta_1) / ((1 - \\beta_1)\\eta)`, the stability threshold of EMA
    momentum (Cohen et al. 2022): 38/eta for ``b1 = 0.9``."""
    return (2.0 + 2.0 * float(b1)) / ((1.0 - float(b1)) * float(learning_rate))


def adam_states(state: Any) -> list[optax.ScaleByAdamState]:
    """Every ``optax.ScaleByAdamState`` inside an optimizer state, in tree order."""
    leaves = jax.tree.leaves(state, is_leaf=lambda x: isinstance(x, optax.ScaleByAdamState))
    return [x for x in leaves if isinstance(x, optax.ScaleByAdamState)]


def find_adam_state(state: Any, params: Any) -> optax.ScaleByAdamState | None:
    """The first Adam state whose ``nu`` has the structure of ``params`` (every parameter
    preconditioned), or ``None``.

    ``None`` for optimizers without one (gd, heavy ball, sign descent, Lion, Adafactor) and
    for Muon, whose Adam part holds ``optax.MaskedNode`` for its matrix parameters.
    """
    target = jax.tree.structure(params)
    for found in adam_states(state):
        if jax.tree.structure(found.nu) == target:
            return found
    return None


def adam_preconditioner(nu: Any, count: Any, *, b1: float, b2: float, eps: float) -> Any:
    """The diagonal of :math:`P = (1 - \\beta_1^t)(\\sqrt{\\nu / (1 - \\beta_2^t)} + \\epsilon)`,
    a pytree like ``nu``, ``t = count`` (the number of updates that built ``nu``: the
    preconditioner of the latest update)."""
    t = jnp.asarray(count)
    c1 = 1.0 - jnp.asarray(b1) ** t
    c2 = 1.0 - jnp.asarray(b2) ** t
    return jax.tree.map(lambda v: c1 * (jnp.sqrt(v / c2) + eps), nu)


def preconditioned_sharpness(
    loss_fn: LossFn,
    params: Any,
    precond: Any,
    *,
    key: jax.Array,
    num_iters: int = 20,
    v0: Any = None,
) -> LanczosResult:
    """Top eigenpair of :math:`P^{-1/2} H P^{-1/2}` (the eigenvalue is
    :math:`\\lambda_1(P^{-1} H)`) by Lanczos, with ``P = diag(precond)`` frozen.

    Args:
        loss_fn: ``loss_fn(params) -> scalar``.
        params: the point; ``H`` is the Hessian of ``loss_fn`` there.
        precond: the positive diagonal of ``P``, a pytree like ``params``.
        key, num_iters, v0: as in :func:`implicitbias.diagnostics.lanczos` (the vectors
            live in the rescaled coordinates ``q = P^{1/2} theta``).
    """
    root = jax.tree.map(jnp.sqrt, precond)
    q = jax.tree.map(jnp.multiply, params, root)

    def rescaled(q):
        return loss_fn(jax.tree.map(jnp.divide, q, root))

    return lanczos(rescaled, q, k=1, num_iters=num_iters, key=key, v0=v0)


def dense_preconditioned_sharpness(loss_fn: LossFn, params: Any, precond: Any) -> float:
    """:math:`\\lambda_{\\max}(D H D)`, :math:`D = P^{-1/2}`, from the dense Hessian
    (``jax.hessian`` + ``eigh``): the reference for small models and tests."""
    H = exact_hessian(loss_fn, params)
    d = 1.0 / np.sqrt(np.asarray(ravel_pytree(precond)[0], np.float64))
    return float(np.linalg.eigvalsh(d[:, None] * H * d[None, :])[-1])


def has_full_adam_state(tx: optax.GradientTransformation, params: Any) -> bool:
    """Whether ``tx.init(params)`` holds an Adam state over every parameter (a structural
    question: answered from shapes, without computing anything)."""
    state = jax.eval_shape(tx.init, params)
    return find_adam_state(state, params) is not None


def export_params(params: Any, export: bool, *, batch_shape: tuple[int, ...] = ()) -> dict:
    """The parameters trained under :func:`export_adam_state`: ``{NET: params}``, plus
    zero ``NU`` (like ``params``) and ``COUNT`` (shape ``batch_shape``: ``(B,)`` when the
    leaves of ``params`` carry a leading batch axis) when ``export``. Host (NumPy) arrays."""
    out: dict[str, Any] = {NET: params}
    if export:
        out[NU] = jax.tree.map(lambda a: np.zeros(np.shape(a), np.asarray(a).dtype), params)
        out[COUNT] = np.zeros(batch_shape, np.asarray(jax.tree.leaves(params)[0]).dtype)
    return out


def export_adam_state(inner: optax.GradientTransformation, export: bool) -> Any:
    """``inner`` on the ``NET`` part of :func:`export_params`; with ``export``, the updates of
    ``NU`` and ``COUNT`` set them to the Adam state's ``nu`` and ``count`` after each step.

    The network's updates are ``inner``'s, bit for bit. The loss must read ``params[NET]``
    only, so that ``NU`` and ``COUNT`` get zero gradients (which this transformation
    ignores). With ``export = False`` this only unwraps ``NET``.
    """

    def init_fn(params):
        return inner.init(params[NET])

    def update_fn(updates, state, params=None):
        net = None if params is None else params[NET]
        net_updates, state = inner.update(updates[NET], state, net)
        out = {NET: net_updates}
        if export:
            found = find_adam_state(state, net_updates)
            if found is None:
                raise ValueError(
                    "export_adam_state: the optimizer has no Adam state over all "
                    "parameters (check has_full_adam_state first)"
                )
            out[NU] = jax.tree.map(lambda v, old: v.astype(old.dtype) - old, found.nu, params[NU])
            out[COUNT] = jnp.asarray(found.count, params[COUNT].dtype) - params[COUNT]
        return out, state

    return optax.GradientTransformation(init_fn, update_fn)
