"""The claims of the edge-of-stability experiment, and the results keys they read.

The thresholds :math:`2/\\eta` and :math:`2(1+\\beta)/\\eta` are those of gradient descent and
heavy ball (Cohen et al. 2021, ICLR): the claims about them apply when ``optimizer`` is
constant-step ``gd`` (``momentum_optimizer`` ``heavy_ball`` for the momentum claim); with
any other optimizer they are *not applicable* and the sharpness is still tracked and
reported. The claims about the sharpness estimators hold for every optimizer.
"""

from __future__ import annotations

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.edge_of_stability.config import EdgeOfStabilityConfig
from implicitbias.theory.stability import plain_gd, stability_threshold

NAME = "edge-of-stability"
COHEN = "Cohen et al. 2021 (ICLR)"
GOLUB = "Golub & Van Loan, Matrix Computations, sec. 10.1"
SEED = "seed 000, section 5"

KEYS = (
    "lanczos_check.max_rel_error",
    "eos.max_abs_median_ratio_minus_1",
    "eos.min_sharpening_spearman",
    "eos.min_up_fraction_after",
    "eos.max_window_last_over_first",
    "eos.momentum_max_abs_median_ratio_minus_1",
    "eos.stability_max_abs_median_ratio_minus_1",
    "eos.diverged_members",
    "eos.momentum_median_ratio_to_2_over_eta",
    "flow.max_rel_diff_before",
    "seed_estimator.max_abs_median_ratio_minus_1",
    "optimizers.optimizer",
    "optimizers.momentum_optimizer",
)
"""Every results key that the claims, plots and tests read."""


def _gd(cfg: EdgeOfStabilityConfig) -> bool:
    return plain_gd(cfg.optimizer)


def _gd_flow(cfg: EdgeOfStabilityConfig) -> bool:
    return cfg.flow and plain_gd(cfg.optimizer)


def _heavy_ball(cfg: EdgeOfStabilityConfig) -> bool:
    spec = cfg.momentum_optimizer
    return (
        bool(cfg.momentum_learning_rates)
        and spec.name == "heavy_ball"
        and stability_threshold(spec, 1.0) is not None
    )


_GD = "optimizer is constant-step gd (the threshold 2/eta is gradient descent's)"
_GD_FLOW = "flow is on and " + _GD
_HB = (
    "momentum_learning_rates is non-empty and momentum_optimizer is constant-step "
    "heavy_ball (the threshold 2(1+beta)/eta is heavy ball's)"
)
_SYN = {"quick": "quick", "full": "default"}
_ALSO = ("smoke", "digits", "momentum")
_FASHION = {"full": "fashion"}
_SEED = {"quick": "seed-000", "full": "seed-000"}
_SPEARMAN = (
    "min over step sizes of the Spearman correlation of sharpness with step before it "
    "first reaches 2/eta (NaN if some step size never reaches it; step sizes with fewer "
    "than 3 sharpness points before the crossing are left out, see "
    "eos.members_with_3_points_before_reach)"
)

CLAIMS = (
    Claim(
        id=f"{NAME}/lanczos-exact",
        statement="The warm-started Lanczos sharpness tracked during training "
        "matches the top eigenvalue of the exact Hessian.",
        source=GOLUB,
        quantity="max over members of |tracked - reference| / reference at the final step "
        "(reference: jax.hessian + eigh, or ARPACK for large nets)",
        measure="lanczos_check.max_rel_error",
        criterion=Criterion("<=", 1e-4),
        presets=_SYN,
        also=_ALSO,
    ),
    Claim(
        id=f"{NAME}/sharpness-at-2-over-eta",
        statement="Over the second half of training the sharpness hovers at 2/eta for each eta.",
        source=COHEN,
        quantity="max over step sizes of |median(S / (2/eta)) - 1| over the second half",
        measure="eos.max_abs_median_ratio_minus_1",
        criterion=Criterion("<=", 0.1),
        presets=_SYN,
        also=_ALSO,
        applies=_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/progressive-sharpening",
        statement="While below 2/eta the sharpness rises (progressive sharpening) until it "
        "reaches 2/eta.",
        source=COHEN,
        quantity=_SPEARMAN,
        measure="eos.min_sharpening_spearman",
        criterion=Criterion(">=", 0.8),
        presets=_SYN,
        also=_ALSO,
        applies=_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/loss-non-monotone",
        statement="At the edge of stability the loss goes up on some steps.",
        source=COHEN,
        quantity="min over step sizes of the fraction of steps after the sharpness reaches "
        "2/eta on which the loss increases",
        measure="eos.min_up_fraction_after",
        criterion=Criterion(">", 0.0),
        presets=_SYN,
        also=_ALSO,
        applies=_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/loss-decreases-over-windows",
        statement="At the edge of stability the loss still decreases over long windows.",
        source=COHEN,
        quantity="max over step sizes of mean loss in the last window / in the first window "
        "after the sharpness reaches 2/eta",
        measure="eos.max_window_last_over_first",
        criterion=Criterion("<", 1.0),
        presets=_SYN,
        also=_ALSO,
        applies=_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/tracks-gradient-flow",
        statement="GD tracks gradient flow (at equal time eta t) until the sharpness first "
        "reaches 2/eta.",
        source=COHEN,
        quantity="max over step sizes of max_t |L_GD(t) - L_GF(eta t)| / L_GF(eta t) before "
        "the first step with S >= 2/eta",
        measure="flow.max_rel_diff_before",
        criterion=Criterion("<=", 0.05),
        presets=_SYN,
        also=_ALSO,
        applies=_gd_flow,
        requires=_GD_FLOW,
    ),
    Claim(
        id=f"{NAME}/momentum-threshold",
        statement="With heavy-ball momentum beta the sharpness hovers at 2(1 + beta)/eta.",
        source=COHEN,
        quantity="max over momentum members of |median(S / (2(1+beta)/eta)) - 1| over the "
        "second half",
        measure="eos.momentum_max_abs_median_ratio_minus_1",
        criterion=Criterion("<=", 0.1),
        presets=_SYN,
        also=_ALSO,
        applies=_heavy_ball,
        requires=_HB,
    ),
    Claim(
        id=f"{NAME}/fashion-lanczos-exact",
        statement="On the Fashion-MNIST preset the tracked Lanczos "
        "sharpness matches an independent eigensolver.",
        source="Golub & Van Loan, Matrix Computations",
        quantity="max over members of |tracked - ARPACK| / ARPACK at the final step",
        measure="lanczos_check.max_rel_error",
        criterion=Criterion("<=", 1e-4),
        presets=_FASHION,
    ),
    Claim(
        id=f"{NAME}/fashion-sharpness-at-2-over-eta",
        statement="On 5000 Fashion-MNIST images the sharpness hovers at 2/eta over the "
        "second half.",
        source=COHEN,
        quantity="max over step sizes of |median(S / (2/eta)) - 1| over the second half",
        measure="eos.max_abs_median_ratio_minus_1",
        criterion=Criterion("<=", 0.1),
        presets=_FASHION,
        applies=_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/fashion-progressive-sharpening",
        statement="On 5000 Fashion-MNIST images the sharpness rises until it reaches 2/eta.",
        source=COHEN,
        quantity=_SPEARMAN,
        measure="eos.min_sharpening_spearman",
        criterion=Criterion(">=", 0.8),
        presets=_FASHION,
        applies=_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed-000",
        statement="Seed 000 section 5: with lr 0.5 the sharpness converges toward 2/lr = 4 "
        "(the edge of stability).",
        source=SEED,
        quantity="|median(S / (2/eta)) - 1| over the second half, S by Lanczos: the sharpness "
        "that governs the update's stability (S^1/2 H S^1/2 for the seed's code, whose "
        "first-layer step is lr/n)",
        measure="eos.stability_max_abs_median_ratio_minus_1",
        criterion=Criterion("<=", 0.1),
        presets=_SEED,
        also=("seed-000-gd",),
        applies=_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed-000-estimator",
        statement="Seed 000 section 5 estimates the sharpness by the norm of a "
        "Hessian-vector product with one random unit vector.",
        source=SEED,
        quantity="|median over its estimates of (estimate / Lanczos sharpness) - 1|",
        measure="seed_estimator.max_abs_median_ratio_minus_1",
        criterion=Criterion("<=", 0.1),
        presets=_SEED,
        also=("seed-000-gd",),
    ),
)
