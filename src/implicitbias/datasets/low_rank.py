"""Low-rank ground truths, observation masks, Gaussian sensing, and factor inits.

Everything is drawn with NumPy's legacy ``RandomState`` so that the seed snippets'
streams can be reproduced draw for draw:

- seed 000, section 4: ``np.random.seed(42)``; ``U = randn(d, r)``; ``V = randn(r, d)``;
  ``M = U @ V``; ``mask = rand(d, d) < 0.5``; ``W1 = randn(d, d) * 0.01``; ``W2 = randn(d,
  d) * 0.01`` (product ``W2 @ W1``); then the direct baseline ``randn(d, d) * 0.01``.
- seed 004, Experiment 2: the notebook never re-seeds, so its stream continues from
  Experiment 1: ``np.random.seed(42)``, two ``randn(10, 2)`` clouds, and one
  ``randint(2**31 - 1)`` that scikit-learn's ``SVC.fit`` draws from the global generator
  (``random_state=None``). Then ``U* = randn(N, 1)``, ``V* = randn(N, 1)``, ``M = U* V*^T``,
  ``mask = rand(N, N) < 0.6``, ``U = randn(N, N) * 1e-3``, ``V = randn(N, N) * 1e-3`` and
  the product ``U @ V.T``.

Factors are returned as ``(L, d, d)`` stacks ``[W_1, ..., W_L]`` whose end-to-end matrix is
:math:`W_L \\cdots W_1`; for seed 004 that means ``W_1 = V^T`` and ``W_2 = U``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

SEED_SOURCES = ("seed-000", "seed-004")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One matrix-recovery problem.

    Attributes:
        target: the ground truth ``M``, ``(d, d)``.
        mask: boolean ``(d, d)`` of observed entries (mask observations), else ``None``.
        A: Gaussian measurement matrices ``(m, d, d)`` (sensing), else ``None``.
        y: measurements ``<A_i, M>`` ``(m,)`` (sensing), else ``None``.
    """

    target: np.ndarray
    mask: np.ndarray | None = None
    A: np.ndarray | None = None
    y: np.ndarray | None = None

    @property
    def num_observed(self) -> int:
        return int(self.mask.sum()) if self.mask is not None else int(self.A.shape[0])


def low_rank(
    d: int, rank: int, rs: np.random.RandomState, *, normalize: bool = False
) -> np.ndarray:
    """``U @ V`` with ``U ~ N(0,1)^{d x r}`` then ``V ~ N(0,1)^{r x d}``, drawn in that order.

    ``normalize`` scales it to unit Frobenius norm.
    """
    U = rs.randn(d, rank)
    V = rs.randn(rank, d)
    M = U @ V
    return M / np.linalg.norm(M) if normalize else M


def bernoulli_mask(d: int, fraction: float, rs: np.random.RandomState) -> np.ndarray:
    """``rand(d, d) < fraction`` (each entry observed independently)."""
    return rs.rand(d, d) < fraction


def nested_masks(d: int, counts: tuple[int, ...], rs: np.random.RandomState) -> list:
    """Masks with exactly ``count`` entries each, uniformly without replacement; nested
    (the entries of a smaller count are among those of a larger one)."""
    order = rs.permutation(d * d)
    masks = []
    for count in counts:
        mask = np.zeros(d * d, dtype=bool)
        mask[order[:count]] = True
        masks.append(mask.reshape(d, d))
    return masks


def gaussian_sensing(
    target: np.ndarray, m: int, rs: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """``A_i`` with i.i.d. ``N(0, 1/m)`` entries and ``y_i = <A_i, M>``, ``i < m``.

    With this scaling :math:`E\\sum_i \\langle A_i, X\\rangle^2 = \\lVert X\\rVert_F^2`.
    """
    d1, d2 = target.shape
    A = rs.randn(m, d1, d2) / np.sqrt(m)
    return A, np.einsum("mij,ij->m", A, target)


def seed000(
    d: int = 10, rank: int = 2, fraction: float = 0.5, init: float = 0.01
) -> tuple[Problem, np.ndarray, np.ndarray]:
    """Seed 000 section 4's draws: the problem, the depth-2 factors and the direct init."""
    rs = np.random.RandomState(42)
    M = low_rank(d, rank, rs)
    mask = bernoulli_mask(d, fraction, rs)
    W1 = rs.randn(d, d) * init
    W2 = rs.randn(d, d) * init
    direct = rs.randn(d, d) * init
    return Problem(M, mask), np.stack([W1, W2]), direct[None]


def seed004_stream() -> np.random.RandomState:
    """The global stream as seed 004's Experiment 2 finds it (after Experiment 1)."""
    rs = np.random.RandomState(42)
    rs.randn(10, 2)
    rs.randn(10, 2)
    rs.randint(np.iinfo("i").max)  # SVC(kernel="linear").fit draws its libsvm seed
    return rs


def seed004(
    d: int = 20, rank: int = 1, fraction: float = 0.6, init: float = 1e-3
) -> tuple[Problem, np.ndarray]:
    """Seed 004 Experiment 2's draws: the problem and the factors ``[V^T, U]``."""
    rs = seed004_stream()
    U_true = rs.randn(d, rank)
    V_true = rs.randn(d, rank)
    M = U_true @ V_true.T
    mask = bernoulli_mask(d, fraction, rs)
    U = rs.randn(d, d) * init
    V = rs.randn(d, d) * init
    return Problem(M, mask), np.stack([V.T, U])


def factor_init(
    kind: str, depth: int, d: int, scale: float, rs: np.random.RandomState, per: str = "factor"
) -> np.ndarray:
    """``depth`` factors ``(depth, d, d)`` of one kind, drawn from ``rs``.

    Args:
        kind: ``gaussian`` (i.i.d. ``N(0, s^2)`` entries), ``orthogonal`` (``s Q`` with ``Q``
            Haar-random, from the QR of a Gaussian matrix) or ``identity`` (``s I``).
        scale: ``s`` if ``per == "factor"``; if ``per == "product"``, the expected Frobenius
            norm of the initial end-to-end matrix, from which ``s`` follows
            (:math:`E\\lVert W_L\\cdots W_1\\rVert_F^2 = s^{2L} d^{L+1}` for Gaussian factors,
            :math:`s^{2L} d` for orthogonal and identity ones).
    """
    if per == "product":
        power = depth + 1 if kind == "gaussian" else 1
        scale = (scale**2 / d**power) ** (1.0 / (2 * depth))
    if kind == "identity":
        return np.broadcast_to(scale * np.eye(d), (depth, d, d)).copy()
    G = rs.randn(depth, d, d)
    if kind == "gaussian":
        return scale * G
    Q, R = np.linalg.qr(G)
    return scale * Q * np.sign(np.diagonal(R, axis1=1, axis2=2))[:, None, :]
