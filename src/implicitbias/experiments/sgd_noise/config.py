"""The sgd-noise config: batch-size sweeps on linear regression and on a tanh MLP."""

from __future__ import annotations

import dataclasses

from implicitbias.config import Config, optimizer_param, param
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec


@dataclasses.dataclass(frozen=True)
class SGDNoiseConfig(Config):
    """Batch-size sweeps: linear regression (seed 000 section 6) and a tanh MLP on digits."""

    optimizer: OptimizerSpec = optimizer_param(
        "gd", "optimizer of every minibatch run (gd on minibatches = SGD)"
    )
    linear: bool = param(True, "run part (i): linear regression")
    n: int = param(200, "(i) examples drawn", low=2, high=10**6)
    dim: int = param(15, "(i) features", low=1, high=10**5)
    n_train: int = param(
        150, "(i) the first n_train examples train, the rest test", low=1, high=10**6
    )
    w_scale: float = param(0.5, "(i) w_true = w_scale * randn(dim)", low=0)
    noise: float = param(0.3, "(i) label noise standard deviation", low=0)
    learning_rate: float = param(0.01, "(i) SGD step", low=0, low_open=True)
    steps: int = param(3000, "(i) SGD steps", low=1)
    batch_sizes: tuple[int, ...] = param(
        (1, 8, 32, 128, 150), "(i) batch sizes (n_train = full batch)", low=1
    )
    num_seeds: int = param(
        8, "(i) index streams RandomState(sampling_seed + s) per batch size", low=1, high=10**4
    )
    sampling_seed: int = param(42, "(i) seed of the first index stream (the seed's 42)", low=0)
    window: float = param(
        0.5, "(i) time averages use the last this fraction of steps", low=0, low_open=True, high=1
    )
    num_logs: int = param(301, "(i) logged steps (linearly spaced)", low=2)
    mlp: bool = param(True, "run part (ii): tanh MLP on scikit-learn digits")
    mlp_hidden: int = param(32, "(ii) hidden width", low=1, high=10**5)
    mlp_train: int = param(
        500, "(ii) training examples (the rest of the 1797 test)", low=10, high=1700
    )
    mlp_batch_sizes: tuple[int, ...] = param(
        (8, 32, 128, 500), "(ii) batch sizes (mlp_train = full batch)", low=1
    )
    mlp_learning_rates: tuple[float, ...] = param(
        (0.05, 0.2), "(ii) SGD steps", low=0, low_open=True
    )
    mlp_seeds: int = param(2, "(ii) init and sampling seeds per setting", low=1, high=10**4)
    mlp_steps: int = param(2000, "(ii) SGD steps (the same for every batch size)", low=1)
    lanczos_iters: int = param(30, "(ii) Lanczos iterations for the sharpness", low=2, high=10**4)
    trace_matvecs: int = param(
        60, "(ii) Hutch++ Hessian-vector products for the trace", low=3, high=10**6
    )

    PRESETS = {
        "smoke": dict(
            steps=400,
            num_seeds=3,
            batch_sizes=(1, 32, 150),
            num_logs=41,
            mlp_train=300,
            mlp_batch_sizes=(16, 300),
            mlp_learning_rates=(0.1,),
            mlp_seeds=1,
            mlp_steps=200,
            lanczos_iters=10,
            trace_matvecs=9,
        ),
        "default": {},
        "seed-000": dict(seed=55, mlp=False),
        "mlp-small": dict(
            linear=False,
            x64=False,
            mlp_train=500,
            mlp_batch_sizes=(8, 64, 500),
            mlp_learning_rates=(0.05, 0.2),
            mlp_steps=1500,
            mlp_seeds=2,
            lanczos_iters=20,
            trace_matvecs=30,
        ),
    }

    def validate(self) -> None:
        if self.linear:
            if self.n_train >= self.n:
                raise ConfigError("n_train", f"an integer < n (= {self.n})", self.n_train)
            bad = [b for b in self.batch_sizes if b > self.n_train]
            if bad:
                raise ConfigError(
                    "batch_sizes", f"sizes <= n_train (= {self.n_train})", self.batch_sizes
                )
        if self.mlp:
            bad = [b for b in self.mlp_batch_sizes if b > self.mlp_train]
            if bad:
                raise ConfigError(
                    "mlp_batch_sizes",
                    f"sizes <= mlp_train (= {self.mlp_train})",
                    self.mlp_batch_sizes,
                )
        if not (self.linear or self.mlp):
            raise ConfigError("linear", "true, or mlp=true (at least one part)", self.linear)


def plain_sgd(cfg: SGDNoiseConfig) -> bool:
    """Whether the runs are plain constant-step SGD (``gd`` on minibatches), the method
    the stationary-covariance theory and the seed's statements are about."""
    return cfg.optimizer.named("gd", "sgd", plain=True)
