"""Grokfast (Lee et al. 2024, arXiv:2405.20233) against the same AdamW without the filter.

The filtered optimizers are specs (``grokfast_ema(alpha=.., lamb=.., b1=.., b2=..,
weight_decay=..)``, ``grokfast_ma(window=.., lamb=.., ...)``, the registry's factories:
:mod:`implicitbias.optim.grokfast`). The fair baseline of each is :func:`baseline_of`: the
registry's ``adamw`` with the spec's own ``b1``, ``b2``, ``eps`` and weight decay, the same
learning rate and the same inits, so that the filter is the only difference. When that
baseline is the main run's optimizer, the main run's first member is reused; otherwise the
baseline is trained once.

The effective step is compared over the first ``probe_steps`` steps by an engine probe
(:func:`update_probe`) that logs every step: the gradient norm, the norm of the filtered
gradient (the same filter replayed on the same gradients, full batch) and the norm of the
parameter update.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
import optax

from implicitbias import engine
from implicitbias.datasets.modular import ModularData
from implicitbias.experiments.grokking.config import GrokkingConfig
from implicitbias.experiments.grokking.curves import summarize
from implicitbias.experiments.grokking.main import MainRun
from implicitbias.experiments.grokking.training import hparam, train
from implicitbias.optim import grokfast as gf
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.modular import problem
from implicitbias.runs.results import Results

FILTER_KEYS = {"grokfast_ema": ("alpha", "lamb"), "grokfast_ma": ("window", "lamb", "warmup")}
"""The registry's Grokfast factories and the hyperparameters of their filter."""


def specs(cfg: GrokkingConfig) -> dict[str, OptimizerSpec]:
    """``{"ema": spec, "ma": spec}``, those that the ``grokfast`` field switches on."""
    out = {}
    if cfg.grokfast in ("ema", "both"):
        out["ema"] = cfg.grokfast_ema
    if cfg.grokfast in ("ma", "both"):
        out["ma"] = cfg.grokfast_ma
    return out


def is_grokfast(spec: OptimizerSpec, kind: str) -> bool:
    """Whether ``spec`` is the registry's ``grokfast_<kind>`` (a filter in front of AdamW)."""
    return spec.fn is None and spec.name == f"grokfast_{kind}"


def baseline_of(spec: OptimizerSpec) -> OptimizerSpec | None:
    """The same AdamW without the filter; ``None`` if ``spec`` is not a Grokfast spec."""
    if spec.fn is not None or spec.name not in FILTER_KEYS:
        return None
    drop = FILTER_KEYS[spec.name]
    return OptimizerSpec("adamw", tuple((k, v) for k, v in spec.hparams if k not in drop))


def same_optimizer(a: OptimizerSpec, b: OptimizerSpec) -> bool:
    """Equal names and equal values of every hyperparameter, defaults filled in."""
    if a.name != b.name or a.fn is not None or b.fn is not None:
        return False
    keys = set(a.kwargs) | set(b.kwargs)
    return all(hparam(a, k) == hparam(b, k) for k in keys)


def filter_of(spec: OptimizerSpec) -> optax.GradientTransformation:
    """The gradient filter of a Grokfast spec (for the probe); identity for any other."""
    if spec.fn is None and spec.name == "grokfast_ema":
        return gf.ema_filter(hparam(spec, "alpha"), hparam(spec, "lamb"))
    if spec.fn is None and spec.name == "grokfast_ma":
        window, lamb, warmup = (hparam(spec, k) for k in ("window", "lamb", "warmup"))
        return gf.ma_filter(int(window), lamb, bool(warmup))
    return optax.identity()


def update_probe(loss: Any, filt: optax.GradientTransformation) -> engine.Probe:
    """At each logged step ``t``: ``||g(θ_t)||``, ``||filt(g)(θ_t)||`` and
    ``||θ_t - θ_{t-1}||`` (0 at the first log). Logged at every step, the filter state sees
    the gradients that the optimizer's own filter saw at steps ``1 .. t + 1``."""

    def init(params, aux):
        return filt.init(params), params

    def fn(params, data, aux, state, key, step):
        fstate, previous = state
        g = jax.grad(loss)(params, data)
        filtered, fstate = filt.update(g, fstate, params)
        step = jax.tree.map(lambda a, b: a - b, params, previous)
        values = {
            "grad": optax.tree.norm(g),
            "filtered": optax.tree.norm(filtered),
            "update": optax.tree.norm(step),
        }
        return values, (fstate, params)

    return engine.Probe(fn, init)


def _probe(cfg, data, spec, seed_keys, static, sample_key, label) -> dict[str, np.ndarray]:
    """Per-step norms over the first ``probe_steps`` steps of member 0's init."""
    steps = min(cfg.probe_steps, cfg.steps)
    loss, _ = problem(static)
    traj, _, _ = train(
        cfg,
        data,
        spec,
        seed_keys[:1],
        steps=steps,
        label=f"update probe, {label}",
        sample_key=sample_key,
        log_at=np.arange(steps + 1, dtype=np.int64),
        probe=update_probe(loss, filter_of(spec)),
    )
    m = {k: traj.metrics[k][:, 0] for k in ("grad", "filtered", "update")}
    return {"grad": m["grad"][:-1], "filtered": m["filtered"][:-1], "update": m["update"][1:]}


def _speedup(t_base: int | None, t_fast: int | None, budget: int) -> dict[str, Any]:
    measured = t_base is not None and t_fast is not None
    if measured:
        value = t_base / max(t_fast, 1)
    else:
        value = float("nan") if t_fast is None else float("inf")
    kind = (
        "measured"
        if measured
        else "baseline did not reach 99 % (speed-up > budget / steps)"
        if t_fast is not None
        else "Grokfast did not reach 99 %"
    )
    bound = (budget / max(t_fast, 1)) if (t_base is None and t_fast) else value
    return {"speedup": value, "speedup_kind": kind, "speedup_lower_bound": bound}


def _baseline(cfg, data, spec, seed_keys, main: MainRun, sample_key, cache) -> dict[str, Any]:
    """Summary and curves of the baseline ``spec`` (member 0), trained at most once."""
    if spec in cache:
        return cache[spec]
    if same_optimizer(spec, cfg.optimizer):
        traj = main.traj
    else:
        traj, _, _ = train(
            cfg, data, spec, seed_keys, steps=cfg.steps, label=spec.label, sample_key=sample_key
        )
    cache[spec] = {
        "summary": {**summarize(traj.steps, traj.metrics, 0), "optimizer": spec.label},
        "steps": traj.steps,
        "curves": {k: traj.metrics[k][:, 0] for k in ("train_acc", "test_acc", "norm")},
        "probe": _probe(cfg, data, spec, seed_keys, main.static, sample_key, spec.label),
    }
    return cache[spec]


def run_grokfast(
    cfg: GrokkingConfig,
    data: ModularData,
    seed_keys: jax.Array,
    main: MainRun,
    results: Results,
    sample_key: jax.Array,
) -> None:
    """Train each switched-on Grokfast spec and its baseline; fill ``results``."""
    out: dict[str, Any] = {}
    cache: dict[OptimizerSpec, dict[str, Any]] = {}
    for name, spec in specs(cfg).items():
        base_spec = baseline_of(spec) or cfg.optimizer
        base = _baseline(cfg, data, base_spec, seed_keys, main, sample_key, cache)
        if "baseline" not in out:
            out["baseline"] = base["summary"]
            _store(results, "baseline", base["steps"], base["curves"], base["probe"])
        traj, _, _ = train(
            cfg, data, spec, seed_keys, steps=cfg.steps, label=spec.label, sample_key=sample_key
        )
        s = summarize(traj.steps, traj.metrics, 0)
        s.update(_speedup(base["summary"]["steps_test_99"], s["steps_test_99"], cfg.steps))
        probe = _probe(cfg, data, spec, seed_keys, main.static, sample_key, spec.label)
        s["gradient_amplification"] = float(np.mean(probe["filtered"] / probe["grad"]))
        s["update_norm_ratio"] = float(np.mean(probe["update"]) / np.mean(base["probe"]["update"]))
        s["optimizer"] = spec.label
        s["baseline_optimizer"] = base_spec.label
        out[name] = s
        curves = {k: traj.metrics[k][:, 0] for k in ("train_acc", "test_acc", "norm")}
        _store(results, name, traj.steps, curves, probe)
    out["probe_steps"] = min(cfg.probe_steps, cfg.steps)
    results.scalars["grokfast"] = out


def _store(results: Results, name: str, steps, curves, probe) -> None:
    for k, v in curves.items():
        results.arrays[f"grokfast_{name}_{k}"] = v
    results.arrays[f"grokfast_{name}_steps"] = steps
    results.arrays[f"probe_{name}_update"] = probe["update"]
