"""The min-norm claims and the results keys they, the plots and the tests read."""

from __future__ import annotations

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.min_norm.config import (
    GRADIENT_SPAN,
    NAME,
    POLYAK,
    SEED1,
    SEED2,
    ZHANG,
    MinNormConfig,
    gradient_span,
    plain_gd,
)


def _sgd_applies(cfg: MinNormConfig) -> bool:
    return cfg.sgd and gradient_span(cfg)


_SPAN = (
    "the optimizer's updates lie in the span of the gradients (" + ", ".join(GRADIENT_SPAN) + ")"
)
_GD = "the optimizer is plain constant-step gd"
_DEFAULT = {"quick": "default", "full": "large"}
_SEED = {"quick": "seed", "full": "seed"}

KEYS = (
    "pinv.relative_distance",
    "ridge.relative_distance_at_smallest",
    "inits.max_relative_distance",
    "random_interpolator.norm_ratio",
    "random_interpolator.norm_gd",
    "random_interpolator.norm_random",
    "random_interpolator.residual_gd",
    "random_interpolator.residual_random",
    "rate.relative_error_of_exponent",
    "rate.relative_error_of_exponent_random_inits",
    "rate.closed_form_max_deviation",
    "sgd.max_null_component",
    "sgd.relative_distance",
    "second_snippet.distance_to_pinv",
    "second_snippet.distance_to_ridge",
    "second_snippet.norm_pinv",
)
"""Every results key that the claims, plots and tests read."""

CLAIMS = (
    Claim(
        id=f"{NAME}/pinv",
        statement="GD from zero converges to the pseudo-inverse solution X^+ y.",
        source=SEED2,
        quantity="||w_GD - X^+y|| / ||X^+y|| at the last step",
        measure="pinv.relative_distance",
        criterion=Criterion("<=", 1e-8),
        presets=_DEFAULT,
        also=("smoke",),
        applies=gradient_span,
        requires=_SPAN,
    ),
    Claim(
        id=f"{NAME}/ridge",
        statement="The GD solution equals ridge regression as lambda -> 0.",
        source=SEED2,
        quantity="||w_ridge(1e-10) - w_GD|| / ||w_GD||",
        measure="ridge.relative_distance_at_smallest",
        criterion=Criterion("<=", 1e-8),
        presets=_DEFAULT,
        also=("smoke",),
        applies=gradient_span,
        requires=_SPAN,
    ),
    Claim(
        id=f"{NAME}/closest",
        statement="GD from any w0 converges to w0 + X^+(y - X w0), the closest interpolator to w0.",
        source=SEED2,
        quantity="max over inits of ||w_GD(w0) - w*(w0)|| / ||w*(w0)||",
        measure="inits.max_relative_distance",
        criterion=Criterion("<=", 1e-8),
        presets=_DEFAULT,
        also=("smoke",),
        applies=gradient_span,
        requires=_SPAN,
    ),
    Claim(
        id=f"{NAME}/random-larger",
        statement="A random interpolator (GD solution + null-space step) fits "
        "equally well with a larger norm.",
        source=SEED1,
        quantity="||w_random|| / ||w_GD|| (both residuals are reported)",
        measure="random_interpolator.norm_ratio",
        criterion=Criterion(">", 1.0),
        presets=_DEFAULT,
        also=("smoke",),
        applies=gradient_span,
        requires=_SPAN,
    ),
    Claim(
        id=f"{NAME}/rate",
        statement="The GD error from zero decays like (1 - eta lambda_min^+)^t.",
        source=POLYAK,
        quantity="|log rho_fit - log rho_pred| / |log rho_pred|",
        measure="rate.relative_error_of_exponent",
        criterion=Criterion("<=", 0.05),
        presets=_DEFAULT,
        also=("smoke",),
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/rate-random-inits",
        statement="The GD error decays like (1 - eta lambda_min^+)^t, from random inits.",
        source=POLYAK,
        quantity="median over random inits of |log rho_fit - log rho_pred| / |log rho_pred|",
        measure="rate.relative_error_of_exponent_random_inits",
        criterion=Criterion("<=", 0.05),
        presets=_DEFAULT,
        also=("smoke",),
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/closed-form",
        statement="The GD error follows the closed form sum_i c_i (1 - eta lambda_i)^t v_i "
        "exactly.",
        source=POLYAK,
        quantity="max over logged steps of |e_t - e_t(closed form)| / e_0",
        measure="rate.closed_form_max_deviation",
        criterion=Criterion("<=", 1e-10),
        presets=_DEFAULT,
        also=("smoke",),
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/sgd-row-space",
        statement="SGD from zero stays in the row space of X.",
        source=ZHANG,
        quantity="max over logged steps of ||P_null w_t|| / ||X^+y||",
        measure="sgd.max_null_component",
        criterion=Criterion("<=", 1e-12),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_sgd_applies,
        requires="sgd is on and " + _SPAN,
    ),
    Claim(
        id=f"{NAME}/sgd-limit",
        statement="SGD from zero reaches the same limit X^+ y.",
        source=ZHANG,
        quantity="||w_SGD - X^+y|| / ||X^+y|| at the last step",
        measure="sgd.relative_distance",
        criterion=Criterion("<=", 1e-8),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_sgd_applies,
        requires="sgd is on and " + _SPAN,
    ),
    Claim(
        id=f"{NAME}/seed-gd-norm",
        statement="Seed 000 section 1 prints 'GD solution norm: 0.8942'.",
        source=SEED1,
        quantity="| ||w_GD|| - 0.8942 |",
        measure=lambda r: abs(r.get("random_interpolator.norm_gd") - 0.8942),
        criterion=Criterion("<=", 5e-5),
        presets=_SEED,
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed-random-norm",
        statement="Seed 000 section 1 prints 'Random interp. norm: 4.7281'.",
        source=SEED1,
        quantity="| ||w_random|| - 4.7281 |",
        measure=lambda r: abs(r.get("random_interpolator.norm_random") - 4.7281),
        criterion=Criterion("<=", 5e-5),
        presets=_SEED,
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed-5x",
        statement="Seed 000 section 1: GD's solution has 5x smaller norm than the random "
        "interpolator.",
        source=SEED1,
        quantity="||w_random|| / ||w_GD||",
        measure="random_interpolator.norm_ratio",
        criterion=Criterion(">=", 5.0),
        presets=_SEED,
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed-residuals",
        statement="Seed 000 section 1: both solutions achieve ~0 training error.",
        source=SEED1,
        quantity="max of the two residuals ||Xw - y||",
        measure=lambda r: max(
            r.get("random_interpolator.residual_gd"), r.get("random_interpolator.residual_random")
        ),
        criterion=Criterion("<=", 1e-6),
        presets=_SEED,
        applies=plain_gd,
        requires=_GD,
    ),
    Claim(
        id=f"{NAME}/seed2-distance",
        statement="Seed 000 section 2 prints '||w_gd - w_pinv|| = 3.12e-04'.",
        source=SEED2,
        quantity="|d - 3.12e-4| / 3.12e-4 with d = ||w_GD - w_pinv|| (n=8, p=30, seed 0)",
        measure=lambda r: abs(r.get("second_snippet.distance_to_pinv") - 3.12e-4) / 3.12e-4,
        criterion=Criterion("<=", 0.02),
        presets=_SEED,
        applies=lambda cfg: cfg.second_snippet,
        requires="second_snippet is on",
    ),
    Claim(
        id=f"{NAME}/seed2-same",
        statement="Seed 000 section 2: GD, the pseudo-inverse and ridge (lambda=1e-10) "
        "give the same solution.",
        source=SEED2,
        quantity="max(||w_GD - w_pinv||, ||w_GD - w_ridge||) / ||w_pinv||",
        measure=lambda r: (
            max(r.get("second_snippet.distance_to_pinv"), r.get("second_snippet.distance_to_ridge"))
            / r.get("second_snippet.norm_pinv")
        ),
        criterion=Criterion("<=", 1e-6),
        presets=_SEED,
        applies=lambda cfg: cfg.second_snippet,
        requires="second_snippet is on",
    ),
)
