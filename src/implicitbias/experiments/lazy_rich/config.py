"""The lazy-rich config: the teacher regression task, the student network, the alpha
sweep, the optimizer, and the presets."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from implicitbias.config import MAX_ELEMENTS, Config, optimizer_param, param
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec

NAME = "lazy-rich"
GRADIENT_DESCENT = ("gd", "sgd")
"""Registry names of gradient descent (full batch here: ``sgd`` is the same update)."""


@dataclasses.dataclass(frozen=True)
class LazyRichConfig(Config):
    """A two-layer network trained as alpha (f(w) - f(w0)): from rich (small alpha) to lazy
    (large alpha) training, against kernel regression with the tangent kernel at init."""

    n: int = param(40, "training examples (fewer than the parameters: interpolation)", low=2)
    n_test: int = param(500, "test examples", low=1, high=10**6)
    d: int = param(10, "input dimension (inputs x ~ N(0, I_d))", low=1, high=10**5)
    width: int = param(100, "hidden units of the student network", low=1, high=10**6)
    teacher_width: int = param(3, "ReLU units of the teacher network", low=1, high=10**4)
    activation: Literal["tanh", "relu"] = param(
        "tanh", "student activation (tanh: smooth, as the linearization argument assumes)"
    )
    alpha_min: float = param(0.03, "smallest output scale alpha", low=0, low_open=True)
    alpha_max: float = param(1000.0, "largest output scale alpha", low=0, low_open=True)
    num_alphas: int = param(12, "output scales, log-spaced, one batched run", low=2, high=10**4)
    fit_alpha_min: float = param(
        10.0, "the 1/alpha slope is fitted over the alphas >= this", low=0, low_open=True
    )
    draws: int = param(
        5, "independent draws of data, teacher and init (members of the same batch)", low=1
    )
    optimizer: OptimizerSpec = optimizer_param(
        "gd", "optimizer of the alpha sweep (per-member steps, see lr_scale)"
    )
    lr_scale: float = param(
        1.0,
        "step = lr_scale * n / lambda_max(K) * min(1, alpha), K the tangent kernel at init",
        low=0,
        low_open=True,
    )
    steps: int = param(10_000, "optimizer steps", low=1)
    num_logs: int = param(60, "logged steps (log-spaced)", low=10)

    PRESETS = {
        "smoke": dict(
            n=12,
            n_test=100,
            d=6,
            width=32,
            num_alphas=6,
            alpha_min=0.1,
            alpha_max=300.0,
            draws=2,
            steps=20_000,
            num_logs=15,
        ),
        "default": {},
        "large": dict(
            n=80,
            n_test=1000,
            d=16,
            width=200,
            num_alphas=16,
            alpha_min=0.01,
            alpha_max=3000.0,
            steps=20_000,
        ),
    }

    def validate(self) -> None:
        p = self.width * (self.d + 1)
        if self.n >= p:
            raise ConfigError(
                "n",
                f"an integer < width * (d + 1) (= {p}), so that the network interpolates",
                self.n,
            )
        if self.draws * self.num_alphas * max(self.n_test, self.n) * self.d > MAX_ELEMENTS:
            raise ConfigError(
                "n_test", f"draws * num_alphas * n_test * d <= {MAX_ELEMENTS:.0e}", self.n_test
            )
        if self.alpha_min >= self.alpha_max:
            raise ConfigError(
                "alpha_min", f"a number < alpha_max (= {self.alpha_max})", self.alpha_min
            )
        if int(np.sum(self.alphas() >= self.fit_alpha_min)) < 2:
            raise ConfigError(
                "fit_alpha_min",
                f"a number that leaves at least two alphas of the sweep above it (largest "
                f"alpha = {self.alpha_max})",
                self.fit_alpha_min,
            )

    def alphas(self) -> np.ndarray:
        return np.geomspace(self.alpha_min, self.alpha_max, self.num_alphas)


def uses_gd(cfg: LazyRichConfig) -> bool:
    """Plain gradient descent: the lazy-training statements are about gradient flow, which
    GD with a small constant step follows."""
    return cfg.optimizer.named(*GRADIENT_DESCENT, plain=True)
