"""The geometry config: which optimizers, on which built-in data, with which steps."""

from __future__ import annotations

import dataclasses
from typing import Literal

from implicitbias.config import Config, optimizers_param, param
from implicitbias.datasets import geometry_data
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec

NAME = "geometry"
_DEFAULT_METHODS = (
    "gd,normalized_gd,steepest_l1,steepest_l1(normalized=True),steepest_linf,sign_gd,"
    "adam(b1=0.9,b2=0.999,eps=0.0)"
)


@dataclasses.dataclass(frozen=True)
class GeometryConfig(Config):
    """Which max-margin direction does each optimizer's iterate converge to?"""

    dataset: Literal["plane", "highdim", "seed-004"] = param(
        "plane", "built-in data (implicitbias.datasets.geometry_data)"
    )
    methods: tuple[OptimizerSpec, ...] = optimizers_param(
        _DEFAULT_METHODS, "optimizers to compare, each run from every init"
    )
    steps: int = param(100_000, "optimizer steps", low=1)
    num_inits: int = param(4, "inits per method, run as one batch", low=1, high=10**6)
    init_scale: float = param(
        1.0,
        "norm of the inits (2D: evenly spaced directions from 60 "
        "degrees; else Gaussian directions)",
        low=0,
        low_open=True,
    )
    start: tuple[float, ...] = param((), "one explicit init (replaces num_inits)")
    loss: Literal["mean", "sum"] = param("mean", "exponential loss averaged or summed")
    learning_rate: float | None = param(
        None,
        "one base step for every method; none: 1/(B*^2 L(w0)) for the unnormalized "
        "methods, 1/B* for the normalized ones and Adam",
        low=0,
        low_open=True,
    )
    decay: bool = param(True, "normalized methods and Adam use eta_t = eta / sqrt(t + 1)")
    num_logs: int = param(200, "log-spaced logged steps", low=2)

    PRESETS = {
        "smoke": dict(steps=2000, num_inits=2, num_logs=40),
        "default": {},
        "highdim": dict(dataset="highdim"),
        "seed-004": dict(
            dataset="seed-004",
            methods="gd,adam(b1=0.9,b2=0.999,eps=1e-8)",
            steps=2000,
            start=(-2.0, -0.5),
            loss="sum",
            learning_rate=0.1,
            decay=False,
        ),
    }

    def validate(self) -> None:
        if not self.methods or len(set(self.methods)) != len(self.methods):
            raise ConfigError("methods", "a non-empty list of distinct optimizers", self.methods)
        dim = geometry_data.load(self.dataset)[0].shape[1]
        if len(self.start) not in (0, dim):
            raise ConfigError("start", f"empty or {dim} numbers (the data's dimension)", self.start)
