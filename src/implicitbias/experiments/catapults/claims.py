"""The catapults claims and the results keys they, the plots and the tests read.

Every measure returns one value per draw (the draws are members of one batched run), so a
verdict rests on all of them. ``c = eta * lambda_0 / 2`` is the learning rate in units of
2/lambda_0, lambda_0 the top eigenvalue of the empirical NTK at init (scaled to the mean
loss: lambda_max(J J^T) / n). The thresholds are GD's: the claims apply to plain ``gd``
(and ``sgd``, the same full-batch update) and are *not applicable* to other optimizers.
"""

from __future__ import annotations

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.catapults.config import NAME, runs_uv, uses_gd

LEWKOWYCZ = (
    "Lewkowycz, Bahri, Dyer, Sohl-Dickstein & Gur-Ari 2020, 'The large learning rate phase "
    "of deep learning: the catapult mechanism', arXiv 2003.02218, abstract"
)
LEWKOWYCZ_INTRO = (
    "Lewkowycz et al. 2020 (arXiv 2003.02218), abstract and Introduction (eta_crit is "
    "'determined by the local curvature of the loss landscape at initialization')"
)
DERIVED = "the lab's derivation (implicitbias.experiments.catapults.model), after " + LEWKOWYCZ
_GD = "the optimizer is plain gd (the thresholds 2/lambda_0 and 4/lambda_0 are GD's)"
_UV = _GD + ", and uv is on"
_PRESETS = {"quick": "default", "full": "full"}
_ALL = {"presets": _PRESETS, "also": ("smoke",), "applies": uses_gd, "requires": _GD}
_ALL_UV = {"presets": _PRESETS, "also": ("smoke",), "applies": runs_uv, "requires": _UV}

KEYS = (
    "problem.optimizer",
    "problem.cs",
    "problem.lambda0",
    "problem.lambda0_check",
    "network.spike_bracket",
    "network.spike_boundary",
    "network.diverge_bracket",
    "network.diverge_boundary",
    "network.spike_outside_critical",
    "network.diverge_outside_4",
    "network.lazy_rises",
    "network.lazy_ntk_change_max",
    "network.catapult_members",
    "network.catapult_curvature_max",
    "network.catapult_ntk_drop_min",
    "network.out_of_order",
    "network.unresolved",
    "uv.spike_outside_critical",
    "uv.diverge_outside_4",
    "uv.diverge_boundary",
    "uv.catapult_curvature_max",
    "uv.out_of_order",
)
"""Every results key that the claims, plots and tests read."""

CLAIMS = (
    Claim(
        id=f"{NAME}/lazy-loss-monotone",
        statement="Lewkowycz et al. 2020 (abstract): in the small learning rate phase training "
        "is understood with the theory of infinitely wide networks; in the linearized model GD "
        "contracts every NTK eigenmode of the residual when eta < 2/lambda_0 (the lab's "
        "derivation). Lab's criterion: below 2/lambda_0 the loss never rises from one step to "
        "the next by more than 1e-10 of its initial value (float64 round-off), in each draw.",
        source=DERIVED,
        quantity="members with eta < 2/lambda_0 whose loss rises at some step",
        measure="network.lazy_rises",
        criterion=Criterion("<=", 0),
        **_ALL,
    ),
    Claim(
        id=f"{NAME}/lazy-ntk-frozen",
        statement="Lewkowycz et al. 2020 (abstract): the small learning rate phase is that of "
        "infinitely wide networks, whose NTK stays at its init value. Lab's criterion: below "
        "2/lambda_0 the NTK top eigenvalue at the end is within 10 % of lambda_0, in each draw "
        "(a wide network's NTK moves by O(1/sqrt(width)) = 2 % at width 2048; a catapult "
        "must take it below 2/eta, at least 7 % down on the grid's first point above 1).",
        source=LEWKOWYCZ,
        quantity="max over eta < 2/lambda_0 of |lambda_T / lambda_0 - 1|",
        measure="network.lazy_ntk_change_max",
        criterion=Criterion("<=", 0.1),
        **_ALL,
    ),
    Claim(
        id=f"{NAME}/spike-at-2-over-lambda0",
        statement="Lewkowycz et al. 2020 (Introduction): the dynamics change above a critical "
        "learning rate eta_crit determined by the curvature at init; the loss grows early in "
        "training. The lab's derivation: eta_crit = 2/lambda_0 (linearized GD). Criterion: "
        "c = 1 lies between the largest c of the grid whose loss never exceeds its initial "
        "value and the smallest c whose loss does (or diverges), in each draw.",
        source=LEWKOWYCZ_INTRO,
        quantity="log-distance from c = 1 to the bracket [last c without a spike, first c "
        "with one] (0: inside)",
        measure="network.spike_outside_critical",
        criterion=Criterion("<=", 0.0),
        **_ALL,
    ),
    Claim(
        id=f"{NAME}/catapult-window",
        statement="Lewkowycz et al. 2020 (abstract): a narrow range of large, stable learning "
        "rates. Criterion: at least one c > 1 of the grid spikes and then converges (final "
        "loss below converged_tol times the initial loss), in each draw.",
        source=LEWKOWYCZ,
        quantity="members with eta > 2/lambda_0 that spike and converge",
        measure="network.catapult_members",
        criterion=Criterion(">=", 1),
        **_ALL,
    ),
    Claim(
        id=f"{NAME}/catapult-flattens",
        statement="Lewkowycz et al. 2020 (abstract): at large learning rates the dynamics "
        "converge to flatter minima. The lab's derivation: at an interpolating minimum the "
        "loss Hessian is J^T J / n, so GD converges only where lambda_T <= 2/eta. Criterion: "
        "every member above 2/lambda_0 that spikes and converges ends with eta lambda_T / 2 "
        "<= 1 (lambda_T from jax.jacobian at the final parameters), in each draw.",
        source=DERIVED,
        quantity="max over the catapult members of eta * lambda_T / 2",
        measure="network.catapult_curvature_max",
        criterion=Criterion("<=", 1.0),
        **_ALL,
    ),
    Claim(
        id=f"{NAME}/regimes-sharp",
        statement="Lewkowycz et al. 2020 (abstract): the two regimes are separated by a phase "
        "transition, and past the stable range training diverges. Lab's criterion: on the "
        "grid, every c < 1 neither spikes nor diverges, every c between 1 and the smallest "
        "diverging c spikes without diverging, and every c from there on diverges, in each "
        "draw.",
        source=LEWKOWYCZ,
        quantity="members out of that order",
        measure="network.out_of_order",
        criterion=Criterion("<=", 0),
        **_ALL,
    ),
    Claim(
        id=f"{NAME}/network-max-4-over-lambda0",
        statement="The lab's derivation for the uv model (eta_max = 4/lambda_0), carried to "
        "the wide ReLU network: c = 2 lies between the largest c that does not diverge and "
        "the smallest that does, in each draw.",
        source=DERIVED,
        quantity="log-distance from c = 2 to the bracket [last c that does not diverge, first "
        "c that does] (0: inside)",
        measure="network.diverge_outside_4",
        criterion=Criterion("<=", 0.0),
        expect="refuted",
        refuted_because="default, seed 0: the ReLU net spikes and converges at eta = "
        "4.20/lambda_0 and diverges at 4.62/lambda_0 in all 3 draws: its eta_max lies above "
        "the uv model's 4/lambda_0",
        **_ALL,
    ),
    Claim(
        id=f"{NAME}/uv-spike-at-2-over-lambda0",
        statement="The lab's derivation for the uv model f = v.u/sqrt(m) (x = 1, y = 0): "
        "f' = f (1 - eta lambda + eta^2 f^2 / m), so |f| grows iff eta lambda > 2. Criterion: "
        "c = 1 lies in the grid's bracket of the first spike, in each draw.",
        source=DERIVED,
        quantity="log-distance from c = 1 to the spike bracket (0: inside)",
        measure="uv.spike_outside_critical",
        criterion=Criterion("<=", 0.0),
        **_ALL_UV,
    ),
    Claim(
        id=f"{NAME}/uv-max-4-over-lambda0",
        statement="The lab's derivation for the uv model: lambda' = lambda + (eta f^2 / m) "
        "(eta lambda - 4), so the NTK falls (and the catapult lands) iff eta lambda_0 < 4: "
        "eta_max = 4/lambda_0. Criterion: c = 2 lies between the largest c that does not "
        "diverge and the smallest that does, in each draw.",
        source=DERIVED,
        quantity="log-distance from c = 2 to the divergence bracket (0: inside)",
        measure="uv.diverge_outside_4",
        criterion=Criterion("<=", 0.0),
        **_ALL_UV,
    ),
    Claim(
        id=f"{NAME}/uv-catapult-flattens",
        statement="The lab's derivation for the uv model: f converges to 0 only once eta "
        "lambda < 2. Criterion: every uv member above 2/lambda_0 that spikes and converges "
        "ends with eta lambda_T / 2 <= 1, in each draw.",
        source=DERIVED,
        quantity="max over the uv catapult members of eta * lambda_T / 2",
        measure="uv.catapult_curvature_max",
        criterion=Criterion("<=", 1.0),
        **_ALL_UV,
    ),
    Claim(
        id=f"{NAME}/ntk-matches-hand-jacobian",
        statement="Implementation check: lambda_0 from jax.jacobian and eigvalsh equals the "
        "top eigenvalue of J J^T / n with J written out by hand in NumPy, to 1e-10 relative, "
        "in each draw.",
        source="the lab's setup",
        quantity="|lambda_0(jax) / lambda_0(hand-written J) - 1|",
        measure="problem.lambda0_check",
        criterion=Criterion("<=", 1e-10),
        kind="self-check",
        presets=_PRESETS,
        also=("smoke",),
    ),
)
