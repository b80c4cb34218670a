"""The modified-loss claims and the results keys they, the plots and the tests read.

The modified equation is derived for plain constant-step GD: every claim on GD applies to
``gd`` (and ``sgd``, the same update on the full batch) with no other hyperparameter, and
is *not applicable* to other optimizers. The RK4 check applies to every run.
"""

from __future__ import annotations

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.modified_loss.config import NAME, plain_gd

BARRETT_DHERIN = (
    "Barrett & Dherin 2021 (ICLR), 'Implicit Gradient Regularization', arXiv 2009.11162"
)
BACKWARD = (
    BARRETT_DHERIN + "; modified equation of explicit Euler: Hairer, Lubich & Wanner, "
    "Geometric Numerical Integration, ch. IX (coefficient h/4 derived in "
    "docs/experiments/modified-loss.md)"
)
_PRESETS = {"quick": "default", "full": "full"}
_GD = "the optimizer is plain constant-step gd (the modified equation is derived for it)"

KEYS = (
    "problem.hs",
    "problem.horizon",
    "problem.optimizer",
    "problem.h_max_times_sharpness",
    "distance.plain",
    "distance.modified",
    "distance.slope_plain",
    "distance.slope_modified",
    "distance.r2_plain",
    "distance.r2_modified",
    "distance.min_r2",
    "distance.min_ratio_plain_to_modified",
    "distance.rk4_error_over_smallest_distance",
    "gradient_norm.h",
    "gradient_norm.max_same_loss_ratio",
    "gradient_norm.compared_points",
)
"""Every results key that the claims, plots and tests read."""

CLAIMS = (
    Claim(
        id=f"{NAME}/plain-flow-first-order",
        statement="GD with step h is a first-order (explicit Euler) discretization of gradient "
        "flow: ||theta_GD(k) - theta_GF(kh)|| = O(h) at a fixed time T = kh. Lab's criterion: "
        "the log-log slope fitted over the step sizes is within 0.1 of 1 (the next term of "
        "the error expansion tilts the slope by O(h * sharpness), kept small by the h range).",
        source=BACKWARD,
        quantity="|p - 1|, p the least-squares slope of log distance to gradient flow vs log h",
        measure=lambda r: abs(r.get("distance.slope_plain") - 1.0),
        criterion=Criterion("<=", 0.1),
        presets=_PRESETS,
        also=("smoke",),
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/modified-flow-second-order",
        statement="GD with step h follows the gradient flow of the modified loss "
        "L + (h/4)||grad L||^2 to second order: ||theta_GD(k) - theta_mod(kh)|| = O(h^2) at a "
        "fixed time T = kh. Lab's criterion: the fitted log-log slope is within 0.1 of 2.",
        source=BACKWARD,
        quantity="|p - 2|, p the least-squares slope of log distance to the modified flow vs log h",
        measure=lambda r: abs(r.get("distance.slope_modified") - 2.0),
        criterion=Criterion("<=", 0.1),
        presets=_PRESETS,
        also=("smoke",),
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/power-laws-fit",
        statement="Both distances are power laws of h over the range (what makes the fitted "
        "slopes orders). Lab's criterion: R^2 >= 0.99 for both log-log fits.",
        source=BACKWARD,
        quantity="min of the two fits' R^2",
        measure="distance.min_r2",
        criterion=Criterion(">=", 0.99),
        presets=_PRESETS,
        also=("smoke",),
        applies=plain_gd,
        requires=_GD,
        kind="self-check",
    ),
    Claim(
        id=f"{NAME}/modified-flow-closer",
        statement="Barrett & Dherin 2021: the trajectory of GD is closer to the exact flow of "
        "the modified loss than to the gradient flow of the original loss. Lab's criterion: "
        "closer at every step size of the range.",
        source=BARRETT_DHERIN + ", section 1",
        quantity="min over h of ||GD - gradient flow|| / ||GD - modified flow|| (> 1: closer)",
        measure="distance.min_ratio_plain_to_modified",
        criterion=Criterion(">", 1.0),
        presets=_PRESETS,
        also=("smoke",),
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/smaller-gradient",
        statement="Barrett & Dherin 2021: the discrete steps of GD implicitly penalize large loss "
        "gradients (implicit gradient regularization). Lab's reading: along GD at the "
        "largest h, ||grad L||^2 is below gradient flow's at the same loss, at every step "
        "0 < t <= T whose loss the flow passes through.",
        source=BARRETT_DHERIN + ", abstract",
        quantity="max over GD steps of ||grad L||^2_GD / ||grad L||^2_flow at the same loss "
        "(< 1: smaller everywhere)",
        measure="gradient_norm.max_same_loss_ratio",
        criterion=Criterion("<", 1.0),
        presets=_PRESETS,
        also=("smoke",),
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/rk4-converged",
        statement="The flows are integrated accurately enough for the distances: RK4 with half "
        "the step changes every flow's endpoint by at most 1 % of the smallest measured "
        "distance (RK4's global error is O(dt^4)).",
        source="Hairer, Norsett & Wanner, Solving Ordinary Differential Equations I, sec. II.1",
        quantity="max over flows of ||theta(dt) - theta(dt/2)|| / min over h of ||GD - modified "
        "flow||",
        measure="distance.rk4_error_over_smallest_distance",
        criterion=Criterion("<=", 0.01),
        presets=_PRESETS,
        also=("smoke",),
        kind="self-check",
    ),
)
