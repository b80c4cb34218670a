"""The max-margin claims and the results keys they, the plots and the tests read."""

from __future__ import annotations

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.max_margin.config import NAME, MaxMarginConfig

SOUDRY = "Soudry et al. 2018 (JMLR), 'The implicit bias of gradient descent on separable data'"
SOUDRY_THM3 = SOUDRY + ", Theorem 3 (w(t) = w_hat log t + rho(t), rho(t) bounded)"
SOUDRY_RATE = (
    SOUDRY + ", Theorem 3 and the rates it implies (abstract: convergence 'only logarithmic')"
)
NACSON = (
    "Nacson et al. 2019 (AISTATS), 'Convergence of gradient descent on separable data', "
    "abstract: with a fixed step the rate is 1/log t; with aggressive (normalized) steps on the "
    "exponential loss it improves to log(t)/sqrt(t)"
)
WANG = (
    "Wang et al. 2022 (NeurIPS), 'Does Momentum Change the Implicit Regularization on "
    "Separable Data?'"
)
L2_LIMIT = {
    "gd": SOUDRY,
    "sgd": SOUDRY,
    "steepest_l2": SOUDRY,
    "normalized_gd": NACSON,
    "heavy_ball": WANG,
    "nesterov": WANG,
}
"""Registry names of the optimizers proved to converge in direction to the l2 SVM on
separable data with an exponentially-tailed loss, and where: GD (Soudry et al. 2018),
normalized GD and GD with increasing steps (Nacson et al. 2019), GD with heavy-ball or
Nesterov momentum (Wang et al. 2022). Sign-like methods and Adam without its stability
constant go to the l_inf margin instead (see the ``geometry`` experiment)."""


def _l2_limit(cfg: MaxMarginConfig) -> bool:
    return cfg.optimizer.fn is None and cfg.optimizer.base_name in L2_LIMIT


def _plain_gd(cfg: MaxMarginConfig) -> bool:
    spec = cfg.optimizer
    return (
        spec.fn is None
        and spec.base_name in ("gd", "sgd")
        and spec.get("schedule", "constant") == "constant"
    )


def _speedup_applies(cfg: MaxMarginConfig) -> bool:
    return cfg.fast and _plain_gd(cfg)


def _svc_applies(cfg: MaxMarginConfig) -> bool:
    return cfg.dataset == "clouds" and cfg.dim == 2 and not cfg.bias


_L2 = "the optimizer's limit is the l2 SVM direction (" + ", ".join(L2_LIMIT) + ")"
_GD = "the optimizer is gd (or sgd) with a constant step"
# The asymptotic claims need the 10^7-step run: at 10^5 steps the 2D default is still
# pre-asymptotic (its numbers are reported on any run of `default` or `smoke`). Their numbers
# depend on the random draw of the clouds and the inits, so they are `seeded`: verify reruns
# `long` with seed = base+1..base+4 and a claim holds only if it holds in all five.
_DEFAULT = {"quick": "long", "full": "long"}
_ALSO = ("smoke", "default")
_SEED000 = {"quick": "seed-000", "full": "seed-000"}
_SEED004 = {"quick": "seed-004", "full": "seed-004"}

KEYS = (
    "main.max_final_angle",
    "main.final_angle",
    "main.final_w",
    "main.steps_to.deg_0p1",
    "fits.max_tail_angle_ratio",
    "fits.max_angle_exponent",
    "fits.min_r2_angle",
    "fits.min_r2_norm",
    "fits.max_slope_error",
    "fits.tail_from_step",
    "fits.per_init",
    "svm.gamma",
    "svm.learning_rate",
    "normalized_gd.steps_to.deg_0p1",
    "speedup_to_tenth_degree.log10_min",
    "speedup_to_tenth_degree.log10_per_init",
    "speedup_to_tenth_degree.kind",
    "svc_with_intercept.angle_to_bias_free_svm",
)
"""Every results key that the claims, plots and tests read."""

_ASYMPTOTIC = (
    "on draws with a single support vector (seeds 1-3 of 0-4) GD is not yet "
    "asymptotic at 10^7 steps: the next point, at 1.16 gamma* on seed 1, still "
    "pulls the residual like t^-0.16; draws with two support vectors hold"
)

CLAIMS = (
    Claim(
        id=f"{NAME}/direction",
        statement="The normalized iterate w(t)/||w(t)|| converges to the l2 max-margin "
        "direction from any init (Soudry et al. 2018, Theorem 3). Lab's criterion: on the last "
        "two decades of steps the angle to the SVM direction still falls from every init "
        "(final angle / angle at the tail's start < 1), i.e. the run is approaching, not "
        "stalled elsewhere.",
        source=SOUDRY_THM3,
        quantity="max over inits of (final angle) / (angle where the tail starts)",
        measure="fits.max_tail_angle_ratio",
        criterion=Criterion("<", 1.0),
        presets=_DEFAULT,
        also=_ALSO,
        applies=_l2_limit,
        requires=_L2,
        seeded=True,
        expect="flips",
        refuted_because=_ASYMPTOTIC,
    ),
    Claim(
        id=f"{NAME}/direction-rate",
        statement="The direction converges at rate O(1/log t): the angle to the SVM direction "
        "falls like 1/log t (Soudry et al. 2018, the rate implied by Theorem 3; Nacson et al. "
        "2019, abstract: 'extremely slow as 1/log(t)'). Lab's criterion: the exponent k of "
        "angle ~ (log t)^k, fitted on the last two decades, is at most -0.5 from every init: "
        "nearer the "
        "theorem's -1 than the 0 of a gap that does not close (the midpoint; the source gives "
        "the rate, not a tolerance).",
        source=SOUDRY_RATE,
        quantity="max over inits of the fitted exponent k of angle ~ (log t)^k (tail)",
        measure="fits.max_angle_exponent",
        criterion=Criterion("<=", -0.5),
        presets=_DEFAULT,
        also=_ALSO,
        applies=_plain_gd,
        requires=_GD,
        seeded=True,
        expect="flips",
        refuted_because=_ASYMPTOTIC,
    ),
    Claim(
        id=f"{NAME}/gap-inv-log",
        statement="The direction gap behaves like 1/log t (Soudry et al. 2018, the rate implied by "
        "Theorem 3). "
        "Lab's criterion: angle = a/log t + b fits the last two decades with R^2 >= 0.9 from "
        "every init (a check of the functional form; the intercept is free, so the rate's "
        "limit is checked by direction-rate).",
        source=SOUDRY_RATE,
        quantity="min over inits of R^2 of angle = a/log t + b (tail)",
        measure="fits.min_r2_angle",
        criterion=Criterion(">=", 0.9),
        presets=_DEFAULT,
        also=_ALSO,
        applies=_plain_gd,
        requires=_GD,
        seeded=True,
        expect="flips",
        refuted_because=_ASYMPTOTIC,
    ),
    Claim(
        id=f"{NAME}/norm-log",
        statement="||w(t)|| grows like log t, since w(t) = w_hat log t + rho(t) with rho(t) "
        "bounded (Soudry et al. 2018, Theorem 3). Lab's criterion: ||w|| = a log t + b fits "
        "the last two decades with R^2 >= 0.99 from every init.",
        source=SOUDRY_THM3,
        quantity="min over inits of R^2 of ||w|| = a log t + b (tail)",
        measure="fits.min_r2_norm",
        criterion=Criterion(">=", 0.99),
        presets=_DEFAULT,
        also=_ALSO,
        applies=_plain_gd,
        requires=_GD,
        seeded=True,
        expect="flips",
        refuted_because=_ASYMPTOTIC,
    ),
    Claim(
        id=f"{NAME}/norm-slope",
        statement="The slope of ||w(t)|| against log t is ||w_hat|| = 1/gamma* (Soudry et al. "
        "2018, Theorem 3: w(t) = w_hat log t + rho(t), rho bounded). Lab's criterion: the "
        "fitted slope within 10% of 1/gamma* from every init (the bounded rho(t) still moves "
        "the slope of a finite tail fit).",
        source=SOUDRY_THM3,
        quantity="max over inits of |a gamma* - 1|",
        measure="fits.max_slope_error",
        criterion=Criterion("<=", 0.1),
        presets=_DEFAULT,
        also=_ALSO,
        applies=_plain_gd,
        requires=_GD,
        seeded=True,
        expect="flips",
        refuted_because=_ASYMPTOTIC,
    ),
    Claim(
        id=f"{NAME}/normalized-speedup",
        statement="Normalized (aggressive) steps converge to the max-margin direction much "
        "faster than GD's 1/log t: log(t)/sqrt(t) (Nacson et al. 2019, abstract). Lab's "
        "criterion: normalized GD stays within 0.1 degree after at least 100x fewer steps "
        "than GD, from every init.",
        source=NACSON,
        quantity="min over inits of log10(GD steps / normalized-GD steps) to stay within "
        "0.1 degree (a lower bound where GD did not get there within the budget)",
        measure="speedup_to_tenth_degree.log10_min",
        criterion=Criterion(">=", 2.0),
        presets=_DEFAULT,
        also=("default",),  # smoke is too short for GD to reach the target angle
        applies=_speedup_applies,
        requires="fast is on and " + _GD,
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/seed-000",
        statement="Seed 000 section 3: GD on the logistic loss (20 000 steps, lr 0.05) ends in "
        "the SVM max-margin direction ('At convergence, GD direction should match the SVM "
        "max-margin direction'; 'the direction is correct from early on'). Lab's criterion: "
        "within 1 degree of the SVM direction after the seed's 20 000 steps.",
        source="seed 000, section 3 (Logistic Regression: GD Finds Maximum Margin)",
        quantity="final angle to the SVM direction (degrees)",
        measure="main.max_final_angle",
        criterion=Criterion("<=", 1.0),
        presets=_SEED000,
        applies=_plain_gd,
        requires=_GD,
        expect="refuted",
        refuted_because="after the seed's 20 000 steps GD is 3.3 degrees from the SVM "
        "direction: the gap closes like 1/log t, which the seed itself calls painfully slow",
    ),
    Claim(
        id=f"{NAME}/seed-004",
        statement="Seed 004 Experiment 1 (Observation): GD from the four inits 'all converge "
        "to a single point on the unit circle', the max-margin direction. Lab's criterion: "
        "every init within 1 degree of the SVM direction after the seed's 50 000 steps.",
        source="seed 004, Experiment 1 (The Convergence of Trajectories), Observation",
        quantity="max over the four inits of the final angle (degrees)",
        measure="main.max_final_angle",
        criterion=Criterion("<=", 1.0),
        presets=_SEED004,
        applies=_plain_gd,
        requires=_GD,
        expect="refuted",
        refuted_because="after 50 000 steps three inits are 19-20 degrees from the SVM "
        "direction and (-3,-3) overshoots and freezes at 3.2 (exp underflows); the seed's own "
        "NumPy loop gives the same angles",
    ),
    Claim(
        id=f"{NAME}/seed-004-svc",
        statement="Seed 004 Experiment 1 (Observation): the red arrow, scikit-learn's SVC "
        "(C=1000) direction, 'aligns perfectly with the asymptote of the Gradient Descent "
        "paths'; that asymptote is the bias-free SVM direction (Soudry et al. 2018), while SVC "
        "fits an intercept. Lab's criterion: SVC's direction within 1 degree of the bias-free "
        "SVM direction, the lab's 1-degree tolerance for 'the same direction' (as in seed-000 "
        "and seed-004); the seed gives no number.",
        source="seed 004, Experiment 1 (The Convergence of Trajectories), Observation",
        quantity="angle between SVC's coef_ (it fits an intercept) and the bias-free SVM (degrees)",
        measure="svc_with_intercept.angle_to_bias_free_svm",
        criterion=Criterion("<=", 1.0),
        presets=_SEED004,
        applies=_svc_applies,
        requires="dataset is clouds with dim 2 and no bias",
    ),
)
