"""The max-margin config: linear classification on separable data, and its presets."""

from __future__ import annotations

import dataclasses
from typing import Literal

from implicitbias.config import Config, optimizer_param, param
from implicitbias.errors import ConfigError, ImplicitBiasError
from implicitbias.optim.spec import OptimizerSpec

NAME = "max-margin"


class NotSeparableError(ImplicitBiasError, ValueError):
    """Exponential loss on data that no hyperplane through the origin separates."""


@dataclasses.dataclass(frozen=True)
class MaxMarginConfig(Config):
    """Linear classification on separable data: which separator does GD pick?"""

    dataset: Literal["clouds", "breast_cancer", "digits_3_8"] = param(
        "clouds", "data: two Gaussian clouds, or scikit-learn's bundled sets"
    )
    per_class: int = param(20, "clouds: points per class", low=1, high=10**6)
    dim: int = param(2, "clouds: dimension", low=1, high=10**6)
    std: float = param(0.5, "clouds: standard deviation", low=0, low_open=True)
    center: float = param(1.5, "clouds: the centres are +-center * (1, ..., 1)")
    bias: bool = param(False, "append a constant feature (a classifier with a bias)")
    loss: Literal["exponential", "logistic"] = param("exponential", "loss")
    optimizer: OptimizerSpec = optimizer_param(
        "gd", "optimizer of the main runs (the fast comparison has its own, see FAST)"
    )
    reduction: Literal["mean", "sum"] = param("mean", "loss over examples: mean or sum")
    learning_rate: float | None = param(
        None,
        "step of the main runs; none: 1/lambda_max of the Hessian at w = 0 (X^T X/n for the mean "
        "exponential loss, X^T X for the sum, a quarter of those for the logistic)",
        low=0,
        low_open=True,
    )
    steps: int = param(100_000, "optimizer steps", low=1)
    zero_init: bool = param(True, "include the zero init")
    inits: tuple[float, ...] = param((), "explicit inits, flattened (len = k * features)")
    num_inits: int = param(4, "random Gaussian inits", low=0, high=10**6)
    init_scale: float = param(
        1.0,
        "standard deviation of the random inits (of the order of "
        "the SVM solution, so that the first steps do not "
        "overshoot)",
        low=0,
        low_open=True,
    )
    fast: bool = param(True, "also run normalized GD and GD with increasing steps")
    normalized_lr: float = param(0.1, "normalized GD step (w -= lr g/||g||)", low=0, low_open=True)
    increasing_power: float = param(
        1.0, "increasing steps: lr * (1 + t)^power", low=0, low_open=True
    )
    tail_decades: float = param(2.0, "fits use the last this-many decades of steps", low=0.5)
    num_logs: int = param(200, "logged steps per run", low=10)

    PRESETS = {
        "smoke": dict(per_class=8, steps=3000, num_inits=2, num_logs=40),
        "default": {},
        "long": dict(steps=10_000_000, num_logs=300),
        "seed-000": dict(
            per_class=10,
            std=1.0,
            seed=7,
            loss="logistic",
            learning_rate=0.05,
            steps=20_000,
            num_inits=0,
            fast=False,
        ),
        "seed-004": dict(
            per_class=10,
            std=0.5,
            seed=42,
            reduction="sum",
            learning_rate=0.01,
            steps=50_000,
            zero_init=False,
            num_inits=0,
            inits=(-2.0, 4.0, 4.0, -1.0, -3.0, -3.0, 1.0, 5.0),
            fast=False,
        ),
        # Real data: the logistic loss, whose curvature is bounded by X^T X / (4n), so the
        # default step is stable everywhere (the exponential loss's is not).
        "breast-cancer": dict(
            dataset="breast_cancer", bias=True, loss="logistic", steps=100_000, num_inits=0
        ),
        "digits": dict(
            dataset="digits_3_8", bias=True, loss="logistic", steps=100_000, num_inits=0
        ),
    }

    def features(self) -> int:
        base = {"clouds": self.dim, "breast_cancer": 30, "digits_3_8": 64}[self.dataset]
        return base + int(self.bias)

    def validate(self) -> None:
        d = self.features()
        if len(self.inits) % d:
            raise ConfigError(
                "inits",
                f"a flattened list whose length is a multiple of the number of features ({d})",
                self.inits,
            )
        if not self.zero_init and not self.inits and self.num_inits == 0:
            raise ConfigError(
                "num_inits", "at least one init (zero_init, inits or num_inits)", self.num_inits
            )
