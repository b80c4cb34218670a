"""Classification data: Gaussian clouds (the seeds' draws) and scikit-learn's bundled sets."""

from __future__ import annotations

import numpy as np


def clouds(
    per_class: int, dim: int = 2, std: float = 1.0, center: float = 1.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian clouds at :math:`\\pm c\\,\\mathbf 1`, positives first.

    Draw order of seeds 000 (section 3) and 004 (Experiment 1):
    ``X_pos = randn(k, d) * std + c``, then ``X_neg = randn(k, d) * std - c`` from
    ``RandomState(seed)``, labels ``+1`` then ``-1``.
    """
    rs = np.random.RandomState(seed)
    pos = rs.randn(per_class, dim) * std + center
    neg = rs.randn(per_class, dim) * std - center
    X = np.vstack([pos, neg])
    y = np.hstack([np.ones(per_class), -np.ones(per_class)])
    return X, y


def _standardize(X: np.ndarray) -> np.ndarray:
    mean, std = X.mean(axis=0), X.std(axis=0)
    return (X - mean) / np.where(std > 0, std, 1.0)


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's Wisconsin breast cancer set (569 x 30), standardized; y in {+1, -1}
    (+1 = benign)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return _standardize(data.data.astype(np.float64)), np.where(data.target == 1, 1.0, -1.0)


def digits_pair(a: int = 3, b: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits, classes ``a`` (+1) vs ``b`` (-1), standardized."""
    from sklearn.datasets import load_digits

    data = load_digits()
    keep = (data.target == a) | (data.target == b)
    X = _standardize(data.data[keep].astype(np.float64))
    return X, np.where(data.target[keep] == a, 1.0, -1.0)
