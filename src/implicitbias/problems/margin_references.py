"""The l1, l2 and l_inf max-margin directions of a separable set, and whether they are unique.

With :math:`z_i = y_i x_i`, the :math:`\\ell_p` max-margin problem is
:math:`\\min \\lVert w\\rVert_p` s.t. :math:`z_i^\\top w \\ge 1`. Steepest descent with respect
to a norm converges in direction to the solution for that norm when it is unique
(Gunasekar et al. 2018, ICML, section 4), so these are the references against which the
``geometry`` experiment measures each optimizer's limit direction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.theory import angle_degrees, max_margin

REFS = ("l1", "l2", "linf")
"""The reference norms, in the order of every ``(..., 3)`` array of angles."""

DUAL_ORD = {"l2": 2, "l1": np.inf, "linf": 1}
"""``numpy.linalg.norm`` order of the dual of each norm."""


def lp_face_width(X: np.ndarray, y: np.ndarray, norm: str, slack: float = 1e-9) -> float:
    """Width of the optimal face of the l1 or l_inf max-margin linear program.

    With :math:`p^*` the optimal value, the near-optimal set
    :math:`\\{w : y_i w^\\top x_i \\ge 1,\\ \\lVert w\\rVert \\le (1 + \\mathrm{slack}) p^*\\}` is
    a polytope; its width :math:`\\max_j (\\max w_j - \\min w_j) / \\lVert w^*\\rVert_2` is
    ``O(slack)`` when the solution is a unique vertex and of order 1 when a whole edge or
    face is optimal. Standard reformulations (HiGHS): l1 with :math:`-u \\le w \\le u`,
    objective :math:`\\sum u`; l_inf with :math:`-t \\le w_j \\le t`, objective :math:`t`.
    """
    from scipy.optimize import linprog

    Z = np.asarray(y, dtype=np.float64)[:, None] * np.asarray(X, dtype=np.float64)
    n, d = Z.shape
    k = d if norm == "l1" else 1  # auxiliary variables
    bound = np.eye(d) if norm == "l1" else np.ones((d, 1))
    A = np.vstack(
        [
            np.hstack([-Z, np.zeros((n, k))]),
            np.hstack([np.eye(d), -bound]),
            np.hstack([-np.eye(d), -bound]),
        ]
    )
    b = np.concatenate([-np.ones(n), np.zeros(2 * d)])
    c = np.concatenate([np.zeros(d), np.ones(k)])
    free = [(None, None)] * (d + k)
    best = linprog(c, A_ub=A, b_ub=b, bounds=free, method="highs")
    A2, b2 = np.vstack([A, c]), np.append(b, best.fun * (1 + slack))
    widths = []
    for j in range(d):
        e = np.zeros(d + k)
        e[j] = 1.0
        lo = linprog(e, A_ub=A2, b_ub=b2, bounds=free, method="highs").fun
        hi = -linprog(-e, A_ub=A2, b_ub=b2, bounds=free, method="highs").fun
        widths.append(hi - lo)
    return float(max(widths) / np.linalg.norm(best.x[:d]))


def references(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """The three unit max-margin directions and what is known about them.

    Returns:
        ``(dirs, info)``: ``dirs`` of shape ``(3, d)`` in the order of :data:`REFS`; ``info``
        per norm (direction, margin, l2 margin, support, face width, unique), the pairwise
        angles in degrees and the smallest of them.
    """
    out: dict[str, Any] = {}
    dirs = []
    for norm in REFS:
        mm = max_margin(X, y, norm)
        width = 0.0 if norm == "l2" else lp_face_width(X, y, norm)  # l2: strictly convex
        out[norm] = {
            "direction": mm.direction.tolist(),
            "margin": mm.margin,
            "l2_margin": mm.l2_margin,
            "support": mm.support.tolist(),
            "face_width": width,
            "unique": bool(width < 1e-4),
        }
        dirs.append(mm.direction)
    angles = {
        f"{a}-{b}": angle_degrees(dirs[i], dirs[j])
        for i, a in enumerate(REFS)
        for j, b in enumerate(REFS)
        if i < j
    }
    out["angles"] = angles
    out["min_pairwise"] = min(angles.values())
    return np.stack(dirs), out


def dual_bound(X: np.ndarray, geometry: str) -> float:
    """:math:`B_* = \\max_i \\lVert x_i\\rVert_*`, the dual norm of ``geometry``."""
    return float(np.max(np.linalg.norm(X, ord=DUAL_ORD[geometry], axis=1)))
