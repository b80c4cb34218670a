"""Any optimizer on a noisy gradient: Gaussian noise added before the base optimizer.

.. math::

    \\tilde g_t = g_t + \\sigma\\,\\xi_t,\\qquad \\xi_t \\sim \\mathcal N(0, I)\\ \\text{i.i.d.},
    \\qquad \\theta_{t+1} = \\theta_t + \\mathrm{base}_t(\\tilde g_t)

The noise enters the *gradient*, before anything the base optimizer does with it: Adam
normalizes the noisy gradient by its own running second moment, Lion takes the sign of its
momentum of noisy gradients, GD scales it by ``-eta``. With ``base="gd"`` this is GD plus
isotropic gradient noise, ``theta <- theta - eta (g + sigma xi)``, the simplest model of
minibatch noise and, for small ``eta``, a discretized Langevin dynamics at temperature
``eta sigma^2 / 2`` (Welling & Teh, "Bayesian Learning via Stochastic Gradient Langevin
Dynamics", ICML 2011; Keskar et al., ICLR 2017; Zhu et al., ICML 2019).

The normals come from the splitmix64 stream of :mod:`implicitbias.optim.noise`
(:func:`~implicitbias.optim.noise.add_gaussian_noise`), one stream per ``seed``; 64-bit
integers (``jax_enable_x64``) are needed.

The experiment passes ``learning_rate``, ``sigma`` and ``seed`` itself (per batch member);
the base optimizer and its hyperparameters are the spec's::

    OptimizerSpec("implicitbias.optim.noisy:noisy", {"base": "lion", "b2": 0.95})
    with_gradient_noise(OptimizerSpec.parse("lion(b2=0.95)"))   # the same spec
"""

from __future__ import annotations

import functools
from typing import Any

import optax

from implicitbias.errors import ConfigError
from implicitbias.optim import noise
from implicitbias.optim.spec import OptimizerSpec

PATH = "implicitbias.optim.noisy:noisy"
"""The import path of :func:`noisy`, the name of the specs :func:`with_gradient_noise` makes."""

_RESERVED = ("learning_rate", "sigma", "seed", "base")


def noisy(
    learning_rate: Any,
    sigma: Any = 0.0,
    seed: Any = 0,
    base: str | OptimizerSpec = "gd",
    **base_hparams: Any,
) -> optax.GradientTransformation:
    """``chain(add_gaussian_noise(sigma, seed), base(learning_rate, **base_hparams))``.

    With ``base="gd"`` and no base hyperparameters this is
    :func:`implicitbias.optim.noise.noisy_gd` itself (one transform,
    ``theta <- theta - eta (g + sigma xi)``), whose numbers are those of the flat/sharp
    experiment's generator bit for bit.

    Args:
        learning_rate: the base optimizer's ``learning_rate`` (number or traced scalar).
        sigma: noise scale ``>= 0`` (number or traced scalar); ``0`` is the base optimizer.
        seed: integer (traced under vmap) choosing the member's noise stream.
        base: the base optimizer: a registry name, ``module:factory`` or a spec.
        **base_hparams: hyperparameters of the base optimizer.

    Raises:
        ConfigError: ``sigma`` negative, or a base hyperparameter the base does not take.
    """
    if isinstance(sigma, int | float) and not sigma >= 0:
        raise ConfigError("sigma", "a number >= 0", sigma)
    spec = OptimizerSpec.coerce(base, "base")
    if base_hparams:
        spec = spec.replace(**base_hparams)
    if spec.named("gd", "sgd", plain=True):
        return noise.noisy_gd(learning_rate, sigma, seed)
    return optax.chain(
        noise.add_gaussian_noise(sigma, seed), spec.build(learning_rate=learning_rate)
    )


def with_gradient_noise(base: OptimizerSpec) -> OptimizerSpec:
    """The spec of :func:`noisy` around ``base`` (by value, so it compiles and resumes).

    A base given by name keeps a spec that ``config.json`` can hold; a base that is a
    Python callable is wrapped with ``functools.partial`` (compared by value).
    """
    clash = [k for k in base.kwargs if k in _RESERVED]
    if clash:
        raise ConfigError(f"optimizer.{clash[0]}", "a hyperparameter of the base optimizer", clash)
    if base.fn is not None:
        return OptimizerSpec.from_callable(functools.partial(noisy, base=base))
    return OptimizerSpec(PATH, (("base", base.name), *base.hparams))


__all__ = ["PATH", "noisy", "with_gradient_noise"]
