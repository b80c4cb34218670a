"""The interpolator closest to an init in the Bregman divergence of the p-norm potential.

For :math:`\\psi(w) = \\frac1p\\lVert w\\rVert_p^p` (:math:`p > 1`) and an under-determined
system :math:`Xw = y` (``X`` of shape ``(n, d)``, ``n < d``, full row rank),

.. math::

    \\hat w = \\arg\\min_{Xw = y} D_\\psi(w, w_0),\\qquad
    D_\\psi(w, w_0) = \\psi(w) - \\psi(w_0) - \\langle\\nabla\\psi(w_0), w - w_0\\rangle,

with :math:`\\nabla\\psi(w) = \\operatorname{sign}(w)|w|^{p-1}`. From :math:`w_0 = 0` this is
the min-:math:`\\ell_p`-norm interpolator. Mirror descent with potential :math:`\\psi` on
least squares started at :math:`w_0` converges to it when it converges to an interpolator
(Gunasekar et al. 2018, ICML, section 2.1; Azizan & Hassibi 2019, ICLR): its iterates keep
:math:`\\nabla\\psi(w_t) - \\nabla\\psi(w_0)` in the row space of ``X``, and that with
:math:`X\\hat w = y` is exactly the KKT system of the problem above,

.. math::

    X\\hat w = y,\\qquad \\nabla\\psi(\\hat w) - \\nabla\\psi(w_0) = X^\\top\\lambda
    \\ \\text{for some } \\lambda \\in \\mathbb R^n.

**How it is computed.** cvxpy (Clarabel, power cones) solves the convex program
(``pnorm`` for :math:`w_0 = 0`, else :math:`\\frac1p\\sum_i t_i^p - \\langle\\nabla\\psi(w_0),
w\\rangle` with :math:`t \\ge |w|`) to a KKT residual of about ``1e-5``. The answer is then
*polished* by damped Newton steps on the dual
:math:`\\min_\\lambda \\psi^*(\\nabla\\psi(w_0) + X^\\top\\lambda) - \\lambda^\\top y`
(:math:`\\psi^* = \\frac1q\\lVert\\cdot\\rVert_q^q`, :math:`q = p/(p-1)`), started from the
:math:`\\lambda` that best explains cvxpy's answer. The polish is kept only when it stays
within ``1e-3`` (relative) of cvxpy's point, stays feasible and lowers the KKT residual
(typically to ``1e-15``); otherwise cvxpy's point is returned (the dual is not twice
differentiable where a coordinate of the solution is 0, which can stall Newton for
``p > 2``). The result records both residuals. :func:`kkt_residual` measures the KKT
conditions independently of both solvers. Everything is float64 NumPy.

References:
    S. Gunasekar, J. Lee, D. Soudry, N. Srebro. "Characterizing Implicit Bias in Terms of
    Optimization Geometry". ICML 2018.
    N. Azizan, B. Hassibi. "Stochastic Gradient/Mirror Descent: Minimax Optimality and
    Implicit Regularization". ICLR 2019.
    H. Sun, K. Ahn, C. Thrampoulidis, N. Azizan. "Mirror Descent Maximizes Generalized
    Margin and Can Be Implemented Efficiently". NeurIPS 2022.
"""

from __future__ import annotations

import dataclasses

import numpy as np

_SOLVER = "CLARABEL"
_SOLVER_OPTIONS = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}


@dataclasses.dataclass(frozen=True)
class BregmanInterpolator:
    """The Bregman-closest interpolator and how well it satisfies its conditions.

    Attributes:
        w: :math:`\\hat w`, ``(d,)``.
        p: the potential's exponent.
        divergence: :math:`D_\\psi(\\hat w, w_0)` (from 0: :math:`\\lVert\\hat w\\rVert_p^p/p`).
        residual: :math:`\\lVert X\\hat w - y\\rVert / \\lVert y\\rVert`.
        kkt: :func:`kkt_residual` of :math:`\\hat w` (0 at the exact solution).
        kkt_cvxpy: the same for cvxpy's point before polishing.
        polished: whether the Newton polish was kept.
        status: cvxpy's status string.
        solver: the conic solver's name.
    """

    w: np.ndarray
    p: float
    divergence: float
    residual: float
    kkt: float
    kkt_cvxpy: float
    polished: bool
    status: str
    solver: str


def mirror_map(w: np.ndarray, p: float) -> np.ndarray:
    """:math:`\\nabla\\psi(w) = \\operatorname{sign}(w)|w|^{p-1}`."""
    w = np.asarray(w, dtype=np.float64)
    return np.sign(w) * np.abs(w) ** (p - 1)


def inverse_map(z: np.ndarray, p: float) -> np.ndarray:
    """:math:`(\\nabla\\psi)^{-1}(z) = \\operatorname{sign}(z)|z|^{1/(p-1)}`."""
    z = np.asarray(z, dtype=np.float64)
    return np.sign(z) * np.abs(z) ** (1.0 / (p - 1))


def potential(w: np.ndarray, p: float) -> float:
    """:math:`\\psi(w) = \\frac1p\\sum_i |w_i|^p`."""
    return float(np.sum(np.abs(np.asarray(w, dtype=np.float64)) ** p) / p)


def bregman_divergence(w: np.ndarray, w0: np.ndarray, p: float) -> float:
    """:math:`D_\\psi(w, w_0) = \\psi(w) - \\psi(w_0) - \\langle\\nabla\\psi(w_0), w - w_0\\rangle
    \\ge 0`."""
    w, w0 = np.asarray(w, dtype=np.float64), np.asarray(w0, dtype=np.float64)
    return potential(w, p) - potential(w0, p) - float(mirror_map(w0, p) @ (w - w0))


def kkt_residual(X: np.ndarray, w: np.ndarray, w0: np.ndarray, p: float) -> float:
    """How far :math:`\\theta = \\nabla\\psi(w) - \\nabla\\psi(w_0)` is from the row space of
    ``X``: :math:`\\lVert(I - X^+X)\\theta\\rVert / \\lVert\\theta\\rVert` (0 when
    :math:`\\theta = 0`). With :math:`Xw = y` it is zero exactly at the Bregman-closest
    interpolator (the problem is strictly convex)."""
    X = np.asarray(X, dtype=np.float64)
    theta = mirror_map(w, p) - mirror_map(w0, p)
    scale = np.linalg.norm(theta)
    if scale == 0:
        return 0.0
    coef, *_ = np.linalg.lstsq(X.T, theta, rcond=None)
    return float(np.linalg.norm(theta - X.T @ coef) / scale)


def _cvxpy_solve(X: np.ndarray, y: np.ndarray, w0: np.ndarray, p: float) -> tuple:
    import cvxpy as cp

    w = cp.Variable(X.shape[1])
    if not np.any(w0):
        objective = cp.pnorm(w, p, approx=False)
        constraints = [X @ w == y]
    else:
        t = cp.Variable(X.shape[1])
        objective = cp.sum(cp.power(t, p, approx=False)) / p - mirror_map(w0, p) @ w
        constraints = [X @ w == y, t >= cp.abs(w)]
    problem = cp.Problem(cp.Minimize(objective), constraints)
    problem.solve(solver=_SOLVER, **_SOLVER_OPTIONS)
    if problem.status not in ("optimal", "optimal_inaccurate") or w.value is None:
        raise RuntimeError(f"the Bregman interpolation problem failed: status {problem.status}")
    return np.asarray(w.value, dtype=np.float64), str(problem.status)


def _polish(X, y, w0, p, w_start, iterations: int = 50) -> np.ndarray:
    """Damped Newton on the dual :math:`\\phi(\\lambda) = \\psi^*(\\theta_0 + X^\\top\\lambda) -
    \\lambda^\\top y`, whose gradient is :math:`F(\\lambda) = X w(\\lambda) - y` with
    :math:`w(\\lambda) = (\\nabla\\psi)^{-1}(\\theta_0 + X^\\top\\lambda)`; the step is halved
    until :math:`\\lVert F\\rVert` decreases (the Newton step is a descent direction for it)."""
    theta0 = mirror_map(w0, p)
    lam, *_ = np.linalg.lstsq(X.T, mirror_map(w_start, p) - theta0, rcond=None)

    def gradient(lam):
        return X @ inverse_map(theta0 + X.T @ lam, p) - y

    cap = 1.0 / np.sqrt(np.finfo(np.float64).tiny)  # slope at theta_i = 0 when p > 2
    grad = gradient(lam)
    for _ in range(iterations):
        norm = np.linalg.norm(grad)
        if norm <= 1e-15 * max(np.linalg.norm(y), 1.0):
            break
        theta = theta0 + X.T @ lam
        slope = np.minimum(np.abs(theta) ** (1.0 / (p - 1) - 1.0) / (p - 1), cap)
        try:
            step = np.linalg.solve((X * slope) @ X.T, grad)
        except np.linalg.LinAlgError:
            break
        size = 1.0
        while size > 1e-8:
            trial = gradient(lam - size * step)
            if np.linalg.norm(trial) < (1 - 1e-4 * size) * norm:
                break
            size /= 2
        else:
            break  # no decrease: at the precision floor
        lam, grad = lam - size * step, trial
    return inverse_map(theta0 + X.T @ lam, p)


def closest_bregman_interpolator(
    X: np.ndarray, y: np.ndarray, p: float, w0: np.ndarray | None = None, *, polish: bool = True
) -> BregmanInterpolator:
    """:math:`\\arg\\min_{Xw=y} D_\\psi(w, w_0)` for :math:`\\psi = \\frac1p\\lVert w\\rVert_p^p`.

    Args:
        X: ``(n, d)`` with full row rank (``n <= d``).
        y: ``(n,)``.
        p: exponent ``> 1`` (cvxpy uses power cones, ``approx=False``: the exact ``p``).
        w0: the init, ``(d,)``; ``None`` is zero (the min-l_p-norm interpolator).
        polish: refine cvxpy's answer by Newton steps on the dual (module docstring).

    Raises:
        ValueError: ``p <= 1`` or mismatched shapes.
        RuntimeError: the solver failed.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if not p > 1:
        raise ValueError(f"`p`: expected a number > 1, got {p!r}")
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"expected X (n, d) and y (n,), got {X.shape} and {y.shape}")
    w0 = np.zeros(X.shape[1]) if w0 is None else np.asarray(w0, dtype=np.float64)
    w_cvx, status = _cvxpy_solve(X, y, w0, float(p))

    def residual(w):
        return float(np.linalg.norm(X @ w - y) / np.linalg.norm(y))

    w, polished = w_cvx, False
    if polish:
        candidate = _polish(X, y, w0, float(p), w_cvx)
        change = np.linalg.norm(candidate - w_cvx) / max(np.linalg.norm(w_cvx), 1e-300)
        if np.all(np.isfinite(candidate)) and change <= 1e-3:
            feasible = residual(candidate) <= max(residual(w_cvx), 1e-12)
            kkt_before = max(kkt_residual(X, w_cvx, w0, p), 1e-14)
            if feasible and kkt_residual(X, candidate, w0, p) <= kkt_before:
                w, polished = candidate, True
    return BregmanInterpolator(
        w=w,
        p=float(p),
        divergence=bregman_divergence(w, w0, p),
        residual=residual(w),
        kkt=kkt_residual(X, w, w0, p),
        kkt_cvxpy=kkt_residual(X, w_cvx, w0, p),
        polished=polished,
        status=status,
        solver=_SOLVER,
    )


def min_lp_interpolator(
    X: np.ndarray, y: np.ndarray, p: float, *, polish: bool = True
) -> BregmanInterpolator:
    """The min-:math:`\\ell_p`-norm interpolator: :func:`closest_bregman_interpolator` from 0."""
    return closest_bregman_interpolator(X, y, p, None, polish=polish)
