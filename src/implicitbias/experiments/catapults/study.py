"""The experiment's run: the network sweep and the uv sweep, each ONE batched engine run,
and the numbers, arrays and metrics they report."""

from __future__ import annotations

import numpy as np

from implicitbias.experiments.catapults.config import CatapultsConfig
from implicitbias.experiments.catapults.model import draw, numpy_ntk_top, uv_draw
from implicitbias.experiments.catapults.sweep import study, summarize
from implicitbias.runs.results import Results

_ARRAYS = (
    "learning_rates",
    "lambda0",
    "lambda_T",
    "ntk_change",
    "eta_lambda_T_over_2",
    "peak_over_initial",
    "spiked",
    "converged",
    "diverged",
    "monotone",
)


def _report(results: Results, name: str, s: dict) -> None:
    D, E = len(s["lambda0"]), len(s["cs"])
    for key in _ARRAYS:
        results.arrays[f"{name}_{key}"] = np.asarray(s[key], dtype=float)
    results.arrays[f"{name}_loss"] = s["loss"].reshape(-1, D, E)
    summary = summarize(s)
    summary.update(
        compile_seconds=s["compile_seconds"],
        run_seconds=s["run_seconds"],
    )
    results.scalars[name] = summary


def run(cfg: CatapultsConfig) -> Results:
    """The network's sweep (and the uv model's), then the regimes and boundaries."""
    results = Results()
    draws = [draw(cfg, k) for k in range(cfg.draws)]
    s = study(cfg, draws, cfg.activation)
    check = [
        abs(r["lambda0"] / numpy_ntk_top({"U": r["U"], "v": r["v"]}, r["X"], cfg.activation) - 1)
        for r in draws
    ]
    _report(results, "network", s)
    results.steps = s["steps"]
    results.metrics["loss"] = s["loss"]
    results.arrays["cs"] = s["cs"]
    results.scalars["problem"] = {
        "n": cfg.n,
        "d": cfg.d,
        "width": cfg.width,
        "activation": cfg.activation,
        "draws": cfg.draws,
        "steps": cfg.steps,
        "optimizer": cfg.optimizer.label,
        "cs": s["cs"].tolist(),
        "lambda0": s["lambda0"].tolist(),
        "lambda0_check": check,
    }
    if cfg.uv:
        uv = study(cfg, [uv_draw(cfg, k) for k in range(cfg.draws)], "linear")
        _report(results, "uv", uv)
        results.scalars["problem"]["uv_lambda0"] = uv["lambda0"].tolist()
    return results
