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

from implicitbias.datasets import geometry_data
from implicitbias.experiments.geometry.claims import CLAIMS, KEYS, lead
from implicitbias.experiments.geometry.config import NAME, GeometryConfig
from implicitbias.experiments.geometry.optimizers import (
    NORMALIZED,
    THEORY,
    Theory,
    hyperparameter,
    method_keys,
    theory_holds,
    theory_of,
)
from implicitbias.experiments.geometry.runs import _INV, _inits, _run_method, step_rule
from implicitbias.experiments.geometry.summary import _table
from implicitbias.experiments.registry import Experiment, register
from implicitbias.problems.margin_references import REFS, lp_face_width, references
from implicitbias.runs.results import Results


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


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="GD, sign GD, coordinate descent, Adam: which max margin (l1, l2, l_inf)?",
        config_cls=GeometryConfig,
        run=run,
        plots="implicitbias.experiments.geometry.plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)

__all__ = [
    "CLAIMS",
    "EXPERIMENT",
    "KEYS",
    "NAME",
    "NORMALIZED",
    "REFS",
    "THEORY",
    "_INV",
    "GeometryConfig",
    "Theory",
    "hyperparameter",
    "lead",
    "lp_face_width",
    "method_keys",
    "run",
    "step_rule",
    "theory_holds",
    "theory_of",
]
