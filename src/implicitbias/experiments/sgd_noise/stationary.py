"""The stationary covariance of constant-step SGD on least squares (Pflug 1986; Mandt,
Hoffman & Blei 2017, JMLR)."""

from __future__ import annotations

import numpy as np

from implicitbias import theory


def stationary_covariance(X: np.ndarray, y: np.ndarray, lr: float, batch: int) -> np.ndarray:
    """The exact stationary covariance of constant-step SGD around ``w_hat`` (NumPy).

    ``e_{t+1} = (I - eta H_B) e_t - eta g_B`` with ``g_B`` the minibatch gradient at
    ``w_hat`` (zero mean over batches), minibatches of ``batch`` distinct examples drawn
    afresh each step. ``Sigma = E[A Sigma A] + eta^2 C_B``, ``A = I - eta H_B``, solved as a
    ``d^2 x d^2`` linear system (the cross term vanishes because ``E e = 0`` at
    stationarity and ``e_t`` is independent of the batch of step ``t``); ``H_B`` and
    ``C_B`` carry the finite-population factor ``(n - B) / (B (n - 1))``. NaN where the
    recursion's operator has spectral radius >= 1 (the second moment diverges).
    """
    n, d = X.shape
    w_hat = theory.pinv(X) @ y
    r = X @ w_hat - y
    H = X.T @ X / n
    if batch >= n:
        return np.zeros((d, d))
    f = (n - batch) / (batch * (n - 1))  # variance factor of a mean without replacement
    G = X * r[:, None]  # per-example gradients at w_hat (they sum to 0)
    C = f * (G.T @ G / n)
    D = np.einsum("ni,nj->nij", X, X) - H  # per-example Hessian deviations
    DD = f * np.einsum("nij,nkl->ikjl", D, D).reshape(d * d, d * d) / n
    A = np.eye(d) - lr * H
    M = np.kron(A, A) + lr**2 * DD
    if np.max(np.abs(np.linalg.eigvals(M))) >= 1.0:
        # The second moment grows without bound (the step is too large for single
        # examples even where GD is stable): no stationary covariance.
        return np.full((d, d), np.nan)
    vec = np.linalg.solve(np.eye(d * d) - M, lr**2 * C.reshape(-1))
    S = vec.reshape(d, d)
    return 0.5 * (S + S.T)
