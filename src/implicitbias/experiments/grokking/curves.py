"""Numbers from accuracy and norm curves: when each part reaches 99 %, delay, ratio, norms.

A curve is known at the logged steps only, so "the step at which test accuracy reaches
99 %" is the first *logged* step at or above the level; the logged steps are the union of
log-spaced and linearly spaced ones (:func:`log_steps`), dense enough early for the
memorization time and late for the generalization time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias import engine

THRESHOLD = 0.99


def log_steps(steps: int, num_log: int, num_linear: int) -> np.ndarray:
    """The union of log-spaced and linearly spaced step indices (0 and ``steps`` included)."""
    log = engine.log_points(steps, num_log, "log")
    lin = engine.log_points(steps, num_linear, "linear")
    return np.union1d(log, lin).astype(np.int64)


def first_reach(steps: np.ndarray, values: np.ndarray, level: float) -> int | None:
    """First logged step at which ``values >= level`` (None if never)."""
    hit = np.flatnonzero(np.asarray(values) >= level)
    return int(steps[hit[0]]) if hit.size else None


def _at(steps: np.ndarray, values: np.ndarray, step: int | None) -> float:
    if step is None:
        return float("nan")
    return float(values[int(np.flatnonzero(steps == step)[0])])


def summarize(steps: np.ndarray, m: dict[str, np.ndarray], member: int) -> dict[str, Any]:
    """Grokking numbers of one member: steps to 99 %, delay, ratio, norms, sharpness.

    With :math:`t_{tr}` and :math:`t_{te}` the first logged steps at 99 % train and test
    accuracy: ``delay`` :math:`= t_{te} - t_{tr}`, ``ratio`` :math:`= t_{te} / t_{tr}`,
    ``norm_ratio_transition`` :math:`= \\lVert\\theta_{t_{te}}\\rVert /
    \\lVert\\theta_{t_{tr}}\\rVert`, and ``rise_over_plateau`` = (steps from 10 % to 90 %
    test accuracy) / (steps from 99 % train to 10 % test accuracy), below 1 when the jump
    is shorter than the plateau before it.
    """
    train_acc, test_acc = m["train_acc"][:, member], m["test_acc"][:, member]
    norm = m["norm"][:, member]
    t_train = first_reach(steps, train_acc, THRESHOLD)
    t_test = first_reach(steps, test_acc, THRESHOLD)
    t10, t90 = first_reach(steps, test_acc, 0.1), first_reach(steps, test_acc, 0.9)
    both = t_train is not None and t_test is not None
    plateau = (t10 - t_train) if (t10 is not None and t_train is not None) else None
    rise = (t90 - t10) if (t10 is not None and t90 is not None) else None
    return {
        "steps_train_99": t_train,
        "steps_test_99": t_test,
        "delay": (t_test - t_train) if both else None,
        "ratio": (t_test / max(t_train, 1)) if both else float("nan"),
        "final_train_acc": float(train_acc[-1]),
        "final_test_acc": float(test_acc[-1]),
        "max_test_acc": float(test_acc.max()),
        "test_acc_at_train_99": _at(steps, test_acc, t_train),
        "norm_init": float(norm[0]),
        "norm_at_train_99": _at(steps, norm, t_train),
        "norm_at_test_99": _at(steps, norm, t_test),
        "norm_final": float(norm[-1]),
        "norm_ratio_transition": (_at(steps, norm, t_test) / _at(steps, norm, t_train))
        if both
        else float("nan"),
        "steps_test_10": t10,
        "steps_test_90": t90,
        "rise_over_plateau": (rise / plateau) if (rise is not None and plateau) else float("nan"),
    }
