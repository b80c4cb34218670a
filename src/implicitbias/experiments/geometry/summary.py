"""What a method's angles summarize to: the late rate, the nearest reference, and the
summary table of every method."""

from __future__ import annotations

import numpy as np

from implicitbias.problems.margin_references import REFS
from implicitbias.runs.results import Results


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
