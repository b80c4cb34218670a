"""The diagonal-net config: the sparse regression problem, the alpha sweep, the optimizer
and the step-size study, and the presets."""

from __future__ import annotations

import dataclasses
from typing import Literal

from implicitbias.config import MAX_ELEMENTS, Config, optimizer_param, param
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.diagonal import MODELS

NAME = "diagonal-net"
GRADIENT_DESCENT = ("gd", "sgd")
"""Registry names of gradient descent (full batch here: ``sgd`` is the same update)."""


@dataclasses.dataclass(frozen=True)
class DiagonalNetConfig(Config):
    """Sparse regression with a diagonal linear network: which interpolator does the
    optimizer pick?"""

    n: int = param(40, "number of examples", low=1, high=10**5)
    d: int = param(200, "number of features (d > n)", low=2, high=10**6)
    k: int = param(5, "nonzeros of the planted w*", low=1, high=10**6)
    noise: float = param(0.0, "standard deviation of the label noise", low=0)
    signal: Literal["sign", "gaussian"] = param(
        "sign", "nonzero values of w*: random signs or Gaussian (then ||w*|| = 1)"
    )
    alpha_min: float = param(1e-4, "smallest init scale", low=0, low_open=True)
    alpha_max: float = param(10.0, "largest init scale", low=0, low_open=True)
    num_alphas: int = param(13, "init scales, log-spaced, one batched run", low=2, high=10**4)
    models: Literal["both", "square", "product"] = param(
        "both", "parameterizations: square (u*u - v*v), product (u+ v+ - u- v-), or both"
    )
    imbalance: float = param(
        2.0, "product form: u(0) = c alpha, v(0) = alpha / c", low=0, low_open=True
    )
    optimizer: OptimizerSpec = optimizer_param(
        "gd", "optimizer of the alpha sweeps and of the step-size study (per-member steps)"
    )
    lr_scale: float = param(
        0.5, "step = lr_scale / (4 L (B + 2 alpha^2)) (see the doc)", low=0, low_open=True
    )
    steps: int = param(200_000, "optimizer steps", low=1)
    num_logs: int = param(100, "logged steps (log-spaced)", low=10)
    step_study: bool = param(True, "also run one alpha at several step sizes")
    step_study_alpha: float = param(0.03, "the alpha of the step-size study", low=0, low_open=True)
    step_study_steps: int = param(
        50_000,
        "step-size study: optimizer steps at the full step (the "
        "run lasts step_study_steps / min fraction)",
        low=1,
    )
    step_fractions: tuple[float, ...] = param(
        (1.0, 0.5, 0.25),
        "step-size study: fractions of the step (steps scaled by 1/fraction)",
        low=0,
        high=1,
    )

    PRESETS = {
        "smoke": dict(
            n=12,
            d=40,
            k=2,
            num_alphas=4,
            alpha_min=1e-3,
            alpha_max=3.0,
            steps=30_000,
            num_logs=20,
            step_study_alpha=0.1,
            step_study_steps=10_000,
            step_fractions=(1.0, 0.5),
        ),
        "noisy": dict(noise=0.3, step_study=False),
        "long": dict(
            steps=1_000_000, alpha_min=1e-5, num_alphas=16, step_fractions=(1.0, 0.5, 0.25, 0.125)
        ),
        "default": {},
    }

    def validate(self) -> None:
        if self.n * self.d > MAX_ELEMENTS:
            raise ConfigError(
                "d", f"n * d <= {MAX_ELEMENTS:.0e} (the data matrix; n = {self.n})", self.d
            )
        if self.n >= self.d:
            raise ConfigError(
                "n",
                f"an integer < d (= {self.d}), so that infinitely many interpolators exist",
                self.n,
            )
        if self.k > self.d:
            raise ConfigError("k", f"an integer in [1, d = {self.d}]", self.k)
        if self.alpha_min >= self.alpha_max:
            raise ConfigError(
                "alpha_min", f"a number < alpha_max (= {self.alpha_max})", self.alpha_min
            )
        if self.step_study and (not self.step_fractions or 1.0 not in self.step_fractions):
            raise ConfigError(
                "step_fractions", "fractions in (0, 1] that include 1", self.step_fractions
            )

    def model_list(self) -> tuple[str, ...]:
        return MODELS if self.models == "both" else (self.models,)


def uses_gd(cfg: DiagonalNetConfig) -> bool:
    """Gradient descent (any step schedule): the Q_alpha theory's algorithm at small steps."""
    return cfg.optimizer.named(*GRADIENT_DESCENT)
