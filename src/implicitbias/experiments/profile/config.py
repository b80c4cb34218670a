"""The profile config: which optimizers, at which level, over how many seeds."""

from __future__ import annotations

import dataclasses
from typing import Literal

from implicitbias.config import Config, optimizers_param, param
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec

NAME = "profile"
LEVELS = ("smoke", "quick", "full")
DEFAULT_OPTIMIZERS = "gd,heavy_ball,adam,sign_gd,lion,muon,adafactor"
#: The optimizers the claims are about (``verify`` runs these).
CLAIM_OPTIMIZERS = "gd,heavy_ball,adam,sign_gd,coordinate_descent,muon,spectral_gd,pnorm_gd"


@dataclasses.dataclass(frozen=True)
class ProfileConfig(Config):
    """The implicit-bias fingerprint of each optimizer: one row per optimizer, one column
    per probe."""

    optimizers: tuple[OptimizerSpec, ...] = optimizers_param(
        DEFAULT_OPTIMIZERS, "optimizers to profile (registry names or module:factory)"
    )
    level: Literal["smoke", "quick", "full"] = param(
        "quick", "smoke: seconds (tests); quick: minutes; full: longer runs and grokking"
    )
    seeds: int = param(5, "seeds or datasets per probe, run as one batch", low=1, high=64)
    probes: tuple[str, ...] = param((), "probes to run (empty: every probe of the level)")
    learning_rates: tuple[float, ...] = param(
        (),
        "a fixed step per optimizer instead of the probes' rule (0: the rule; empty: the "
        "rule for all); `implicitbias profile adam:learning_rate=1e-3` sets it",
        low=0,
    )

    PRESETS = {
        "smoke": dict(level="smoke", seeds=2, optimizers="gd,adam"),
        "default": {},
        "quick": {},
        "full": dict(level="full"),
        "claims": dict(optimizers=CLAIM_OPTIMIZERS),
        # the full level without grokking, which no claim reads (~20 min for 8 optimizers)
        "claims-full": dict(
            optimizers=CLAIM_OPTIMIZERS,
            level="full",
            probes=(
                "margin-vectors",
                "margin-matrices",
                "interpolation",
                "sparsity",
                "rank",
                "stability",
                "flatness",
            ),
        ),
    }

    def validate(self) -> None:
        if not self.optimizers or len(set(self.optimizers)) != len(self.optimizers):
            raise ConfigError(
                "optimizers", "a non-empty list of distinct optimizers", self.optimizers
            )
        if self.learning_rates and len(self.learning_rates) != len(self.optimizers):
            raise ConfigError(
                "learning_rates",
                f"empty or one number per optimizer ({len(self.optimizers)})",
                self.learning_rates,
            )
        from implicitbias.experiments.profile.probes import PROBES

        for name in self.probes:
            if name not in PROBES:
                raise ConfigError(
                    "probes", "names among " + ", ".join(PROBES), name, choices=list(PROBES)
                )
