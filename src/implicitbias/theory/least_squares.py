"""Closed-form references for least squares, in float64 NumPy (independent of JAX).

Loss convention throughout: :math:`L(w) = \\frac{1}{2n}\\lVert Xw - y\\rVert^2`, so the
Hessian is :math:`H = X^\\top X / n` and GD with step :math:`\\eta` is stable iff
:math:`\\eta < 2/\\lambda_{\\max}(H)`.
"""

from __future__ import annotations

import numpy as np


def pinv(X: np.ndarray, rcond: float = 1e-12) -> np.ndarray:
    """Moore-Penrose pseudo-inverse :math:`X^+` (``(p, n)``) from an SVD."""
    return np.linalg.pinv(np.asarray(X, dtype=np.float64), rcond=rcond)


def min_norm_solution(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:math:`X^+ y`: the interpolator of least Euclidean norm (when ``n <= p``, full rank)."""
    return pinv(X) @ np.asarray(y, dtype=np.float64)


def closest_interpolator(X: np.ndarray, y: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """:math:`w_0 + X^+ (y - X w_0)`: the point of :math:`\\{w: Xw = y\\}` closest to ``w0``.

    GD on least squares started at ``w0`` moves only in the row space of ``X`` and so
    converges there (seed 000, section 2). ``w0`` may be ``(p,)`` or ``(k, p)``.
    """
    X = np.asarray(X, dtype=np.float64)
    w0 = np.asarray(w0, dtype=np.float64)
    residual = np.asarray(y, dtype=np.float64) - w0 @ X.T
    return w0 + residual @ pinv(X).T


def null_projector(X: np.ndarray) -> np.ndarray:
    """:math:`I - X^+ X`, the orthogonal projector onto the null space of ``X``."""
    X = np.asarray(X, dtype=np.float64)
    return np.eye(X.shape[1]) - pinv(X) @ X


def ridge(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Minimizer of :math:`\\frac{1}{2n}\\lVert Xw-y\\rVert^2 +
    \\frac{\\lambda}{2}\\lVert w\\rVert^2`.

    Computed in the dual form :math:`X^\\top (XX^\\top + n\\lambda I)^{-1} y`, which stays
    accurate as :math:`\\lambda \\to 0` and tends to :math:`X^+ y` there.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    gram = X @ X.T + n * float(lam) * np.eye(n)
    return X.T @ np.linalg.solve(gram, np.asarray(y, dtype=np.float64))


def ridge_path(X: np.ndarray, y: np.ndarray, lambdas: np.ndarray) -> np.ndarray:
    """``(len(lambdas), p)`` ridge solutions."""
    return np.stack([ridge(X, y, lam) for lam in np.asarray(lambdas)])


def hessian_spectrum(X: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Non-zero eigenvalues of :math:`X^\\top X / n`, ascending (relative cut-off ``tol``)."""
    X = np.asarray(X, dtype=np.float64)
    eig = np.linalg.eigvalsh(X @ X.T / X.shape[0])
    return np.sort(eig[eig > tol * eig.max()])


def smoothness(X: np.ndarray) -> float:
    """:math:`L = \\lambda_{\\max}(X^\\top X / n)`; GD is stable iff :math:`\\eta < 2/L`."""
    return float(hessian_spectrum(X)[-1])


def gd_contraction(X: np.ndarray, lr: float) -> dict[str, float]:
    """Per-step contraction of the GD error :math:`\\lVert w_t - w_\\infty\\rVert`.

    The error evolves as :math:`(I - \\eta H)^t e_0` in the row space, so it decays like
    :math:`\\max_i |1 - \\eta\\lambda_i|^t` over the non-zero eigenvalues; when
    :math:`\\eta \\le 2/(\\lambda_{\\min}^+ + \\lambda_{\\max})` this is
    :math:`(1 - \\eta\\lambda_{\\min}^+)^t`.

    Returns:
        ``lambda_min_plus``, ``lambda_max``, ``rate_min_plus`` (:math:`1-\\eta\\lambda_{\\min}^+`),
        and ``rate`` (the max over the spectrum).
    """
    eig = hessian_spectrum(X)
    return {
        "lambda_min_plus": float(eig[0]),
        "lambda_max": float(eig[-1]),
        "rate_min_plus": float(1.0 - lr * eig[0]),
        "rate": float(np.max(np.abs(1.0 - lr * eig))),
    }


def fit_log_rate(steps: np.ndarray, error: np.ndarray, lo: float, hi: float) -> dict[str, float]:
    """Least-squares fit of :math:`\\log e_t = a + t \\log\\rho` over points with lo < e < hi.

    Returns ``rate`` (:math:`\\rho`), ``r2`` and ``points`` (how many were used); ``rate``
    is NaN when fewer than three points fall in the window.
    """
    steps = np.asarray(steps, dtype=np.float64)
    error = np.asarray(error, dtype=np.float64)
    keep = (error > lo) & (error < hi) & np.isfinite(error)
    if keep.sum() < 3:
        return {"rate": float("nan"), "r2": float("nan"), "points": int(keep.sum())}
    t, log_e = steps[keep], np.log(error[keep])
    slope, intercept = np.polyfit(t, log_e, 1)
    fitted = intercept + slope * t
    ss_res = float(np.sum((log_e - fitted) ** 2))
    ss_tot = float(np.sum((log_e - log_e.mean()) ** 2))
    return {
        "rate": float(np.exp(slope)),
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0,
        "points": int(keep.sum()),
    }


def gd_error_closed_form(X: np.ndarray, lr: float, e0: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """:math:`\\lVert (I - \\eta H)^t e_0\\rVert` at each ``t`` in ``steps`` (eigenbasis of H).

    ``e0 = w0 - w_inf`` lies in the row space for GD on least squares, so this is the exact
    GD error at step ``t`` (up to round-off).
    """
    X = np.asarray(X, dtype=np.float64)
    eig, vecs = np.linalg.eigh(X.T @ X / X.shape[0])
    coef = vecs.T @ np.asarray(e0, dtype=np.float64)
    factors = np.abs(1.0 - lr * eig)[None, :] ** np.asarray(steps, dtype=np.float64)[:, None]
    return np.sqrt(np.sum((coef[None, :] * factors) ** 2, axis=1))


def bottom_eigen_weight(X: np.ndarray, e0: np.ndarray) -> float:
    """Fraction of :math:`\\lVert e_0\\rVert` along the eigenvector of the smallest non-zero
    eigenvalue of :math:`X^\\top X/n` (small: that mode's slow rate is hidden for long)."""
    X = np.asarray(X, dtype=np.float64)
    eig, vecs = np.linalg.eigh(X.T @ X / X.shape[0])
    positive = np.flatnonzero(eig > 1e-10 * eig.max())
    e0 = np.asarray(e0, dtype=np.float64)
    return float(abs(vecs[:, positive[0]] @ e0) / np.linalg.norm(e0))
