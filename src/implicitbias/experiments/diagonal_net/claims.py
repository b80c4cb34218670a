"""The diagonal-net claims and the results keys they, the plots and the tests read.

The Q_alpha characterization and its limits are theorems about gradient flow (Woodworth et
al. 2020), which GD with small steps follows: they apply to ``gd`` (and ``sgd``) and are
*not applicable* to other optimizers. The step-size claim is about plain constant-step GD.
"""

from __future__ import annotations

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.diagonal_net.config import (
    GRADIENT_DESCENT,
    NAME,
    DiagonalNetConfig,
    uses_gd,
)

WOODWORTH = "Woodworth et al. 2020 (COLT), Theorem 1"


def _plain_gd(cfg: DiagonalNetConfig) -> bool:
    return cfg.optimizer.named(*GRADIENT_DESCENT, plain=True)


def _square(cfg: DiagonalNetConfig) -> bool:
    return uses_gd(cfg) and "square" in cfg.model_list()


def _product(cfg: DiagonalNetConfig) -> bool:
    return uses_gd(cfg) and "product" in cfg.model_list()


def _step_size(cfg: DiagonalNetConfig) -> bool:
    return _plain_gd(cfg) and cfg.step_study


_FLOW = "the theorem is for gradient flow; GD with small steps tracks it"
_GD = "the optimizer is gd (" + _FLOW + ")"
_DEFAULT = {"quick": "default", "full": "long"}
STEP_SOURCE = (
    "derived in implicitbias.theory.diagonal.gd_effective_alpha; cf. Even et al. 2023 (NeurIPS)"
)

KEYS = (
    "problem.steps",
    "problem.metrics_model",
    "problem.optimizer",
    "references.l1_test_error",
    "references.l2_test_error",
    "references.l1_norm_l1",
    "references.l1_norm_l2",
    "references.l1_feasibility",
    "square.max_dist_q",
    "square.dist_q",
    "square.dist_l1",
    "square.dist_l2",
    "square.test_error",
    "square.residual",
    "square.largest_rise_of_dist_l1_as_alpha_falls",
    "square.dist_l1_at_smallest_alpha",
    "square.dist_l2_at_largest_alpha",
    "product.max_dist_q",
    "product.dist_q",
    "product.dist_l1",
    "product.dist_l2",
    "product.test_error",
    "product.residual",
    "square_step_corrected.dist_q",
    "step_study.order_in_step",
)
"""Every results key that the claims, plots and tests read."""

CLAIMS = (
    Claim(
        id=f"{NAME}/q-alpha",
        statement="Woodworth et al. 2020, Theorem 1 (paraphrased): gradient flow on "
        "w = u*u - v*v from u = v = alpha converges to the minimizer of Q_alpha among "
        "interpolators; GD with small steps tracks it, for every alpha of the sweep. Lab's "
        "criterion: relative distance <= 1 % (GD's finite step leaves a gap of first order "
        "in eta, see step-size), in each of 5 data draws.",
        source=WOODWORTH,
        quantity="max over alphas of ||w_GD - w_Qalpha|| / ||w_Qalpha||",
        measure="square.max_dist_q",
        criterion=Criterion("<=", 0.01),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_square,
        requires=_GD + " and the square model is run",
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/q-alpha-product",
        statement="The lab's derivation after Woodworth et al. 2020: GD on w = u+ v+ - u- v- "
        "(u = c alpha, v = alpha/c) reaches the minimizer of Q_alpha_eff, alpha_eff = alpha "
        "sqrt((c^2+c^-2)/2) (the product model's conserved u^2 - v^2 maps it onto the square "
        "model). An implementation check of that derivation; tolerance 1 % as for q-alpha, in "
        "each of 5 data draws.",
        source="derived in implicitbias.theory.diagonal, after " + WOODWORTH,
        quantity="max over alphas of ||w_GD - w_Qalpha_eff|| / ||w_Qalpha_eff||",
        measure="product.max_dist_q",
        criterion=Criterion("<=", 0.01),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_product,
        requires=_GD + " and the product model is run",
        seeded=True,
        kind="self-check",
    ),
    Claim(
        id=f"{NAME}/l1-falls",
        statement="Woodworth et al. 2020 (Theorem 1 and its alpha -> 0 limit, paraphrased): "
        "as alpha -> 0 the Q_alpha minimizer tends to the min-l1 interpolator. Lab's "
        "criterion: GD's distance to it never rises from one alpha to the next smaller one, "
        "in each of 5 data draws.",
        source=WOODWORTH,
        quantity="largest increase of ||w_GD - w_l1|| / ||w_l1|| from one alpha to the next "
        "smaller one, in units of its largest value (<= 0: it never rises)",
        measure="square.largest_rise_of_dist_l1_as_alpha_falls",
        criterion=Criterion("<=", 0.0),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_square,
        requires=_GD + " and the square model is run",
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/l1-limit",
        statement="Woodworth et al. 2020 (the alpha -> 0 limit of Theorem 1, paraphrased): "
        "for small alpha GD's solution is close to the min-l1 interpolator. Lab's criterion: "
        "within 5 % at the sweep's smallest alpha, in each of 5 data draws.",
        source=WOODWORTH,
        quantity="||w_GD - w_l1|| / ||w_l1|| at the smallest alpha",
        measure="square.dist_l1_at_smallest_alpha",
        criterion=Criterion("<=", 0.05),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_square,
        requires=_GD + " and the square model is run",
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/l2-limit",
        statement="Woodworth et al. 2020 (the alpha -> infinity, kernel limit of Theorem 1, "
        "paraphrased): for large alpha GD's solution is the min-l2 interpolator. Lab's "
        "criterion: within 1 % at the sweep's largest alpha, in each of 5 data draws.",
        source=WOODWORTH,
        quantity="||w_GD - w_l2|| / ||w_l2|| at the largest alpha",
        measure="square.dist_l2_at_largest_alpha",
        criterion=Criterion("<=", 0.01),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_square,
        requires=_GD + " and the square model is run",
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/step-size",
        statement="The lab's derivation (implicitbias.theory.diagonal.gd_effective_alpha): "
        "GD's gap to the Q_alpha minimizer is a finite-step effect, first order in the step "
        "eta (each step scales u_i v_i by 1 - 4 eta^2 g_i^2). An implementation check; "
        "criterion |p - 1| <= 0.1, in each of 5 data draws.",
        source=STEP_SOURCE,
        quantity="|p - 1|, p the exponent of gap ~ eta^p between the largest and smallest step "
        "of the step-size study (every step size runs steps / min(fraction) steps, so the "
        "larger steps run for a longer time eta * steps)",
        measure=lambda r: abs(r.get("step_study.order_in_step") - 1.0),
        criterion=Criterion("<=", 0.1),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_step_size,
        requires="the optimizer is plain constant-step gd and step_study is on",
        seeded=True,
        kind="self-check",
    ),
)
