"""The claims of the grokking experiment, and the results keys they, the plots and the tests
read.

Which optimizers each claim is about:

* About the run, whatever trains it (Power et al.'s observation and seed 000's
  description of it): memorize-then-generalize and the three seed-000 claims. They are
  measured with any optimizer; an optimizer that never groks gives NaN, i.e. "does not
  hold".
* About weight decay: the norm falling during the transition (Liu et al. explain it by
  the decay shrinking the weights) and the no-weight-decay control. They apply when the
  optimizer has a positive decoupled weight decay (the control also needs
  ``no_wd_control``).
* About Grokfast: each speed-up claim applies when its part runs and its optimizer is the
  registry's Grokfast factory, whose baseline is the same AdamW without the filter.
"""

from __future__ import annotations

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.grokking.config import GrokkingConfig
from implicitbias.experiments.grokking.curves import THRESHOLD
from implicitbias.experiments.grokking.grokfast import is_grokfast, specs
from implicitbias.experiments.grokking.main import has_control
from implicitbias.experiments.grokking.training import NAME, weight_decay

POWER = "Power et al. 2022 (arXiv:2201.02177)"
LIU = "Liu et al. 2022 (Omnigrok, arXiv:2210.01117)"
LEE = "Lee et al. 2024 (Grokfast, arXiv:2405.20233)"
SEED = "seed 000, section 7"
_MAIN = {"quick": "quick", "full": "default"}
_FULL = {"full": "default"}

KEYS = (
    "data.chance",
    "main.optimizer",
    "main.ratio",
    "main.norm_ratio_transition",
    "main.test_acc_at_train_99",
    "main.rise_over_plateau",
    "main.steps_train_99",
    "main.steps_test_99",
    "main.final_test_acc",
    "main.max_test_acc",
    "no_wd.optimizer",
    "no_wd.max_test_acc_all_seeds",
    "progress.key_frequencies",
    "grokfast.baseline.optimizer",
    "grokfast.baseline.steps_test_99",
    "grokfast.baseline.final_test_acc",
    "grokfast.ema.optimizer",
    "grokfast.ema.speedup",
    "grokfast.ema.steps_test_99",
    "grokfast.ema.gradient_amplification",
    "grokfast.ma.optimizer",
    "grokfast.ma.speedup",
    "grokfast.ma.steps_test_99",
    "phase.optimizer",
    "phase.budget",
)
"""Every results key that the claims, plots and tests read."""


def _decays(cfg: GrokkingConfig) -> bool:
    decay = weight_decay(cfg.optimizer)
    return decay is not None and decay > 0


def _grokfast(kind: str):
    def applies(cfg: GrokkingConfig) -> bool:
        return kind in specs(cfg) and is_grokfast(getattr(cfg, f"grokfast_{kind}"), kind)

    return applies


_DECAY = "the optimizer has a positive decoupled weight decay (e.g. adamw, the default)"
_CONTROL = "no_wd_control is on and " + _DECAY


CLAIMS = (
    # Optimizer-agnostic: a statement about the curves of the run.
    Claim(
        id=f"{NAME}/memorize-then-generalize",
        statement="Train accuracy reaches 99 % at least 5x earlier (in steps) than test accuracy.",
        source=POWER,
        quantity="steps to 99 % test accuracy / steps to 99 % train accuracy (seed 0)",
        measure="main.ratio",
        criterion=Criterion(">=", 5.0),
        presets=_MAIN,
        also=("smoke",),
    ),
    # About weight decay: Omnigrok's explanation is the decay shrinking the norm.
    Claim(
        id=f"{NAME}/norm-falls",
        statement="The parameter norm falls while the network goes from memorizing to "
        "generalizing.",
        source=LIU,
        quantity="||theta|| at 99 % test accuracy / ||theta|| at 99 % train accuracy",
        measure="main.norm_ratio_transition",
        criterion=Criterion("<", 1.0),
        presets=_MAIN,
        also=("smoke",),
        applies=_decays,
        requires=_DECAY,
    ),
    # About weight decay: the control removes it.
    Claim(
        id=f"{NAME}/no-weight-decay",
        statement="Without weight decay test accuracy stays below 99 % within the same budget.",
        source=POWER,
        quantity="max test accuracy of the weight-decay-free control within the budget, over seeds",
        measure="no_wd.max_test_acc_all_seeds",
        criterion=Criterion("<", THRESHOLD),
        presets=_FULL,
        also=("smoke",),
        applies=has_control,
        requires=_CONTROL,
    ),
    # About Grokfast-EMA in front of AdamW, against that AdamW.
    Claim(
        id=f"{NAME}/grokfast-speedup",
        statement="Grokfast-EMA reaches 99 % test accuracy in fewer steps than "
        "AdamW with the same learning rate and weight decay.",
        source=LEE,
        quantity="steps to 99 % test (AdamW) / steps to 99 % test (Grokfast-EMA)",
        measure="grokfast.ema.speedup",
        criterion=Criterion(">", 1.0),
        presets={"full": "grokfast"},
        applies=_grokfast("ema"),
        requires="grokfast is ema or both and grokfast_ema is a grokfast_ema spec",
    ),
    # About Grokfast-MA in front of AdamW, against that AdamW.
    Claim(
        id=f"{NAME}/grokfast-ma-speedup",
        statement="Grokfast-MA reaches 99 % test accuracy in fewer steps "
        "than AdamW with the same learning rate and weight decay.",
        source=LEE,
        quantity="steps to 99 % test (AdamW) / steps to 99 % test (Grokfast-MA)",
        measure="grokfast.ma.speedup",
        criterion=Criterion(">", 1.0),
        presets={"full": "grokfast"},
        applies=_grokfast("ma"),
        requires="grokfast is ma or both and grokfast_ma is a grokfast_ma spec",
    ),
    # The seed-000 claims describe the curves of the run: any optimizer.
    Claim(
        id=f"{NAME}/seed-000-chance",
        statement="Seed 000 section 7: when the training set is memorized, test accuracy is "
        "still at chance.",
        source=SEED,
        quantity="test accuracy when train accuracy first reaches 99 % (chance is 1/p)",
        measure="main.test_acc_at_train_99",
        criterion=Criterion("<=", 0.05),
        presets=_MAIN,
        also=("smoke",),
    ),
    Claim(
        id=f"{NAME}/seed-000-10x",
        statement="Seed 000 section 7: generalization comes 10x (or 100x) later than memorization.",
        source=SEED,
        quantity="steps to 99 % test accuracy / steps to 99 % train accuracy (seed 0)",
        measure="main.ratio",
        criterion=Criterion(">=", 10.0),
        presets=_MAIN,
        also=("smoke",),
    ),
    Claim(
        id=f"{NAME}/seed-000-sharp",
        statement="Seed 000 section 7: test accuracy jumps from chance to "
        "near-perfect in a sharp transition, after a long plateau.",
        source=SEED,
        quantity="steps from 10 % to 90 % test accuracy / steps from 99 % train to 10 % test",
        measure="main.rise_over_plateau",
        criterion=Criterion("<", 1.0),
        presets=_MAIN,
        also=("smoke",),
    ),
)
