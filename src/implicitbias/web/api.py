"""The explorer's JSON API: input validation, the max-margin references, the runs listing.

Every function here takes plain JSON values and returns plain JSON values; the HTTP layer
(:mod:`implicitbias.web.server`) only routes. Bad input raises :class:`ApiError` with an
HTTP status and a message in the project's template (parameter, what is allowed, what was
given), which the server sends back as ``{"error": message}``.
"""

from __future__ import annotations

import math
import re
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
#: Most profile run folders ``/api/profiles`` returns (the newest).
MAX_PROFILES = 100
#: Most optimizers, and most probes, of one profile that ``/api/profiles`` accepts.
MAX_PROFILE_OPTIMIZERS = 64
MAX_PROFILE_PROBES = 32
#: Most table cells (optimizer x probe) ``/api/profiles`` returns over all its profiles.
MAX_PROFILE_CELLS = 20_000
#: Largest ``results.json`` read by ``/api/profiles`` (bytes); a larger one is skipped.
MAX_PROFILE_RESULTS_BYTES = 16 * 1024 * 1024
#: Files of a run folder the server will serve, by suffix.
SERVED_SUFFIXES = {".png", ".svg", ".html", ".json", ".csv", ".txt"}


class ApiError(Exception):
    """A request the API refuses; ``status`` is the HTTP status (4xx, or 503 when busy),
    ``headers`` any extra response headers (``Retry-After``)."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


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
    try:
        x = float(value)
    except OverflowError:  # an integer too large for a float (e.g. 400 digits)
        raise bad(
            param,
            f"a finite number with absolute value <= {bound:g}",
            f"an integer of {len(str(abs(value)))} digits",
        ) from None
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
    except (OSError, ValueError, RecursionError):
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


def inside(base: Path, path: Path) -> bool:
    """Whether ``path`` exists and its resolved path (symbolic links followed) is inside the
    resolved ``base`` (and is not ``base``): the rule the file server applies
    (:func:`implicitbias.web.server.safe_child`), so that nothing listed leaves the runs
    folder."""
    try:
        target = path.resolve(strict=True)
        root = base.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return target != root and target.is_relative_to(root)


def _own_file(base: Path, path: Path) -> bool:
    """A regular file inside ``base`` (a link to a file outside does not count)."""
    try:
        return path.is_file() and (not path.is_symlink() or inside(base, path))
    except OSError:
        return False


def run_entry(folder: Path, root: Path | None = None) -> dict[str, Any] | None:
    """What the runs page shows of one folder; ``None`` if it is not a run folder.

    Files of the folder that are symbolic links leading out of ``root`` (default: the
    folder's parent) are neither read nor listed.
    """
    base = (root if root is not None else folder.parent).resolve()
    if not inside(base, folder):
        return None
    config_file = folder / "config.json"
    config = _read_json(config_file) if _own_file(base, config_file) else None
    claims_file = folder / "claims.json"
    has_claims = _own_file(base, claims_file)
    if config is None and not has_claims:
        return None
    results_file = folder / "results.json"
    results = (_read_json(results_file) if _own_file(base, results_file) else None) or {}
    if not isinstance(results, dict):
        results = {}
    entry: dict[str, Any] = {
        "name": folder.name,
        "experiment": (config or {}).get("experiment") or folder.name.split("-")[0],
        "preset": (config or {}).get("preset", ""),
        "status": results.get("status", "ok" if config is None else "unknown"),
        "message": str(results.get("message", ""))[:500],
        "modified": folder.stat().st_mtime,
        "started": started_time(folder),
    }
    claims = results.get("claims") if config is not None else _read_json(claims_file)
    entry["claims"] = _claims_summary(claims)
    files = sorted(
        p.name
        for p in folder.iterdir()
        if not p.name.startswith(".") and p.suffix in SERVED_SUFFIXES and _own_file(base, p)
    )
    entry["figures"] = [f for f in files if f.endswith(".png")]
    entry["files"] = files
    entry["has_report_file"] = "report.html" in files
    renderable = isinstance(config, dict) and "preset" in config and bool(results)
    entry["report"] = "report.html" if (renderable or "report.html" in files) else None
    return entry


_STAMP = re.compile(r"-(\d{8}T\d{6}Z)-[0-9a-f]+$")


def started_time(folder: Path) -> float:
    """When the run started: the UTC time in its folder name, else the folder's mtime.

    The name's stamp does not move when a file is added later (a report, a figure), so the
    runs page keeps its order.
    """
    import datetime as _dt

    match = _STAMP.search(folder.name)
    if match:
        try:
            stamp = _dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ")
            return stamp.replace(tzinfo=_dt.UTC).timestamp()
        except ValueError:
            pass
    return folder.stat().st_mtime


def list_runs(root: Path | None) -> dict[str, Any]:
    """The run folders under ``root`` (newest first) and the reports beside them."""
    if root is None or not root.is_dir():
        return {
            "root": str(root) if root else None,
            "runs": [],
            "reports": [],
            "message": "no runs folder (start the server with --runs DIR)",
        }
    base = root.resolve()
    runs, reports = [], []
    for path in sorted(root.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.is_symlink() or not inside(base, path):
            continue  # a link could leave the runs folder: never listed
        if path.is_dir():
            try:
                entry = run_entry(path, base)
            except OSError:  # unreadable: leave it out rather than fail the listing
                continue
            if entry is not None:
                runs.append(entry)
        elif path.is_file() and path.suffix == ".html":
            reports.append(path.name)
    runs.sort(key=lambda e: (e["started"], e["name"]), reverse=True)
    return {
        "root": str(root),
        "runs": runs[:MAX_RUNS],
        "reports": sorted(reports),
        "truncated": len(runs) > MAX_RUNS,
    }


# ----------------------------------------------------------------------------- profiles

_KEY = re.compile(r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,99}")
_PROBE_NAME = re.compile(r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,63}")


class _Invalid(Exception):
    """A results.json that is not a complete profile (the folder is skipped)."""


def _text(value: Any, where: str, limit: int = 300) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{where} is not a string")
    return value[:limit]


def _maybe_number(value: Any, where: str) -> float | None:
    """A finite float, or ``None`` for a non-finite one (written as ``"nan"``, ``"inf"``)."""
    if isinstance(value, bool):
        raise _Invalid(f"{where} is not a number")
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and value.strip().lower() in ("nan", "inf", "-inf", "infinity"):
        return None
    raise _Invalid(f"{where} is not a number")


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
        raise _Invalid(f"{where} is not a count")
    return int(value)


def _mapping(value: Any, where: str, *, limit: int | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(f"{where} is not an object")
    if limit is not None and len(value) > limit:
        raise _Invalid(f"{where} has {len(value)} entries; at most {limit} are shown")
    return value


def _profile_cell(entry: Any, where: str) -> dict[str, Any]:
    """The headline of one optimizer's entry of one probe (``ProbeReport.to_scalars()``)."""
    entry = _mapping(entry, where)
    measures = _mapping(entry.get("measures"), f"{where}.measures")
    quantity = _text(entry.get("headline"), f"{where}.headline", 100)
    if quantity not in measures:
        raise _Invalid(f"{where}.headline {quantity!r} is not among its measures")
    m = _mapping(measures[quantity], f"{where}.measures.{quantity}")
    fitted = entry.get("fitted", True)
    if not isinstance(fitted, bool):
        raise _Invalid(f"{where}.fitted is not true or false")
    cell: dict[str, Any] = {
        "quantity": quantity,
        "label": _text(m.get("label", quantity), f"{where}.label"),
        "mean": _maybe_number(m.get("mean"), f"{where}.mean"),
        "spread": _maybe_number(m.get("spread"), f"{where}.spread"),
        "n": _count(m.get("n"), f"{where}.n"),
        "reference": _text(m.get("reference") or "", f"{where}.reference", 200),
        "learning_rate": _maybe_number(entry.get("learning_rate"), f"{where}.learning_rate"),
        "fitted": fitted,
        "nearest": None,
    }
    near = entry.get("nearest")
    if near is not None:
        near = _mapping(near, f"{where}.nearest")
        cell["nearest"] = {
            "mode": _text(near.get("mode"), f"{where}.nearest.mode", 40),
            "agree": _count(near.get("agree"), f"{where}.nearest.agree"),
            "n": _count(near.get("n"), f"{where}.nearest.n"),
        }
    return cell


def profile_entry(folder: Path, root: Path | None = None) -> dict[str, Any] | None:
    """What the profiles page shows of one run folder.

    ``None`` when the folder is not a finished profile (its ``config.json`` names another
    experiment, or its status is not ``ok``); raises :class:`ValueError` with the reason when
    it is a profile whose ``results.json`` is missing, corrupt or incomplete. Files that are
    symbolic links leading out of ``root`` (default: the folder's parent) are not read.
    """
    base = (root if root is not None else folder.parent).resolve()
    if not inside(base, folder):
        return None
    config_file = folder / "config.json"
    config = _read_json(config_file) if _own_file(base, config_file) else None
    if not isinstance(config, dict) or config.get("experiment") != "profile":
        return None
    results_file = folder / "results.json"
    if results_file.is_symlink() and not inside(base, results_file):
        raise ValueError("results.json is a link that leaves the runs folder")
    try:
        size = results_file.stat().st_size
    except OSError:
        raise ValueError("no results.json") from None
    if size > MAX_PROFILE_RESULTS_BYTES:
        raise ValueError(f"results.json is {size} bytes; at most {MAX_PROFILE_RESULTS_BYTES}")
    from implicitbias.runs.atomic import read_json

    try:
        results = read_json(results_file)
    except UnicodeDecodeError:
        raise ValueError("results.json is not UTF-8 text") from None
    except ValueError as exc:  # json.JSONDecodeError: a truncated or corrupt file
        raise ValueError(f"results.json is not valid JSON ({exc})") from None
    except RecursionError:
        raise ValueError("results.json is nested too deeply") from None
    if not isinstance(results, dict):
        raise ValueError("results.json is not a JSON object")
    if results.get("status") != "ok":
        return None
    try:
        scalars = _mapping(results.get("scalars"), "scalars")
        optimizers = _mapping(
            scalars.get("optimizers"), "scalars.optimizers", limit=MAX_PROFILE_OPTIMIZERS
        )
        if not optimizers:
            raise _Invalid("scalars.optimizers is empty")
        opts = []
        for key, value in optimizers.items():
            if not _KEY.fullmatch(key):
                raise _Invalid(f"optimizer key {key[:40]!r} is not a plain name")
            value = _mapping(value, f"scalars.optimizers.{key}")
            card = folder / "cards" / f"{key}.html"
            opts.append(
                {
                    "key": key,
                    "label": _text(value.get("label", key), f"scalars.optimizers.{key}.label"),
                    "card": f"cards/{key}.html" if card.is_file() and inside(base, card) else None,
                }
            )
        probes = []
        table = _mapping(scalars.get("probes"), "scalars.probes", limit=MAX_PROFILE_PROBES)
        for name, probe in table.items():
            if not _PROBE_NAME.fullmatch(name):
                raise _Invalid(f"probe name {name[:40]!r} is not a plain name")
            probe = _mapping(probe, f"scalars.probes.{name}")
            entries = _mapping(probe.get("optimizers"), f"scalars.probes.{name}.optimizers")
            cells = {}
            for opt in opts:
                where = f"scalars.probes.{name}.optimizers.{opt['key']}"
                if opt["key"] not in entries:
                    raise _Invalid(f"{where} is missing")
                cells[opt["key"]] = _profile_cell(entries[opt["key"]], where)
            probes.append(
                {
                    "name": name,
                    "title": _text(probe.get("title", name), f"scalars.probes.{name}.title"),
                    "optimizers": cells,
                }
            )
        seeds = scalars.get("seeds")
        entry = {
            "name": folder.name,
            "modified": folder.stat().st_mtime,
            "level": _text(scalars.get("level", ""), "scalars.level", 40),
            "seeds": None if seeds is None else _count(seeds, "scalars.seeds"),
            "optimizers": opts,
            "probes": probes,
            "figures": [f for f in ("heatmap.png", "probes.png") if _own_file(base, folder / f)],
        }
    except _Invalid as exc:
        raise ValueError(f"results.json: {exc}") from None
    return entry


def list_profiles(root: Path | None) -> dict[str, Any]:
    """The finished profile runs under ``root``, newest first (``GET /api/profiles``).

    A profile folder whose ``results.json`` is missing, corrupt or incomplete is left out
    and named under ``skipped`` with the reason; at most :data:`MAX_PROFILES` are returned,
    with at most :data:`MAX_PROFILE_CELLS` cells in all (``truncated`` says when more exist).
    """
    if root is None or not root.is_dir():
        return {
            "root": str(root) if root else None,
            "profiles": [],
            "skipped": [],
            "truncated": False,
            "message": "no runs folder (start the server with --runs DIR)",
        }
    base = root.resolve()
    folders = []
    for path in root.iterdir():
        if path.name.startswith(".") or path.is_symlink() or not path.is_dir():
            continue  # a link could leave the runs folder: never listed (as /api/runs)
        try:
            if inside(base, path) and (path / "config.json").is_file():
                folders.append((path.stat().st_mtime, path.name, path))
        except OSError:
            continue
    folders.sort(key=lambda t: (t[0], t[1]), reverse=True)
    profiles: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    truncated = False
    cells = 0
    for _, _, path in folders:
        try:
            entry = profile_entry(path, base)
        except ValueError as exc:
            if len(skipped) < MAX_PROFILES:
                skipped.append({"name": path.name, "reason": str(exc)[:300]})
            continue
        except OSError:  # unreadable: leave it out rather than fail the listing
            continue
        if entry is None:
            continue
        size = len(entry["optimizers"]) * len(entry["probes"])
        if len(profiles) == MAX_PROFILES or (profiles and cells + size > MAX_PROFILE_CELLS):
            truncated = True
            break
        cells += size
        profiles.append(entry)
    return {"root": str(root), "profiles": profiles, "skipped": skipped, "truncated": truncated}


def render_run_report(folder: Path) -> str:
    """The HTML report of a single run folder (rendered on request, never written)."""
    from implicitbias.report.html import render_report
    from implicitbias.runs import load

    try:
        results = load(folder)
    except (KeyError, ValueError, OSError, RecursionError) as exc:
        why = type(exc).__name__ if isinstance(exc, KeyError) else str(exc)[:200]
        raise ApiError(
            422,
            f"the run folder {folder.name} is incomplete or corrupt, so it has no report "
            f"({why}); finish it with `implicitbias run --resume` or remove it",
        ) from None
    return render_report(
        title=f"implicitbias run {folder.name}", outcomes=results.claims, runs=[results]
    )
