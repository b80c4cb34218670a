"""The geometry of algorithms: each optimizer's limit direction is its norm's max margin.

Command::

    implicitbias run geometry                     # 2D built-in data, ~15 s on 2 CPU cores
    implicitbias run geometry --preset highdim    # d = 10 built-in data
    implicitbias run geometry --preset seed-004   # seed 004's Experiment 3, exactly
    implicitbias run geometry --set "methods=gd,sign_gd,adam(eps=0.0),lion,muon"

Setting: a linear classifier :math:`w \\in \\mathbb R^d` on separable data, exponential loss
:math:`L(w) = \\frac1n\\sum_i e^{-y_i w^\\top x_i}` (summed for seed 004), float64. Steepest
descent w.r.t. a norm converges in direction to the max-margin solution of that norm,
:math:`\\arg\\min \\lVert w\\rVert` s.t. :math:`y_i w^\\top x_i \\ge 1`, when it is unique
(Gunasekar et al. 2018, ICML, section 4): GD -> l2 (Soudry et al. 2018, JMLR), greedy
coordinate descent (l1 steepest) -> l1, sign descent and l_inf steepest descent -> l_inf;
Adam without its stability constant -> l_inf (Zhang et al. 2024, NeurIPS). The references
come from convex solvers (:mod:`implicitbias.problems.margin_references`); the run also
measures the width of the optimal face of the l1 and l_inf linear programs (0 when unique).

``methods`` is a list of optimizer specs (``--set "methods=gd,adam(b2=0.99),lion"``). What
the step-size rule and the claims need to know of an optimizer (the norm of its steps,
whether they are normalized, the max margin the theory predicts and its source) is in
:data:`THEORY`, keyed by the registry name (``spec.base_name``). An optimizer with no
entry (muon, adafactor, a user's factory) still runs, with GD's step rule below, and its
angles to the three references are reported; no claim is made about it.

Step sizes (not tuned per claim): the *unnormalized* methods (GD, coordinate descent, l_inf
steepest descent, momentum, and every optimizer with no entry) take Gunasekar et al.'s
largest constant step, :math:`\\eta = 1/(B_*^2 L(w_0))` with
:math:`B_* = \\max_i \\lVert x_i\\rVert_*` (dual norm; l2 without an entry), which keeps
:math:`\\eta \\le 1/(B_*^2 L(w_t))` as the loss decreases. The *normalized* methods
(normalized GD, normalized coordinate descent, sign GD, Adam, Lion) take unit steps in
their norm scaled by :math:`\\eta_t = \\eta_0/\\sqrt{t+1}`, :math:`\\eta_0 = 1/B_*` (so the
first step moves no margin by more than 1; Nacson et al. 2019, AISTATS), Adam with
:math:`\\epsilon = 0` as analysed by Zhang et al. The decay is ``spec.replace(schedule=
"inverse_sqrt")``; it is skipped (and the run says so) when the spec sets its own
``schedule`` or its factory takes none (``optax:adam``).

Expected outcome (measured, see docs/experiments/geometry.md): after 1e5 steps every
method ends nearest its own reference on both built-in sets; the normalized methods are
within 0.3 degree (2D) / 3.3 degrees (d = 10), the angle decaying like t^-0.34 to t^-0.51;
the unnormalized ones move only O(log t) in norm, so their init still shows (up to 8 and 17
degrees). Adam is the least settled: 2.7 degrees from a tie between l2 and l_inf on the worst
2D init. On seed 004's data the l2 and l_inf directions are only 1.14 degrees apart, SGD
stops after one giant step and Adam is 16.8 degrees from l_inf after 2000 steps.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from implicitbias import engine
from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, optimizers_param, param
from implicitbias.datasets import geometry_data
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment, register
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.classification import (
    exponential_mean,
    exponential_sum,
    reference_angles,
)
from implicitbias.problems.margin_references import REFS, dual_bound, lp_face_width, references
from implicitbias.runs.results import Results

NAME = "geometry"
GUNASEKAR = "Gunasekar et al. 2018 (ICML)"
SOUDRY = "Soudry et al. 2018 (JMLR); Gunasekar et al. 2018 (ICML)"
NACSON = "Nacson et al. 2019 (AISTATS); Gunasekar et al. 2018 (ICML)"
ZHANG = "Zhang et al. 2024 (Adam -> l_inf max margin)"
WANG = (
    "Wang et al. 2022 (NeurIPS), 'Does Momentum Change the Implicit Regularization on "
    "Separable Data?': GD with momentum -> l2 max margin"
)
SIGNUM = (
    "Fan, Schmidt & Thrampoulidis 2025 (arXiv:2502.04664) and Gronich & Vardi 2026 "
    "(arXiv:2602.16340): momentum sign descent (Signum; Lion's step is the sign of a "
    "momentum average) -> l_inf max margin with a decaying step"
)
SEED = "seed 004, Experiment 3"
_INV = "inverse_sqrt"
_DEFAULT_METHODS = (
    "gd,normalized_gd,steepest_l1,steepest_l1(normalized=True),steepest_linf,sign_gd,"
    "adam(b1=0.9,b2=0.999,eps=0.0)"
)

__all__ = ["THEORY", "GeometryConfig", "Theory", "lp_face_width", "method_keys", "theory_of"]


# ---------------------------------------------------------------------------------------
# what the theory says of each optimizer
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Theory:
    """What the step rule and the claims need to know of one optimizer.

    Attributes:
        role: the results key and claim name of the method (``methods.<role>``).
        label: its name in the claims' statements.
        geometry: the norm of its steps; its dual norm sets :math:`B_*`.
        normalized: unit steps in that norm (else Gunasekar's :math:`\\lVert g\\rVert_*`
            steps).
        reference: the max margin the theory predicts.
        source: where the theory is proved.
        assumes: hyperparameter values the theory needs (``(("eps", 0.0),)`` for Adam);
            with other values the method runs but its claim is not applicable.
        traced: hyperparameters handed to the engine per batch member rather than built
            into the program (Adam's betas and ``eps``: one compiled program for every
            value, and the same floating-point program as the earlier releases).
    """

    role: str
    label: str
    geometry: str
    normalized: bool
    reference: str
    source: str
    assumes: tuple[tuple[str, Any], ...] = ()
    traced: tuple[str, ...] = ()


_GD = Theory("gd", "GD", "l2", False, "l2", SOUDRY)
_NGD = Theory("normalized_gd", "normalized GD", "l2", True, "l2", NACSON)
_CD = Theory("coordinate_descent", "coordinate descent", "l1", False, "l1", GUNASEKAR)
_NCD = Theory("normalized_cd", "normalized coord. descent", "l1", True, "l1", NACSON)
_LINF = Theory("steepest_linf", "l_inf steepest descent", "linf", False, "linf", GUNASEKAR)
_SIGN = Theory("sign_gd", "sign GD", "linf", True, "linf", NACSON)

THEORY: dict[str, Theory] = {
    "gd": _GD,
    "sgd": _GD,
    "steepest_l2": _GD,
    "normalized_gd": _NGD,
    "steepest_l1": _CD,
    "coordinate_descent": _CD,
    "steepest_linf": _LINF,
    "sign_gd": _SIGN,
    "adam": Theory(
        "adam", "Adam", "linf", True, "linf", ZHANG, (("eps", 0.0),), ("b1", "b2", "eps")
    ),
    "heavy_ball": Theory("heavy_ball", "heavy ball", "l2", False, "l2", WANG),
    "nesterov": Theory("nesterov", "Nesterov momentum", "l2", False, "l2", WANG),
    "lion": Theory("lion", "Lion", "linf", True, "linf", SIGNUM, (("weight_decay", 0.0),)),
}
"""Registry base name -> :class:`Theory`. The steepest-descent factories with
``normalized=True`` map to :data:`NORMALIZED` of their norm. Not here: ``muon`` (on the
vector parameter of this model optax's Muon runs NAdam; the spectral-norm result of Fan et
al. 2025 is for matrix parameters), ``adafactor``, ``adamw`` (weight decay), the noisy and
grokfast variants, and any import path whose attribute is not one of these names."""

NORMALIZED = {"l2": _NGD, "l1": _NCD, "linf": _SIGN}
"""The normalized sibling of each steepest descent (``steepest_l1(normalized=True)``)."""


def _factory_defaults(spec: OptimizerSpec) -> dict[str, Any] | None:
    """Keyword defaults of the spec's factory (``None``: it takes ``**kwargs``)."""
    try:
        params = inspect.signature(spec.factory()).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name: p.default for p in params if p.kind is not inspect.Parameter.VAR_POSITIONAL}


def hyperparameter(spec: OptimizerSpec, key: str) -> Any:
    """The value the optimizer runs with: the spec's, else its factory's default."""
    if key in spec.kwargs:
        return spec.kwargs[key]
    default = (_factory_defaults(spec) or {}).get(key, inspect.Parameter.empty)
    return None if default is inspect.Parameter.empty else default


def theory_of(spec: OptimizerSpec) -> Theory | None:
    """The :data:`THEORY` entry of ``spec`` (by ``spec.base_name``), or ``None``."""
    entry = THEORY.get(spec.base_name)
    if entry is not None and spec.base_name.startswith(("steepest_", "coordinate_")):
        if hyperparameter(spec, "normalized"):
            return NORMALIZED[entry.geometry]
    return entry


def theory_holds(spec: OptimizerSpec) -> bool:
    """Whether ``spec`` has a theory reference and the hyperparameters it assumes."""
    entry = theory_of(spec)
    return entry is not None and all(hyperparameter(spec, k) == v for k, v in entry.assumes)


def method_keys(specs: tuple[OptimizerSpec, ...]) -> dict[str, OptimizerSpec]:
    """Results key -> spec: the :class:`Theory` role of its first method of each role,
    else the label with every run of other characters made ``_`` (``user_optim_f``)."""
    out: dict[str, OptimizerSpec] = {}
    for spec in specs:
        entry = theory_of(spec)
        key = entry.role if entry and entry.role not in out else ""
        key = key or re.sub(r"[^0-9A-Za-z]+", "_", spec.label).strip("_")
        base, i = key or "method", 2
        while key in out or not key:
            key, i = f"{base}_{i}", i + 1
        out[key] = spec
    return out


@dataclasses.dataclass(frozen=True)
class GeometryConfig(Config):
    """Which max-margin direction does each optimizer's iterate converge to?"""

    dataset: Literal["plane", "highdim", "seed-004"] = param(
        "plane", "built-in data (implicitbias.datasets.geometry_data)"
    )
    methods: tuple[OptimizerSpec, ...] = optimizers_param(
        _DEFAULT_METHODS, "optimizers to compare, each run from every init"
    )
    steps: int = param(100_000, "optimizer steps", low=1)
    num_inits: int = param(4, "inits per method, run as one batch", low=1)
    init_scale: float = param(
        1.0,
        "norm of the inits (2D: evenly spaced directions from 60 "
        "degrees; else Gaussian directions)",
        low=0,
        low_open=True,
    )
    start: tuple[float, ...] = param((), "one explicit init (replaces num_inits)")
    loss: Literal["mean", "sum"] = param("mean", "exponential loss averaged or summed")
    learning_rate: float | None = param(
        None,
        "one base step for every method; none: 1/(B*^2 L(w0)) for the unnormalized "
        "methods, 1/B* for the normalized ones and Adam",
        low=0,
        low_open=True,
    )
    decay: bool = param(True, "normalized methods and Adam use eta_t = eta / sqrt(t + 1)")
    num_logs: int = param(200, "log-spaced logged steps", low=2)

    PRESETS = {
        "smoke": dict(steps=2000, num_inits=2, num_logs=40),
        "default": {},
        "highdim": dict(dataset="highdim"),
        "seed-004": dict(
            dataset="seed-004",
            methods="gd,adam(b1=0.9,b2=0.999,eps=1e-8)",
            steps=2000,
            start=(-2.0, -0.5),
            loss="sum",
            learning_rate=0.1,
            decay=False,
        ),
    }

    def validate(self) -> None:
        if not self.methods or len(set(self.methods)) != len(self.methods):
            raise ConfigError("methods", "a non-empty list of distinct optimizers", self.methods)
        dim = geometry_data.load(self.dataset)[0].shape[1]
        if len(self.start) not in (0, dim):
            raise ConfigError("start", f"empty or {dim} numbers (the data's dimension)", self.start)


# ---------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------
def _inits(cfg: GeometryConfig, d: int) -> np.ndarray:
    """Explicit start, or ``num_inits`` directions of norm ``init_scale``."""
    if cfg.start:
        return np.asarray(cfg.start, dtype=np.float64)[None, :]
    if d == 2:
        theta = np.pi / 3 + 2 * np.pi * np.arange(cfg.num_inits) / cfg.num_inits
        dirs = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    else:
        dirs = np.random.RandomState(cfg.seed).randn(cfg.num_inits, d)
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    return cfg.init_scale * dirs


def step_rule(
    cfg: GeometryConfig, spec: OptimizerSpec, X, y, inits, loss
) -> tuple[OptimizerSpec, dict[str, Any], str]:
    """The step-size rule of the module docstring: ``(spec to run, hparams, note)``.

    ``hparams["learning_rate"]`` is a number or one per init, beside the entry's
    :attr:`Theory.traced` hyperparameters; ``note`` says which schedule runs.
    """
    entry = theory_of(spec)
    geometry, normalized = (entry.geometry, entry.normalized) if entry else ("l2", False)
    B = dual_bound(X, geometry)
    if cfg.learning_rate is not None:
        lr: Any = cfg.learning_rate
    elif normalized:
        lr = 1.0 / B
    else:
        lr = np.array([1.0 / (B**2 * float(loss(w, (X, y)))) for w in inits])
    traced = {k: spec.kwargs[k] for k in (entry.traced if entry else ()) if k in spec.kwargs}
    hparams = {"learning_rate": lr, **traced}
    spec = spec.replace(**dict.fromkeys(traced))
    if "schedule" in spec.kwargs:
        return spec, hparams, str(spec.kwargs["schedule"])
    if not (normalized and cfg.decay):
        return spec, hparams, "constant"
    defaults = _factory_defaults(spec)
    if defaults is not None and "schedule" not in defaults:
        return spec, hparams, f"constant ({spec.name} takes no schedule)"
    return spec.replace(schedule=_INV), hparams, _INV


_HINT = (
    "a step too large for the exponential loss (lower learning_rate), or float64 "
    "underflow of Adam's second moment once the margins pass ~350 (fewer steps)."
)


def _train(cfg, spec, X, y, refs, inits, loss):
    run_spec, hparams, schedule = step_rule(cfg, spec, X, y, inits, loss)
    traj = engine.train(
        loss,
        inits,
        run_spec,
        steps=cfg.steps,
        data=(X, y),
        hparams=hparams,
        metrics=reference_angles,
        aux={"refs": refs},
        aux_axis=None,
        num_logs=cfg.num_logs,
        keep_params=X.shape[1] == 2,
        description=f"{NAME}: {spec.label}",
        divergence_hint=_HINT,
    )
    return traj, hparams["learning_rate"], schedule


def _run_method(cfg, key, spec, X, y, refs, inits, results: Results) -> None:
    loss = exponential_sum if cfg.loss == "sum" else exponential_mean
    traj, lr, schedule = _train(cfg, spec, X, y, refs, inits, loss)
    entry = theory_of(spec)
    angles = np.stack([traj.metrics[f"angle_{r}"] for r in REFS], axis=-1)  # (L, B, 3)
    final = angles[-1]
    if entry is not None:
        own = REFS.index(entry.reference)
        own_lead = final[:, own] - np.min(np.delete(final, own, axis=1), axis=1)
        slope = _late_slope(traj.steps, angles[:, :, own])
    else:
        own_lead, slope = np.full(len(inits), np.nan), float("nan")
    results.arrays.update({f"{key}_angles": angles, f"{key}_final": np.asarray(traj.params)})
    if traj.snapshots is not None:
        paths = np.asarray(traj.snapshots)
        norms = np.maximum(np.linalg.norm(paths, axis=-1, keepdims=True), 1e-300)
        results.arrays[f"{key}_paths"] = paths / norms  # unit vectors (w = 0 stays 0)
    for name in ("loss", "norm", *(f"angle_{r}" for r in REFS)):
        results.metrics[f"{key}/{name}"] = traj.metrics[name]
    if results.steps is None:
        results.steps = traj.steps
    results.scalars.setdefault("methods", {})[key] = {
        "label": spec.label,
        "geometry": entry.geometry if entry else "l2 (no theory entry: GD's step rule)",
        "normalized": entry.normalized if entry else False,
        "reference": entry.reference if entry else None,
        "theory": entry.source if entry else f"none: no theory reference for {spec.label}",
        "theory_assumptions_hold": theory_holds(spec),
        "schedule": schedule,
        "learning_rate": np.broadcast_to(lr, (len(inits),)).tolist(),
        "final_angle": {r: final[:, i].tolist() for i, r in enumerate(REFS)},
        "nearest": [_nearest_names(row) for row in final],
        "lead": own_lead.tolist(),
        "worst_lead": float(np.max(own_lead)),
        "late_slope": slope,
        "final_loss": traj.metrics["loss"][-1].tolist(),
        "final_norm": traj.metrics["norm"][-1].tolist(),
        "compile_seconds": traj.compile_seconds,
        "run_seconds": traj.run_seconds,
    }


def _late_slope(steps: np.ndarray, angle: np.ndarray) -> float:
    """Slope of log(median angle to the theory reference) vs log(step) over the last decade
    of steps: about -1/2 for the normalized methods (rate ~ log t / sqrt t), near 0 for a
    1/log t rate (plain GD; Soudry et al. 2018)."""
    keep = steps >= max(1, steps[-1] // 10)
    if keep.sum() < 3:
        return float("nan")
    median = np.maximum(np.median(angle[keep], axis=1), 1e-300)
    return float(np.polyfit(np.log(steps[keep]), np.log(median), 1)[0])


def _nearest_names(angles: np.ndarray, tol: float = 1e-6) -> str:
    """The reference nearest to one final direction; ``"l1=l2"`` when references tie within
    ``tol`` degrees (on seed 004's data the l1 and l2 directions coincide)."""
    return "=".join(r for r, a in zip(REFS, angles, strict=True) if a <= angles.min() + tol)


def _table(results: Results) -> None:
    """One row per method: mean final angle to each reference and where it ends."""
    table = {}
    for name, m in results.scalars["methods"].items():
        nearest = sorted(set(m["nearest"]))
        table[name] = {
            "label": m["label"],
            **{f"angle_{r}": float(np.mean(m["final_angle"][r])) for r in REFS},
            "theory": m["reference"] or "none",
            "nearest": nearest[0]
            if len(nearest) == 1
            else "mixed: " + ", ".join(f"{m['nearest'].count(r)} {r}" for r in nearest),
        }
    results.scalars["table"] = table


def run(cfg: GeometryConfig) -> Results:
    """Run every method from every init; return the numbers (no printing)."""
    results = Results()
    X, y = geometry_data.load(cfg.dataset)
    refs, results.scalars["references"] = references(X, y)
    inits = _inits(cfg, X.shape[1])
    results.arrays.update(X=X, y=y, refs=refs, inits=inits)
    results.scalars["problem"] = {
        "dataset": cfg.dataset,
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
        "loss": cfg.loss,
        "steps": cfg.steps,
        "num_inits": int(len(inits)),
        "methods": [spec.label for spec in cfg.methods],
    }
    for key, spec in method_keys(cfg.methods).items():
        _run_method(cfg, key, spec, X, y, refs, inits, results)
    _table(results)
    return results


# ---------------------------------------------------------------------------------------
# claims
# ---------------------------------------------------------------------------------------
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

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="GD, sign GD, coordinate descent, Adam: which max margin (l1, l2, l_inf)?",
        config_cls=GeometryConfig,
        run=run,
        plots="implicitbias.experiments.geometry_plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)
