"""Synthetic data drawn with NumPy's legacy ``RandomState`` (so seed snippets reproduce)."""

from __future__ import annotations

import numpy as np


def gaussian_regression(
    n: int, p: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.random.RandomState]:
    """``X ~ N(0, 1)^{n x p}`` then ``y ~ N(0, 1)^n``, drawn in that order.

    This is the draw order of seed 000's snippets (``np.random.seed(s); X = randn(n, p);
    y = randn(n)``), so ``seed=42, n=10, p=50`` gives exactly their data. The generator is
    returned so that later draws (the seed's random null-space direction) continue the
    same stream.
    """
    rs = np.random.RandomState(seed)
    X = rs.randn(n, p)
    y = rs.randn(n)
    return X, y, rs
