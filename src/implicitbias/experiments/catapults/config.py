"""The catapults config: the wide two-layer network and its data, the learning-rate sweep in
units of 2/lambda_0, the uv model, the optimizer, and the presets."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from implicitbias.config import MAX_ELEMENTS, Config, optimizer_param, param
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec

NAME = "catapults"
GRADIENT_DESCENT = ("gd", "sgd")
"""Registry names of gradient descent (full batch here: ``sgd`` is the same update)."""


@dataclasses.dataclass(frozen=True)
class CatapultsConfig(Config):
    """GD on a wide two-layer network (NTK parametrization, square loss) at learning rates
    eta = c * 2 / lambda_0 over a grid of c, all members of one run: lazy below c = 1, a loss
    spike (catapult) then convergence above it, divergence past a larger c."""

    n: int = param(16, "training examples (inputs x ~ N(0, I_d), a linear teacher)", low=1)
    d: int = param(8, "input dimension", low=1, high=10**4)
    width: int = param(2048, "hidden units m of the network (wide: NTK parametrization)", low=1)
    activation: Literal["relu", "linear"] = param(
        "relu", "hidden activation (linear: the two-layer linear network)"
    )
    c_min: float = param(0.5, "smallest eta * lambda_0 / 2 of the sweep", low=0, low_open=True)
    c_max: float = param(8.0, "largest eta * lambda_0 / 2 of the sweep", low=0, low_open=True)
    num_etas: int = param(
        30,
        "learning rates, log-spaced in c = eta * lambda_0 / 2, one batched run",
        low=2,
        high=10**4,
    )
    draws: int = param(
        3,
        "independent draws of data and init (members of the same batched run)",
        low=1,
        high=1000,
    )
    uv: bool = param(
        True, "also run the uv model (x = 1, y = 0, linear), whose eta_max is 4/lambda_0"
    )
    uv_width: int = param(4096, "width m of the uv model", low=1, high=10**7)
    optimizer: OptimizerSpec = optimizer_param(
        "gd", "optimizer of the sweep (learning rate eta per member; the theory is for gd)"
    )
    steps: int = param(
        1000, "optimizer steps (the loss is logged at every step)", low=1, high=10**5
    )
    converged_tol: float = param(
        1e-8,
        "a member has converged when its final loss is below converged_tol * initial loss",
        low=0,
        low_open=True,
        high=1.0,
    )

    PRESETS = {
        "smoke": dict(n=8, d=4, width=2048, num_etas=14, draws=2, uv_width=512, steps=300),
        "default": {},
        "full": dict(n=32, d=16, width=4096, num_etas=42, draws=5, steps=2000, uv_width=16384),
    }

    def validate(self) -> None:
        if self.c_min >= self.c_max:
            raise ConfigError("c_min", f"a number < c_max (= {self.c_max})", self.c_min)
        members = self.draws * self.num_etas
        if members * self.width * max(self.d, self.n) > MAX_ELEMENTS:
            raise ConfigError(
                "width",
                f"draws * num_etas * width * max(d, n) <= {MAX_ELEMENTS:.0e}",
                self.width,
            )
        if members * (self.steps + 1) > MAX_ELEMENTS:
            raise ConfigError(
                "steps",
                f"draws * num_etas * (steps + 1) <= {MAX_ELEMENTS:.0e} (every step is logged)",
                self.steps,
            )

    def cs(self) -> np.ndarray:
        """The grid of ``c = eta * lambda_0 / 2`` (log-spaced)."""
        return np.geomspace(self.c_min, self.c_max, self.num_etas)


def uses_gd(cfg: CatapultsConfig) -> bool:
    """Plain gradient descent: the thresholds 2/lambda_0 and 4/lambda_0 are GD's."""
    return cfg.optimizer.named(*GRADIENT_DESCENT, plain=True)


def runs_uv(cfg: CatapultsConfig) -> bool:
    return uses_gd(cfg) and cfg.uv
