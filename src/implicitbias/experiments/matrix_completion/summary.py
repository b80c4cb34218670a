"""The numbers the claims read: per observation count and depth, depth against direct
optimization, depth 2 against the nuclear-norm minimizer, deep against shallow."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.experiments.matrix_completion.config import MatrixCompletionConfig
from implicitbias.runs.results import Results


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def summarize(cfg: MatrixCompletionConfig, results: Results) -> dict[str, Any]:
    """Per observation count and depth (at the smallest init, mean over seeds), and the
    comparisons the claims read."""
    members = results.scalars["members"]
    refs = results.scalars.get("nuclear")
    alpha = min(cfg.init_scales)
    small = [m for m in members if m["init_scale"] == alpha]
    by_count: dict[str, Any] = {}
    for count in sorted({m["count"] for m in small}):
        rows = [m for m in small if m["count"] == count]
        entry = {}
        for depth in sorted({m["depth"] for m in rows}):
            mine = [m["final"] for m in rows if m["depth"] == depth]
            entry[f"depth_{depth}"] = {
                k: _mean([f[k] for f in mine])
                for k in ("relative_error", "observed_error", "effective_rank", "nuclear_norm")
            }
        if refs is not None:
            problems = sorted({m["problem"] for m in rows})
            entry["nuclear"] = {
                k: _mean([refs[p][k] for p in problems])
                for k in ("relative_error", "effective_rank", "nuclear_norm")
            }
        by_count[str(count)] = entry
    out: dict[str, Any] = {"init_scale": alpha, "by_count": by_count}
    out["depth_vs_direct"] = _depth_vs_direct(members)
    if refs is not None:
        out["nuclear_gap_depth2"] = _nuclear_gap(small, refs)
        out["deep_vs_shallow"] = _deep_vs_shallow(by_count)
        out["deep_vs_shallow"].update(_deep_vs_shallow_per_seed(small, refs))
    return out


def _depth_vs_direct(members) -> dict[str, Any]:
    """Effective rank of each deeper member / that of depth 1 on the same problem and init
    scale, each taken where it first fits the observations to ``match_error``."""
    ratios: list[float] = []
    per_seed: dict[int, list[float]] = {}
    for m in members:
        if m["depth"] == 1:
            continue
        base = [
            o
            for o in members
            if o["depth"] == 1
            and o["problem"] == m["problem"]
            and o["init_scale"] == m["init_scale"]
        ]
        if base:
            ratio = m["at_match"]["effective_rank"] / base[0]["at_match"]["effective_rank"]
            ratios.append(ratio)
            per_seed.setdefault(m["seed"], []).append(ratio)
    return {
        "ratios": ratios,
        "max_ratio": float(np.max(ratios)) if ratios else float("nan"),
        # One number per seed (each a new truth and mask): the claim's per-seed measure.
        "per_seed_max_ratio": [float(np.max(per_seed[k])) for k in sorted(per_seed)],
    }


def _nuclear_gap(small, refs) -> dict[str, Any]:
    """(||W||_* - ||X_nuc||_*) / ||X_nuc||_* for the depth-2 members at the smallest init."""
    rows = [m for m in small if m["depth"] == 2]
    gaps = [
        (m["final"]["nuclear_norm"] - refs[m["problem"]]["nuclear_norm"])
        / refs[m["problem"]]["nuclear_norm"]
        for m in rows
    ]
    per_seed: dict[int, list[float]] = {}
    for m, g in zip(rows, gaps, strict=True):
        per_seed.setdefault(m["seed"], []).append(abs(g))
    return {
        "gaps": gaps,
        "max_abs": float(np.max(np.abs(gaps))) if gaps else float("nan"),
        "per_seed_max_abs": [float(np.max(per_seed[k])) for k in sorted(per_seed)],
    }


def _deep_vs_shallow(by_count) -> dict[str, Any]:
    """At the fewest observations: depth >= 3 against depth 2 and the nuclear-norm
    minimizer (Arora et al. 2019). Ratios < 1 mean every deeper depth does better."""
    entry = by_count[min(by_count, key=int)]
    deep = [v for k, v in entry.items() if k.startswith("depth_") and int(k[6:]) >= 3]
    if "depth_2" not in entry or not deep:
        return {"error_ratio": float("nan"), "erank_ratio": float("nan")}
    other = [entry["depth_2"], entry["nuclear"]]
    return {
        "count": int(min(by_count, key=int)),
        "error_ratio": max(v["relative_error"] for v in deep)
        / min(v["relative_error"] for v in other),
        "erank_ratio": max(v["effective_rank"] for v in deep)
        / min(v["effective_rank"] for v in other),
    }


def _deep_vs_shallow_per_seed(small, refs) -> dict[str, Any]:
    """:func:`_deep_vs_shallow` for each seed alone (its own truth, mask and minimizer), at
    the fewest observations: one error ratio and one effective-rank ratio per seed."""
    errors, eranks = [], []
    for seed in sorted({m["seed"] for m in small}):
        mine = [m for m in small if m["seed"] == seed]
        fewest = min(m["count"] for m in mine)
        rows = [m for m in mine if m["count"] == fewest]
        deep = [m["final"] for m in rows if m["depth"] >= 3]
        two = [m["final"] for m in rows if m["depth"] == 2]
        if not deep or not two:
            continue
        ref = refs[rows[0]["problem"]]
        for key, out in (("relative_error", errors), ("effective_rank", eranks)):
            out.append(max(f[key] for f in deep) / min(min(f[key] for f in two), ref[key]))
    return {"per_seed_error_ratio": errors, "per_seed_erank_ratio": eranks}
