"""The largest curvature at which an optimizer is stable on a quadratic.

On :math:`L(\\theta) = \\frac{\\lambda}{2}\\theta^2` with a constant step :math:`\\eta`:

* gradient descent is stable iff :math:`\\eta\\lambda < 2`;
* heavy ball (:math:`v \\leftarrow \\beta v + g`, :math:`\\theta \\leftarrow \\theta - \\eta v`)
  iff :math:`\\eta\\lambda < 2(1 + \\beta)`;
* Nesterov momentum (Sutskever et al. 2013 form) iff
  :math:`\\eta\\lambda < (2 + 2\\beta)/(1 + 2\\beta)`.

Cohen, Kaur, Li, Kolter & Talwalkar 2021 (ICLR), section 3 and appendix, call these the
*maximum stable sharpness* and find that the sharpness of a neural net trained by these
methods rises to it and hovers there (the edge of stability). Other optimizers (Adam,
Lion, sign descent, a user's factory) have no such threshold in terms of the Hessian
alone: :func:`stability_threshold` returns ``None`` for them.
"""

from __future__ import annotations

from implicitbias.optim.spec import OptimizerSpec

_GD = ("gd", "sgd")
_MOMENTUM = ("heavy_ball", "nesterov")
_MOMENTUM_DEFAULT = 0.9
"""The registry's default ``momentum`` of heavy_ball and nesterov."""


def _constant_step(spec: OptimizerSpec, allowed: tuple[str, ...]) -> bool:
    extra = {k: v for k, v in spec.hparams if k not in allowed}
    return spec.fn is None and extra in ({}, {"schedule": "constant"})


def stability_threshold(spec: OptimizerSpec, learning_rate: float) -> float | None:
    """The maximum stable sharpness of the registry optimizer ``spec`` with step
    ``learning_rate``, or ``None`` when the quadratic theory above does not cover it.

    Covered: ``gd``/``sgd`` (:math:`2/\\eta`), ``heavy_ball``
    (:math:`2(1+\\beta)/\\eta`) and ``nesterov`` (:math:`(2+2\\beta)/((1+2\\beta)\\eta)`),
    each with a constant step.
    """
    eta = float(learning_rate)
    if spec.name in _GD and _constant_step(spec, ()):
        return 2.0 / eta
    if spec.name in _MOMENTUM and _constant_step(spec, ("momentum",)):
        beta = float(spec.get("momentum", _MOMENTUM_DEFAULT))
        if spec.name == "heavy_ball":
            return 2.0 * (1.0 + beta) / eta
        return (2.0 + 2.0 * beta) / ((1.0 + 2.0 * beta) * eta)
    return None


def plain_gd(spec: OptimizerSpec) -> bool:
    """Constant-step gradient descent (``gd`` or ``sgd`` with no other hyperparameter)."""
    return spec.name in _GD and _constant_step(spec, ())


def momentum_of(spec: OptimizerSpec) -> float:
    """``beta`` of a heavy-ball or Nesterov spec; 0 for every other optimizer."""
    if spec.name in _MOMENTUM and spec.fn is None:
        return float(spec.get("momentum", _MOMENTUM_DEFAULT))
    return 0.0
