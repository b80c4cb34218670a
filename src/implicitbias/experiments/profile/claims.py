"""The profile's claims: the direction theory predicts for a named optimizer, checked on its
row of the profile, each only when that optimizer is in the list.

The margin claims are the lab's wording of "converges in direction to" after a finite number
of steps, per dataset of the probe (one value per dataset, so a verdict that differs between
datasets *flips*): the run ends nearer the predicted reference than the other two (the
probe's data keep the references at least 20 degrees apart, so the nearest one is not decided
by a hair) and nearer than after its first step from 0 (a run that did not move toward the
reference, but whose first step already landed nearest it, does not pass).

The per-seed claims read every seed's value (a NaN seed fails); ``gd-min-l2`` and
``pnorm-gd-bregman`` are *self-checks*: exact consequences of the update rule (the iterates,
or their mirror image, stay in the row space of X), not empirical findings.
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


def lead(probe: str, name: str, reference: str) -> Callable[[Results], np.ndarray]:
    """Per dataset, how many degrees ``name`` ends nearer ``reference`` than the nearest of
    (its own angle to ``reference`` after the first step, its final angles to the probe's
    other references): ``min(first, others) - final``; positive when the run both ends
    nearest ``reference`` and moved toward it from the first step. NaN where a run could not
    be measured (no criterion accepts it)."""

    def measure(results: Results) -> np.ndarray:
        found = entry(results, probe, name)
        values = found["measures"]
        others = [r for r in found["nearest"]["counts"] if r != reference]

        def angle(key: str) -> np.ndarray:
            return np.asarray(values[key]["values"], dtype=np.float64)

        rivals = [angle(f"first_angle_{reference}")] + [angle(f"angle_{r}") for r in others]
        return np.min(np.stack(rivals), axis=0) - angle(f"angle_{reference}")

    return measure


def has(*names: str) -> Callable[[Any], bool]:
    """Predicate: the config profiles one of the registry optimizers ``names``."""
    return lambda cfg: any(s.named(*names) for s in cfg.optimizers)


def _direction(
    slug: str, name: str, words: str, probe: str, reference: str, ref_words: str, source: str
) -> Claim:
    return Claim(
        id=f"{NAME}/{slug}",
        statement=f"{words} converges in direction to the {ref_words} max-margin solution "
        "(see source). Lab's criterion, per dataset, after the probe's finite run: it ends "
        f"nearer the {ref_words} reference than the other two (the probe keeps them >= 20 "
        "degrees apart) AND nearer than its own first step from 0 was (the baseline: one step "
        "can already land nearest a reference); it holds when that holds on every dataset",
        source=source,
        quantity=f"per dataset, min(angle to the {ref_words} reference after step 1, final angles "
        f"to the other references) - final angle to the {ref_words} reference (degrees)",
        measure=lead(probe, name, reference),
        criterion=Criterion(">", 0.0),
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
    Claim(
        id=f"{NAME}/muon-spectral",
        statement="Muon (normalized momentum steepest descent in the spectral norm) converges in "
        "direction to the spectral-norm max-margin solution (see source). Lab's criterion, as "
        "for the other margin claims: on every dataset of the probe, Muon ends nearer the "
        "spectral-norm set than the other two and nearer than after its first step; the "
        "number is the fraction of datasets on which it does (the lab established that the "
        "registry's Muon misses on some datasets, so a per-dataset verdict would flip)",
        source=FAN,
        quantity="fraction of datasets on which Muon's lead on the spectral-norm set is > 0",
        measure=lambda results: float(
            np.mean(lead("margin-matrices", "muon", "spectral")(results) > 0)
        ),
        criterion=Criterion(">=", 1.0),
        presets=_LEVELS,
        applies=has("muon"),
        requires="optimizers has muon",
        expect="refuted",
        refuted_because="in the probe's finite run optax's Muon (5 quintic Newton-Schulz steps: an "
        "approximate polar factor, singular values ~[0.68, 1.13]) ends nearest Frobenius on 1 "
        "of 5 datasets; with the exact polar factor it is spectral on 5/5, momentum 0 changes "
        "nothing",
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


def per_seed(
    probe: str, name: str, quantity: str, around: float | None = None
) -> Callable[[Results], np.ndarray]:
    """The per-seed values of ``quantity`` of ``name`` in ``probe`` (with ``around``,
    ``|value - around|``): ``verify`` judges every seed, and a NaN seed fails."""

    def measure(results: Results) -> np.ndarray:
        values = np.asarray(
            entry(results, probe, name)["measures"][quantity]["values"], dtype=np.float64
        )
        return values if around is None else np.abs(values - around)

    return measure


CLAIMS = CLAIMS + (
    Claim(
        id=f"{NAME}/gd-min-l2",
        statement="GD on under-determined least squares from zero converges to the "
        "min-l2-norm interpolator X^+ y: its iterates never leave the row space of X (Zhang et "
        "al. 2017, section 5). Lab's criterion: relative distance at most 1e-6 in every seed, "
        "at a step where the run interpolates (float64 round-off is ~1e-15; the probe's "
        "interpolators are ~0.2 apart)",
        source=ROW_SPACE,
        quantity="per seed, relative distance of GD's solution to the min-l2 interpolator",
        measure=per_seed("interpolation", "gd", "dist_l2"),
        criterion=Criterion("<=", 1e-6),
        presets=_LEVELS,
        applies=has("gd"),
        requires="optimizers has gd",
        kind="self-check",
    ),
    Claim(
        id=f"{NAME}/pnorm-gd-bregman",
        statement="p-norm GD (mirror descent with potential |w|_p^p / p) on under-determined "
        "least squares from zero converges to the interpolator closest in the Bregman "
        "divergence of its potential, the min-l_p one (its mirror image grad psi(w) stays in "
        "the row space of X). Lab's criterion: relative distance at most 1e-3 to the cvxpy "
        "solution in every seed, at a step where the run interpolates (residual <= 1e-6 "
        "||y||); the min-l2 and min-l_p interpolators of the probe are ~0.2 apart",
        source=SUN,
        quantity="per seed, relative distance of p-norm GD's solution to the min-l_p interpolator",
        measure=per_seed("interpolation", "pnorm_gd", "dist_lp"),
        criterion=Criterion("<=", 1e-3),
        presets=_LEVELS,
        applies=has("pnorm_gd"),
        requires="optimizers has pnorm_gd",
        kind="self-check",
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
        quantity="per seed, |S eta/2 - 1| (late-window median of the sharpness S)",
        measure=per_seed("stability", "gd", "sharpness_ratio", around=1.0),
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
        quantity="per seed, |lambda_1(P^-1 H) / threshold - 1| (late-window median)",
        measure=per_seed("stability", "adam", "precond_ratio", around=1.0),
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
