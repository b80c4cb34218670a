"""The fast comparison: normalized GD and GD with increasing steps against the main runs
(Nacson et al. 2019, AISTATS)."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.experiments.max_margin.gd import _reach_key, _summary, _train
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.classification import exponential_shifted

FAST = {
    "normalized_gd": OptimizerSpec("normalized_gd"),
    "increasing": OptimizerSpec("gd", (("schedule", "increasing"),)),
}
"""The fast routes: normalized GD (step ``normalized_lr``) and GD with increasing steps
``eta (1 + t)^power`` (``eta`` the main runs' step, ``power = increasing_power``, passed per
run). Nacson et al. 2019 (AISTATS): both reach the l2 SVM direction much sooner than GD."""


def _fast_routes(cfg, X, y, inits, svm, results) -> None:
    # Normalized GD only uses the gradient's direction; the shifted exponential loss has
    # the same direction without underflowing once margins pass ~745 (float64).
    shifted = exponential_shifted if cfg.loss == "exponential" else None
    routes = {
        "normalized_gd": ({"learning_rate": cfg.normalized_lr}, shifted),
        "increasing": (
            {"learning_rate": results.get("svm.learning_rate"), "power": cfg.increasing_power},
            None,
        ),
    }
    for name, (hp, loss) in routes.items():
        traj = _train(cfg, X, y, inits, svm, FAST[name], hp, FAST[name].label, loss=loss)
        results.arrays[f"{name}_angle"] = traj.metrics["angle"]
        results.arrays[f"{name}_steps"] = traj.steps
        # With the shifted loss the logged loss is that one (>= 1/n), not the exponential.
        results.scalars[name] = {
            "optimizer": FAST[name].label,
            **_summary(traj, "final_shifted_loss" if loss else "final_loss"),
        }
    gd_reach = results.scalars["main"]["steps_to"][_reach_key(0.1)]
    ng_reach = results.scalars["normalized_gd"]["steps_to"][_reach_key(0.1)]
    results.scalars["speedup_to_tenth_degree"] = _speedup(gd_reach, ng_reach, cfg.steps)


def _speedup(slow: list, fast: list, budget: int) -> dict[str, Any]:
    """log10(main-run steps / normalized-GD steps) to stay within 0.1 degree, per init.

    Where GD did not get there within the budget, the budget stands in for its steps and
    the ratio is a lower bound (said in ``kind``); NaN where normalized GD did not get there.
    """
    logs, kinds = [], []
    for s, f in zip(slow, fast, strict=True):
        if f is None:
            logs.append(float("nan"))
            kinds.append("normalized GD did not reach 0.1 degree")
            continue
        logs.append(float(np.log10(max(budget if s is None else s, 1) / max(f, 1))))
        kinds.append(
            "measured"
            if s is not None
            else "lower bound: GD did not reach 0.1 degree within the budget"
        )
    return {"log10_per_init": logs, "kind": kinds, "log10_min": float(np.min(logs))}
