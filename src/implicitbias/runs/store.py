"""Run folders: ``runs/<experiment>-<preset>-<UTC time>-<short id>/``.

Contents: ``config.json`` (complete; ``implicitbias run --from`` reproduces the run),
``meta.json``, ``results.json`` (numbers and claim outcomes), ``metrics.csv``,
``arrays.npz``, and each figure as PNG and SVG. A folder is created with ``exist_ok=False``
so an existing run is never overwritten; every file is written atomically.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import json
import re
import secrets
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from implicitbias.errors import ConfigError, ImplicitBiasError
from implicitbias.runs.atomic import read_json, write_bytes, write_json, write_npz, write_text
from implicitbias.runs.results import Results

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.json"
META_FILE = "meta.json"
ARRAYS_FILE = "arrays.npz"
METRICS_FILE = "metrics.csv"
_METRIC_PREFIX = "metric/"


def utc_stamp(now: _dt.datetime | None = None) -> str:
    now = now or _dt.datetime.now(_dt.UTC)
    return now.strftime("%Y%m%dT%H%M%SZ")


LOCK_FILE = ".lock"


@contextlib.contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on a run folder while a process writes into it.

    A second process (``run --resume`` on a folder that is still running) gets a
    :class:`ConfigError` instead of training into the same folder. The lock is an ``flock``
    on ``<folder>/.lock``; the operating system releases it when the process dies, so a
    run killed with -9 can be resumed at once. Where ``fcntl`` is missing, nothing is locked.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    path = Path(folder) / LOCK_FILE
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConfigError(
                "--resume",
                "a run folder that no other process is writing",
                f"{folder} (another implicitbias process holds its lock)",
            ) from None
        yield
    finally:
        handle.close()


def check_writable(root: str | Path) -> Path:
    """``root``, created if missing; a :class:`ConfigError` (``--out``) if it cannot be written."""
    if not str(root).strip():
        raise ConfigError("--out", "a folder name (not empty)", str(root))
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(
            "--out", "a folder this user can create and write", f"{root} ({exc.strerror})"
        ) from None
    return root


def new_run_dir(root: str | Path, name: str, preset: str) -> Path:
    """Create and return a fresh, empty run folder under ``root``; never reuses one."""
    for what, value in (("experiment", name), ("preset", preset)):
        if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value) or ".." in value:
            raise ConfigError(what, "a plain name (letters, digits, _ . + -)", value)
    root = check_writable(root)
    for _ in range(100):
        path = root / f"{name}-{preset}-{utc_stamp()}-{secrets.token_hex(3)}"
        try:
            path.mkdir(exist_ok=False)
            return path
        except FileExistsError:
            continue
    raise ImplicitBiasError(f"could not create a new run folder under {root}")


def metrics_csv(steps: np.ndarray, metrics: Mapping[str, np.ndarray]) -> str:
    """Long format: one row per (logged step, batch member)."""
    names = list(metrics)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["step", "member", *names])
    for i, step in enumerate(steps):
        width = np.shape(metrics[names[0]])[1] if names else 0
        for m in range(width):
            writer.writerow([int(step), m, *(repr(float(metrics[n][i, m])) for n in names)])
    return buf.getvalue()


def save(results: Results, root: str | Path, figures: Mapping[str, Any] | None = None) -> Path:
    """Write ``results`` (and matplotlib ``figures``) into a new run folder; return it."""
    return save_into(results, new_run_dir(root, results.experiment, results.preset), figures)


def write_config(path: Path, results: Results) -> None:
    """``config.json`` of a run folder: experiment, preset and the complete config."""
    write_json(
        path / CONFIG_FILE,
        {"experiment": results.experiment, "preset": results.preset, "config": results.config},
    )


def save_into(results: Results, path: Path, figures: Mapping[str, Any] | None = None) -> Path:
    """Write ``results`` into the run folder ``path`` (made by :func:`new_run_dir`)."""
    results.path = path
    write_config(path, results)
    write_json(path / META_FILE, results.meta)
    arrays = dict(results.arrays)
    if "steps" in arrays and results.steps is not None:
        raise ValueError("results.arrays may not hold 'steps': the logged steps are results.steps")
    if results.steps is not None:
        arrays["steps"] = results.steps
    arrays.update({_METRIC_PREFIX + k: v for k, v in results.metrics.items()})
    write_npz(path / ARRAYS_FILE, arrays)
    steps = arrays.get("steps")
    if results.metrics and steps is not None:
        write_text(path / METRICS_FILE, metrics_csv(steps, results.metrics))
    for name, fig in (figures or {}).items():
        save_figure(fig, path / name)
    write_results_json(results)
    return path


def write_results_json(results: Results) -> None:
    assert results.path is not None
    write_json(
        results.path / RESULTS_FILE,
        {
            "experiment": results.experiment,
            "preset": results.preset,
            "status": results.status,
            "message": results.message,
            "scalars": results.scalars,
            "claims": results.claims,
        },
    )


def save_figure(fig: Any, stem: Path) -> list[Path]:
    """Save a matplotlib figure as ``stem.png`` and ``stem.svg`` (atomically)."""
    out = []
    for ext, kwargs in (("png", {"dpi": 130}), ("svg", {})):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, bbox_inches="tight", **kwargs)
        out.append(write_bytes(stem.with_suffix("." + ext), buf.getvalue()))
    return out


def _restore_non_finite(obj: Any) -> Any:
    """Undo :func:`to_jsonable`'s spelling of NaN and infinities as strings."""
    if isinstance(obj, dict):
        return {k: _restore_non_finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_restore_non_finite(v) for v in obj]
    if obj in ("nan", "inf", "-inf"):
        return float(obj)
    return obj


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}")


_JSON_TYPES = {str: "a string", dict: "an object", list: "a list", int: "an integer"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return _JSON_TYPES.get(type(value), "a number" if isinstance(value, float) else "a value")


def read_record(path: Path, param: str, required: Mapping[str, type] | None = None) -> dict:
    """A JSON object that implicitbias wrote, or a :class:`ConfigError` naming ``param``, the
    file and what is wrong with it (missing, empty, truncated, binary, the wrong shape).

    Args:
        path: the file.
        param: the command-line argument the file came from (``--from``, ``RUN_DIR``).
        required: keys that must be present, with their types.
    """
    allowed = "a JSON file written by implicitbias"
    try:
        data = read_json(path)
    except FileNotFoundError:
        raise ConfigError(param, allowed, f"{path} (missing)") from None
    except IsADirectoryError:
        raise ConfigError(param, allowed, f"{path} (a folder)") from None
    except UnicodeDecodeError:
        raise ConfigError(param, allowed, f"{path} (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        why = "empty" if not exc.doc.strip() else f"not valid JSON: {exc.msg}, line {exc.lineno}"
        raise ConfigError(param, allowed, f"{path} ({why})") from None
    except RecursionError:
        raise ConfigError(param, allowed, f"{path} (nested too deeply)") from None
    except OSError as exc:
        raise ConfigError(param, allowed, f"{path} ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise ConfigError(param, allowed, f"{path} (not a JSON object)")
    for key, kind in (required or {}).items():
        if not isinstance(data.get(key), kind):
            what = "missing" if key not in data else _json_type(data[key])
            raise ConfigError(
                param, allowed, f"{path} (`{key}` should be {_JSON_TYPES[kind]}, is {what})"
            )
    return data


def read_config_record(path: Path, param: str) -> dict:
    """A run's ``config.json``: ``experiment`` and ``preset`` plain names, ``config`` an object."""
    data = read_record(path, param, {"experiment": str, "preset": str, "config": dict})
    for key in ("experiment", "preset"):
        if not _SAFE_NAME.fullmatch(data[key]) or ".." in data[key]:
            raise ConfigError(
                param,
                f"a config.json whose `{key}` is a plain name",
                f"{path} (`{key}` is {data[key][:60]!r})",
            )
    return data


def load(path: str | Path) -> Results:
    """Load a run folder back into a :class:`Results`.

    Raises:
        ConfigError: the folder is not a finished or interrupted run folder (its
            ``config.json`` or ``results.json`` is missing or corrupt), naming the file.
    """
    path = Path(path)
    if not (path / CONFIG_FILE).is_file():
        raise ConfigError("RUN_DIR", f"a run folder (with {CONFIG_FILE})", str(path))
    config = read_config_record(path / CONFIG_FILE, "RUN_DIR")
    results_json = read_record(path / RESULTS_FILE, "RUN_DIR")
    if not isinstance(results_json.get("status"), str):
        raise ConfigError(
            "RUN_DIR", "a run folder whose results.json has a status", str(path / RESULTS_FILE)
        )
    meta = read_record(path / META_FILE, "RUN_DIR") if (path / META_FILE).is_file() else {}
    arrays: dict[str, np.ndarray] = {}
    metrics: dict[str, np.ndarray] = {}
    if (path / ARRAYS_FILE).is_file():
        try:
            with np.load(path / ARRAYS_FILE) as npz:
                for key in npz.files:
                    if key.startswith(_METRIC_PREFIX):
                        metrics[key[len(_METRIC_PREFIX) :]] = npz[key]
                    else:
                        arrays[key] = npz[key]
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise ConfigError(
                "RUN_DIR", "a run folder with a readable arrays.npz", f"{path} ({exc})"
            ) from None
    return Results(
        steps=arrays.pop("steps", None),
        experiment=config["experiment"],
        preset=config["preset"],
        config=config["config"],
        scalars=_restore_non_finite(results_json.get("scalars", {})),
        arrays=arrays,
        metrics=metrics,
        claims=_restore_non_finite(results_json.get("claims", [])),
        meta=meta,
        path=path,
        status=results_json["status"],
        message=results_json.get("message", ""),
    )


def figure_files(path: str | Path) -> list[Path]:
    """The PNG figures of a run folder, sorted by name."""
    return sorted(Path(path).glob("*.png"))
