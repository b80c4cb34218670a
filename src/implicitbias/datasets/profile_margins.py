"""Data of the profile's margin probes: separable sets whose max-margin references of
different norms are far apart, so that the direction an optimizer converges to tells its
geometry.

Dataset ``index`` of a profile with seed ``seed`` is the first accepted draw of the
generators ``numpy.random.default_rng((seed, KIND, index, attempt))``, ``attempt = 0, 1,
...`` (``KIND`` = 1 for vectors, 2 for matrices), so it depends on ``(seed, index)`` only: the
smoke profile's two datasets are the first two of the quick profile's five. Each draw has its
inputs scaled to :math:`\\max_i \\lVert x_i\\rVert_2 = 1`.

* **Vectors** (:func:`vector_set`): ``n = 10`` points in ``d = 8``, labels ``+1`` then
  ``-1`` (five each), :math:`x_i = (g_i + s\\, y_i u) \\odot a` with :math:`g_i, u` Gaussian
  (``u`` unit), ``s = 1`` and per-feature scales :math:`a_j = e^{0.5 h_j}`, :math:`h_j`
  Gaussian (anisotropic features pull the l1, l2 and l_inf solutions apart). A draw is kept
  when its three max-margin directions (:func:`implicitbias.theory.max_margin`) exist, every
  pair is at least :data:`MIN_ANGLE_VECTORS` = 20 degrees apart, and the l1 and l_inf
  linear programs have a unique solution
  (:func:`~implicitbias.problems.margin_references.lp_face_width` below ``1e-4``): the test
  of :func:`~implicitbias.problems.margin_references.references`, in the order that rejects
  a draw cheapest. About 2 draws in 5 pass (32 datasets of seeds 0, 1, 2 and 7:
  76 draws, 0.1 s per dataset).
* **Matrices** (:func:`matrix_set`): ``n = 24`` points in ``d = 6``, ``k = 4`` classes
  (``y_i = i mod 4``), :math:`x_i = (g_i + s\\, \\mu_{y_i}) \\odot a` with Gaussian class
  means :math:`\\mu_c`, ``s = 3`` and the same feature scales. A draw is kept when it is
  separable by a linear classifier, cvxpy solves the three problems to ``optimal`` (not
  ``optimal_inaccurate``), and for every ordered pair of the spectral, Frobenius and
  max-norm references the cvxpy solution of one is at least :data:`MIN_ANGLE_MATRICES` = 20
  degrees from the *set* of solutions of the other
  (:class:`~implicitbias.theory.matrix_margins.MaxMarginSet`; the spectral and max-norm
  sets are often not single points). About 3 draws in 8 pass (32 datasets: 86 draws, at
  most 13 for one; 0.2 s per dataset).

Draws are cached per process (the references cost a few cvxpy solves), so a profile of many
optimizers draws each set once; the arrays are read-only.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from implicitbias.problems.margin_references import REFS, lp_face_width
from implicitbias.theory import angle_degrees, max_margin
from implicitbias.theory.matrix_margins import (
    MATRIX_NORMS,
    MaxMarginSet,
    matrix_angle,
    matrix_max_margin,
)

MIN_ANGLE_VECTORS = 20.0
"""Smallest pairwise angle (degrees) between the l1, l2 and l_inf references."""
MIN_ANGLE_MATRICES = 20.0
"""Smallest angle (degrees) from each matrix reference to the other two solution sets."""
UNIQUE_WIDTH = 1e-4
"""An l1 or l_inf solution counts as unique below this optimal-face width (as in
:func:`~implicitbias.problems.margin_references.references`)."""
MAX_ATTEMPTS = 200
"""Draws tried per dataset before giving up (no dataset of seeds 0, 1, 2, 7 needed 14)."""
_VECTORS, _MATRICES = 1, 2


@dataclasses.dataclass(frozen=True)
class VectorSet:
    """A binary separable set and its three max-margin directions.

    Attributes:
        X: ``(n, d)`` inputs; y: ``(n,)`` labels in ``{+1, -1}``.
        refs: ``(3, d)`` unit l1, l2 and l_inf max-margin directions (order of
            :data:`~implicitbias.problems.margin_references.REFS`).
        min_angle: the smallest pairwise angle between them (degrees).
        attempt: which draw of the dataset's generator was kept.
    """

    X: np.ndarray
    y: np.ndarray
    refs: np.ndarray
    min_angle: float
    attempt: int


@dataclasses.dataclass(frozen=True)
class MatrixSet:
    """A multiclass separable set and its spectral, Frobenius and max-norm references.

    Attributes:
        X: ``(n, d)`` inputs; y: ``(n,)`` integer labels in ``[0, k)``; k: classes.
        sets: the solution set of each norm, in the order of
            :data:`~implicitbias.theory.matrix_margins.MATRIX_NORMS`.
        separation: ``(3, 3)`` angle (degrees) from the cvxpy solution of row ``a`` to the
            solution set of column ``b`` (0 on the diagonal).
        min_angle: its smallest off-diagonal entry.
        attempt: which draw of the dataset's generator was kept.
    """

    X: np.ndarray
    y: np.ndarray
    k: int
    sets: tuple[MaxMarginSet, ...]
    separation: np.ndarray
    min_angle: float
    attempt: int

    @property
    def solutions(self) -> np.ndarray:
        """``(3, k, d)`` the cvxpy solutions :math:`\\hat W` of the three norms."""
        return np.stack([s.solution.W for s in self.sets])


def _rng(seed: int, kind: int, index: int, attempt: int) -> np.random.Generator:
    return np.random.default_rng((int(seed), kind, int(index), int(attempt)))


def _scaled(X: np.ndarray) -> np.ndarray:
    return X / np.max(np.linalg.norm(X, axis=1))


def _frozen(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    for a in arrays:
        a.setflags(write=False)
    return arrays


def draw_vectors(
    rng: np.random.Generator,
    n: int = 10,
    d: int = 8,
    separation: float = 1.0,
    anisotropy: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """One binary draw (see the module docstring); draw order ``u``, ``h``, ``g``."""
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    scale = np.exp(anisotropy * rng.standard_normal(d))
    y = np.where(np.arange(n) < n // 2, 1.0, -1.0)
    X = (rng.standard_normal((n, d)) + separation * y[:, None] * u) * scale
    return _scaled(X), y


def draw_matrices(
    rng: np.random.Generator,
    n: int = 24,
    k: int = 4,
    d: int = 6,
    separation: float = 3.0,
    anisotropy: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """One multiclass draw (see the module docstring); draw order ``mu``, ``h``, ``g``."""
    means = rng.standard_normal((k, d))
    scale = np.exp(anisotropy * rng.standard_normal(d))
    y = np.arange(n) % k
    X = (rng.standard_normal((n, d)) + separation * means[y]) * scale
    return _scaled(X), y


@functools.lru_cache(maxsize=64)
def vector_set(seed: int, index: int) -> VectorSet:
    """Dataset ``index`` of the vector margin probe (see the module docstring).

    The same test as :func:`~implicitbias.problems.margin_references.references`, in the
    order that rejects a draw cheapest: the three solutions, their angles, then the widths of
    the two linear programs' optimal faces.
    """
    for attempt in range(MAX_ATTEMPTS):
        X, y = draw_vectors(_rng(seed, _VECTORS, index, attempt))
        try:
            dirs = np.stack([max_margin(X, y, norm).direction for norm in REFS])
        except ValueError:  # not separable through the origin
            continue
        smallest = min(angle_degrees(dirs[i], dirs[j]) for i, j in ((0, 1), (0, 2), (1, 2)))
        if smallest < MIN_ANGLE_VECTORS:
            continue
        if all(lp_face_width(X, y, norm) < UNIQUE_WIDTH for norm in ("l1", "linf")):
            X, y, dirs = _frozen(X, y, dirs)
            return VectorSet(X, y, dirs, float(smallest), attempt)
    raise RuntimeError(f"no vector margin dataset for seed {seed}, index {index}")


@functools.lru_cache(maxsize=64)
def matrix_set(seed: int, index: int) -> MatrixSet:
    """Dataset ``index`` of the matrix margin probe (see the module docstring)."""
    for attempt in range(MAX_ATTEMPTS):
        X, y = draw_matrices(_rng(seed, _MATRICES, index, attempt))
        k = int(y.max()) + 1
        try:
            sols = [matrix_max_margin(X, y, k, norm) for norm in MATRIX_NORMS]
        except ValueError:  # not separable
            continue
        if not all(sol.accurate for sol in sols):
            continue
        if min(matrix_angle(a.W, b.W) for a in sols for b in sols if a is not b) < (
            MIN_ANGLE_MATRICES
        ):
            continue  # the points are already too close: skip the six projections
        sets = tuple(
            MaxMarginSet(X, y, k, norm, solution=sol)
            for norm, sol in zip(MATRIX_NORMS, sols, strict=True)
        )
        sep = np.array([[0.0 if a is b else b.angle(a.solution.W) for b in sets] for a in sets])
        off = sep[~np.eye(3, dtype=bool)]
        if np.all(np.isfinite(off)) and off.min() >= MIN_ANGLE_MATRICES:
            X, y, sep = _frozen(X, y, sep)
            return MatrixSet(X, y, k, sets, sep, float(off.min()), attempt)
    raise RuntimeError(f"no matrix margin dataset for seed {seed}, index {index}")


def vector_sets(seed: int, count: int) -> list[VectorSet]:
    """Datasets ``0 .. count-1`` of the vector margin probe."""
    return [vector_set(int(seed), i) for i in range(count)]


def matrix_sets(seed: int, count: int) -> list[MatrixSet]:
    """Datasets ``0 .. count-1`` of the matrix margin probe."""
    return [matrix_set(int(seed), i) for i in range(count)]
