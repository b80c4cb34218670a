"""A noisy linear teacher split into train and test: seed 000 section 6's data.

``RandomState(seed)`` draws, in this order, ``X`` (``n x dim`` standard normal), then
``w_true = w_scale * randn(dim)``, then the label noise ``noise * randn(n)``;
``y = X w_true + noise``. The first ``n_train`` rows train, the rest test. With
``seed=55, n=200, dim=15, n_train=150, w_scale=0.5, noise=0.3`` these are exactly the
arrays of seed 000, section 6.
"""

from __future__ import annotations

import numpy as np


def teacher_regression(
    n: int, dim: int, n_train: int, w_scale: float, noise: float, seed: int
) -> dict[str, np.ndarray]:
    """``{"X", "y", "X_te", "y_te", "w_true"}``; train rows first (see the module docstring).

    Args:
        n: examples drawn (train and test).
        dim: features.
        n_train: the first ``n_train`` examples train.
        w_scale: standard deviation of the teacher's weights.
        noise: standard deviation of the label noise.
        seed: seed of the ``numpy.random.RandomState`` that draws everything.
    """
    rs = np.random.RandomState(seed)
    X = rs.randn(n, dim)
    w_true = rs.randn(dim) * w_scale
    y = X @ w_true + noise * rs.randn(n)
    k = n_train
    return {"X": X[:k], "y": y[:k], "X_te": X[k:], "y_te": y[k:], "w_true": w_true}
