"""The geometry claims and the results keys they, the plots and the tests read."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.geometry.config import NAME, GeometryConfig
from implicitbias.experiments.geometry.optimizers import (
    _CD,
    _GD,
    _LINF,
    _NCD,
    _NGD,
    _SIGN,
    NORMALIZED,
    THEORY,
    Theory,
    method_keys,
    theory_holds,
)
from implicitbias.problems.margin_references import REFS
from implicitbias.runs.results import Results

SEED = "seed 004, Experiment 3"


def _angles(r: Results, method: str) -> np.ndarray:
    """(B, 3) final angles of ``method`` to l1, l2, l_inf."""
    a = r.get(f"methods.{method}.final_angle")
    return np.stack([a[ref] for ref in REFS], axis=1)


def lead(r: Results, method: str, ref: str, among: tuple[str, ...] = REFS) -> float:
    """Worst init's angle to ``ref`` minus its smallest angle to the other references of
    ``among`` (degrees; < 0: every init ends nearest ``ref``)."""
    a = _angles(r, method)
    others = [REFS.index(o) for o in among if o != ref]
    return float(np.max(a[:, REFS.index(ref)] - np.min(a[:, others], axis=1)))


def _at(r: Results, method: str, ref: str) -> float:
    """Worst angle to ``ref`` in units of the l2 - l_inf separation."""
    return float(
        np.max(_angles(r, method)[:, REFS.index(ref)]) / r.get("references.angles.l2-linf")
    )


def _runs(role: str, strict: bool = True) -> Callable[[GeometryConfig], bool]:
    """Predicate: ``cfg.methods`` has a method of ``role`` (with the theory's assumptions
    when ``strict``)."""

    def applies(cfg: GeometryConfig) -> bool:
        spec = method_keys(cfg.methods).get(role)
        return spec is not None and (theory_holds(spec) or not strict)

    return applies


def _requires(role: str, strict: bool = True) -> str:
    """In words: which entry of ``methods`` a claim about ``role`` needs."""
    entry = next(t for t in (*THEORY.values(), *NORMALIZED.values()) if t.role == role)
    names = [n for n, t in THEORY.items() if t.role == role]
    names += [
        f"{n}(normalized=True)"
        for n, t in THEORY.items()
        if n.startswith(("steepest_", "coordinate_")) and NORMALIZED[t.geometry].role == role
    ]
    extra = " and ".join(f"{k}={v}" for k, v in entry.assumes) if strict else ""
    return "methods has " + " or ".join(names) + (f" with {extra}" if extra else "")


_BUILTIN = {"quick": "default", "full": "highdim"}
_SEEDP = {"quick": "seed-004", "full": "seed-004"}
_LEAD = "angle to the {} reference minus the smallest angle to the other two, worst init (deg)"


def _nearest(
    entry: Theory, also: tuple[str, ...] = ("smoke",), presets: dict | None = None
) -> Claim:
    return Claim(
        id=f"{NAME}/{entry.role}-{entry.reference}",
        statement=f"{entry.label} ends nearest the {entry.reference} max-margin direction.",
        source=entry.source,
        quantity=_LEAD.format(entry.reference),
        measure=functools.partial(lead, method=entry.role, ref=entry.reference),
        criterion=Criterion("<", 0.0),
        presets=_BUILTIN if presets is None else presets,
        also=also,
        applies=_runs(entry.role),
        requires=_requires(entry.role),
    )


def _seed(name, statement, quantity, measure, criterion, role=None) -> Claim:
    return Claim(
        id=f"{NAME}/{name}",
        statement=statement,
        source=SEED,
        quantity=quantity,
        measure=measure,
        criterion=criterion,
        presets=_SEEDP,
        applies=_runs(role, strict=False) if role else None,
        requires=_requires(role, strict=False) if role else "",
    )


KEYS = (
    "references.angles.l2-linf",
    "references.min_pairwise",
    *(f"methods.{role}.{k}" for role in ("gd", "adam") for k in ("final_angle", "lead")),
    "table",
)
"""Results keys read by the claims, plots and tests (``methods.<key>.*`` exists for every
method; :func:`method_keys` names them)."""

CLAIMS = (
    _nearest(_GD),
    _nearest(_NGD),
    _nearest(_CD),
    _nearest(_NCD),
    _nearest(_LINF),
    _nearest(_SIGN),
    _nearest(THEORY["adam"]),
    # Lion is not among the default methods, so `verify` (which runs the defaults) never
    # measures it: it is measured on any run whose methods include lion.
    _nearest(THEORY["lion"], also=("smoke", "default", "highdim"), presets={}),
    _seed(
        "seed-sgd-l2",
        "SGD (full-batch GD, lr 0.1) goes to the l2 max margin, nearer than to the l_inf one.",
        "angle to l2 minus angle to l_inf (deg)",
        lambda r: lead(r, "gd", "l2", ("l2", "linf")),
        Criterion("<", 0.0),
        role="gd",
    ),
    _seed(
        "seed-adam-linf",
        "Adam (lr 0.1) tends to converge closer to the max l_inf margin.",
        "angle to l_inf minus angle to l2 (deg)",
        lambda r: lead(r, "adam", "linf", ("l2", "linf")),
        Criterion("<", 0.0),
        role="adam",
    ),
    _seed(
        "seed-separation",
        "The experiment tells the geometries apart: its l2 and l_inf "
        "max-margin directions are >= 10 degrees apart.",
        "angle between the l2 and l_inf directions (deg)",
        "references.angles.l2-linf",
        Criterion(">=", 10.0),
    ),
    _seed(
        "seed-sgd-at-l2",
        "SGD reaches the l2 max-margin direction in 2000 steps (within "
        "half the l2 - l_inf separation).",
        "angle(SGD, l2) / angle(l2, l_inf)",
        lambda r: _at(r, "gd", "l2"),
        Criterion("<", 0.5),
        role="gd",
    ),
    _seed(
        "seed-adam-at-linf",
        "Adam reaches the l_inf max-margin direction in 2000 steps "
        "(within half the l2 - l_inf separation).",
        "angle(Adam, l_inf) / angle(l2, l_inf)",
        lambda r: _at(r, "adam", "linf"),
        Criterion("<", 0.5),
        role="adam",
    ),
)
