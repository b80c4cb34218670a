"""Multiclass max-margin references for a matrix-valued linear classifier (cvxpy).

A linear classifier :math:`W \\in \\mathbb R^{k\\times d}` scores class :math:`c` of an input
:math:`x` as :math:`(Wx)_c`. On data :math:`(x_i, y_i)`, :math:`y_i \\in \\{0, \\dots, k-1\\}`,
separable by such a classifier, the max-margin problem for a matrix norm
:math:`\\lVert\\cdot\\rVert` is

.. math:: \\hat W = \\arg\\min \\lVert W\\rVert \\quad\\text{s.t.}\\quad
          (W_{y_i} - W_c)^\\top x_i \\ge 1 \\quad \\forall i,\\ c \\ne y_i,

with margin :math:`\\gamma = 1/\\lVert\\hat W\\rVert`. Fan, Schmidt & Thrampoulidis 2025
(arXiv:2502.04664, "Implicit Bias of Spectral Descent and Muon on Multiclass Separable Data")
prove, in their abstract's words, that p-norm normalized steepest descent and its momentum
variant on the cross-entropy loss "converge to solutions maximizing the margin with respect
to the classifier matrix's p-norm", that Spectral Descent and Muon "converge to max-margin
solutions with respect to the spectral norm", and that Adam "converges to the matrix's
max-norm solution"; their companion paper "Implicit Bias of SignGD and Adam on Multiclass
Separable Data" proves the same max-norm limit for sign GD and Adam. GD is the Frobenius
(vector l2) case of Soudry et al. 2018 (JMLR).

The three norms here:

* ``spectral``: :math:`\\sigma_{\\max}(W)` (an SDP, ``cp.sigma_max``);
* ``fro``: :math:`\\lVert W\\rVert_F` (a QP; strictly convex, so the solution is unique);
* ``max``: :math:`\\max_{jl}|W_{jl}|` (an LP).

The constraints are linear in :math:`\\operatorname{vec}(W)` (row-major ``W.ravel()``):
row :math:`(i, c)` of :func:`difference_rows` is :math:`(e_{y_i} - e_c) \\otimes x_i`, so
the Frobenius and max-norm problems are the vector l2 and l_inf max-margin problems of
those rows (:func:`implicitbias.theory.margins.max_margin` with labels 1), which the tests
use as an independent second formulation. With ``k = 2`` every norm reduces to a binary
problem in :math:`u = W_0 - W_1`: the spectral and Frobenius solutions are both
:math:`[u_2/2; -u_2/2]` with :math:`u_2` the l2 SVM direction (:math:`\\lVert W\\rVert \\ge
\\lVert W^\\top (e_0 - e_1)\\rVert_2/\\sqrt2 = \\lVert u\\rVert_2/\\sqrt 2`, with equality there).

The spectral and max-norm problems need not have a unique solution, so the probes measure
angles to the whole solution set (:class:`MaxMarginSet`).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Literal

import numpy as np

MatrixNorm = Literal["spectral", "fro", "max"]
MATRIX_NORMS: tuple[str, ...] = ("spectral", "fro", "max")
"""The reference norms, in the order of every ``(..., 3)`` array of angles."""

_SOLVER = "CLARABEL"


@dataclasses.dataclass(frozen=True)
class MatrixMaxMargin:
    """The max-margin classifier for one matrix norm.

    Attributes:
        norm: ``"spectral"``, ``"fro"`` or ``"max"``.
        W: :math:`\\hat W`, ``(k, d)``, with margin 1 on its support.
        direction: :math:`\\hat W / \\lVert\\hat W\\rVert_F` (for angles).
        margin: :math:`\\gamma = 1/\\lVert\\hat W\\rVert` in its own norm.
        support: ``(m, 2)`` pairs ``(i, c)`` with :math:`(W_{y_i} - W_c)^\\top x_i \\le
            1 + 10^{-6}`.
        accurate: the solver reported ``optimal`` (not ``optimal_inaccurate``).
    """

    norm: str
    W: np.ndarray
    direction: np.ndarray
    margin: float
    support: np.ndarray
    accurate: bool = True


def matrix_norm(W: np.ndarray, norm: MatrixNorm) -> float:
    """:math:`\\lVert W\\rVert` for ``norm`` in :data:`MATRIX_NORMS` (NumPy)."""
    W = np.asarray(W, dtype=np.float64)
    if norm == "spectral":
        return float(np.linalg.norm(W, 2))
    if norm == "fro":
        return float(np.linalg.norm(W))
    if norm == "max":
        return float(np.max(np.abs(W)))
    raise ValueError(f"`norm`: expected one of {', '.join(MATRIX_NORMS)}, got {norm!r}")


def pair_margins(W: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(n, k)`` margins :math:`(W_{y_i} - W_c)^\\top x_i`, with ``+inf`` at ``c = y_i``."""
    scores = np.asarray(X, np.float64) @ np.asarray(W, np.float64).T  # (n, k)
    y = np.asarray(y, dtype=int)
    out = scores[np.arange(len(y)), y][:, None] - scores
    out[np.arange(len(y)), y] = np.inf
    return out


def difference_rows(X: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """``(n (k - 1), k d)`` rows :math:`(e_{y_i} - e_c) \\otimes x_i`, ``c != y_i``, so that
    ``rows @ W.ravel()`` are the pair margins (``i``-major, ``c`` ascending)."""
    X, y = np.asarray(X, np.float64), np.asarray(y, dtype=int)
    eye = np.eye(k)
    rows = [np.kron(eye[y[i]] - eye[c], X[i]) for i in range(len(y)) for c in range(k) if c != y[i]]
    return np.stack(rows)


def _objective(W, norm: str):
    import cvxpy as cp

    if norm == "spectral":
        return cp.sigma_max(W)
    if norm == "fro":
        return cp.norm(W, "fro")
    if norm == "max":
        return cp.max(cp.abs(W))
    raise ValueError(f"`norm`: expected one of {', '.join(MATRIX_NORMS)}, got {norm!r}")


def _constraints(W, X: np.ndarray, y: np.ndarray, k: int, level=1.0):
    """The pair-margin constraints ``>= level``, one vectorized inequality per class ``c``."""
    out = []
    scores = X @ W.T  # (n, k) affine expression
    for c in range(k):
        rows = np.flatnonzero(y != c)
        if rows.size:
            own = scores[rows, :][np.arange(rows.size), y[rows]]
            out.append(own - scores[rows, c] >= level)
    return out


def matrix_max_margin(
    X: np.ndarray, y: np.ndarray, k: int, norm: MatrixNorm = "fro"
) -> MatrixMaxMargin:
    """The max-margin classifier of ``norm`` (see the module docstring).

    Args:
        X: ``(n, d)`` inputs.
        y: ``(n,)`` integer labels in ``[0, k)``.
        k: number of classes.
        norm: ``"spectral"``, ``"fro"`` or ``"max"``.

    Raises:
        ValueError: no linear classifier separates the data (the problem is infeasible).
    """
    import cvxpy as cp

    X, y = np.asarray(X, np.float64), np.asarray(y, dtype=int)
    W = cp.Variable((k, X.shape[1]))
    problem = cp.Problem(cp.Minimize(_objective(W, norm)), _constraints(W, X, y, k))
    with warnings.catch_warnings():  # "optimal_inaccurate" is reported in `accurate`
        warnings.simplefilter("ignore")
        problem.solve(solver=_SOLVER)
    if problem.status not in ("optimal", "optimal_inaccurate") or W.value is None:
        raise ValueError(
            f"no {norm} max-margin classifier: the data are not separable by a linear "
            f"multiclass classifier (solver status {problem.status})"
        )
    W_hat = np.asarray(W.value)
    margins = pair_margins(W_hat, X, y)
    return MatrixMaxMargin(
        norm=norm,
        W=W_hat,
        direction=W_hat / np.linalg.norm(W_hat),
        margin=1.0 / matrix_norm(W_hat, norm),
        support=np.argwhere(margins <= 1 + 1e-6),
        accurate=problem.status == "optimal",
    )


class MaxMarginSet:
    """The max-margin classifiers of one norm, and the angle of any matrix to them.

    The spectral and max-norm problems need not have a unique solution (``sigma_max`` and
    ``max |W_jl|`` are not strictly convex, and adding the same row :math:`v^\\top` to every
    class changes no margin), so the reference is the *set* of solutions, taken with a
    relative ``slack``: the convex cone

    .. math:: K = \\{Z : (Z_{y_i} - Z_c)^\\top x_i \\ge t\\ \\forall i, c \\ne y_i,\\quad
              \\lVert Z\\rVert \\le (1 + \\mathrm{slack})\\, t / \\gamma,\\quad t \\ge 0\\}

    of the near-optimal classifiers and their multiples. The angle of :math:`W` to it is the
    angle to its Euclidean projection :math:`\\Pi_K(W / \\lVert W\\rVert_F)` (one small conic
    program, parametrized so that cvxpy compiles it once), which is the smallest angle to
    any element of :math:`K`: 0 on the set, and the angle to :math:`\\hat W` when the
    solution is unique (the Frobenius case). ``slack = 1e-6`` blurs a unique solution by
    about ``sqrt(slack)`` rad (0.06 degrees) where the norm ball is curved.
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        k: int,
        norm: MatrixNorm,
        slack: float = 1e-6,
        solution: MatrixMaxMargin | None = None,
    ) -> None:
        import cvxpy as cp

        X, y = np.asarray(X, np.float64), np.asarray(y, dtype=int)
        self.norm = norm
        self.solution = solution or matrix_max_margin(X, y, k, norm)
        self._Z = cp.Variable((k, X.shape[1]))
        self._target = cp.Parameter((k, X.shape[1]))
        t = cp.Variable(nonneg=True)
        bound = (1 + slack) / self.solution.margin
        constraints = [*_constraints(self._Z, X, y, k, t), _objective(self._Z, norm) <= bound * t]
        objective = cp.Minimize(cp.sum_squares(self._Z - self._target))
        self._problem = cp.Problem(objective, constraints)

    def project(self, W: np.ndarray) -> np.ndarray:
        """The element of the cone nearest to ``W / ||W||_F`` (NaN if the solver fails)."""
        import cvxpy as cp

        W = np.asarray(W, np.float64)
        self._target.value = W / np.linalg.norm(W)
        try:
            with warnings.catch_warnings():  # "optimal_inaccurate" is used: its angles
                warnings.simplefilter("ignore")  # agree with tighter slacks to ~0.1 degree
                self._problem.solve(solver=_SOLVER)
        except cp.error.SolverError:
            return np.full(W.shape, np.nan)
        if self._Z.value is None:
            return np.full(W.shape, np.nan)
        return np.asarray(self._Z.value)

    def angle(self, W: np.ndarray) -> float:
        """Smallest angle (degrees) between ``W`` and a max-margin classifier of the norm;
        NaN for a zero or non-finite ``W``. At 90 degrees or more (the projection is 0) it is
        the angle to :math:`\\hat W`."""
        W = np.asarray(W, np.float64)
        if not np.all(np.isfinite(W)) or not np.any(W):
            return float("nan")
        Z = self.project(W)
        if not np.all(np.isfinite(Z)) or np.linalg.norm(Z) < 1e-9:
            return matrix_angle(W, self.solution.W)
        return matrix_angle(W, Z)


def matrix_angle(A: np.ndarray, B: np.ndarray) -> float:
    """Angle in degrees between two matrices under the Frobenius inner product (atan2 of
    sine and cosine: accurate near 0); NaN when either is zero."""
    a, b = np.ravel(np.asarray(A, np.float64)), np.ravel(np.asarray(B, np.float64))
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return float("nan")
    ua, ub = a / na, b / nb
    return float(np.degrees(np.arctan2(np.linalg.norm(ua - (ua @ ub) * ub), ua @ ub)))
