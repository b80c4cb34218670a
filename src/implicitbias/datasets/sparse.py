"""Sparse linear regression with more features than examples (``d >> n``)."""

from __future__ import annotations

from typing import Literal

import numpy as np

Signal = Literal["sign", "gaussian"]


def sparse_regression(
    n: int, d: int, k: int, *, noise: float = 0.0, signal: Signal = "sign", seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian design and a ``k``-sparse planted vector.

    Draws, in this order from ``RandomState(seed)``: ``X`` with i.i.d. N(0, 1) entries,
    shape ``(n, d)``; the support (``k`` indices without replacement); the ``k`` nonzero
    values (random signs, or N(0, 1)), scaled so that :math:`\\lVert w^*\\rVert_2 = 1`; the
    noise ``noise * N(0, 1)`` added to :math:`y = Xw^*`.

    With isotropic Gaussian rows, the population excess risk of any ``w`` is
    :math:`E[(x^\\top w - x^\\top w^*)^2] = \\lVert w - w^*\\rVert_2^2` (the test error used by
    the diagonal-net experiment, exact rather than sampled).

    Returns:
        ``(X, y, w_star)`` in float64.
    """
    if not 1 <= k <= d:
        raise ValueError(f"`k` (={k}) must be in [1, d={d}].")
    rs = np.random.RandomState(seed)
    X = rs.randn(n, d)
    support = rs.choice(d, size=k, replace=False)
    values = rs.choice([-1.0, 1.0], size=k) if signal == "sign" else rs.randn(k)
    w_star = np.zeros(d)
    w_star[support] = values / np.linalg.norm(values)
    y = X @ w_star + noise * rs.randn(n)
    return X, y, w_star
