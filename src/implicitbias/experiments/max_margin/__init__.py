"""Max-margin: GD on separable data converges in direction to the hard-margin SVM.

Command::

    implicitbias run max-margin                  # 10^5 steps, about 5 s on 2 CPU cores
    implicitbias run max-margin --preset long    # 10^7 steps, log-spaced metrics, ~75 s
    implicitbias run max-margin --set optimizer=heavy_ball --set optimizer.momentum=0.5

Setting: a linear classifier :math:`f(x) = w^\\top x` (no bias; ``bias=true`` appends a
constant feature) on linearly separable data, exponential or logistic loss, GD from several
inits in one batched run, float64. The reference is the homogeneous hard-margin SVM
:math:`\\hat w = \\arg\\min\\lVert w\\rVert_2` s.t. :math:`y_i w^\\top x_i\\ge1` (cvxpy).

Theory (Soudry et al. 2018, JMLR; Ji & Telgarsky 2019): :math:`w(t) = \\hat w\\log t +
\\rho(t)` with :math:`\\rho` bounded, so :math:`\\lVert w(t)\\rVert` grows like
:math:`\\lVert\\hat w\\rVert\\log t` and the direction gap is :math:`\\Theta(1/\\log t)`.
Normalized GD and increasing steps converge much faster (Nacson et al. 2019, AISTATS).

The main runs use ``optimizer`` (default ``gd``; any spec, ``--set optimizer=...``). The
claims about the direction hold for the optimizers whose limit is the l2 SVM direction
(:data:`L2_LIMIT`: GD, normalized GD, GD with momentum); the rate claims (``||w||`` against
``log t``, the ``1/log t`` gap) and the seed claims are for plain constant-step GD; for any
other optimizer they are *not applicable* and the numbers are still reported. The ``fast``
comparison always runs its own two specs, :data:`FAST`: ``normalized_gd`` with step
``normalized_lr``, and ``gd(schedule='increasing')`` with steps ``eta (1 + t)^power``.

Expected outcome on the ``long`` preset: on the last two decades every init's angle to
the SVM direction still falls, like :math:`1/\\log t` (R^2 0.98); the slope of
:math:`\\lVert w\\rVert` against :math:`\\log t` is within 5 % of :math:`1/\\gamma^*`;
normalized GD gets within 0.1 degree more than 1000x sooner than GD (which never does) —
and GD is still about 8 degrees away after 10^7 steps. At 10^5 steps (``default``) the
same data are pre-asymptotic and those fits do not hold yet.
"""

from __future__ import annotations

import numpy as np

from implicitbias import theory
from implicitbias.experiments.max_margin.claims import CLAIMS, KEYS, L2_LIMIT
from implicitbias.experiments.max_margin.config import NAME, MaxMarginConfig, NotSeparableError
from implicitbias.experiments.max_margin.fast import FAST, _fast_routes, _speedup
from implicitbias.experiments.max_margin.gd import (
    THRESHOLDS,
    _fits,
    _non_separable,
    _reach_key,
    _summary,
    _train,
    default_learning_rate,
    load_data,
    make_inits,
    steps_to_reach,
)
from implicitbias.experiments.max_margin.seeds import _svc_angle
from implicitbias.experiments.registry import Experiment, register
from implicitbias.runs.results import Results


def run(cfg: MaxMarginConfig) -> Results:
    """Train, compare with the SVM, fit the rates; no printing."""
    results = Results()
    X, y = load_data(cfg)
    sep = theory.separability(X, y)
    results.scalars["data"] = {
        "n": int(X.shape[0]),
        "features": int(X.shape[1]),
        "separable": sep.separable,
        "lp_margin": sep.margin,
    }
    if not sep.separable:
        if cfg.loss == "exponential":
            raise NotSeparableError(
                f"the {cfg.dataset} data are not linearly separable through the origin "
                f"(best l_inf-normalized margin {sep.margin:.3g} <= 0), so the exponential "
                "loss has no max-margin direction to converge to; use bias=true or "
                "loss=logistic (which then converges to a finite minimizer)"
            )
        return _non_separable(cfg, X, y, results)
    svm = theory.max_margin(X, y, "l2")
    inits = make_inits(cfg, X.shape[1])
    results.arrays.update(X=X, y=y, inits=inits, svm_direction=svm.direction, support=svm.support)
    results.scalars["svm"] = {
        "direction": svm.direction.tolist() if X.shape[1] <= 8 else [],
        "gamma": svm.l2_margin,
        "norm": float(np.linalg.norm(svm.w)),
        "support_vectors": int(svm.support.size),
    }
    lr = cfg.learning_rate or default_learning_rate(cfg, X)
    results.scalars["svm"]["learning_rate"] = lr
    traj = _train(cfg, X, y, inits, svm, cfg.optimizer, {"learning_rate": lr}, cfg.optimizer.label)
    results.steps = traj.steps
    results.metrics.update(traj.metrics)
    if traj.snapshots is not None:
        results.arrays["paths"] = np.asarray(traj.snapshots)
    results.scalars["main"] = {
        "optimizer": cfg.optimizer.label,
        **_summary(traj),
        "final_w": np.asarray(traj.params).tolist() if X.shape[1] <= 8 else [],
    }
    results.scalars["fits"] = _fits(cfg, traj, svm)
    zero = traj.metrics["loss"] == 0.0  # (T, B): exp(-margin) below the smallest float
    if zero.any():
        row, member = np.argwhere(zero)[0]
        step = int(traj.steps[row])
        results.scalars["main"]["loss_underflow_step"] = step
        results.message = (
            f"the logistic loss underflowed to exactly 0 at step {step} (init {member}, "
            f"learning rate {lr:g}): its gradient is 0 from there on, so the iterate stops "
            "and the direction, gap and norm are frozen, not converged; lower the learning "
            "rate"
        )
    if cfg.fast:
        _fast_routes(cfg, X, y, inits, svm, results)
    if cfg.dataset == "clouds" and cfg.dim == 2 and not cfg.bias:
        results.scalars["svc_with_intercept"] = _svc_angle(X, y, svm)
    return results


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="GD on separable data converges in direction to the hard-margin SVM",
        config_cls=MaxMarginConfig,
        run=run,
        plots="implicitbias.experiments.max_margin.plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)

__all__ = [
    "CLAIMS",
    "EXPERIMENT",
    "FAST",
    "KEYS",
    "L2_LIMIT",
    "NAME",
    "THRESHOLDS",
    "MaxMarginConfig",
    "NotSeparableError",
    "_fast_routes",
    "_fits",
    "_non_separable",
    "_reach_key",
    "_speedup",
    "_summary",
    "_svc_angle",
    "_train",
    "default_learning_rate",
    "load_data",
    "make_inits",
    "run",
    "steps_to_reach",
]
