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
PARLETT = "Parlett, The Symmetric Eigenvalue Problem (Krylov-Bogoliubov residual bound)"
COHEN_FIG1 = "Cohen et al. 2021 (ICLR), Figure 1 caption"
COHEN_INTRO = "Cohen et al. 2021 (ICLR), section 1"
SEED = "seed 000, section 5"

KEYS = (
    "lanczos_check.max_rel_error",
    "lanczos_check.max_rel_residual",
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

# Read in Cohen et al. 2021 (arXiv 2103.00065v3): Figure 1's caption ("observe that the
# sharpness rises to 2/eta [...] and then hovers right at, or just above, this value") and
# section 1 ("so long as the sharpness is less than the value 2/eta, it tends to continually
# rise [...] We call this phenomenon progressive sharpening"). The other Cohen statements
# below are the lab's paraphrases, not quotations.
_HOVERS = (
    'Cohen et al. (Fig. 1): the sharpness "rises to 2/eta [...] and then hovers right at, or '
    "just above, this value\". Lab's criterion: the median of S/(2/eta) over the second half "
    'is within 10 % of 1 for every eta (the lab\'s reading of "right at, or just above"; '
    "the paper gives no number)"
)
_SHARPENING = (
    'Cohen et al. (sec. 1): "so long as the sharpness is less than the value 2/eta, it tends '
    "to continually rise\" (progressive sharpening). Lab's criterion: Spearman correlation of "
    "S with the step before the first crossing >= 0.8 for every eta (a monotone trend, allowing "
    "for the estimates' noise)"
)
_RELRES = (
    "Lab's self-check: the in-loop Lanczos estimate reports its own residual ||Hv - Sv||; some "
    "eigenvalue of H lies within it (Krylov-Bogoliubov). Lab's criterion: <= 1e-3 x S at the "
    "final step for every member, i.e. the estimate is an eigenvalue to 0.1 %"
)
_EXACT = (
    "Lab's self-check: the warm-started Lanczos sharpness computed inside the training "
    "program at the last step equals the top eigenvalue of the Hessian at the same (final) "
    "parameters computed by an independent solver. Lab's criterion: relative difference "
    "<= 1e-4 (two orders below the percent-level ratios S/(2/eta) the findings read)"
)
_FASHION_HOVERS_EXPECT = "refuted"
_FASHION_HOVERS_WHY = (
    "on Fashion-MNIST the sharpness hovers above 2/eta as the paper says, but further above "
    "than the lab's 10 % at eta = 0.3: medians 1.057, 1.087, 1.125 x 2/eta for eta = "
    "0.15, 0.2, 0.3 with converged Lanczos (docs/experiments/edge-of-stability.md)"
)

CLAIMS = (
    Claim(
        id=f"{NAME}/lanczos-exact",
        statement=_EXACT + " (dense jax.hessian + eigh, or ARPACK above 3000 parameters).",
        source=GOLUB,
        quantity="max over members of |tracked - reference| / reference at the final step "
        "(reference: jax.hessian + eigh, or ARPACK for large nets)",
        measure="lanczos_check.max_rel_error",
        criterion=Criterion("<=", 1e-4),
        presets=_SYN,
        also=_ALSO,
        kind="self-check",
    ),
    Claim(
        id=f"{NAME}/lanczos-residual",
        statement=_RELRES + ".",
        source=PARLETT,
        quantity="max over members of ||H v - S v|| / S for the in-loop estimate (S, v) at the "
        "final step (lanczos_check.tracked_rel_residual)",
        measure="lanczos_check.max_rel_residual",
        criterion=Criterion("<=", 1e-3),
        presets=_SYN,
        also=_ALSO,
        kind="self-check",
    ),
    Claim(
        id=f"{NAME}/sharpness-at-2-over-eta",
        statement=_HOVERS + ".",
        source=COHEN_FIG1,
        quantity="max over step sizes of |median(S / (2/eta)) - 1| over the second half",
        measure="eos.max_abs_median_ratio_minus_1",
        criterion=Criterion("<=", 0.1),
        presets=_SYN,
        also=_ALSO,
        applies=_gd,
        requires=_GD,
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/progressive-sharpening",
        statement=_SHARPENING + ".",
        source=COHEN_INTRO,
        quantity=_SPEARMAN,
        measure="eos.min_sharpening_spearman",
        criterion=Criterion(">=", 0.8),
        presets=_SYN,
        also=_ALSO,
        applies=_gd,
        requires=_GD,
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/loss-non-monotone",
        statement="At the edge of stability the train loss is not monotone: it goes up on some "
        "steps (Cohen et al., the lab's paraphrase). Lab's criterion: a positive fraction of "
        "the steps after the first crossing of 2/eta raise the loss, for every eta.",
        source=COHEN,
        quantity="min over step sizes of the fraction of steps after the sharpness reaches "
        "2/eta on which the loss increases",
        measure="eos.min_up_fraction_after",
        criterion=Criterion(">", 0.0),
        presets=_SYN,
        also=_ALSO,
        applies=_gd,
        requires=_GD,
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/loss-decreases-over-windows",
        statement="At the edge of stability the train loss still decreases over long "
        "timescales (Cohen et al., the lab's paraphrase). Lab's criterion: the mean loss in the "
        "last of 10 windows after the first crossing is below that in the first, for every eta.",
        source=COHEN,
        quantity="max over step sizes of mean loss in the last window / in the first window "
        "after the sharpness reaches 2/eta",
        measure="eos.max_window_last_over_first",
        criterion=Criterion("<", 1.0),
        presets=_SYN,
        also=_ALSO,
        applies=_gd,
        requires=_GD,
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/tracks-gradient-flow",
        statement="GD tracks gradient flow (compared at equal time eta t) until the sharpness "
        "first reaches 2/eta (Cohen et al., the lab's paraphrase). Lab's criterion: the "
        "relative difference of the two losses stays <= 5 % before the first crossing, for "
        "every eta (the lab's tolerance, also track_tolerance).",
        source=COHEN,
        quantity="max over step sizes of max_t |L_GD(t) - L_GF(eta t)| / L_GF(eta t) before "
        "the first step with S >= 2/eta",
        measure="flow.max_rel_diff_before",
        criterion=Criterion("<=", 0.05),
        presets=_SYN,
        also=_ALSO,
        applies=_gd_flow,
        requires=_GD_FLOW,
        seeded=True,
        expect="flips",
        refuted_because="the lab's 5 % criterion is not a test of the statement: GD's loss is "
        "4.7-7.9 % off gradient flow's from the first steps on (eta S_0 = 0.6-1.4), long "
        "before 2/eta, so it passes on seed 0 (0.047) and fails on seeds 1-4 by the "
        "discretization gap alone; the criterion is to be restated",
    ),
    Claim(
        id=f"{NAME}/momentum-threshold",
        statement="With heavy-ball momentum beta the sharpness hovers at 2(1 + beta)/eta, heavy "
        "ball's stability threshold on a quadratic (Cohen et al., the lab's paraphrase). Lab's "
        "criterion: the median of S/(2(1+beta)/eta) over the second half is within 10 % of 1.",
        source=COHEN,
        quantity="max over momentum members of |median(S / (2(1+beta)/eta)) - 1| over the "
        "second half",
        measure="eos.momentum_max_abs_median_ratio_minus_1",
        criterion=Criterion("<=", 0.1),
        presets=_SYN,
        also=_ALSO,
        applies=_heavy_ball,
        requires=_HB,
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/fashion-lanczos-exact",
        statement=_EXACT + " (ARPACK), on the Fashion-MNIST preset (float32, P = 199 210).",
        source=GOLUB,
        quantity="max over members of |tracked - ARPACK| / ARPACK at the final step",
        measure="lanczos_check.max_rel_error",
        criterion=Criterion("<=", 1e-4),
        presets=_FASHION,
        kind="self-check",
    ),
    Claim(
        id=f"{NAME}/fashion-lanczos-residual",
        statement=_RELRES + ", on the Fashion-MNIST preset.",
        source=PARLETT,
        quantity="max over members of ||H v - S v|| / S for the in-loop estimate at the final step",
        measure="lanczos_check.max_rel_residual",
        criterion=Criterion("<=", 1e-3),
        presets=_FASHION,
        kind="self-check",
    ),
    Claim(
        id=f"{NAME}/fashion-sharpness-at-2-over-eta",
        statement=_HOVERS + "; on 5000 Fashion-MNIST images, 784-200-200-10 tanh.",
        source=COHEN_FIG1,
        quantity="max over step sizes of |median(S / (2/eta)) - 1| over the second half",
        measure="eos.max_abs_median_ratio_minus_1",
        criterion=Criterion("<=", 0.1),
        presets=_FASHION,
        applies=_gd,
        requires=_GD,
        expect=_FASHION_HOVERS_EXPECT,
        refuted_because=_FASHION_HOVERS_WHY,
    ),
    Claim(
        id=f"{NAME}/fashion-progressive-sharpening",
        statement=_SHARPENING + "; on 5000 Fashion-MNIST images.",
        source=COHEN_INTRO,
        quantity=_SPEARMAN,
        measure="eos.min_sharpening_spearman",
        criterion=Criterion(">=", 0.8),
        presets=_FASHION,
        applies=_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed-000",
        statement="Seed 000 section 5 (as the lab records it): with lr 0.5 the sharpness "
        "converges toward 2/lr = 4 (the edge of stability). Lab's criterion: the median over "
        "the second half of the sharpness that governs the seed code's update, over 2/lr, is "
        "within 10 % of 1.",
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
        expect="refuted",
        refuted_because="the seed's code divides the first layer's gradient by n twice (step "
        "lr/n on W1); the sharpness that governs that update ends at 0.24 x 2/lr, not at the "
        "edge of stability (with the true gradient, preset seed-000-gd, it does settle at 2/lr)",
    ),
    Claim(
        id=f"{NAME}/seed-000-estimator",
        statement="Seed 000 section 5 (as the lab records it) estimates the sharpness by the "
        "norm of a Hessian-vector product with one random unit vector. Lab's criterion: the "
        "median of estimate / Lanczos sharpness is within 10 % of 1.",
        source=SEED,
        quantity="|median over its estimates of (estimate / Lanczos sharpness) - 1|",
        measure="seed_estimator.max_abs_median_ratio_minus_1",
        criterion=Criterion("<=", 0.1),
        presets=_SEED,
        also=("seed-000-gd",),
        expect="refuted",
        refuted_because="||Hu|| for a random unit u averages the spectrum (E||Hu||^2 = "
        "||H||_F^2 / P): on seed 000's run its median is 0.13 x the Lanczos sharpness",
    ),
)
