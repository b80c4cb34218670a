"""The matrix-completion config: the ground truth, its observations, the depths and the
optimizer of one batched run, and the presets."""

from __future__ import annotations

import dataclasses
from typing import Literal

from implicitbias.config import Config, optimizer_param, param
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec

NAME = "matrix-completion"
GRADIENT_DESCENT = ("gd", "sgd")
"""Registry names of gradient descent (full batch here: ``sgd`` is the same update)."""


@dataclasses.dataclass(frozen=True)
class MatrixCompletionConfig(Config):
    """Low-rank recovery by training a deep matrix factorization (GD by default)."""

    source: Literal["random", "seed-000", "seed-004"] = param(
        "random", "data and inits: fresh draws, or a seed snippet's stream draw for draw"
    )
    d: int = param(20, "the matrices are d x d", low=2, high=10**4)
    rank: int = param(2, "rank of the ground truth", low=1, high=10**4)
    normalize: bool = param(True, "random source: scale the truth to unit Frobenius norm")
    observation: Literal["mask", "sensing"] = param(
        "mask", "observed entries (mask) or Gaussian measurements <A_i, M> (sensing)"
    )
    fraction: float = param(
        0.5,
        "mask: each entry observed with this probability (when "
        "`counts` is empty); sensing: measurements = fraction d^2",
        low=0,
        high=1,
        low_open=True,
    )
    counts: tuple[int, ...] = param(
        (),
        "exact numbers of observed entries (mask, nested) or of measurements (sensing); "
        "each is a group of members",
        low=1,
    )
    depths: tuple[int, ...] = param((1, 2, 3), "depths L (1: optimize W directly)", low=1, high=100)
    init: Literal["gaussian", "orthogonal", "identity"] = param("gaussian", "factor init kind")
    init_scales: tuple[float, ...] = param((1e-3,), "init scales alpha", low=0, low_open=True)
    init_per: Literal["factor", "product"] = param(
        "product",
        "alpha is each factor's scale (factor: entries ~ alpha N(0,1)), or the "
        "expected Frobenius norm of the initial end-to-end matrix (product)",
    )
    seeds: int = param(
        1, "number of seeds (seed, seed+1, ...), each a new truth and mask", low=1, high=10**4
    )
    optimizer: OptimizerSpec = optimizer_param("gd", "optimizer of every member (one batched run)")
    learning_rate: float = param(0.2, "step size of the optimizer", low=0, low_open=True)
    reduction: Literal["sum", "mean"] = param(
        "sum", "loss: half the sum of squared errors, or that divided by the number of observations"
    )
    steps: int = param(20_000, "optimizer steps", low=1)
    num_logs: int = param(150, "log-spaced logged steps", low=10)
    nuclear: bool = param(True, "solve the nuclear-norm minimizer (cvxpy, SCS)")
    match_error: float = param(
        1e-2,
        "'equal training loss': effective ranks are compared where each member first "
        "reaches this relative error on the observations",
        low=0,
        low_open=True,
    )

    PRESETS = {
        "smoke": dict(d=10, rank=2, fraction=0.6, steps=3000, num_logs=40),
        "default": {},
        "seed-000": dict(
            source="seed-000",
            d=10,
            rank=2,
            fraction=0.5,
            depths=(2, 1),
            init_scales=(0.01,),
            init_per="factor",
            learning_rate=0.002,
            reduction="mean",
            steps=8000,
            normalize=False,
        ),
        "seed-004": dict(
            source="seed-004",
            d=20,
            rank=1,
            fraction=0.6,
            depths=(2,),
            init_scales=(1e-3,),
            init_per="factor",
            learning_rate=0.01,
            reduction="sum",
            steps=20_000,
            normalize=False,
        ),
        "paper": dict(
            d=100,
            rank=5,
            counts=(2000, 5000),
            depths=(2, 3, 4),
            steps=10_000,
            learning_rate=0.5,
            num_logs=100,
        ),
    }
    # The claims' presets: `default` and `paper` with five seeds (five truths and masks)
    # batched in one run, so that a claim about random data holds in every draw, not one;
    # and seed 000's own draws trained long enough to fit the observations.
    PRESETS["default-seeds"] = dict(seeds=5)
    PRESETS["paper-seeds"] = dict(PRESETS["paper"], seeds=5)
    PRESETS["seed-000-long"] = dict(PRESETS["seed-000"], steps=1_000_000)

    def validate(self) -> None:
        if self.rank > self.d:
            raise ConfigError("rank", f"an integer <= d ({self.d})", self.rank)
        if len(set(self.depths)) != len(self.depths) or not self.depths:
            raise ConfigError("depths", "distinct depths >= 1", self.depths)
        if self.observation == "mask" and any(c > self.d**2 for c in self.counts):
            raise ConfigError(
                "counts", f"numbers of observed entries <= d^2 = {self.d**2}", self.counts
            )
        if self.source != "random":
            self._validate_seed_source()

    def _validate_seed_source(self) -> None:
        allowed = {"seed-000": {1, 2}, "seed-004": {2}}[self.source]
        why = f"with source={self.source!r} (the seed draws its own data and inits)"
        if not set(self.depths) <= allowed:
            raise ConfigError("depths", f"a subset of {sorted(allowed)} {why}", self.depths)
        fixed = {
            "observation": "mask",
            "counts": (),
            "init": "gaussian",
            "init_per": "factor",
            "seeds": 1,
            "normalize": False,
        }
        for name, value in fixed.items():
            if getattr(self, name) != value:
                raise ConfigError(name, f"{value!r} {why}", getattr(self, name))
        if len(self.init_scales) != 1:
            raise ConfigError("init_scales", f"one scale {why}", self.init_scales)
