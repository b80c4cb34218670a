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


def leads(r: Results, method: str, ref: str) -> np.ndarray:
    """Per init: angle to ``ref`` minus the smallest angle to the other two references
    (degrees; < 0: that init ends nearest ``ref``). The inits run as one batch, so a claim
    holds only when every init does and reports how many do."""
    a = _angles(r, method)
    others = [REFS.index(o) for o in REFS if o != ref]
    return a[:, REFS.index(ref)] - np.min(a[:, others], axis=1)


def _nearer_within(r: Results, method: str, ref: str, other: str) -> float:
    """Worst init's ``max(angle to ref - angle to other, angle to ref - separation)``
    (degrees; < 0: nearer ``ref`` than ``other`` *and* within one ref-other separation of
    ``ref``). Without the second term, in 2-D every direction outside the short arc between
    two close references scores exactly +-separation, whatever its distance to them."""
    a = _angles(r, method)
    sep = r.get(f"references.angles.{_pair(ref, other)}")
    own, rival = a[:, REFS.index(ref)], a[:, REFS.index(other)]
    return float(np.max(np.maximum(own - rival, own - sep)))


def _pair(a: str, b: str) -> str:
    """The key of a pair of references in ``references.angles`` (``l2-linf``)."""
    first, second = sorted((a, b), key=REFS.index)
    return f"{first}-{second}"


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


_LEAD = (
    "per init: angle to the {} reference minus the smallest angle to the other two (deg); "
    "the claim holds when every init's is < 0"
)


def _nearest(
    entry: Theory, also: tuple[str, ...] = ("smoke",), presets: dict | None = None
) -> Claim:
    return Claim(
        id=f"{NAME}/{entry.role}-{entry.reference}",
        statement=f"{entry.source}: {entry.label} converges in direction to the "
        f"{entry.reference} max-margin solution. Lab's criterion: after the run (1e5 steps on "
        f"the built-in data, references >= 22 degrees apart) every init ends nearer the "
        f"{entry.reference} direction than the other two.",
        source=entry.source,
        quantity=_LEAD.format(entry.reference),
        measure=functools.partial(leads, method=entry.role, ref=entry.reference),
        criterion=Criterion("<", 0.0),
        presets=_BUILTIN if presets is None else presets,
        also=also,
        applies=_runs(entry.role),
        requires=_requires(entry.role),
    )


def _seed(name, statement, quantity, measure, criterion, role=None, because="") -> Claim:
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
        expect="refuted" if because else "holds",
        refuted_because=because,
    )


_SGD_STOPS = (
    "SGD's first step (gradient norm 3156) takes w to (231.9, 211.5), where the summed loss "
    "is 7e-177 (0 in float32) and w stops: it ends 1.49 deg from l2 and 2.63 from l_inf, "
    "the direction of one gradient step, more than the 1.14 deg l2-l_inf separation from l2"
)
_ADAM_SLOW = (
    "after 2000 steps Adam has not converged: its second moment still holds the first, "
    "large gradients, so ||w|| = 2.9, loss 0.13, and it points 16.8 deg from l_inf and 17.9 "
    "from l2 (2.6 deg from l_inf after 1e5 steps)"
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
        "Seed 004, Experiment 3: 'For a linear model, SGD converges to the max l2 margin' "
        "(its lr 0.1, 2000 steps), rather than the l_inf one. Lab's criterion: nearer l2 than "
        "l_inf *and* within one l2-l_inf separation of l2; the references are 1.14 deg "
        "apart, so 'nearer' alone only says on which side of the pair the direction lies.",
        "worst init: max(angle to l2 - angle to l_inf, angle to l2 - separation) (deg)",
        lambda r: _nearer_within(r, "gd", "l2", "linf"),
        Criterion("<", 0.0),
        role="gd",
        because=_SGD_STOPS,
    ),
    _seed(
        "seed-adam-linf",
        "Seed 004, Experiment 3: 'Adam ... tends to converge closer to max l_inf margin "
        "solution' (lr 0.1, 2000 steps). Lab's criterion: nearer l_inf than l2 *and* within "
        "one l2-l_inf separation of l_inf; the references are 1.14 deg apart, so 'nearer' "
        "alone only says on which side of the pair the direction lies.",
        "worst init: max(angle to l_inf - angle to l2, angle to l_inf - separation) (deg)",
        lambda r: _nearer_within(r, "adam", "linf", "l2"),
        Criterion("<", 0.0),
        role="adam",
        because=_ADAM_SLOW,
    ),
    _seed(
        "seed-separation",
        "Seed 004, Experiment 3 ('Let us test these competition of geometries') can tell the "
        "l2 and l_inf geometries apart. Lab's criterion: the two max-margin directions are "
        ">= 10 deg apart, several times the 1-3 deg a 2000-step run is still off.",
        "angle between the l2 and l_inf directions (deg)",
        "references.angles.l2-linf",
        Criterion(">=", 10.0),
        because="on seed 004's data (its Experiment 1 clouds) the l2 and l_inf max-margin "
        "directions are 1.14 deg apart (l1 and l2 coincide); the references agree with "
        "independent solvers (HiGHS, SLSQP) in tests/test_geometry.py",
    ),
    _seed(
        "seed-sgd-at-l2",
        "Seed 004, Experiment 3: SGD reaches the l2 max-margin direction in its 2000 steps. "
        "Lab's criterion: within half the l2-l_inf separation, i.e. nearer l2 than the "
        "midpoint of the two.",
        "angle(SGD, l2) / angle(l2, l_inf)",
        lambda r: _at(r, "gd", "l2"),
        Criterion("<", 0.5),
        role="gd",
        because=_SGD_STOPS,
    ),
    _seed(
        "seed-adam-at-linf",
        "Seed 004, Experiment 3: Adam reaches the l_inf max-margin direction in its 2000 "
        "steps. Lab's criterion: within half the l2-l_inf separation, i.e. nearer l_inf "
        "than the midpoint of the two.",
        "angle(Adam, l_inf) / angle(l2, l_inf)",
        lambda r: _at(r, "adam", "linf"),
        Criterion("<", 0.5),
        role="adam",
        because=_ADAM_SLOW,
    ),
)
