"""The data and initial networks of the edge-of-stability experiment."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from implicitbias.experiments.edge_of_stability.config import EdgeOfStabilityConfig
from implicitbias.problems.mlp import init_mlp


def load_problem(cfg: EdgeOfStabilityConfig) -> tuple[np.ndarray, np.ndarray, Any, Any]:
    """``(X, Y, params0, seed_directions or None)`` in float64 NumPy / JAX."""
    if cfg.dataset == "seed-000":
        return seed000_problem(cfg)
    if cfg.dataset == "synthetic":
        X, labels = synthetic_task(cfg.n, cfg.input_dim, cfg.classes, cfg.seed)
    elif cfg.dataset == "digits":
        X, labels = digits_task(cfg.n, cfg.seed)
    else:
        from implicitbias.datasets import fashion_mnist

        X, labels = fashion_mnist.subset(cfg.n, seed=cfg.seed, root=cfg.data_root)
    c = int(labels.max()) + 1 if cfg.dataset != "synthetic" else cfg.classes
    Y = np.eye(c)[labels]  # one-hot, float64 on the host
    sizes = (X.shape[1], *cfg.hidden, c)
    params = init_mlp(
        jax.random.PRNGKey(cfg.seed), sizes, activation=cfg.activation, bias=cfg.bias, init=cfg.init
    )
    return X, Y, params, None


def synthetic_task(n: int, d: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs ``N(0, I_d)`` labelled by the argmax of a random tanh teacher
    ``d-32-classes`` (weights ``N(0, 1/fan_in)``); no data files needed."""
    rs = np.random.RandomState(seed)
    X = rs.randn(n, d)
    W1 = rs.randn(d, 32) / np.sqrt(d)
    W2 = rs.randn(32, classes) / np.sqrt(32)
    return X, np.argmax(np.tanh(X @ W1 * 2.0) @ W2, axis=1)


def digits_task(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` of scikit-learn's 8x8 digits (pixels / 16, centred), drawn by ``seed``."""
    from sklearn.datasets import load_digits

    data = load_digits()
    pick = np.sort(np.random.RandomState(seed).choice(len(data.target), n, replace=False))
    X = data.data[pick] / 16.0
    return X - X.mean(axis=0), data.target[pick]


def seed000_problem(cfg: EdgeOfStabilityConfig):
    """Seed 000 section 5: the draws in the snippet's order from ``RandomState(123)``.

    ``X = randn(n, d)``, ``y = sin(x_0) + cos(x_1)/2``, ``W1 = randn(h, d) sqrt(2/d)``,
    ``W2 = randn(1, h) sqrt(2/h)``, then at every estimate two draws ``randn(h, d)``,
    ``randn(1, h)`` for its random direction. Our layers hold ``W1.T`` and ``W2.T``.
    """
    rs = np.random.RandomState(cfg.seed)
    n, d, h = cfg.n, cfg.input_dim, cfg.hidden[0]
    X = rs.randn(n, d)
    y = np.sin(X[:, 0]) + 0.5 * np.cos(X[:, 1])
    W1 = rs.randn(h, d) * np.sqrt(2.0 / d)
    W2 = rs.randn(1, h) * np.sqrt(2.0 / h)
    params = [(jnp.asarray(W1.T), None), (jnp.asarray(W2.T), None)]
    dirs = []
    for _ in range(cfg.steps // cfg.sharpness_every):
        v1, v2 = rs.randn(h, d), rs.randn(1, h)
        v = np.concatenate([v1.T.ravel(), v2.T.ravel()])
        dirs.append(v / np.linalg.norm(v))
    return X, y[:, None], params, np.asarray(dirs)


def random_directions(num: int, size: int, seed: int) -> np.ndarray:
    """``num`` random unit vectors in ``R^size`` (``RandomState(seed + 1)``), for the seed's
    estimator on the data sets that do not come with its own draws."""
    rs = np.random.RandomState(seed + 1)
    dirs = rs.randn(num, size)
    return dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
