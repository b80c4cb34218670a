"""References for diagonal linear networks: min-l2, min-l1 and min-Q_alpha interpolators.

All in float64 NumPy / cvxpy, independent of the training engine.

**The potential.** Woodworth et al. 2020 (COLT, "Kernel and rich regimes in overparametrized
models", Theorem 1) study :math:`w = u\\odot u - v\\odot v` with :math:`u(0) = v(0) =
\\alpha\\mathbf 1` and gradient flow on the squared loss. If it reaches an interpolator, that
interpolator is

.. math:: w_\\alpha = \\arg\\min_{Xw = y} Q_\\alpha(w), \\qquad
          Q_\\alpha(w) = \\alpha^2 \\sum_i q(w_i/\\alpha^2), \\qquad
          q(z) = 2 - \\sqrt{4 + z^2} + z\\,\\operatorname{arcsinh}(z/2).

Derivation (the convention used here, checked against small-step GD in the tests): with
:math:`g = \\nabla_w L`, gradient flow gives :math:`\\dot u = -2u\\odot g`,
:math:`\\dot v = 2v\\odot g`, so :math:`u = \\alpha e^{-2s}`, :math:`v = \\alpha e^{2s}`
with :math:`s(t) = \\int_0^t g`, which lies in the row space of ``X`` (``g = X^T r``).
Then :math:`u v = \\alpha^2` for all ``t`` and :math:`w = -2\\alpha^2\\sinh(4s)`, i.e.
:math:`\\operatorname{arcsinh}(w/2\\alpha^2) \\in \\operatorname{range}(X^\\top)`. Since
:math:`q'(z) = \\operatorname{arcsinh}(z/2)`, this is :math:`\\nabla Q_\\alpha(w) = X^\\top
\\lambda`: the KKT condition of the problem above. The scale is :math:`\\alpha^2` because
``alpha`` is the init of each *factor*; with an init :math:`u(0) = v(0) = \\sqrt{\\alpha}`
the same formula holds with :math:`\\alpha` in place of :math:`\\alpha^2`.

Limits: :math:`q(z) \\approx z^2/4` for small ``z``, so as :math:`\\alpha\\to\\infty` the
minimizer tends to the min-l2 interpolator (kernel regime); :math:`q(z) \\approx |z|\\log|z|`
for large ``z``, so for small :math:`\\alpha`, :math:`Q_\\alpha(w) \\approx
\\log(1/\\alpha^2)\\lVert w\\rVert_1 + \\sum_i |w_i|(\\log|w_i| - 1)` and the minimizer tends to the
min-l1 interpolator as :math:`\\alpha \\to 0` (rich regime).

**The product form** :math:`w = u_+\\odot v_+ - u_-\\odot v_-` with :math:`u_\\pm(0) =
c\\alpha`, :math:`v_\\pm(0) = \\alpha/c`: under gradient flow
:math:`u_\\pm^2 - v_\\pm^2` is conserved and :math:`w = -\\alpha^2(c^2 + c^{-2})\\sinh(2s)`,
so the limit is the min-:math:`Q_{\\alpha_{eff}}` interpolator with
:math:`\\alpha_{eff}^2 = \\alpha^2 (c^2 + c^{-2})/2` (:func:`effective_alpha`); for ``c = 1``
it is the ``u*u - v*v`` model run at half the speed. (On the role of the init shape in
general, see Azulay et al. 2021, ICML.)

**How the minimizer is computed.** :math:`Q_\\alpha` is not a cvxpy atom (arcsinh), but its
convex conjugate is: :math:`(\\alpha^2 q(\\cdot/\\alpha^2))^*(s) = 2\\alpha^2(\\cosh s - 1)`.
The dual problem

.. math:: \\min_\\lambda\\; \\sum_i \\alpha^2\\big(e^{x_i^\\top\\lambda} +
          e^{-x_i^\\top\\lambda}\\big) - y^\\top\\lambda

(``x_i`` the columns of ``X``) is solved with cvxpy's exponential cone (Clarabel), the
primal is recovered as :math:`w = 2\\alpha^2\\sinh(X^\\top\\lambda)`, and Newton's method on
the same dual (with a backtracking line search) polishes it to float64 accuracy. The KKT
residuals are reported: primal feasibility :math:`\\lVert Xw - y\\rVert / \\lVert y\\rVert`,
and stationarity, the distance of :math:`\\nabla Q_\\alpha(w)` to the row space of ``X``
(computed from ``w`` alone, without the dual variable).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

_SOLVER = "CLARABEL"


# --------------------------------------------------------------------------- potentials


def q(z: np.ndarray) -> np.ndarray:
    """:math:`q(z) = 2 - \\sqrt{4+z^2} + z\\,\\operatorname{arcsinh}(z/2)` (Woodworth et al.).

    Written as :math:`z\\operatorname{arcsinh}(z/2) - z^2/(2+\\sqrt{4+z^2})`, which avoids
    the cancellation of ``2 - sqrt(4 + z^2)`` for small ``z``.
    """
    z = np.asarray(z, dtype=np.float64)
    return z * np.arcsinh(z / 2) - z**2 / (2 + np.sqrt(4 + z**2))


def q_alpha(w: np.ndarray, alpha: float | np.ndarray) -> float:
    """:math:`Q_\\alpha(w) = \\sum_i \\alpha_i^2 q(w_i/\\alpha_i^2)` (``alpha`` a number, or
    one scale per coordinate)."""
    a2 = np.asarray(alpha, dtype=np.float64) ** 2
    return float(np.sum(a2 * q(np.asarray(w, dtype=np.float64) / a2)))


def q_alpha_gradient(w: np.ndarray, alpha: float | np.ndarray) -> np.ndarray:
    """:math:`\\nabla Q_\\alpha(w) = \\operatorname{arcsinh}(w / 2\\alpha^2)` (elementwise)."""
    a2 = np.asarray(alpha, dtype=np.float64) ** 2
    return np.arcsinh(np.asarray(w, dtype=np.float64) / (2 * a2))


def effective_alpha(alpha: float | np.ndarray, imbalance: float = 1.0) -> np.ndarray:
    """The scale of the product form ``u+ v+ - u- v-`` with ``u(0) = c alpha``,
    ``v(0) = alpha / c``: :math:`\\alpha\\sqrt{(c^2 + c^{-2})/2}` (derived in the module doc)."""
    c = float(imbalance)
    return np.asarray(alpha, dtype=np.float64) * np.sqrt((c**2 + c**-2) / 2)


def gd_effective_alpha(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Per-coordinate scale :math:`\\alpha_i = \\sqrt{u_i v_i}` of ``u*u - v*v`` after GD.

    Under gradient flow :math:`u_iv_i = \\alpha^2` is conserved. A GD step
    :math:`u \\leftarrow u(1 - 2\\eta g)`, :math:`v \\leftarrow v(1 + 2\\eta g)` multiplies it
    by :math:`1 - 4\\eta^2 g_i^2`, so after ``T`` steps :math:`u_iv_i = \\alpha^2\\prod_t(1 -
    4\\eta^2g_{t,i}^2)`: a smaller, coordinate-dependent scale, and an :math:`O(\\eta)` change
    of the implicit bias (Even et al. 2023, NeurIPS, analyse this effect). Meanwhile
    :math:`\\log(u_i/v_i) = -2\\sum_t \\operatorname{artanh}(2\\eta g_{t,i})`, which is in the row
    space of ``X`` up to :math:`O(\\eta^3\\sum_t g_t^3)`; so GD's limit is, up to that term, the
    minimizer of :math:`\\sum_i\\alpha_i^2 q(w_i/\\alpha_i^2)` with these :math:`\\alpha_i`.
    """
    return np.sqrt(np.asarray(u, dtype=np.float64) * np.asarray(v, dtype=np.float64))


# --------------------------------------------------------------------------- interpolators


def min_l2_interpolator(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:math:`X^+ y`, the interpolator of least l2 norm (``X`` of full row rank)."""
    return np.linalg.pinv(np.asarray(X, dtype=np.float64)) @ np.asarray(y, dtype=np.float64)


def basis_pursuit(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:math:`\\arg\\min \\lVert w\\rVert_1` s.t. :math:`Xw = y` (cvxpy, Clarabel).

    Chen, Donoho & Saunders 1998 (SIAM J. Sci. Comput.); the rich-regime limit of diagonal
    networks (Woodworth et al. 2020).
    """
    import cvxpy as cp

    X = np.asarray(X, dtype=np.float64)
    w = cp.Variable(X.shape[1])
    problem = cp.Problem(cp.Minimize(cp.norm(w, 1)), [X @ w == y])
    problem.solve(solver=_SOLVER)
    if problem.status != "optimal":
        raise RuntimeError(f"basis pursuit: solver status {problem.status}")
    return np.asarray(w.value, dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class QAlphaSolution:
    """The min-:math:`Q_\\alpha` interpolator and how well it solves its problem.

    Attributes:
        alpha: the init scale (a number, or one per coordinate).
        w: the minimizer.
        dual: the dual variable :math:`\\lambda` (``w = 2 alpha^2 sinh(X^T lambda)``).
        feasibility: :math:`\\lVert Xw - y\\rVert / \\lVert y\\rVert`.
        stationarity: :math:`\\lVert (I - P_{row})\\nabla Q_\\alpha(w)\\rVert /
            \\lVert\\nabla Q_\\alpha(w)\\rVert`, from ``w`` alone.
        value: :math:`Q_\\alpha(w)`.
        newton_steps: Newton iterations of the polish.
    """

    alpha: float | np.ndarray
    w: np.ndarray
    dual: np.ndarray
    feasibility: float
    stationarity: float
    value: float
    newton_steps: int


def kkt_residuals(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float | np.ndarray
) -> tuple[float, float]:
    """(feasibility, stationarity) of ``w`` for min Q_alpha s.t. Xw = y (see QAlphaSolution)."""
    X = np.asarray(X, dtype=np.float64)
    feas = float(np.linalg.norm(X @ w - y) / np.linalg.norm(y))
    grad = q_alpha_gradient(w, alpha)
    coef, *_ = np.linalg.lstsq(X.T, grad, rcond=None)
    scale = np.linalg.norm(grad)
    stat = float(np.linalg.norm(grad - X.T @ coef) / scale) if scale > 0 else 0.0
    return feas, stat


def _dual_cvxpy(X: np.ndarray, y: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The dual of min Q_alpha s.t. Xw = y, with cvxpy's exponential cone."""
    import cvxpy as cp

    lam = cp.Variable(X.shape[0])
    z = X.T @ lam
    log_a2 = 2.0 * np.log(alpha)  # alpha^2 e^z = e^(z + 2 log alpha): no tiny coefficients
    objective = cp.sum(cp.exp(z + log_a2) + cp.exp(-z + log_a2)) - y @ lam
    problem = cp.Problem(cp.Minimize(objective))
    with warnings.catch_warnings():  # "may be inaccurate": the Newton polish follows
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(solver=_SOLVER)
    if lam.value is None:
        raise RuntimeError(f"Q_alpha dual: solver status {problem.status}")
    return np.asarray(lam.value, dtype=np.float64)


def _newton_dual(X, y, alpha, lam, *, tol=1e-14, max_steps=100) -> tuple[np.ndarray, int]:
    """Newton's method on f(lam) = sum_i 2 a_i^2 (cosh(x_i^T lam) - 1) - y.lam.

    The gradient of ``f`` is ``X w(lam) - y`` (primal infeasibility). A step is accepted
    when it decreases ``f`` (Armijo, backtracking) or, near the optimum where ``f`` no
    longer changes in float64, when it decreases ``||X w - y||``. Stops when
    ``||X w - y|| <= tol ||y||`` or when no step makes progress.
    """
    a2 = alpha**2
    ynorm = float(np.linalg.norm(y))

    def f_and_grad(lam):
        z = X.T @ lam
        return np.sum(2 * a2 * (np.cosh(z) - 1.0)) - y @ lam, X @ (2 * a2 * np.sinh(z)) - y

    f0, grad = f_and_grad(lam)
    for step in range(max_steps):
        gnorm = float(np.linalg.norm(grad))
        if gnorm <= tol * ynorm:
            return lam, step
        hess = (X * (2 * a2 * np.cosh(X.T @ lam))) @ X.T
        try:
            delta = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            delta = np.linalg.lstsq(hess, grad, rcond=None)[0]
        decrement = float(grad @ delta)
        t = 1.0
        while t > 1e-12:
            f1, g1 = f_and_grad(lam - t * delta)
            if f1 <= f0 - 0.25 * t * decrement or np.linalg.norm(g1) < gnorm:
                break
            t *= 0.5
        if t <= 1e-12:  # no progress at float64 resolution: as good as it gets
            return lam, step
        lam, f0, grad = lam - t * delta, f1, g1
    return lam, max_steps


def q_alpha_minimizer(X: np.ndarray, y: np.ndarray, alpha: float | np.ndarray) -> QAlphaSolution:
    """:math:`\\arg\\min Q_\\alpha(w)` s.t. :math:`Xw = y` (cvxpy on the dual, Newton polish).

    Args:
        X: ``(n, d)`` with full row rank ``n``; y: ``(n,)``.
        alpha: init scale of each factor of ``u*u - v*v`` (``u(0) = v(0) = alpha``), or
            ``(d,)`` scales, one per coordinate (the potential :math:`\\sum_i \\alpha_i^2
            q(w_i/\\alpha_i^2)`, e.g. for :func:`gd_effective_alpha`).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    alpha = float(alpha) if np.ndim(alpha) == 0 else np.asarray(alpha, dtype=np.float64)
    try:
        lam = _dual_cvxpy(X, y, alpha)
    except Exception:  # noqa: BLE001 - any solver failure: Newton from zero (globally convergent)
        lam = np.zeros(X.shape[0])
    lam, steps = _newton_dual(X, y, alpha, lam)
    w = 2 * alpha**2 * np.sinh(X.T @ lam)
    feas, stat = kkt_residuals(X, y, w, alpha)
    return QAlphaSolution(alpha, w, lam, feas, stat, q_alpha(w, alpha), steps)


def q_alpha_path(X: np.ndarray, y: np.ndarray, alphas: np.ndarray) -> list[QAlphaSolution]:
    """:func:`q_alpha_minimizer` for each ``alpha``."""
    return [q_alpha_minimizer(X, y, a) for a in np.asarray(alphas, dtype=np.float64)]


def relative_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:math:`\\lVert a - b\\rVert / \\lVert b\\rVert` along the last axis."""
    return np.linalg.norm(a - b, axis=-1) / np.linalg.norm(b, axis=-1)
