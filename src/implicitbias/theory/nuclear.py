"""Low-rank references in float64 NumPy/cvxpy: spectra, effective rank, nuclear-norm minimizers.

These are independent of the engine: the matrix-completion experiment computes the same
quantities inside its compiled loop (with JAX) and compares them with these.

References:
    Roy & Vetterli 2007 (EUSIPCO), "The effective rank: a measure of effective
    dimensionality": :math:`\\operatorname{erank}(A) = \\exp H(p)`, :math:`p_i = \\sigma_i /
    \\lVert\\sigma\\rVert_1`.
    Fazel 2002 (PhD thesis); Candès & Recht 2009 (FoCM), "Exact matrix completion via
    convex optimization": the nuclear-norm minimizer subject to the observed entries
    recovers a rank-r matrix from enough random entries.
    Recht, Fazel & Parrilo 2010 (SIAM Review): the same for Gaussian measurements.
"""

from __future__ import annotations

import dataclasses

import numpy as np

_SOLVER = "SCS"


def singular_values(matrix: np.ndarray) -> np.ndarray:
    """Singular values in decreasing order (float64)."""
    return np.linalg.svd(np.asarray(matrix, dtype=np.float64), compute_uv=False)


def nuclear_norm(matrix: np.ndarray) -> float:
    """:math:`\\lVert A\\rVert_* = \\sum_i \\sigma_i(A)`."""
    return float(singular_values(matrix).sum())


def effective_rank_of_spectrum(sigma: np.ndarray) -> float:
    """Roy & Vetterli's effective rank of a spectrum: :math:`\\exp(-\\sum p_i\\log p_i)`.

    ``p = sigma / sum(sigma)``, with :math:`0\\log 0 = 0`. It is 1 for a rank-1 matrix, k for
    k equal singular values, and between 1 and the rank otherwise. The zero matrix has none
    (NaN).
    """
    s = np.abs(np.asarray(sigma, dtype=np.float64))
    total = s.sum()
    if total == 0:
        return float("nan")
    p = s[s > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


def effective_rank(matrix: np.ndarray) -> float:
    """Roy & Vetterli's effective rank of a matrix (see :func:`effective_rank_of_spectrum`)."""
    return effective_rank_of_spectrum(singular_values(matrix))


@dataclasses.dataclass(frozen=True)
class NuclearMinimizer:
    """The nuclear-norm minimizer subject to the observations.

    Attributes:
        X: the minimizer, ``(d1, d2)``.
        nuclear_norm: :math:`\\lVert X\\rVert_*` recomputed from its SVD.
        residual: relative violation of the constraints, :math:`\\lVert
            \\mathcal A(X) - y\\rVert / \\lVert y\\rVert`.
        status: the solver's status string.
        solver: the solver's name.
    """

    X: np.ndarray
    nuclear_norm: float
    residual: float
    status: str
    solver: str


def _solve(problem, eps: float, max_iters: int) -> None:
    problem.solve(solver=_SOLVER, eps_abs=eps, eps_rel=eps, max_iters=max_iters)


def min_nuclear_completion(
    target: np.ndarray, mask: np.ndarray, *, eps: float = 1e-8, max_iters: int = 100_000
) -> NuclearMinimizer:
    """:math:`\\min \\lVert X\\rVert_*` s.t. :math:`X_{ij} = M_{ij}` on the observed entries.

    Args:
        target: the matrix ``M`` (only its observed entries are read).
        mask: boolean ``(d1, d2)``, True where ``M`` is observed.
        eps: SCS's absolute and relative tolerances.
        max_iters: SCS's iteration cap.
    """
    import cvxpy as cp

    mask = np.asarray(mask, dtype=bool)
    rows, cols = np.nonzero(mask)
    values = np.asarray(target, dtype=np.float64)[rows, cols]
    X = cp.Variable(mask.shape)
    problem = cp.Problem(cp.Minimize(cp.normNuc(X)), [X[rows, cols] == values])
    _solve(problem, eps, max_iters)
    if X.value is None:
        raise RuntimeError(f"the nuclear-norm completion failed: {problem.status}")
    sol = np.asarray(X.value, dtype=np.float64)
    res = np.linalg.norm(sol[rows, cols] - values) / max(np.linalg.norm(values), 1e-300)
    return NuclearMinimizer(sol, nuclear_norm(sol), float(res), str(problem.status), _SOLVER)


def min_nuclear_sensing(
    A: np.ndarray, y: np.ndarray, *, eps: float = 1e-8, max_iters: int = 100_000
) -> NuclearMinimizer:
    """:math:`\\min \\lVert X\\rVert_*` s.t. :math:`\\langle A_i, X\\rangle = y_i` for all i.

    Args:
        A: measurement matrices ``(m, d1, d2)``.
        y: measurements ``(m,)``.
    """
    import cvxpy as cp

    A = np.asarray(A, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    m, d1, d2 = A.shape
    X = cp.Variable((d1, d2))
    # Row-major flattening on both sides: <A_i, X> = A_i.ravel() . X.ravel().
    problem = cp.Problem(
        cp.Minimize(cp.normNuc(X)), [A.reshape(m, d1 * d2) @ cp.vec(X, order="C") == y]
    )
    _solve(problem, eps, max_iters)
    if X.value is None:
        raise RuntimeError(f"the nuclear-norm sensing problem failed: {problem.status}")
    sol = np.asarray(X.value, dtype=np.float64)
    res = np.linalg.norm(A.reshape(m, -1) @ sol.ravel() - y) / max(np.linalg.norm(y), 1e-300)
    return NuclearMinimizer(sol, nuclear_norm(sol), float(res), str(problem.status), _SOLVER)
