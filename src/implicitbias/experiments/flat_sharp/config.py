"""The flat-sharp config: the landscape, the walkers and the sweeps."""

from __future__ import annotations

import dataclasses

from implicitbias.config import Config, optimizer_param, param
from implicitbias.errors import ConfigError
from implicitbias.optim.noisy import with_gradient_noise
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.landscapes import max_ratio


@dataclasses.dataclass(frozen=True)
class FlatSharpConfig(Config):
    """Walkers on a landscape with a sharp and a flat minimum of equal depth."""

    dims: tuple[int, ...] = param((1, 2), "landscape dimensions to run (1 and/or 2)", low=1, high=2)
    optimizer: OptimizerSpec = optimizer_param(
        "gd",
        "base optimizer of every sweep; the noise sweeps add sigma xi to its gradient input",
    )
    k_sharp: float = param(20.0, "curvature of the sharp minimum (x = -1)", low=0, low_open=True)
    k_flat: float = param(2.0, "curvature of the flat minimum (x = +1)", low=0, low_open=True)
    width: float = param(0.5, "ell in w(x) = A + B tanh(x / ell)", low=0, low_open=True)
    walkers: int = param(
        1000, "walkers per repeat (one vmapped run holds all of them)", low=1, high=10**7
    )
    repeats: int = param(
        4, "independent groups of walkers (the spread is over groups)", low=2, high=10**4
    )
    init_low: float = param(-2.0, "walkers start uniformly in [init_low, init_high]")
    init_high: float = param(2.0, "walkers start uniformly in [init_low, init_high]")
    steps: int = param(5000, "steps of every run", low=1)
    learning_rate: float = param(
        0.01, "eta of the noise and batch-size sweeps", low=0, low_open=True
    )
    sigmas: tuple[float, ...] = param(
        (0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 14.0), "gradient-noise scales of the sigma sweep", low=0
    )
    eta_ratios: tuple[float, ...] = param(
        (0.25, 0.5, 0.9, 0.98, 1.02, 1.1, 1.5, 2.0, 4.0, 8.0),
        "eta k_sharp / 2 of the eta sweeps (1 is the sharp minimum's threshold)",
        low=0,
        low_open=True,
    )
    eta_sigma: float = param(6.0, "gradient-noise scale of the noisy eta sweep", low=0)
    stability_ratios: tuple[float, ...] = param(
        (0.5, 0.9, 0.99, 1.01, 1.1, 2.0),
        "eta k_sharp / 2 of the stability test from the sharp minimum",
        low=0,
        low_open=True,
    )
    stability_walkers: int = param(64, "walkers per eta in the stability test", low=1, high=10**7)
    num_examples: int = param(64, "SGD: examples u_i of the finite sum", low=2, high=10**6)
    shift: float = param(
        0.5,
        "SGD: scale of the shifts u_i (0.5: SGD's noise at the sharp "
        "minimum at batch 1, shift k_sharp = 10, matches the sigma "
        "sweep's range)",
        low=0,
        low_open=True,
    )
    batch_sizes: tuple[int, ...] = param((1, 4, 16, 64), "SGD batch sizes (<= num_examples)", low=1)
    sgd_etas: tuple[float, ...] = param(
        (0.01, 0.04), "SGD learning rates (batched in one run)", low=0, low_open=True
    )
    num_logs: int = param(30, "logged steps per run", low=2)

    PRESETS = {
        "smoke": dict(
            walkers=200,
            repeats=2,
            steps=1000,
            sigmas=(0.0, 8.0, 14.0),
            eta_ratios=(0.5, 1.5, 4.0),
            batch_sizes=(1, 64),
            sgd_etas=(0.02,),
            stability_walkers=8,
            stability_ratios=(0.9, 1.1),
            num_logs=10,
        ),
        "quick": dict(
            walkers=500,
            repeats=4,
            steps=3000,
            dims=(1,),
            sigmas=(0.0, 6.0, 10.0, 14.0),
            eta_ratios=(0.5, 1.02, 1.5, 4.0),
            sgd_etas=(0.01, 0.04),
            batch_sizes=(1, 64),
            num_logs=15,
        ),
        "default": {},
    }

    def validate(self) -> None:
        with_gradient_noise(self.optimizer)  # no sigma/seed/base among its hyperparameters
        if self.init_high <= self.init_low:
            raise ConfigError(
                "init_high", f"a number > init_low (= {self.init_low})", self.init_high
            )
        if not self.k_sharp > self.k_flat:
            raise ConfigError("k_sharp", f"a number > k_flat (= {self.k_flat})", self.k_sharp)
        limit = max_ratio(self.width)
        if self.k_sharp / self.k_flat >= limit:
            raise ConfigError(
                "k_sharp",
                f"k_sharp / k_flat < {limit:.4g} for width = {self.width:g}",
                self.k_sharp,
            )
        if len(set(self.dims)) != len(self.dims) or not self.dims:
            raise ConfigError("dims", "1, 2 or 1,2 (each at most once)", self.dims)
        big = [b for b in self.batch_sizes if b > self.num_examples]
        if big:
            raise ConfigError(
                "batch_sizes", f"sizes <= num_examples (= {self.num_examples})", self.batch_sizes
            )
        if not self.x64:
            raise ConfigError("x64", "true (the noise generator uses 64-bit integers)", self.x64)
        if not self.sigmas or 0.0 not in self.sigmas:
            raise ConfigError(
                "sigmas", "a list that includes 0 (the noise-free baseline)", self.sigmas
            )
