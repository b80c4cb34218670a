"""Where a trajectory is logged: linear or log-spaced step indices."""

from __future__ import annotations

from typing import Literal

import numpy as np

from implicitbias.errors import ConfigError

Spacing = Literal["log", "linear"]

MAX_LOG_POINTS = 1_000_000
"""Most logged points of one trajectory (each holds the parameters of every member)."""


def log_points(steps: int, num: int = 200, spacing: Spacing = "log") -> np.ndarray:
    """Sorted unique step indices in ``[0, steps]``, always including 0 and ``steps``.

    Log spacing puts ``num`` points geometrically between 1 and ``steps`` (duplicates from
    rounding are dropped, so early steps are all logged), which lets 10^7 steps be stored
    as a few hundred snapshots.

    Args:
        steps: total number of optimizer steps (>= 1).
        num: how many points at most (>= 2).
        spacing: ``"log"`` or ``"linear"``.

    Returns:
        int64 array of step indices; metrics logged at index ``k`` are measured after ``k``
        steps (``0`` is the initialization).
    """
    if int(steps) < 1:
        raise ConfigError("steps", "an integer >= 1", steps)
    if not 2 <= int(num) <= MAX_LOG_POINTS:
        raise ConfigError("num_logs", f"an integer from 2 to {MAX_LOG_POINTS}", num)
    if spacing not in ("log", "linear"):
        raise ConfigError("spacing", "'log' or 'linear'", spacing, choices=["log", "linear"])
    if int(num) >= int(steps) + 1:  # every step (without building a num-long array)
        return np.arange(int(steps) + 1, dtype=np.int64)
    if spacing == "linear":
        raw = np.linspace(0, steps, num)
    elif spacing == "log":
        raw = np.concatenate([[0.0], np.geomspace(1, steps, num - 1)])
    else:
        raise ConfigError("spacing", "'log' or 'linear'", spacing, choices=["log", "linear"])
    points = np.unique(np.round(raw).astype(np.int64))
    points[-1] = steps
    return np.unique(points)


def plan_chunks(lengths: np.ndarray, num_chunks: int) -> list[np.ndarray]:
    """Group consecutive log intervals into about ``num_chunks`` groups of similar step count.

    Every chunk is later padded with zero-length intervals to the size of the largest one,
    so one compiled program serves every chunk.
    """
    total = int(lengths.sum())
    target = max(1, total // max(1, num_chunks))
    chunks: list[list[int]] = [[]]
    acc = 0
    for i, n in enumerate(lengths):
        chunks[-1].append(i)
        acc += int(n)
        if acc >= target and i < len(lengths) - 1:
            chunks.append([])
            acc = 0
    return [np.asarray(c, dtype=np.int64) for c in chunks if c]


def next_call(
    points: np.ndarray, pos: int, done: int, budget: int, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The pieces of the next compiled call: ``(lengths, logged, log_index, new_pos)``.

    ``points`` are the logged steps, ``done`` the steps taken so far and ``pos`` the index
    of the first logged step not yet reached (``points[pos] > done``, or ``points[pos] ==
    done == 0`` for a log at the initialization). The call takes whole log intervals, in
    order, while their steps fit in ``budget`` and there are at most ``width`` of them; the
    first interval is taken even if it alone exceeds ``budget``, unless it is longer: then
    the call is a single piece of ``budget`` steps that logs nothing (an interval longer
    than a call's budget is cut into such pieces, the last of which logs). Arrays have
    length ``width``; unused rows have length 0 and log nothing. ``log_index[row]`` is the
    index into ``points`` of a logged row, -1 elsewhere.
    """
    lengths = np.zeros(width, dtype=np.int64)
    logged = np.zeros(width, dtype=bool)
    index = np.full(width, -1, dtype=np.int64)
    budget = max(1, int(budget))
    used = 0
    cur = int(done)
    row = 0
    while row < width and pos < len(points):
        n = int(points[pos]) - cur
        if used + n > budget:
            if row == 0:  # the next interval alone is over budget: a silent piece of it
                lengths[0] = budget
            break
        lengths[row], logged[row], index[row] = n, True, pos
        used += n
        cur = int(points[pos])
        row += 1
        pos += 1
        if used >= budget:
            break
    return lengths, logged, index, pos
