"""Flat-basin fractions over groups of walkers, and their z-scores."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.problems.landscapes import Landscape


def basin_fractions(
    final, course, landscape: Landscape, groups: int, repeats: int
) -> dict[str, Any]:
    """Final flat-basin fractions, shaped (groups, repeats), and the time course."""
    finite = np.all(np.isfinite(final), axis=1)
    flat = landscape.in_flat_basin(np.where(finite[:, None], final, 0.0)) & finite
    per = flat.reshape(groups, repeats, -1).mean(axis=2)
    diverged = (~finite).reshape(groups, repeats, -1).mean(axis=2)
    course = course.reshape(course.shape[0], groups, -1).mean(axis=2)
    return {
        "per_repeat": per,
        "mean": per.mean(axis=1),
        "std": per.std(axis=1, ddof=1),
        "se": per.std(axis=1, ddof=1) / np.sqrt(repeats),
        "diverged": diverged.mean(axis=1),
        "course": course,
    }


def summary(fr, name, values) -> dict[str, Any]:
    """The reported scalars of one sweep over ``values`` of ``name``."""
    return {
        name: list(values),
        "flat_fraction": fr["mean"].tolist(),
        "flat_fraction_std": fr["std"].tolist(),
        "flat_fraction_se": fr["se"].tolist(),
        "diverged_fraction": fr["diverged"].tolist(),
    }


def z_score(diff, se):
    """``diff / se``; with a zero standard error, +-inf for a nonzero difference and NaN for
    none (both make a claim fail its finiteness check rather than pass with a huge z)."""
    diff, se = np.asarray(diff, dtype=float), np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, diff / np.where(se > 0, se, 1.0), diff / 0.0)


def z_between(fr, i: int, j: int) -> float:
    """(mean fraction of setting ``i`` - of setting ``j``) / its standard error."""
    diff = fr["mean"][i] - fr["mean"][j]
    return float(z_score(diff, np.sqrt(fr["se"][i] ** 2 + fr["se"][j] ** 2)))


def min_adjacent_z(fr, values) -> float:
    """The smallest :func:`z_between` of neighbours when the settings are sorted by value."""
    order = np.argsort(values)
    return float(
        min(z_between(fr, int(b), int(a)) for a, b in zip(order[:-1], order[1:], strict=True))
    )
