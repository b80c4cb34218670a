"""One cell of a sweep, run on a Dask worker: ``lab.run`` for one config, never a traceback.

The worker sees the sweep folder (a shared filesystem) when it can read
``<folder>/sweep.json`` with the sweep's id; it then writes the run folder directly under
``<folder>/cells/<id>/``. Otherwise it runs into a temporary folder and returns the run
folder's files as ``{relative path: bytes}`` for the client to write. ``mode`` forces
either (``"shared"``, ``"transfer"``); ``"auto"`` decides as above.

Each attempt first sends a ``start`` event (topic :data:`TOPIC`: cell id, attempt, worker
address, pid) to the client and, on a shared filesystem, writes an attempt marker
``cells/<id>/attempts/<n>.json`` with the worker's pid. A cell whose folder already holds
an unfinished run folder (``status: running``, from an interrupted sweep or a worker that
died) is finished with :func:`implicitbias.lab.resume`; a finished one is taken as it is.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from implicitbias.runs.atomic import read_json, write_json

TOPIC = "implicitbias-sweep"
ATTEMPTS = "attempts"


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:  # noqa: BLE001 - not on a Dask worker (a direct call)
        return f"local:{socket.gethostname()}:{os.getpid()}"


def _event(message: dict[str, Any]) -> None:
    try:
        from distributed import get_worker

        get_worker().log_event(TOPIC, message)
    except Exception:  # noqa: BLE001 - events are informative only
        pass


def sees_folder(folder: str | Path, sweep_id: str) -> bool:
    """Whether this process sees the sweep folder (the same ``sweep.json`` id)."""
    try:
        return read_json(Path(folder) / "sweep.json").get("id") == sweep_id
    except Exception:  # noqa: BLE001 - missing, unreadable: not shared
        return False


def _run_folders(cell_dir: Path) -> list[Path]:
    """The run folders an earlier attempt left; ones it left half made are removed.

    A folder without ``config.json`` and ``results.json`` was cut off by a dying worker
    before its run started: it holds nothing, and the attempt starts over.
    """
    if not cell_dir.is_dir():
        return []
    folders = []
    for path in sorted(p for p in cell_dir.iterdir() if p.is_dir() and p.name != ATTEMPTS):
        if (path / "config.json").is_file() and (path / "results.json").is_file():
            folders.append(path)
        else:
            shutil.rmtree(path, ignore_errors=True)
    return folders


def _status_of(run_folder: Path) -> str:
    try:
        return str(read_json(run_folder / "results.json").get("status", ""))
    except Exception:  # noqa: BLE001 - written atomically, but be safe
        return ""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _execute(experiment: str, preset: str, overrides: dict, cell_dir: Path) -> dict[str, Any]:
    """Run (or finish, or take) the cell's run folder under ``cell_dir``."""
    from implicitbias import lab
    from implicitbias.errors import DivergenceError

    previous = _run_folders(cell_dir)
    for folder in reversed(previous):  # newest name last: the stamp sorts
        status = _status_of(folder)
        if status in ("ok", "diverged", "failed"):  # finished; the client did not hear it
            message = str(read_json(folder / "results.json").get("message") or "")
            return {
                "status": {"ok": "done"}.get(status, status),
                "error": message or None,
                "folder": folder,
            }
    unfinished = [f for f in previous if _status_of(f) == "running"]
    try:
        if unfinished:
            results = lab.resume(unfinished[-1])
        else:
            results = lab.run(experiment, preset, overrides, out=cell_dir)
        return {"status": "done", "error": None, "folder": results.path}
    except DivergenceError as exc:
        message = " ".join(str(exc).split())  # as results.json has it
        return {"status": "diverged", "error": message, "folder": getattr(exc, "path", None)}
    except Exception as exc:  # noqa: BLE001 - the sweep goes on; the message is recorded
        new = [f for f in _run_folders(cell_dir) if f not in previous]
        folder = new[-1] if new else (unfinished[-1] if unfinished else None)
        return {"status": "failed", "error": _one_line(exc), "folder": folder}


def _files(folder: Path, base: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(base)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def run_cell(
    experiment: str,
    preset: str,
    overrides: dict[str, Any],
    *,
    folder: str,
    sweep_id: str,
    cell_id: str,
    mode: str = "auto",
) -> dict[str, Any]:
    """Run one cell; return ``{"id", "status", "error", "run", "files", "worker", "pid",
    "wall_seconds", "shared"}``.

    ``run`` is the run folder relative to the sweep folder (``cells/<id>/<name>``) or
    ``None``; ``files`` is ``None`` on a shared filesystem, else ``{path relative to the
    sweep folder: bytes}`` of the run folder.
    """
    t0 = time.perf_counter()
    worker, pid = _worker_address(), os.getpid()
    shared = mode == "shared" or (mode == "auto" and sees_folder(folder, sweep_id))
    out: dict[str, Any] = {
        "id": cell_id,
        "worker": worker,
        "pid": pid,
        "shared": shared,
        "files": None,
        "run": None,
    }
    try:
        if shared:
            cell_dir = Path(folder) / "cells" / cell_id
            marks = cell_dir / ATTEMPTS
            marks.mkdir(parents=True, exist_ok=True)
            attempt = len(list(marks.glob("*.json"))) + 1
            mark = {"worker": worker, "pid": pid, "started": time.time()}
            write_json(marks / f"{attempt}.json", mark)
            _event(
                {"sweep": sweep_id, "cell": cell_id, "event": "start", "worker": worker, "pid": pid}
            )
            result = _execute(experiment, preset, overrides, cell_dir)
            run = result["folder"]
            out["run"] = None if run is None else str(Path(run).relative_to(folder))
        else:
            _event(
                {"sweep": sweep_id, "cell": cell_id, "event": "start", "worker": worker, "pid": pid}
            )
            with tempfile.TemporaryDirectory(prefix=f"sweep-{cell_id}-") as tmp:
                cell_dir = Path(tmp) / "cells" / cell_id
                cell_dir.mkdir(parents=True)
                result = _execute(experiment, preset, overrides, cell_dir)
                run = result["folder"]
                if run is not None:
                    out["files"] = _files(Path(run), Path(tmp))
                    out["run"] = str(Path(run).relative_to(tmp))
        out.update(status=result["status"], error=result["error"])
    except Exception as exc:  # noqa: BLE001 - never a traceback to the user
        out.update(status="failed", error=_one_line(exc))
    out["wall_seconds"] = time.perf_counter() - t0
    return out
