"""scikit-learn's digits (1797 images of 8 x 8 pixels, ten classes), shuffled and split.

Pixels are divided by 16 (so they lie in ``[0, 1]``) and targets are one-hot, for a square
loss on the outputs as in Cohen et al. 2021 (ICLR). The data ship with scikit-learn (UCI
"Optical Recognition of Handwritten Digits", Alpaydin & Kaynak 1998), so nothing is
downloaded.
"""

from __future__ import annotations

import numpy as np


def digits_split(n_train: int, seed: int) -> dict[str, np.ndarray]:
    """The digits shuffled by ``RandomState(seed).permutation``; the first ``n_train`` train.

    Returns:
        ``{"X", "Y", "labels", "X_te", "Y_te", "labels_te"}``: pixels ``(n, 64)`` in
        ``[0, 1]``, one-hot targets ``(n, 10)`` and integer labels ``(n,)``.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    perm = np.random.RandomState(seed).permutation(len(d.target))
    X, labels = d.data[perm] / 16.0, d.target[perm]
    Y = np.eye(10)[labels]
    k = n_train
    return {
        "X": X[:k],
        "Y": Y[:k],
        "labels": labels[:k],
        "X_te": X[k:],
        "Y_te": Y[k:],
        "labels_te": labels[k:],
    }
