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

OPTIMIZER_OF: dict[str, str] = {
    c.id: c.requires.removeprefix("optimizers has ") for c in CLAIMS if c.requires
}
"""Claim id -> the registry optimizer it is about (the cards list a card's claims)."""
