"""The references, float64 NumPy/cvxpy and independent of the engine: the min-l1 and
min-l2 interpolators and the min-Q_alpha interpolator of every alpha of the sweep."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.experiments.diagonal_net.config import DiagonalNetConfig
from implicitbias.runs.results import Results
from implicitbias.theory import diagonal as theory


def references(cfg: DiagonalNetConfig, X, y, alphas, results: Results) -> dict[str, Any]:
    w_l2 = theory.min_l2_interpolator(X, y)
    w_l1 = theory.basis_pursuit(X, y)
    refs = {"l1": w_l1, "l2": w_l2}
    w_star = results.arrays["w_star"]
    kkt = []
    for model in cfg.model_list():
        scale = alphas if model == "square" else theory.effective_alpha(alphas, cfg.imbalance)
        sols = theory.q_alpha_path(X, y, scale)
        refs[model] = np.array([s.w for s in sols])
        kkt += [(s.feasibility, s.stationarity) for s in sols]
        results.arrays[f"q_{model}"] = refs[model]
        results.arrays[f"alpha_eff_{model}"] = np.asarray(scale)
    kkt = np.array(kkt)
    results.arrays.update(w_l1=w_l1, w_l2=w_l2)
    feas_l1 = float(np.linalg.norm(X @ w_l1 - y) / np.linalg.norm(y))
    results.scalars["references"] = {
        "l1_test_error": relative_test_error(w_l1, w_star),
        "l2_test_error": relative_test_error(w_l2, w_star),
        "l1_norm_l1": float(np.abs(w_l1).sum()),
        "l1_norm_l2": float(np.abs(w_l2).sum()),
        "l1_feasibility": feas_l1,
        "q_max_feasibility": float(kkt[:, 0].max()),
        "q_max_stationarity": float(kkt[:, 1].max()),
    }
    return refs


def relative_test_error(w: np.ndarray, w_star: np.ndarray) -> float:
    return float(np.sum((w - w_star) ** 2) / np.sum(w_star**2))
