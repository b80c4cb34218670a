"""Measuring one matrix or one member: errors, spectrum, the step of equal training loss,
incremental learning, and the nuclear-norm minimizer (cvxpy, SCS) as a reference."""

from __future__ import annotations

from typing import Any

import numpy as np

from implicitbias.datasets import low_rank
from implicitbias.problems.factorization import TOP_SINGULAR
from implicitbias.theory import nuclear


def describe_matrix(W: np.ndarray, prob: low_rank.Problem) -> dict[str, Any]:
    """Errors and spectrum of one matrix against a problem (float64 NumPy)."""
    M = prob.target
    s = nuclear.singular_values(W)
    out = {
        "relative_error": float(np.linalg.norm(W - M) / np.linalg.norm(M)),
        "nuclear_norm": float(s.sum()),
        "effective_rank": nuclear.effective_rank_of_spectrum(s),
        "top_singular_values": s[:5].tolist(),
    }
    if prob.mask is not None:
        seen = prob.mask
        out["observed_error"] = float(np.linalg.norm((W - M)[seen]) / np.linalg.norm(M[seen]))
        out["unobserved_error"] = (
            float(np.linalg.norm((W - M)[~seen]) / np.linalg.norm(M[~seen]))
            if (~seen).any()
            else 0.0
        )
    else:
        r = np.einsum("mij,ij->m", prob.A, W) - prob.y
        out["observed_error"] = float(np.linalg.norm(r) / np.linalg.norm(prob.y))
    return out


def at_match(metrics, member: int, level: float) -> dict[str, Any]:
    """Effective rank and step where a member first has observed error <= level."""
    hit = np.flatnonzero(metrics["observed_error"][:, member] <= level)
    if hit.size == 0:
        return {"step_index": None, "effective_rank": float("nan")}
    i = int(hit[0])
    return {"step_index": i, "effective_rank": float(metrics["effective_rank"][i, member])}


def pickups(traj, member: int, target: np.ndarray, rank: int) -> list[int | None]:
    """Incremental learning: for each i < rank (and < the logged count), the first logged
    step at which sigma_i(W) reaches half of sigma_i(M); None if it never does."""
    truth = nuclear.singular_values(target)
    out = []
    for i in range(min(rank, TOP_SINGULAR, len(truth))):
        hit = np.flatnonzero(traj.metrics[f"sv{i + 1}"][:, member] >= 0.5 * truth[i])
        out.append(int(traj.steps[hit[0]]) if hit.size else None)
    return out


def nuclear_reference(problems) -> list[dict[str, Any]]:
    out = []
    for prob in problems:
        if prob.mask is not None:
            ref = nuclear.min_nuclear_completion(prob.target, prob.mask)
        else:
            ref = nuclear.min_nuclear_sensing(prob.A, prob.y)
        out.append(
            {
                **describe_matrix(ref.X, prob),
                "constraint_residual": ref.residual,
                "status": ref.status,
                "solver": ref.solver,
                "X": ref.X,
            }
        )
    return out
