"""Max-margin references for linear classifiers, from convex solvers (cvxpy).

For labels :math:`y_i \\in \\{\\pm1\\}` and a homogeneous linear classifier
:math:`f(x) = w^\\top x`, the :math:`\\ell_p` max-margin problem is

.. math:: \\hat w_p = \\arg\\min \\lVert w\\rVert_p \\quad \\text{s.t.}\\quad
          y_i\\, w^\\top x_i \\ge 1,

with margin :math:`\\gamma_p = 1/\\lVert \\hat w_p\\rVert_p`. For :math:`p = 2` this is the
hard-margin SVM without intercept, the limit direction of GD on separable data with the
exponential or logistic loss (Soudry et al. 2018, JMLR); steepest descent w.r.t. a norm
goes to that norm's max margin (Gunasekar et al. 2018, ICML). A classifier with a bias is
the same problem with a constant feature appended (:func:`add_bias`); note that
scikit-learn's ``SVC`` always fits an intercept, so it answers the biased problem.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

Norm = Literal["l1", "l2", "linf"]
_SOLVER = "CLARABEL"


@dataclasses.dataclass(frozen=True)
class Separability:
    """The LP :math:`\\max t` s.t. :math:`y_i w^\\top x_i \\ge t`,
    :math:`\\lVert w\\rVert_\\infty \\le 1`.

    Attributes:
        separable: ``t* > tol``: some homogeneous hyperplane separates the data strictly.
        margin: ``t*`` (the l_inf-normalized margin of the best separator, <= 0 if none).
        w: the maximizer.
    """

    separable: bool
    margin: float
    w: np.ndarray


@dataclasses.dataclass(frozen=True)
class MaxMargin:
    """The :math:`\\ell_p` max-margin solution.

    Attributes:
        norm: ``"l1"``, ``"l2"`` or ``"linf"``.
        w: :math:`\\hat w_p` (margin 1 on the support vectors).
        direction: :math:`\\hat w_p / \\lVert \\hat w_p\\rVert_2` (for angles).
        margin: :math:`\\gamma_p = 1/\\lVert\\hat w_p\\rVert_p`.
        l2_margin: :math:`\\min_i y_i x_i^\\top \\hat w_p / \\lVert \\hat w_p\\rVert_2`.
        support: indices with :math:`y_i x_i^\\top \\hat w_p \\le 1 + 10^{-6}`.
    """

    norm: str
    w: np.ndarray
    direction: np.ndarray
    margin: float
    l2_margin: float
    support: np.ndarray


def add_bias(X: np.ndarray) -> np.ndarray:
    """Append a constant feature 1, so that a bias is the last weight."""
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X, np.ones((X.shape[0], 1))])


def separability(X: np.ndarray, y: np.ndarray, tol: float = 1e-7) -> Separability:
    """Whether a hyperplane through the origin separates ``(X, y)`` strictly (an LP)."""
    import cvxpy as cp

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w, t = cp.Variable(X.shape[1]), cp.Variable()
    problem = cp.Problem(cp.Maximize(t), [cp.multiply(y, X @ w) >= t, cp.norm(w, "inf") <= 1])
    problem.solve(solver=_SOLVER)
    if w.value is None:
        raise RuntimeError(f"the separability LP failed: status {problem.status}")
    margin = float(np.min(y * (X @ w.value)))
    return Separability(bool(margin > tol), margin, np.asarray(w.value))


def max_margin(X: np.ndarray, y: np.ndarray, norm: Norm = "l2") -> MaxMargin:
    """The :math:`\\ell_p` max-margin direction of separable data (LP for l1/linf, QP for l2).

    Raises:
        ValueError: the data are not separable by a hyperplane through the origin.
    """
    import cvxpy as cp

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w = cp.Variable(X.shape[1])
    objective = {"l2": cp.sum_squares(w), "l1": cp.norm(w, 1), "linf": cp.norm(w, "inf")}
    if norm not in objective:
        raise ValueError(f"`norm`: expected one of l1, l2, linf, got {norm!r}")
    problem = cp.Problem(cp.Minimize(objective[norm]), [cp.multiply(y, X @ w) >= 1])
    problem.solve(solver=_SOLVER)
    if problem.status not in ("optimal", "optimal_inaccurate") or w.value is None:
        raise ValueError(
            f"no {norm} max-margin solution: the data are not separable by a "
            f"hyperplane through the origin (solver status {problem.status})"
        )
    w_hat = np.asarray(w.value)
    p = {"l1": 1, "l2": 2, "linf": np.inf}[norm]
    margins = y * (X @ w_hat)
    return MaxMargin(
        norm=norm,
        w=w_hat,
        direction=w_hat / np.linalg.norm(w_hat),
        margin=float(1.0 / np.linalg.norm(w_hat, ord=p)),
        l2_margin=float(margins.min() / np.linalg.norm(w_hat)),
        support=np.flatnonzero(margins <= 1 + 1e-6),
    )


def angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two vectors in degrees, accurate near 0 (atan2 of sine and cosine)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ua, ub = a / np.linalg.norm(a), b / np.linalg.norm(b)
    return float(np.degrees(np.arctan2(np.linalg.norm(ua - (ua @ ub) * ub), ua @ ub)))


def normalized_margin(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """:math:`\\min_i y_i w^\\top x_i / \\lVert w\\rVert_2`."""
    return float(np.min(y * (X @ w)) / np.linalg.norm(w))


def fit_against(x: np.ndarray, v: np.ndarray) -> dict[str, float]:
    """Least squares ``v = a x + b``; returns ``a``, ``b`` and ``r2``."""
    x, v = np.asarray(x, dtype=np.float64), np.asarray(v, dtype=np.float64)
    if x.size < 3:
        return {"a": float("nan"), "b": float("nan"), "r2": float("nan"), "points": int(x.size)}
    a, b = np.polyfit(x, v, 1)
    resid = v - (a * x + b)
    ss_tot = float(np.sum((v - v.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else float("nan")
    return {"a": float(a), "b": float(b), "r2": r2, "points": int(x.size)}
