"""The min-norm experiment's config, presets, and the predicates its claims apply under."""

from __future__ import annotations

import dataclasses
from typing import Literal

from implicitbias.config import MAX_ELEMENTS, Config, optimizer_param, param
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec

NAME = "min-norm"
SEED1 = "seed 000, section 1"
SEED2 = "seed 000, section 2"
POLYAK = "Polyak 1987, Introduction to Optimization (GD on quadratics)"
ZHANG = "Zhang et al. 2017 (ICLR), section 5"
GRADIENT_SPAN = ("gd", "sgd", "heavy_ball", "nesterov")
"""Optimizers whose updates lie in the span of past gradients (limit claims apply)."""


@dataclasses.dataclass(frozen=True)
class MinNormConfig(Config):
    """Overparameterized least squares: which interpolator does the optimizer pick?"""

    n: int = param(20, "number of examples (must be < p)", low=1, high=10**5)
    p: int = param(100, "number of parameters", low=2, high=10**6)
    optimizer: OptimizerSpec = optimizer_param(
        "gd", "optimizer of the main runs, the minibatch runs and the plane picture"
    )
    learning_rate: float | None = param(
        None, "step size; none: 1/L, L = largest eigenvalue of X^T X / n", low=0, low_open=True
    )
    steps: int = param(2000, "optimizer steps of the main runs", low=1)
    num_inits: int = param(
        8, "random inits run beside the zero init, in one batch", low=0, high=10**6
    )
    init_scale: float = param(1.0, "standard deviation of the random inits", low=0, low_open=True)
    null_scale: float = param(
        3.0,
        "size of the null-space step that makes the random interpolator (seed 000 uses 3.0)",
        low=0,
        low_open=True,
    )
    sgd: bool = param(True, "also run minibatch SGD from zero")
    sgd_batch_size: int = param(1, "SGD minibatch size", low=1)
    sgd_replace: bool = param(False, "SGD samples with replacement (else random reshuffling)")
    sgd_learning_rate: float | None = param(
        None, "SGD step; none: 1 / max_i ||x_i||^2", low=0, low_open=True
    )
    sgd_steps: int = param(10000, "SGD steps", low=1)
    ridge_min: float = param(1e-10, "smallest ridge lambda of the ridge path", low=0, low_open=True)
    ridge_max: float = param(1e2, "largest ridge lambda of the ridge path", low=0, low_open=True)
    ridge_points: int = param(25, "number of lambdas on the ridge path", low=2)
    plane: bool = param(True, "also run the p = 2, n = 1 picture of GD paths in the plane")
    num_logs: int = param(200, "logged steps per run", low=2)
    spacing: Literal["log", "linear"] = param("log", "spacing of the logged steps")
    second_snippet: bool = param(
        False, "also run seed 000's second snippet (n=8, p=30, lr 0.005, 10000 steps, seed 0)"
    )

    PRESETS = {
        "smoke": dict(
            n=5, p=12, steps=400, num_inits=3, sgd_steps=2000, num_logs=60, ridge_points=8
        ),
        "default": {},
        "large": dict(n=200, p=2000, steps=4000, num_inits=16, sgd_steps=40000),
        "seed": dict(
            n=10, p=50, seed=42, learning_rate=0.01, steps=5000, null_scale=3.0, second_snippet=True
        ),
    }

    def validate(self) -> None:
        if self.n * self.p > MAX_ELEMENTS:
            raise ConfigError(
                "p", f"n * p <= {MAX_ELEMENTS:.0e} (the data matrix; n = {self.n})", self.p
            )
        if self.n >= self.p:
            raise ConfigError(
                "n",
                f"an integer < p (= {self.p}), so that infinitely many interpolators exist",
                self.n,
            )
        if self.sgd_batch_size > self.n:
            raise ConfigError(
                "sgd_batch_size", f"an integer in [1, n = {self.n}]", self.sgd_batch_size
            )
        if self.ridge_min >= self.ridge_max:
            raise ConfigError(
                "ridge_min", f"a number < ridge_max (= {self.ridge_max})", self.ridge_min
            )


def gradient_span(cfg: MinNormConfig) -> bool:
    """The optimizer's updates lie in the span of past gradients (a named method)."""
    return cfg.optimizer.named(*GRADIENT_SPAN)


def plain_gd(cfg: MinNormConfig) -> bool:
    """Plain constant-step GD (the closed-form rate is for it alone)."""
    return cfg.optimizer.named("gd", "sgd", plain=True)
