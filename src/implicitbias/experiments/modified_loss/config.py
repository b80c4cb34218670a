"""The modified-loss config: the teacher regression problem, the step sizes, the flows'
integration, and the presets."""

from __future__ import annotations

import dataclasses

from implicitbias.config import Config, optimizer_param, param
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec

NAME = "modified-loss"


@dataclasses.dataclass(frozen=True)
class ModifiedLossConfig(Config):
    """GD with step h against the gradient flows of L and of L + (h/4)||grad L||^2."""

    n: int = param(
        20, "training examples (Gaussian inputs, a tanh teacher's outputs)", low=1, high=10**5
    )
    d: int = param(2, "input dimension", low=1, high=10**4)
    width: int = param(16, "hidden units of the trained tanh network", low=1, high=10**4)
    teacher_width: int = param(4, "hidden units of the tanh teacher", low=1, high=10**4)
    teacher_scale: float = param(
        2.0, "teacher's first-layer weights ~ N(0, teacher_scale^2 / d)", low=0, low_open=True
    )
    init_scale: float = param(
        1.0, "student's output weights ~ N(0, init_scale^2 / width)", low=0, low_open=True
    )
    horizon: float = param(
        2.0,
        "the common physical time T = k h at which GD and the flows are compared",
        low=0,
        low_open=True,
    )
    steps_at_largest: int = param(
        32,
        "GD steps k of the largest h (h_max = horizon / steps_at_largest)",
        low=1,
        high=10**6,
    )
    num_h: int = param(
        6, "step sizes h_j = h_max / 2^j, j < num_h, all members of one GD run", low=3, high=20
    )
    flow_substeps: int = param(
        4,
        "RK4 steps per smallest h (the flows' step is h_min / flow_substeps)",
        low=1,
        high=1000,
    )
    num_logs: int = param(
        60, "GD steps logged log-spaced (besides every step of h_max)", low=2, high=10**4
    )
    optimizer: OptimizerSpec = optimizer_param(
        "gd", "the optimizer run with learning rate h per member (the theory is for plain gd)"
    )

    PRESETS = {
        "smoke": dict(n=12, width=8, horizon=1.0, steps_at_largest=16, num_h=4, num_logs=20),
        "default": {},
        "full": dict(n=40, width=32, num_h=9, num_logs=100),
    }

    def validate(self) -> None:
        if self.steps_at_largest * 2 ** (self.num_h - 1) > 10**7:
            raise ConfigError(
                "num_h",
                "steps_at_largest * 2^(num_h - 1) <= 1e7 (GD steps of the smallest h; "
                f"steps_at_largest = {self.steps_at_largest})",
                self.num_h,
            )

    def step_counts(self) -> list[int]:
        """GD steps ``k_j = steps_at_largest * 2^j`` of each ``h_j = horizon / k_j``."""
        return [self.steps_at_largest * 2**j for j in range(self.num_h)]


def plain_gd(cfg: ModifiedLossConfig) -> bool:
    """Plain constant-step GD: the update whose modified equation the theory derives."""
    return cfg.optimizer.named("gd", "sgd", plain=True)
