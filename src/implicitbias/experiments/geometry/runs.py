"""The inits, the step-size rule of the package docstring, and one batched run per method."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias import engine
from implicitbias.experiments.geometry.config import NAME, GeometryConfig
from implicitbias.experiments.geometry.optimizers import (
    theory_holds,
    theory_of,
)
from implicitbias.experiments.geometry.summary import _late_slope, _nearest_names
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.classification import (
    exponential_mean,
    exponential_sum,
    reference_angles,
)
from implicitbias.problems.margin_references import REFS, dual_bound
from implicitbias.runs.results import Results

_INV = "inverse_sqrt"


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
    """The step-size rule of the package docstring: ``(spec to run, hparams, note)``.

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
    defaults = spec.factory_defaults()
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
