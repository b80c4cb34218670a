"""Reading one side of ``compare``: a verify folder, a run folder, or their JSON file."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from implicitbias.claims.claim import Outcome
from implicitbias.errors import ConfigError

ALLOWED = (
    "a verify folder (with verify.json or claims.json), a run folder (with results.json), "
    "or one of those JSON files"
)

_OUTCOME_FIELDS = {f.name for f in dataclasses.fields(Outcome)}


@dataclasses.dataclass
class Side:
    """One side of a comparison: where it came from, its outcomes and its environment."""

    path: Path
    kind: str  # "verify" or "run"
    label: str  # e.g. "verify quick" or "run min-norm/default"
    outcomes: dict[str, Outcome]
    environment: dict[str, Any]


def _restore(obj: Any) -> Any:
    """Undo the JSON writer's spelling of NaN and infinities as strings."""
    if isinstance(obj, list):
        return [_restore(v) for v in obj]
    if obj in ("nan", "inf", "-inf"):
        return float(obj)
    return obj


def _bad(param: str, path: Path, why: str) -> ConfigError:
    return ConfigError(param, ALLOWED, f"{path} ({why})")


def _read(param: str, path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise _bad(param, path, f"corrupt JSON: {exc.msg} at line {exc.lineno}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(param, path, f"unreadable: {exc.__class__.__name__}") from None


def _outcomes(param: str, path: Path, records: Any) -> dict[str, Outcome]:
    """Outcome dicts (extra keys such as ``verdict`` ignored) keyed by claim id."""
    if not isinstance(records, list):
        raise _bad(param, path, "its claims are not a list")
    out: dict[str, Outcome] = {}
    for i, record in enumerate(records):
        try:
            fields = {k: v for k, v in record.items() if k in _OUTCOME_FIELDS}
            fields["measured"] = _restore(fields.get("measured"))
            if fields.get("values") is not None:
                fields["values"] = [float(v) for v in _restore(fields["values"])]
            o = Outcome(**fields)
            if not isinstance(o.id, str) or not (o.measured is None or _is_real(o.measured)):
                raise TypeError("bad id or measured value")
            _ = (o.verdict, o.status, o.spread)  # fails here on a malformed record
        except (AttributeError, TypeError, ValueError, KeyError):
            raise _bad(param, path, f"claim {i} is not an outcome record") from None
        out.setdefault(o.id, o)
    return out


def _is_real(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def load_side(path: str | Path, param: str = "A") -> Side:
    """Read one side: a verify folder, a run folder, or their JSON file.

    Raises:
        ConfigError: (``param``) a missing path, a folder of neither kind, or corrupt JSON.
    """
    path = Path(path)
    if not path.exists():
        raise _bad(param, path, "no such file or folder")
    if path.is_dir():
        if (path / "verify.json").is_file():
            return _verify_side(param, path / "verify.json")
        if (path / "results.json").is_file():
            return _run_side(param, path / "results.json")
        if (path / "claims.json").is_file():
            return _claims_side(param, path / "claims.json")
        raise _bad(param, path, "a folder with no verify.json, results.json or claims.json")
    data = _read(param, path)
    if isinstance(data, list):
        return _claims_side(param, path, data)
    if isinstance(data, dict) and "outcomes" in data:
        return _verify_side(param, path, data)
    if isinstance(data, dict) and "claims" in data:
        return _run_side(param, path, data)
    raise _bad(param, path, "JSON with neither 'outcomes' (verify) nor 'claims' (run)")


def _environment(env: Any) -> dict[str, Any]:
    return dict(env) if isinstance(env, Mapping) else {}


def _verify_side(param: str, file: Path, data: Any = None) -> Side:
    data = _read(param, file) if data is None else data
    if not isinstance(data, dict):
        raise _bad(param, file, "not a verify record (a JSON object with 'outcomes')")
    folder = file.parent if file.name == "verify.json" else file
    label = f"verify {data.get('level', '?')}"
    outcomes = _outcomes(param, file, data.get("outcomes"))
    return Side(folder, "verify", label, outcomes, _environment(data.get("environment")))


def _claims_side(param: str, file: Path, data: Any = None) -> Side:
    data = _read(param, file) if data is None else data
    folder = file.parent if file.name == "claims.json" else file
    sibling = folder / "verify.json"
    env: dict[str, Any] = {}
    if folder.is_dir() and sibling.is_file():  # claims.json given: take verify.json's env
        record = _read(param, sibling)
        env = _environment(record.get("environment") if isinstance(record, dict) else None)
    return Side(folder, "verify", "verify", _outcomes(param, file, data), env)


def _run_side(param: str, file: Path, data: Any = None) -> Side:
    data = _read(param, file) if data is None else data
    if not isinstance(data, dict):
        raise _bad(param, file, "not a run record (a JSON object with 'claims')")
    folder = file.parent
    meta_file = folder / "meta.json"
    meta = _read(param, meta_file) if meta_file.is_file() else {}
    label = f"run {data.get('experiment', '?')}/{data.get('preset', '?')}"
    path = folder if file.name == "results.json" else file
    return Side(path, "run", label, _outcomes(param, file, data.get("claims")), _environment(meta))
