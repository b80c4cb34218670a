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
_MAIN = {"quick": "quick", "full": "default-seeds"}
_FULL = {"full": "default-seeds"}

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
    "seeds.ratio",
    "seeds.norm_ratio_transition",
    "seeds.test_acc_at_train_99",
    "seeds.rise_over_plateau",
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


_GROKFAST_WHY = (
    "against the same AdamW with weight decay 1 (lr 1e-3), the filters amplify the gradient "
    "2.6-3.6x but AdamW divides by the RMS of what it receives, so the step grows only "
    "5-16 %, and grokking comes later (speed-ups 0.78 EMA, 0.84 MA); Lee et al.'s large "
    "speed-ups are mostly against baselines with little or no weight decay"
)

# The curve claims are not measured on `smoke`: its 200 steps never reach 99 % train
# accuracy, so there is no crossing to read (they would be 'could not be measured').
CLAIMS = (
    # Optimizer-agnostic: a statement about the curves of the run.
    Claim(
        id=f"{NAME}/memorize-then-generalize",
        statement="Power et al. 2022 (abstract and Figure 1, paraphrased): generalization "
        "improves from chance to perfect well past the point of overfitting. Lab's "
        "criterion: train accuracy reaches 99 % at least 5x earlier (in steps) than test "
        "accuracy, in every seed of the batch.",
        source=POWER,
        quantity="per seed: steps to 99 % test accuracy / steps to 99 % train accuracy",
        measure="seeds.ratio",
        criterion=Criterion(">=", 5.0),
        presets=_MAIN,
        also=("default",),
    ),
    # About weight decay: Omnigrok's explanation is the decay shrinking the norm.
    Claim(
        id=f"{NAME}/norm-falls",
        statement="Liu et al. 2022 (Omnigrok, paraphrased): with weight decay the network "
        "generalizes as its weight norm comes down, so the parameter norm falls while the "
        "network goes from memorizing to generalizing. Lab's criterion: the norm at 99 % "
        "test accuracy is below the norm at 99 % train accuracy, in every seed.",
        source=LIU,
        quantity="per seed: ||theta|| at 99 % test accuracy / ||theta|| at 99 % train accuracy",
        measure="seeds.norm_ratio_transition",
        criterion=Criterion("<", 1.0),
        presets=_MAIN,
        also=("default",),
        applies=_decays,
        requires=_DECAY,
    ),
    # About weight decay: the control removes it.
    Claim(
        id=f"{NAME}/no-weight-decay",
        statement="Power et al. 2022 (paraphrased: weight decay is among the interventions "
        "that help most): without weight decay test accuracy stays below 99 % within the "
        "same budget, in every seed.",
        source=POWER,
        quantity="max test accuracy of the weight-decay-free control within the budget, over seeds",
        measure="no_wd.max_test_acc_all_seeds",
        criterion=Criterion("<", THRESHOLD),
        presets=_FULL,
        also=("smoke", "default"),
        applies=has_control,
        requires=_CONTROL,
    ),
    # About Grokfast-EMA in front of AdamW, against that AdamW.
    Claim(
        id=f"{NAME}/grokfast-speedup",
        statement="Lee et al. 2024 (Grokfast, abstract, paraphrased: amplifying the slow "
        "gradient component accelerates grokking): Grokfast-EMA reaches 99 % test accuracy "
        "in fewer steps than AdamW with the same learning rate and weight decay.",
        source=LEE,
        quantity="steps to 99 % test (AdamW) / steps to 99 % test (Grokfast-EMA)",
        measure="grokfast.ema.speedup",
        criterion=Criterion(">", 1.0),
        presets={"full": "grokfast"},
        applies=_grokfast("ema"),
        requires="grokfast is ema or both and grokfast_ema is a grokfast_ema spec",
        seeded=True,
        expect="refuted",
        refuted_because=_GROKFAST_WHY,
    ),
    # About Grokfast-MA in front of AdamW, against that AdamW.
    Claim(
        id=f"{NAME}/grokfast-ma-speedup",
        statement="Lee et al. 2024 (Grokfast, abstract, paraphrased): Grokfast-MA reaches 99 % "
        "test accuracy in fewer steps than AdamW with the same learning rate and weight "
        "decay.",
        source=LEE,
        quantity="steps to 99 % test (AdamW) / steps to 99 % test (Grokfast-MA)",
        measure="grokfast.ma.speedup",
        criterion=Criterion(">", 1.0),
        presets={"full": "grokfast"},
        applies=_grokfast("ma"),
        requires="grokfast is ma or both and grokfast_ma is a grokfast_ma spec",
        seeded=True,
        expect="refuted",
        refuted_because=_GROKFAST_WHY,
    ),
    # The seed-000 claims describe the curves of the run: any optimizer.
    Claim(
        id=f"{NAME}/seed-000-chance",
        statement="Seed 000 section 7 (paraphrased): when the training set is memorized, test "
        "accuracy is still at chance. Lab's criterion: <= 0.05 (chance is 1/97 = 0.010) at "
        "the first logged step with 99 % train accuracy, in every seed.",
        source=SEED,
        quantity="per seed: test accuracy when train accuracy first reaches 99 %",
        measure="seeds.test_acc_at_train_99",
        criterion=Criterion("<=", 0.05),
        presets=_MAIN,
        also=("default",),
    ),
    Claim(
        id=f"{NAME}/seed-000-10x",
        statement="Seed 000 section 7 (paraphrased): generalization comes 10x (or 100x) later "
        "than memorization. Criterion: the seed's own factor 10, in every seed.",
        source=SEED,
        quantity="per seed: steps to 99 % test accuracy / steps to 99 % train accuracy",
        measure="seeds.ratio",
        criterion=Criterion(">=", 10.0),
        presets=_MAIN,
        also=("default",),
    ),
    Claim(
        id=f"{NAME}/seed-000-sharp",
        statement="Seed 000 section 7 (paraphrased): test accuracy jumps from chance to "
        "near-perfect in a sharp transition, after a long plateau. Lab's criterion: the "
        "rise (10 % to 90 % test accuracy) takes fewer steps than the plateau before it "
        "(99 % train to 10 % test), in every seed.",
        source=SEED,
        quantity="per seed: steps from 10 % to 90 % test accuracy / steps from 99 % train to "
        "10 % test",
        measure="seeds.rise_over_plateau",
        criterion=Criterion("<", 1.0),
        presets=_MAIN,
        also=("default",),
    ),
)
