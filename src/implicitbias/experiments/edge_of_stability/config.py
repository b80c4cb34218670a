"""The config of the edge-of-stability experiment and its presets."""

from __future__ import annotations

import dataclasses
from typing import Literal

from implicitbias.config import Config, optimizer_param, param
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec

# Seed 000 section 5: numpy seed 123, n=50, d=5, h=20 ReLU, no biases, lr 0.5, 2000 steps,
# its estimator every 50 steps.
_SEED_000 = dict(
    dataset="seed-000",
    seed=123,
    n=50,
    input_dim=5,
    hidden=(20,),
    activation="relu",
    bias=False,
    learning_rates=(0.5,),
    steps=2000,
    sharpness_every=50,
    momentum_learning_rates=(),
)


@dataclasses.dataclass(frozen=True)
class EdgeOfStabilityConfig(Config):
    """Full-batch training of an MLP with the square loss: sharpness vs 2/eta."""

    dataset: Literal["synthetic", "digits", "fashion-mnist", "seed-000"] = param(
        "synthetic",
        "data: Gaussian inputs labelled by a random teacher net, scikit-learn "
        "digits, a Fashion-MNIST subset, or seed 000's regression data",
    )
    n: int = param(500, "examples (synthetic, digits, fashion-mnist)", low=1, high=10**6)
    input_dim: int = param(20, "synthetic: input dimension", low=1, high=10**5)
    classes: int = param(4, "synthetic: classes (one-hot targets)", low=2, high=10**4)
    hidden: tuple[int, ...] = param((64, 64), "hidden widths", low=1, high=10**5)
    activation: Literal["tanh", "relu", "softplus", "gelu", "elu"] = param(
        "tanh", "activation between layers"
    )
    bias: bool = param(True, "layers with biases")
    init: Literal["uniform", "he"] = param(
        "uniform", "init: PyTorch's nn.Linear default (uniform +-1/sqrt(fan_in)) or He normal"
    )
    optimizer: OptimizerSpec = optimizer_param(
        "gd", "optimizer of the learning_rates members (full batch; the 2/eta claims need gd)"
    )
    learning_rates: tuple[float, ...] = param(
        (0.25, 0.4, 0.6),
        "step sizes of the optimizer members (one vmapped run)",
        low=0,
        low_open=True,
    )
    momentum_optimizer: OptimizerSpec = optimizer_param(
        "heavy_ball(momentum=0.5)",
        "optimizer of the momentum_learning_rates members (threshold 2(1+beta)/eta for heavy_ball)",
    )
    momentum_learning_rates: tuple[float, ...] = param(
        (0.45,), "step sizes of the momentum_optimizer members", low=0, low_open=True
    )
    steps: int = param(2000, "optimizer steps", low=2)
    sharpness_every: int = param(20, "Lanczos sharpness every this many steps", low=1)
    lanczos_iters: int = param(
        20, "Lanczos steps per sharpness estimate (warm-started)", low=1, high=10**4
    )
    flow: bool = param(
        True, "also integrate gradient flow (RK4) from the same init (when optimizer is gd)"
    )
    flow_substeps: int = param(2, "RK4 step = min(eta) / flow_substeps", low=1, high=10**4)
    flow_horizon: float = param(
        2.0,
        "integrate gradient flow up to this multiple of the "
        "latest time eta t at which a GD member first reaches "
        "2/eta (capped at min(eta) * steps)",
        low=1,
    )
    track_tolerance: float = param(
        0.05,
        "GD tracks gradient flow while the relative difference of their losses stays within this",
        low=0,
        low_open=True,
    )
    num_windows: int = param(
        10, "windows for the loss-decrease check after 2/eta is reached", low=2
    )
    exact_max_params: int = param(
        3000,
        "exact Hessian (jax.hessian + eigh) as the "
        "reference when the net has at most this many "
        "parameters; else a 100-step cold Lanczos",
        low=1,
        high=10**5,
    )
    layer_lr_scales: tuple[float, ...] = param(
        (),
        "per-layer multipliers of the gradient, in front of the optimizer (empty: none); "
        "seed-000 uses (1/n, 1): its code divides the first layer's gradient by n twice",
        low=0,
        low_open=True,
    )
    data_root: str | None = param(
        None, "fashion-mnist: folder with the IDX files (default /usr/share/datasets/fashion-mnist)"
    )

    PRESETS = {
        "smoke": dict(
            n=100,
            hidden=(16, 16),
            steps=200,
            sharpness_every=10,
            learning_rates=(0.5, 0.8),
            momentum_learning_rates=(0.6,),
            lanczos_iters=10,
        ),
        "default": {},
        "quick": dict(n=200, hidden=(32, 32), steps=1000, learning_rates=(0.3, 0.6)),
        # beta = 0.9 as in Cohen et al.'s momentum runs, next to beta = 0.5.
        "momentum": dict(
            learning_rates=(0.4,),
            momentum_optimizer="heavy_ball(momentum=0.9)",
            momentum_learning_rates=(0.3, 0.6, 0.9),
        ),
        "digits": dict(dataset="digits", n=1000, hidden=(64, 64)),
        # The setting of Cohen et al. on Fashion-MNIST: 5000 images, 200-200 tanh, float32.
        # (Too slow for the quick verify level on 2 cores: about 0.3 s per step for the
        # three members; its claims are on the full level. No gradient flow, no momentum.)
        # 20 Lanczos steps, not 10: at the edge of stability the top eigenvector turns
        # between estimates 25 steps apart (|<v_prev, v>| 0.02-0.45 measured at eta = 0.3),
        # so the warm start gives little, and 10 steps from a random start are 1.7e-2 short
        # of ARPACK's top eigenvalue, 20 steps 4e-6 (docs/experiments/edge-of-stability.md).
        "fashion": dict(
            dataset="fashion-mnist",
            n=5000,
            hidden=(200, 200),
            learning_rates=(0.15, 0.2, 0.3),
            steps=1000,
            sharpness_every=25,
            lanczos_iters=20,
            x64=False,
            flow=False,
            momentum_learning_rates=(),
        ),
        # Seed 000 section 5 exactly, its first-layer step included (see _SEED_000).
        "seed-000": dict(_SEED_000, layer_lr_scales=(0.02, 1.0)),
        # The same setup with the true gradient (what the seed's text describes).
        "seed-000-gd": dict(_SEED_000),
    }

    def validate(self) -> None:
        if self.steps % self.sharpness_every:
            raise ConfigError(
                "steps", f"a multiple of sharpness_every ({self.sharpness_every})", self.steps
            )
        if not self.learning_rates:
            raise ConfigError("learning_rates", "at least one step size", self.learning_rates)
        if self.dataset == "seed-000" and (
            self.hidden != (20,) or self.bias or self.activation != "relu"
        ):
            raise ConfigError(
                "hidden",
                "(20,) with activation=relu and bias=false for the seed-000 data (its network)",
                (self.hidden, self.activation, self.bias),
            )
        if self.layer_lr_scales and len(self.layer_lr_scales) != len(self.hidden) + 1:
            raise ConfigError(
                "layer_lr_scales",
                f"empty or one value per layer ({len(self.hidden) + 1})",
                self.layer_lr_scales,
            )
        if self.dataset == "digits" and self.n > 1797:
            raise ConfigError("n", "at most 1797 for digits", self.n)
