"""The grokking config: the task, the network, the optimizers of each sub-study, presets.

The optimizer is a value (:class:`~implicitbias.optim.spec.OptimizerSpec`). The default
``adamw(b2=0.98, weight_decay=1.0)`` writes out where the AdamW of Nanda et al. (2023) and
of the seed (betas 0.9, 0.98; weight decay 1) differs from the registry's AdamW defaults
(b1 0.9, b2 0.999, weight decay 1e-2). The learning rate is the experiment's own field; a
weight decay in the spec is taken out of it at run time and passed per batch member, so
that the no-weight-decay control and the decays of the phase diagram stay members of one
compiled program (:mod:`implicitbias.experiments.grokking.training`).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from implicitbias.config import Config, optimizer_param, param
from implicitbias.datasets.modular import is_prime
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import OptimizerSpec

ADAMW = "adamw(b2=0.98, weight_decay=1.0)"
"""The AdamW of the grokking papers (lr set by ``learning_rate``)."""
GROKFAST_EMA = "grokfast_ema(alpha=0.98, lamb=2.0, b2=0.98, weight_decay=1.0)"
"""Lee et al.'s EMA filter (alpha 0.98, lambda 2) in front of the same AdamW."""
GROKFAST_MA = "grokfast_ma(window=100, lamb=5.0, b2=0.98, weight_decay=1.0)"
"""Lee et al.'s moving-average filter (window 100, lambda 5) in front of the same AdamW."""


@dataclasses.dataclass(frozen=True)
class GrokkingConfig(Config):
    """Modular arithmetic with an MLP or a one-layer transformer, any optimizer."""

    operation: Literal["add", "sub", "mul", "div", "quad"] = param(
        "add", "a + b, a - b, a * b, a / b (b != 0) or a^2 + a b, mod p"
    )
    p: int = param(97, "the modulus (a prime)", low=3, high=10**4)
    train_fraction: float = param(
        0.5, "fraction of the table used for training", low=0, high=1, low_open=True
    )
    model: Literal["mlp", "transformer"] = param("mlp", "the network")
    d_embed: int = param(128, "mlp: embedding width (per operand)", low=1, high=10**5)
    d_hidden: int = param(256, "mlp: hidden width", low=1, high=10**5)
    d_model: int = param(128, "transformer: residual width", low=1, high=10**5)
    n_heads: int = param(4, "transformer: attention heads", low=1, high=10**4)
    d_mlp: int = param(512, "transformer: MLP width", low=1, high=10**5)
    optimizer: OptimizerSpec = optimizer_param(
        ADAMW,
        "optimizer of the main run, the control and the phase diagram; its weight_decay "
        "(if it takes one) is the decay of the main run",
    )
    learning_rate: float = param(1e-3, "step size of every run", low=0, low_open=True)
    batch_size: int = param(0, "minibatch size (0: full batch)", low=0)
    steps: int = param(3500, "optimizer steps", low=1)
    num_seeds: int = param(1, "model inits trained side by side (vmap)", low=1, high=10**4)
    num_logs: int = param(120, "log-spaced logged steps", low=2)
    linear_logs: int = param(81, "linearly spaced logged steps (added to the log ones)", low=2)
    no_wd_control: bool = param(
        True, "also train the same inits with weight_decay = 0 (if the optimizer has a decay)"
    )
    progress_measures: bool = param(True, "Fourier progress measures (a + b, a - b only)")
    key_factor: float = param(
        3.0,
        "key frequency: share of the embedding's Fourier energy "
        ">= key_factor / ((p - 1) / 2), i.e. this many times the "
        "share of a flat spectrum",
        low=1,
    )
    grokfast: Literal["off", "ema", "ma", "both"] = param(
        "off", "also train with Grokfast filters and compare with AdamW without the filter"
    )
    grokfast_ema: OptimizerSpec = optimizer_param(
        GROKFAST_EMA, "the Grokfast-EMA optimizer (its baseline: the same AdamW, no filter)"
    )
    grokfast_ma: OptimizerSpec = optimizer_param(
        GROKFAST_MA, "the Grokfast-MA optimizer (its baseline: the same AdamW, no filter)"
    )
    probe_steps: int = param(
        300,
        "steps over which the per-step update norms of Grokfast and the baseline are compared",
        low=1,
    )
    phase: bool = param(False, "phase diagram: train fraction x weight decay of the optimizer")
    phase_fractions: tuple[float, ...] = param(
        (0.3, 0.5, 0.7), "phase diagram: train fractions", low=0, high=1, low_open=True
    )
    phase_weight_decays: tuple[float, ...] = param(
        (0.0, 0.3, 1.0, 3.0), "phase diagram: weight decays", low=0
    )
    phase_seeds: int = param(1, "phase diagram: inits per cell (batched)", low=1, high=10**4)
    phase_steps: int = param(2000, "phase diagram: budget in steps", low=1)
    x64: bool = param(False, "compute in float64 (float32 is the setting of the papers)")

    PRESETS = {
        "smoke": dict(
            p=23,
            d_embed=16,
            d_hidden=32,
            d_model=32,
            d_mlp=64,
            steps=200,
            learning_rate=3e-3,
            num_logs=20,
            linear_logs=11,
            grokfast="ema",
            probe_steps=20,
            phase=True,
            phase_fractions=(0.5,),
            phase_weight_decays=(0.0, 1.0),
            phase_steps=100,
            num_seeds=2,
        ),
        # The default network (the halved one of earlier quick presets memorized 3x more
        # slowly, 505 vs 169 steps at lr 1e-3, and grokked at the same step: its delay
        # ratio was 4.6-5.0 instead of 15), at lr 3e-3 to grok within 1200 steps; five
        # inits batched so that the curve claims are judged on five seeds.
        "quick": dict(
            learning_rate=3e-3,
            steps=1200,
            num_seeds=5,
            no_wd_control=False,
            progress_measures=False,
        ),
        "default": {},
        # The full verify level: `default` (with its control) for five batched inits.
        "default-seeds": dict(num_seeds=5),
        "paper": dict(
            model="transformer",
            p=113,
            train_fraction=0.3,
            steps=20000,
            no_wd_control=False,
            num_logs=100,
            linear_logs=101,
        ),
        # Power et al. used a transformer; this is the division task on the default MLP.
        "power": dict(operation="div", p=97, train_fraction=0.5, steps=6000, no_wd_control=False),
        "grokfast": dict(
            grokfast="both", no_wd_control=False, d_embed=64, d_hidden=128, progress_measures=False
        ),
        "phase": dict(
            p=59,
            d_embed=64,
            d_hidden=128,
            learning_rate=3e-3,
            steps=1500,
            no_wd_control=False,
            progress_measures=False,
            phase=True,
            phase_steps=2000,
            phase_seeds=2,
        ),
    }

    def validate(self) -> None:
        if not is_prime(self.p):
            raise ConfigError(
                "p", "a prime (division and the Fourier measures need a field)", self.p
            )
        if self.model == "transformer" and self.d_model % self.n_heads:
            raise ConfigError("n_heads", f"a divisor of d_model (={self.d_model})", self.n_heads)
        n = self.p * (self.p - 1) if self.operation == "div" else self.p**2
        n_train = int(round(self.train_fraction * n))
        if not 1 <= n_train <= n - 1:
            raise ConfigError(
                "train_fraction",
                f"a fraction leaving at least one train and one test pair out of {n}",
                self.train_fraction,
            )
        if self.batch_size > n_train:
            raise ConfigError(
                "batch_size",
                f"0 (full batch) or at most the {n_train} training pairs",
                self.batch_size,
            )

    def sizes(self) -> dict[str, int]:
        """The width keywords of :func:`implicitbias.problems.modular.make_model`."""
        if self.model == "mlp":
            return {"d_embed": self.d_embed, "d_hidden": self.d_hidden}
        return {"d_model": self.d_model, "n_heads": self.n_heads, "d_mlp": self.d_mlp}
