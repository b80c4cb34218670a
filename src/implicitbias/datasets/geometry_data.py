"""Built-in data of the ``geometry`` experiment: separable sets whose l1, l2 and l_inf
max-margin directions are far apart, so that an optimizer's limit direction tells its
geometry.

With :math:`z_i = y_i x_i`, the :math:`\\ell_p` max-margin problem is
:math:`\\min \\lVert w\\rVert_p` s.t. :math:`z_i^\\top w \\ge 1`.

* :func:`plane` (2D, 6 points) is built by hand around one point,
  :math:`z_1 = (1.2, 0.5)`, that is the only support vector of all three problems. On the
  half-plane :math:`z_1^\\top w \\ge 1` the three norms are smallest at

  - l2: :math:`w = z_1/\\lVert z_1\\rVert^2`, direction 22.62 degrees;
  - l1: the vertex of the l1 ball on the axis of the largest :math:`|z_{1j}|`,
    :math:`w = (1/1.2, 0)`, direction 0 degrees (unique because :math:`1.2 > 0.5`);
  - l_inf: the corner :math:`w = (1, 1)/1.7` of the l_inf ball, direction 45 degrees
    (unique because both coordinates of :math:`z_1` are nonzero).

  Every other point satisfies :math:`z_k^\\top w > 1` at all three solutions (slack at least
  0.17), so they are the max-margin solutions of the whole set, each one unique, and
  pairwise 22.62, 45 and 22.38 degrees apart.
* :func:`highdim` (d = 10, 40 points) is two Gaussian clouds at :math:`\\pm 2.5\\,u` for a
  random unit :math:`u`, drawn once from ``RandomState(0)`` and rounded to two decimals. Its
  references are pairwise 23.7, 48.9 and 31.6 degrees apart; the l1 and l_inf linear
  programs each have a unique solution (a vertex; the experiment measures the width of the
  optimal face and reports it).
* :func:`seed_004` is the data of seed 004's Experiment 1, reused by its Experiment 3.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from implicitbias.datasets.classification import clouds
from implicitbias.errors import ConfigError

#: The 2D points: three positives, then three negatives.
PLANE_X = np.array(
    [
        [1.2, 0.5],
        [1.6, 2.2],
        [2.5, 0.2],  # y = +1
        [-2.0, -1.5],
        [-3.0, 1.0],
        [-1.8, -3.0],  # y = -1
    ]
)
PLANE_Y = np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0])


def plane() -> tuple[np.ndarray, np.ndarray]:
    """The 2D set (6 points) with one support vector shared by the three norms."""
    return PLANE_X.copy(), PLANE_Y.copy()


def highdim(
    dim: int = 10, per_class: int = 20, separation: float = 2.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two unit-variance Gaussian clouds at :math:`\\pm\\,\\mathrm{separation}\\cdot u`.

    Draw order from ``RandomState(seed)``: ``u = randn(dim)`` (normalized), then the
    positives ``randn(per_class, dim) + separation * u``, then the negatives. Coordinates
    are rounded to two decimals, so the set can be printed and typed in again exactly.
    The defaults are the built-in ``highdim`` data.
    """
    rs = np.random.RandomState(seed)
    u = rs.randn(dim)
    u /= np.linalg.norm(u)
    pos = rs.randn(per_class, dim) + separation * u
    neg = rs.randn(per_class, dim) - separation * u
    X = np.round(np.vstack([pos, neg]), 2)
    y = np.hstack([np.ones(per_class), -np.ones(per_class)])
    return X, y


def seed_004() -> tuple[np.ndarray, np.ndarray]:
    """Seed 004, Experiment 1 (and 3): ``np.random.seed(42)``, ``N = 10``,
    ``X_pos = randn(N, 2) * 0.5 + [1.5, 1.5]``, ``X_neg = randn(N, 2) * 0.5 - [1.5, 1.5]``."""
    return clouds(10, 2, 0.5, 1.5, 42)


DATASETS: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    "plane": plane,
    "highdim": highdim,
    "seed-004": seed_004,
}
"""Dataset name -> loader ``() -> (X (n, d), y (n,) in {+1, -1})``."""


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The built-in dataset ``name`` (see :data:`DATASETS`)."""
    if name not in DATASETS:
        raise ConfigError("dataset", "one of " + ", ".join(DATASETS), name, choices=list(DATASETS))
    return DATASETS[name]()
