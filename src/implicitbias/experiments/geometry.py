"""The geometry of algorithms: each optimizer's limit direction is its norm's max margin.

Command::

    implicitbias run geometry                     # 2D built-in data, ~15 s on 2 CPU cores
    implicitbias run geometry --preset highdim    # d = 10 built-in data
    implicitbias run geometry --preset seed-004   # seed 004's Experiment 3, exactly

Setting: a linear classifier :math:`w \\in \\mathbb R^d` on separable data, exponential loss
:math:`L(w) = \\frac1n\\sum_i e^{-y_i w^\\top x_i}` (summed for seed 004), float64. Steepest
descent w.r.t. a norm converges in direction to the max-margin solution of that norm,
:math:`\\arg\\min \\lVert w\\rVert` s.t. :math:`y_i w^\\top x_i \\ge 1`, when it is unique
(Gunasekar et al. 2018, ICML, section 4): GD -> l2 (Soudry et al. 2018, JMLR), greedy
coordinate descent (l1 steepest) -> l1, sign descent and l_inf steepest descent -> l_inf;
Adam without its stability constant -> l_inf (Zhang et al. 2024, NeurIPS). The references
come from convex solvers (:func:`implicitbias.theory.max_margin`); the run also measures
the width of the optimal face of the l1 and l_inf linear programs (0 when unique).

Step sizes (not tuned per claim): the *unnormalized* methods (GD, coordinate descent, l_inf
steepest descent) take Gunasekar et al.'s largest constant step,
:math:`\\eta = 1/(B_*^2 L(w_0))` with :math:`B_* = \\max_i \\lVert x_i\\rVert_*` (dual norm),
which keeps :math:`\\eta \\le 1/(B_*^2 L(w_t))` as the loss decreases. The *normalized*
methods (normalized GD, normalized coordinate descent, sign GD) and Adam take unit steps in
their norm scaled by :math:`\\eta_t = \\eta_0/\\sqrt{t+1}`, :math:`\\eta_0 = 1/B_*` (so the
first step moves no margin by more than 1; Nacson et al. 2019, AISTATS), Adam with
:math:`\\epsilon = 0` as analysed by Zhang et al.

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
from typing import Any, Literal

import numpy as np

from implicitbias import engine, optim
from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, param
from implicitbias.datasets import geometry_data
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment, register
from implicitbias.problems.classification import (
    exponential_mean,
    exponential_sum,
    reference_angles,
)
from implicitbias.runs.results import Results
from implicitbias.theory import angle_degrees, max_margin

NAME = "geometry"
REFS = ("l1", "l2", "linf")
GUNASEKAR = "Gunasekar et al. 2018 (ICML)"
SOUDRY = "Soudry et al. 2018 (JMLR); Gunasekar et al. 2018 (ICML)"
NACSON = "Nacson et al. 2019 (AISTATS); Gunasekar et al. 2018 (ICML)"
ZHANG = "Zhang et al. 2024 (Adam -> l_inf max margin)"
SEED = "seed 004, Experiment 3"
_INV = "inverse_sqrt"


@dataclasses.dataclass(frozen=True)
class Method:
    """An optimizer of the comparison.

    Attributes:
        label: name in figures.
        geometry: norm of the steps; sets :math:`B_*` with its dual norm.
        normalized: unit steps in that norm (else Gunasekar's :math:`\\lVert g\\rVert_*` steps).
        reference: the max margin the theory predicts.
        constant, decaying: module-level factories (constant / inverse-sqrt step), so that
            the engine reuses compiled programs.
    """

    label: str
    geometry: str
    normalized: bool
    reference: str
    constant: Any
    decaying: Any


def _pair(factory, **kw):
    return factory if not kw else functools.partial(factory, **kw), functools.partial(
        factory, schedule=_INV, **kw
    )


METHODS: dict[str, Method] = {
    "gd": Method("GD", "l2", False, "l2", *_pair(optim.gd)),
    "normalized_gd": Method("normalized GD", "l2", True, "l2", *_pair(optim.normalized_gd)),
    "coordinate_descent": Method(
        "coordinate descent", "l1", False, "l1", *_pair(optim.coordinate_descent)
    ),
    "normalized_cd": Method(
        "normalized coord. descent",
        "l1",
        True,
        "l1",
        *_pair(optim.coordinate_descent, normalized=True),
    ),
    "steepest_linf": Method(
        "l_inf steepest descent", "linf", False, "linf", *_pair(optim.steepest_linf)
    ),
    "sign_gd": Method("sign GD", "linf", True, "linf", *_pair(optim.sign_gd)),
    "adam": Method("Adam", "linf", True, "linf", *_pair(optim.adam)),
}
_DUAL_ORD = {"l2": 2, "l1": np.inf, "linf": 1}  # the dual norm of each geometry


@dataclasses.dataclass(frozen=True)
class GeometryConfig(Config):
    """Which max-margin direction does each optimizer's iterate converge to?"""

    dataset: Literal["plane", "highdim", "seed-004"] = param(
        "plane", "built-in data (implicitbias.datasets.geometry_data)"
    )
    methods: tuple[str, ...] = param(tuple(METHODS), "optimizers to compare: " + ", ".join(METHODS))
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
    adam_b1: float = param(0.9, "Adam's beta1", low=0, high=0.999999)
    adam_b2: float = param(0.999, "Adam's beta2", low=0, high=0.999999)
    adam_eps: float = param(0.0, "Adam's stability constant (Zhang et al. 2024: 0)", low=0)
    num_logs: int = param(200, "log-spaced logged steps", low=2)

    PRESETS = {
        "smoke": dict(steps=2000, num_inits=2, num_logs=40),
        "default": {},
        "highdim": dict(dataset="highdim"),
        "seed-004": dict(
            dataset="seed-004",
            methods=("gd", "adam"),
            steps=2000,
            start=(-2.0, -0.5),
            loss="sum",
            learning_rate=0.1,
            decay=False,
            adam_eps=1e-8,
        ),
    }

    def validate(self) -> None:
        unknown = [m for m in self.methods if m not in METHODS]
        if not self.methods or unknown or len(set(self.methods)) != len(self.methods):
            raise ConfigError(
                "methods",
                "distinct names among " + ", ".join(METHODS),
                self.methods,
                choices=list(METHODS),
            )
        dim = geometry_data.load(self.dataset)[0].shape[1]
        if len(self.start) not in (0, dim):
            raise ConfigError("start", f"empty or {dim} numbers (the data's dimension)", self.start)


# ---------------------------------------------------------------------------------------
# references
# ---------------------------------------------------------------------------------------
def lp_face_width(X: np.ndarray, y: np.ndarray, norm: str, slack: float = 1e-9) -> float:
    """Width of the optimal face of the l1 or l_inf max-margin linear program.

    With :math:`p^*` the optimal value, the near-optimal set
    :math:`\\{w : y_i w^\\top x_i \\ge 1,\\ \\lVert w\\rVert \\le (1 + \\mathrm{slack}) p^*\\}` is
    a polytope; its width :math:`\\max_j (\\max w_j - \\min w_j) / \\lVert w^*\\rVert_2` is
    ``O(slack)`` when the solution is a unique vertex and of order 1 when a whole edge or
    face is optimal. Standard reformulations (HiGHS): l1 with :math:`-u \\le w \\le u`,
    objective :math:`\\sum u`; l_inf with :math:`-t \\le w_j \\le t`, objective :math:`t`.
    """
    from scipy.optimize import linprog

    Z = np.asarray(y, dtype=np.float64)[:, None] * np.asarray(X, dtype=np.float64)
    n, d = Z.shape
    k = d if norm == "l1" else 1  # auxiliary variables
    bound = np.eye(d) if norm == "l1" else np.ones((d, 1))
    A = np.vstack(
        [
            np.hstack([-Z, np.zeros((n, k))]),
            np.hstack([np.eye(d), -bound]),
            np.hstack([-np.eye(d), -bound]),
        ]
    )
    b = np.concatenate([-np.ones(n), np.zeros(2 * d)])
    c = np.concatenate([np.zeros(d), np.ones(k)])
    free = [(None, None)] * (d + k)
    best = linprog(c, A_ub=A, b_ub=b, bounds=free, method="highs")
    A2, b2 = np.vstack([A, c]), np.append(b, best.fun * (1 + slack))
    widths = []
    for j in range(d):
        e = np.zeros(d + k)
        e[j] = 1.0
        lo = linprog(e, A_ub=A2, b_ub=b2, bounds=free, method="highs").fun
        hi = -linprog(-e, A_ub=A2, b_ub=b2, bounds=free, method="highs").fun
        widths.append(hi - lo)
    return float(max(widths) / np.linalg.norm(best.x[:d]))


def _references(X: np.ndarray, y: np.ndarray, results: Results) -> np.ndarray:
    """The three unit max-margin directions (3, d), their margins and uniqueness."""
    out: dict[str, Any] = {}
    dirs = []
    for norm in REFS:
        mm = max_margin(X, y, norm)
        width = 0.0 if norm == "l2" else lp_face_width(X, y, norm)  # l2: strictly convex
        out[norm] = {
            "direction": mm.direction.tolist(),
            "margin": mm.margin,
            "l2_margin": mm.l2_margin,
            "support": mm.support.tolist(),
            "face_width": width,
            "unique": bool(width < 1e-4),
        }
        dirs.append(mm.direction)
    angles = {
        f"{a}-{b}": angle_degrees(dirs[i], dirs[j])
        for i, a in enumerate(REFS)
        for j, b in enumerate(REFS)
        if i < j
    }
    out["angles"] = angles
    out["min_pairwise"] = min(angles.values())
    results.scalars["references"] = out
    return np.stack(dirs)


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


def _hparams(cfg: GeometryConfig, method: Method, X, y, inits, loss) -> dict[str, Any]:
    """The step-size rule of the module docstring, as engine hyperparameters."""
    B = float(np.max(np.linalg.norm(X, ord=_DUAL_ORD[method.geometry], axis=1)))
    if cfg.learning_rate is not None:
        lr: Any = cfg.learning_rate
    elif method.normalized:
        lr = 1.0 / B
    else:
        lr = np.array([1.0 / (B**2 * float(loss(w, (X, y)))) for w in inits])
    hp: dict[str, Any] = {"learning_rate": lr}
    if method is METHODS["adam"]:
        hp.update(b1=cfg.adam_b1, b2=cfg.adam_b2, eps=cfg.adam_eps)
    return hp


_HINT = (
    "a step too large for the exponential loss (lower learning_rate), or float64 "
    "underflow of Adam's second moment once the margins pass ~350 (fewer steps)."
)


def _run_method(cfg: GeometryConfig, name: str, X, y, refs, inits, results: Results) -> None:
    method = METHODS[name]
    loss = exponential_sum if cfg.loss == "sum" else exponential_mean
    decays = method.normalized and cfg.decay
    hp = _hparams(cfg, method, X, y, inits, loss)
    traj = engine.train(
        loss,
        inits,
        method.decaying if decays else method.constant,
        steps=cfg.steps,
        data=(X, y),
        hparams=hp,
        metrics=reference_angles,
        aux={"refs": refs},
        aux_axis=None,
        num_logs=cfg.num_logs,
        keep_params=X.shape[1] == 2,
        description=f"{NAME}: {name}",
        divergence_hint=_HINT,
    )
    angles = np.stack([traj.metrics[f"angle_{r}"] for r in REFS], axis=-1)  # (L, B, 3)
    final = angles[-1]
    own = REFS.index(method.reference)
    own_lead = final[:, own] - np.min(np.delete(final, own, axis=1), axis=1)
    results.arrays.update({f"{name}_angles": angles, f"{name}_final": np.asarray(traj.params)})
    if traj.snapshots is not None:
        paths = np.asarray(traj.snapshots)
        norms = np.maximum(np.linalg.norm(paths, axis=-1, keepdims=True), 1e-300)
        results.arrays[f"{name}_paths"] = paths / norms  # unit vectors (w = 0 stays 0)
    for key in ("loss", "norm", *(f"angle_{r}" for r in REFS)):
        results.metrics[f"{name}/{key}"] = traj.metrics[key]
    results.arrays.setdefault("steps", traj.steps)
    results.scalars.setdefault("methods", {})[name] = {
        "label": method.label,
        "geometry": method.geometry,
        "normalized": method.normalized,
        "reference": method.reference,
        "schedule": _INV if decays else "constant",
        "learning_rate": np.broadcast_to(hp["learning_rate"], (len(inits),)).tolist(),
        "final_angle": {r: final[:, i].tolist() for i, r in enumerate(REFS)},
        "nearest": [_nearest_names(row) for row in final],
        "lead": own_lead.tolist(),
        "worst_lead": float(np.max(own_lead)),
        "late_slope": _late_slope(traj.steps, angles[:, :, own]),
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
            **{f"angle_{r}": float(np.mean(m["final_angle"][r])) for r in REFS},
            "theory": m["reference"],
            "nearest": nearest[0]
            if len(nearest) == 1
            else "mixed: " + ", ".join(f"{m['nearest'].count(r)} {r}" for r in nearest),
        }
    results.scalars["table"] = table


def run(cfg: GeometryConfig) -> Results:
    """Run every method from every init; return the numbers (no printing)."""
    results = Results(NAME, "", cfg.to_dict())
    X, y = geometry_data.load(cfg.dataset)
    refs = _references(X, y, results)
    inits = _inits(cfg, X.shape[1])
    results.arrays.update(X=X, y=y, refs=refs, inits=inits)
    results.scalars["problem"] = {
        "dataset": cfg.dataset,
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
        "loss": cfg.loss,
        "steps": cfg.steps,
        "num_inits": int(len(inits)),
    }
    for name in cfg.methods:
        _run_method(cfg, name, X, y, refs, inits, results)
    _table(results)
    return results


# ---------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------
def plot(results: Results) -> dict[str, Any]:
    from implicitbias.experiments import geometry_plots

    return geometry_plots.all_figures(results)


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


_BUILTIN = {"quick": "default", "full": "highdim"}
_SEEDP = {"quick": "seed-004", "full": "seed-004"}
_LEAD = "angle to the {} reference minus the smallest angle to the other two, worst init (deg)"


def _nearest(method: str, ref: str, source: str) -> Claim:
    statement = f"{METHODS[method].label} ends nearest the {ref} max-margin direction."
    return Claim.legacy(
        f"{NAME}/{method}-{ref}",
        statement,
        source,
        NAME,
        _BUILTIN,
        _LEAD.format(ref),
        functools.partial(lead, method=method, ref=ref),
        Criterion("<", 0.0),
        ("smoke",),
    )


def _seed(name: str, statement: str, quantity: str, measure, criterion) -> Claim:
    return Claim.legacy(
        f"{NAME}/{name}", statement, SEED, NAME, _SEEDP, quantity, measure, criterion
    )


CLAIMS = (
    _nearest("gd", "l2", SOUDRY),
    _nearest("normalized_gd", "l2", NACSON),
    _nearest("coordinate_descent", "l1", GUNASEKAR),
    _nearest("normalized_cd", "l1", NACSON),
    _nearest("steepest_linf", "linf", GUNASEKAR),
    _nearest("sign_gd", "linf", NACSON),
    _nearest("adam", "linf", ZHANG),
    _seed(
        "seed-sgd-l2",
        "SGD (full-batch GD, lr 0.1) goes to the l2 max margin, nearer than to the l_inf one.",
        "angle to l2 minus angle to l_inf (deg)",
        lambda r: lead(r, "gd", "l2", ("l2", "linf")),
        Criterion("<", 0.0),
    ),
    _seed(
        "seed-adam-linf",
        "Adam (lr 0.1) tends to converge closer to the max l_inf margin.",
        "angle to l_inf minus angle to l2 (deg)",
        lambda r: lead(r, "adam", "linf", ("l2", "linf")),
        Criterion("<", 0.0),
    ),
    _seed(
        "seed-separation",
        "The experiment tells the geometries apart: its l2 and l_inf "
        "max-margin directions are >= 10 degrees apart.",
        "angle between the l2 and l_inf directions (deg)",
        lambda r: r.get("references.angles.l2-linf"),
        Criterion(">=", 10.0),
    ),
    _seed(
        "seed-sgd-at-l2",
        "SGD reaches the l2 max-margin direction in 2000 steps (within "
        "half the l2 - l_inf separation).",
        "angle(SGD, l2) / angle(l2, l_inf)",
        lambda r: _at(r, "gd", "l2"),
        Criterion("<", 0.5),
    ),
    _seed(
        "seed-adam-at-linf",
        "Adam reaches the l_inf max-margin direction in 2000 steps "
        "(within half the l2 - l_inf separation).",
        "angle(Adam, l_inf) / angle(l2, l_inf)",
        lambda r: _at(r, "adam", "linf"),
        Criterion("<", 0.5),
    ),
)

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="GD, sign GD, coordinate descent, Adam: which max margin (l1, l2, l_inf)?",
        config_cls=GeometryConfig,
        run=run,
        plot=plot,
        claims=CLAIMS,
        doc=__doc__ or "",
    )
)
