"""The profile's claims: the direction theory predicts for a named optimizer, checked on its
row of the profile, each only when that optimizer is in the list.

The margin claims read *which of the three references is nearest* at the end of the run, on
every dataset of the probe: the lab's wording of "converges in direction to" after a finite
number of steps (the probe's data keep the references at least 20 degrees apart, so the
nearest one is not decided by a hair).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.profile.config import NAME
from implicitbias.runs.results import Results

KEYS = ("level", "seeds")
_LEVELS = {"quick": "claims", "full": "claims-full"}

SOUDRY = (
    "Soudry et al. 2018 (JMLR), 'The implicit bias of gradient descent on separable data', Thm 3"
)
GUNASEKAR = (
    "Gunasekar et al. 2018 (ICML), 'Characterizing implicit bias in terms of optimization "
    "geometry', section 4 (steepest descent)"
)
ZHANG = (
    "Zhang et al. 2024 (NeurIPS), 'The implicit bias of Adam on separable data' "
    "(Adam with a stability constant that vanishes)"
)
FAN = (
    "Fan, Schmidt & Thrampoulidis 2025 (arXiv 2502.04664), 'Implicit bias of spectral "
    "descent and Muon on multiclass separable data'"
)


def key_of(results: Results, name: str) -> str:
    """The results key of the first optimizer of the profile that is the registry ``name``."""
    for key, entry in results.scalars["optimizers"].items():
        spec = entry["spec"]
        if spec["name"] == name and not spec.get("python_callable"):
            return key
    raise KeyError(f"the profile has no optimizer {name!r}")


def entry(results: Results, probe: str, name: str) -> dict[str, Any]:
    """The probe's entry for the registry optimizer ``name``."""
    return results.get(f"probes.{probe}.optimizers")[key_of(results, name)]


def nearest_fraction(probe: str, name: str, reference: str) -> Callable[[Results], float]:
    """Fraction of the probe's datasets on which ``name`` ends nearest ``reference``."""

    def measure(results: Results) -> float:
        nearest = entry(results, probe, name)["nearest"]
        return nearest["counts"].get(reference, 0) / nearest["n"]

    return measure


def has(*names: str) -> Callable[[Any], bool]:
    """Predicate: the config profiles one of the registry optimizers ``names``."""
    return lambda cfg: any(s.named(*names) for s in cfg.optimizers)


def _direction(
    slug: str, name: str, words: str, probe: str, reference: str, ref_words: str, source: str
) -> Claim:
    return Claim(
        id=f"{NAME}/{slug}",
        statement=f"{words} converges in direction to the {ref_words} max-margin solution; "
        f"the lab checks that it ends nearest that reference (of the probe's three) on "
        "every dataset",
        source=source,
        quantity=f"fraction of datasets on which {words} ends nearest the {ref_words} margin",
        measure=nearest_fraction(probe, name, reference),
        criterion=Criterion(">=", 1.0),
        presets=_LEVELS,
        applies=has(name),
        requires=f"optimizers has {name}",
    )


CLAIMS: tuple[Claim, ...] = (
    _direction("gd-l2", "gd", "GD", "margin-vectors", "l2", "l2", SOUDRY),
    _direction("sign-gd-linf", "sign_gd", "sign GD", "margin-vectors", "linf", "l_inf", GUNASEKAR),
    _direction("adam-linf", "adam", "Adam", "margin-vectors", "linf", "l_inf", ZHANG),
    _direction(
        "cd-l1", "coordinate_descent", "coordinate descent", "margin-vectors", "l1", "l1", GUNASEKAR
    ),
    _direction(
        "muon-spectral", "muon", "Muon", "margin-matrices", "spectral", "spectral-norm", FAN
    ),
    _direction(
        "spectral-gd-spectral",
        "spectral_gd",
        "spectral descent",
        "margin-matrices",
        "spectral",
        "spectral-norm",
        FAN,
    ),
)

SUN = (
    "Sun, Ahn, Thrampoulidis & Azizan 2022 (NeurIPS), 'Mirror descent maximizes generalized "
    "margin and can be implemented efficiently'; for regression, Gunasekar et al. 2018 (ICML), "
    "losses with a unique finite root (mirror descent on under-determined least squares)"
)
ROW_SPACE = (
    "Gunasekar et al. 2018 (ICML), losses with a unique finite root; Zhang et al. 2017 (ICLR), "
    "section 5: GD on "
    "least squares from zero stays in the row space of X and converges to the min-l2 solution"
)


def worst(
    probe: str, name: str, quantity: str, around: float | None = None
) -> Callable[[Results], float]:
    """The largest per-seed value of ``quantity`` of ``name`` in ``probe`` (with ``around``,
    of ``|value - around|``). A NaN seed makes it NaN, which no criterion accepts."""

    def measure(results: Results) -> float:
        values = np.asarray(
            entry(results, probe, name)["measures"][quantity]["values"], dtype=np.float64
        )
        return float(np.max(values if around is None else np.abs(values - around)))

    return measure


CLAIMS = CLAIMS + (
    Claim(
        id=f"{NAME}/gd-min-l2",
        statement="GD on under-determined least squares from zero converges to the "
        "min-l2-norm interpolator; the lab checks a relative distance of at most 1e-6 in "
        "every seed (float64 round-off is ~1e-15; the probe's interpolators are ~0.2 apart)",
        source=ROW_SPACE,
        quantity="largest relative distance of GD's solution to the min-l2 interpolator",
        measure=worst("interpolation", "gd", "dist_l2"),
        criterion=Criterion("<=", 1e-6),
        presets=_LEVELS,
        applies=has("gd"),
        requires="optimizers has gd",
    ),
    Claim(
        id=f"{NAME}/pnorm-gd-bregman",
        statement="p-norm GD (mirror descent with potential |w|_p^p / p) on under-determined "
        "least squares from zero converges to the interpolator closest in the Bregman "
        "divergence of its potential, the min-l_p one; the lab checks a relative distance of "
        "at most 1e-3 to the cvxpy solution in every seed (the min-l2 and min-l_p "
        "interpolators of the probe are ~0.2 apart)",
        source=SUN,
        quantity="largest relative distance of p-norm GD's solution to the min-l_p interpolator",
        measure=worst("interpolation", "pnorm_gd", "dist_lp"),
        criterion=Criterion("<=", 1e-3),
        presets=_LEVELS,
        applies=has("pnorm_gd"),
        requires="optimizers has pnorm_gd",
    ),
)

COHEN_2021 = (
    "Cohen et al. 2021 (ICLR), 'Gradient descent on neural networks typically occurs at the "
    "edge of stability', abstract: the sharpness hovers just above 2/eta"
)
COHEN_2022 = (
    "Cohen et al. 2022 (arXiv 2207.14484), 'Adaptive gradient methods at the edge of "
    "stability', abstract: the preconditioned sharpness equilibrates at the stability "
    "threshold (2 + 2 b1) / ((1 - b1) eta), 38/eta for b1 = 0.9"
)


CLAIMS = CLAIMS + (
    Claim(
        id=f"{NAME}/gd-edge-of-stability",
        statement="full-batch GD trains at the edge of stability: the sharpness rises to 2/eta "
        "and hovers there (just above it); the lab checks S eta / 2 within 10% of 1 over the "
        "late window, in every seed",
        source=COHEN_2021,
        quantity="largest |S eta/2 - 1| over seeds (late-window median of the sharpness S)",
        measure=worst("stability", "gd", "sharpness_ratio", around=1.0),
        criterion=Criterion("<=", 0.1),
        presets=_LEVELS,
        applies=has("gd"),
        requires="optimizers has gd",
    ),
    Claim(
        id=f"{NAME}/adam-preconditioned-edge",
        statement="full-batch Adam trains at the adaptive edge of stability: the largest "
        "eigenvalue of P^-1 H (preconditioner frozen) equilibrates at (2 + 2 b1) / ((1 - b1) "
        "eta), i.e. 38/eta for b1 = 0.9; the lab checks it within 10% over the late window, "
        "in every seed",
        source=COHEN_2022,
        quantity="largest |lambda_1(P^-1 H) / threshold - 1| over seeds (late-window median)",
        measure=worst("stability", "adam", "precond_ratio", around=1.0),
        criterion=Criterion("<=", 0.1),
        presets=_LEVELS,
        applies=has("adam"),
        requires="optimizers has adam",
    ),
)

OPTIMIZER_OF: dict[str, str] = {
    c.id: c.requires.removeprefix("optimizers has ") for c in CLAIMS if c.requires
}
"""Claim id -> the registry optimizer it is about (the cards list a card's claims)."""
