"""The explorer's JSON API: input validation, the max-margin references, the runs listing.

Every function here takes plain JSON values and returns plain JSON values; the HTTP layer
(:mod:`implicitbias.web.server`) only routes. Bad input raises :class:`ApiError` with an
HTTP status and a message in the project's template (parameter, what is allowed, what was
given), which the server sends back as ``{"error": message}``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

#: Most points a max-margin request may carry (the LP/QP stay in the millisecond range).
MAX_POINTS = 200
#: Most features per point.
MAX_DIM = 16
#: Largest absolute coordinate accepted.
MAX_ABS = 1e6
#: Most run folders listed.
MAX_RUNS = 500
#: Files of a run folder the server will serve, by suffix.
SERVED_SUFFIXES = {".png", ".svg", ".html", ".json", ".csv", ".txt"}


class ApiError(Exception):
    """A request the API refuses; ``status`` is the HTTP status (4xx)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad(param: str, allowed: str, given: Any, status: int = 400) -> ApiError:
    """An :class:`ApiError` in the project's message template."""
    text = repr(given)
    if len(text) > 80:
        text = text[:77] + "..."
    return ApiError(status, f"`{param}`: expected {allowed}, got {text}.")


def finite_number(value: Any, param: str, *, bound: float = MAX_ABS) -> float:
    """``value`` as a float; refuses booleans, strings, NaN, infinities and |x| > bound."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(param, "a number", value)
    x = float(value)
    if not math.isfinite(x) or abs(x) > bound:
        raise bad(param, f"a finite number with absolute value <= {bound:g}", value)
    return x


def points_and_labels(payload: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``{"points": [[x1, x2, ...], ...], "labels": [+1 | -1, ...]}``."""
    if not isinstance(payload, dict):
        raise bad("body", 'a JSON object {"points": [...], "labels": [...]}', payload)
    unknown = sorted(set(payload) - {"points", "labels"})
    if unknown:
        raise bad("body", "only the keys points and labels", unknown)
    points, labels = payload.get("points"), payload.get("labels")
    if not isinstance(points, list) or not 1 <= len(points) <= MAX_POINTS:
        raise bad(
            "points",
            f"a list of 1 to {MAX_POINTS} points",
            points if not isinstance(points, list) else f"{len(points)} points",
        )
    if not isinstance(labels, list) or len(labels) != len(points):
        raise bad("labels", f"a list of {len(points)} labels (one per point)", labels)
    first = points[0]
    dim = len(first) if isinstance(first, list) else 0
    if not 1 <= dim <= MAX_DIM:
        raise bad("points[0]", f"a list of 1 to {MAX_DIM} numbers", first)
    X = np.empty((len(points), dim))
    for i, p in enumerate(points):
        if not isinstance(p, list) or len(p) != dim:
            raise bad(f"points[{i}]", f"a list of {dim} numbers (as points[0])", p)
        X[i] = [finite_number(v, f"points[{i}][{j}]") for j, v in enumerate(p)]
    y = np.empty(len(labels))
    for i, label in enumerate(labels):
        if isinstance(label, bool) or label not in (1, -1):
            raise bad(f"labels[{i}]", "+1 or -1", label)
        y[i] = label
    return X, y


def _solution(mm: Any) -> dict[str, Any]:
    return {
        "w": mm.w.tolist(),
        "direction": mm.direction.tolist(),
        "margin": mm.margin,
        "l2_margin": mm.l2_margin,
        "support": mm.support.tolist(),
    }


def linf_unique(X: np.ndarray, y: np.ndarray, w: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether the l_inf max-margin solution is unique (its optimal set may be a segment).

    Minimizes and maximizes each coordinate over the optimal set
    :math:`\\{w: \\lVert w\\rVert_\\infty \\le \\lVert\\hat w\\rVert_\\infty(1 + 10^{-9}),
    y_i w^\\top x_i \\ge 1\\}` (LPs); unique when every range is below ``tol`` relative to
    :math:`\\lVert\\hat w\\rVert_\\infty`.
    """
    import cvxpy as cp

    t = float(np.max(np.abs(w))) * (1 + 1e-9)
    v = cp.Variable(X.shape[1])
    constraints = [cp.multiply(y, X @ v) >= 1, cp.norm(v, "inf") <= t]
    for j in range(X.shape[1]):
        ends = []
        for sense in (cp.Minimize, cp.Maximize):
            problem = cp.Problem(sense(v[j]), constraints)
            problem.solve(solver="CLARABEL")
            if v.value is None:
                return True  # the set is too thin for the solver: a point
            ends.append(float(v.value[j]))
        if ends[1] - ends[0] > tol * t:
            return False
    return True


def max_margin_api(payload: Any) -> dict[str, Any]:
    """Separability and the l2 / l_inf max-margin solutions of a labelled point set.

    The references are :func:`implicitbias.theory.separability` and
    :func:`implicitbias.theory.max_margin` (cvxpy with Clarabel), for a homogeneous linear
    classifier :math:`\\operatorname{sign}(w^\\top x)`.
    """
    from cvxpy.error import SolverError

    from implicitbias.theory import max_margin, separability

    X, y = points_and_labels(payload)
    try:
        sep = separability(X, y)
        out: dict[str, Any] = {
            "n": int(len(y)),
            "dim": int(X.shape[1]),
            "separable": sep.separable,
            "separability_margin": sep.margin,
        }
        if not sep.separable:
            out["message"] = (
                "not separable by a line through the origin: the max-margin "
                "problems have no solution"
            )
            return out
        out["l2"] = _solution(max_margin(X, y, "l2"))
        linf = max_margin(X, y, "linf")
        out["linf"] = _solution(linf)
        out["linf"]["unique"] = linf_unique(X, y, linf.w)
    except (ValueError, RuntimeError, SolverError) as exc:  # e.g. a margin of 1e-7
        raise ApiError(422, f"the convex solver failed on these points: {exc}") from None
    return out


# ----------------------------------------------------------------------------- runs


def _read_json(path: Path) -> Any:
    from implicitbias.runs.atomic import read_json

    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def _claims_summary(claims: Any) -> dict[str, int]:
    counts = {"holds": 0, "does not hold": 0, "error": 0, "not applicable": 0}
    for claim in claims if isinstance(claims, list) else []:
        if not isinstance(claim, dict):
            continue
        if claim.get("error"):
            verdict = "error"
        elif claim.get("reason"):
            verdict = "not applicable"
        else:
            verdict = "holds" if claim.get("holds") else "does not hold"
        counts[verdict] += 1
    return counts


def run_entry(folder: Path) -> dict[str, Any] | None:
    """What the runs page shows of one folder; ``None`` if it is not a run folder."""
    config = _read_json(folder / "config.json") if (folder / "config.json").is_file() else None
    claims_file = folder / "claims.json"
    if config is None and not claims_file.is_file():
        return None
    results = _read_json(folder / "results.json") or {}
    entry: dict[str, Any] = {
        "name": folder.name,
        "experiment": (config or {}).get("experiment") or folder.name.split("-")[0],
        "preset": (config or {}).get("preset", ""),
        "status": results.get("status", "ok" if config is None else "unknown"),
        "message": str(results.get("message", ""))[:500],
        "modified": folder.stat().st_mtime,
    }
    claims = results.get("claims") if config is not None else _read_json(claims_file)
    entry["claims"] = _claims_summary(claims)
    files = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix in SERVED_SUFFIXES
    )
    entry["figures"] = [f for f in files if f.endswith(".png")]
    entry["files"] = files
    entry["has_report_file"] = "report.html" in files
    entry["report"] = "report.html" if (config is not None or "report.html" in files) else None
    return entry


def list_runs(root: Path | None) -> dict[str, Any]:
    """The run folders under ``root`` (newest first) and the reports beside them."""
    if root is None or not root.is_dir():
        return {
            "root": str(root) if root else None,
            "runs": [],
            "reports": [],
            "message": "no runs folder (start the server with --runs DIR)",
        }
    runs, reports = [], []
    for path in sorted(root.iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            try:
                entry = run_entry(path)
            except OSError:  # unreadable: leave it out rather than fail the listing
                continue
            if entry is not None:
                runs.append(entry)
        elif path.is_file() and path.suffix == ".html":
            reports.append(path.name)
    runs.sort(key=lambda e: e["modified"], reverse=True)
    return {
        "root": str(root),
        "runs": runs[:MAX_RUNS],
        "reports": sorted(reports),
        "truncated": len(runs) > MAX_RUNS,
    }


def render_run_report(folder: Path) -> str:
    """The HTML report of a single run folder (rendered on request, never written)."""
    from implicitbias.report.html import render_report
    from implicitbias.runs import load

    results = load(folder)
    return render_report(
        title=f"implicitbias run {folder.name}", outcomes=results.claims, runs=[results]
    )
