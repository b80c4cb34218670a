"""Experiment configs: dataclasses whose fields carry their docs, presets, and `--set` parsing.

A config is a frozen dataclass. Each field is declared with :func:`param`, which stores a
one-line doc and optional bounds in the field's metadata; ``implicitbias run X --help``
prints them. Presets are *changes to defaults*: a dict ``{preset: {field: value}}`` on the
class. Every value that enters from outside (a preset, ``--set key=value``, a config.json)
goes through :meth:`Config.make`, which names the parameter, what is allowed and what was
given, before any work starts.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, get_args, get_origin

from implicitbias._precision import precision
from implicitbias.engine.schedule import MAX_LOG_POINTS
from implicitbias.errors import ConfigError
from implicitbias.optim.spec import RUNTIME, OptimizerSpec, parse_list, parse_scalar

_MISSING = dataclasses.MISSING

#: Upper bound of every integer field that declares none (step counts, log counts...):
#: 10^9 steps of the smallest problem already take hours; anything larger is a typo.
MAX_COUNT = 10**9
#: Most elements of one data array an experiment builds from its size fields (8 bytes each
#: in float64, so 0.8 GB).
MAX_ELEMENTS = 10**8


def param(
    default: Any,
    doc: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> Any:
    """A config field with a doc string and optional numeric bounds.

    Args:
        default: default value (tuples for sequences; they are immutable).
        doc: one line that ``--help`` prints.
        low, high: inclusive bounds for numbers (and for every item of a tuple).
        low_open: make ``low`` exclusive (``> low`` rather than ``>= low``).
    """
    meta = {"doc": doc, "low": low, "high": high, "low_open": low_open}
    return dataclasses.field(default=default, metadata=meta)


def optimizer_param(default: str, doc: str, *, runtime: tuple[str, ...] = RUNTIME) -> Any:
    """A config field holding an :class:`~implicitbias.optim.spec.OptimizerSpec`.

    Args:
        default: the default spec as written on the command line (``"gd"``,
            ``"adamw(b2=0.98)"``).
        doc: one line for ``--help``.
        runtime: hyperparameters the experiment passes itself when it builds the
            transformation (the learning rate, per-member noise seeds); a spec may not set
            them, and the factory must accept them.
    """
    meta = {"doc": doc, "low": None, "high": None, "low_open": False, "runtime": runtime}
    return dataclasses.field(default=OptimizerSpec.parse(default), metadata=meta)


def optimizers_param(default: str, doc: str, *, runtime: tuple[str, ...] = RUNTIME) -> Any:
    """A config field holding a tuple of optimizer specs (``"gd,sign_gd,adam"``)."""
    meta = {"doc": doc, "low": None, "high": None, "low_open": False, "runtime": runtime}
    return dataclasses.field(default=parse_list(default, "default"), metadata=meta)


def _is_spec_type(tp: Any) -> bool:
    return tp is OptimizerSpec or (get_origin(tp) is tuple and get_args(tp)[0] is OptimizerSpec)


def _type_name(tp: Any) -> str:
    if tp is OptimizerSpec:
        return "optimizer: NAME, NAME(key=value, ...) or module:factory"
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in get_args(tp))
    if origin is tuple:
        inner = get_args(tp)[0]
        return f"comma-separated list of {_type_name(inner)}"
    if tp is type(None):
        return "none"
    return getattr(tp, "__name__", str(tp))


def _parse_scalar(name: str, tp: Any, raw: Any) -> Any:
    """Convert ``raw`` (a string from the command line, or a JSON value) to ``tp``."""
    if tp is OptimizerSpec:
        return OptimizerSpec.coerce(raw, name)
    if tp is type(None):
        if raw is None or (isinstance(raw, str) and raw.lower() in ("none", "null")):
            return None
        raise ConfigError(name, "none", raw)
    if get_origin(tp) is Literal:
        allowed = get_args(tp)
        if raw in allowed:
            return raw
        for option in allowed:  # "--set level=2" for Literal[1, 2]
            if isinstance(raw, str) and not isinstance(option, str) and str(option) == raw:
                return option
        raise ConfigError(
            name, "one of " + ", ".join(map(repr, allowed)), raw, choices=[str(a) for a in allowed]
        )
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(raw, str) and raw.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(name, "a boolean (true/false)", raw)
    if tp is int:
        if isinstance(raw, bool):
            raise ConfigError(name, "an integer", raw)
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, str):
            try:
                value = float(raw.replace("_", ""))
            except ValueError:
                raise ConfigError(name, "an integer", raw) from None
            if value.is_integer():
                return int(value)
        raise ConfigError(name, "an integer", raw)
    if tp is float:
        if isinstance(raw, bool):
            raise ConfigError(name, "a number", raw)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(name, "a number", raw) from None
        if not math.isfinite(value):
            raise ConfigError(name, "a finite number", raw)
        return value
    if tp is str:
        if isinstance(raw, str):
            return raw
        raise ConfigError(name, "a string", raw)
    raise TypeError(f"config field `{name}` has a type the parser does not handle: {tp}")


def parse_value(name: str, tp: Any, raw: Any) -> Any:
    """Parse ``raw`` into the field type ``tp`` (unions, literals, tuples, scalars)."""
    if type(raw).__module__ == "numpy" and getattr(raw, "shape", None) == ():
        raw = raw.item()  # numpy scalars (np.int64(5), np.bool_(True)) are plain values
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        options = get_args(tp)
        # None first, so that "none" is never read as a string.
        ordered = sorted(options, key=lambda t: t is not type(None))
        finite: ConfigError | None = None
        for option in ordered:
            try:
                return parse_value(name, option, raw)
            except ConfigError as exc:
                if exc.allowed == "a finite number":
                    finite = exc
                continue
        raise finite or ConfigError(name, _type_name(tp), raw)
    if origin is tuple:
        inner = get_args(tp)[0]
        if inner is OptimizerSpec:
            return parse_list(raw, name)
        if isinstance(raw, str):
            items = [s for s in raw.replace("[", "").replace("]", "").split(",") if s.strip()]
            items = [s.strip() for s in items]
        elif isinstance(raw, list | tuple):
            items = list(raw)
        else:
            raise ConfigError(name, _type_name(tp), raw)
        return tuple(parse_value(name, inner, item) for item in items)
    return _parse_scalar(name, tp, raw)


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class of every experiment config. Subclasses add fields with :func:`param`."""

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    seed: int = param(0, "random seed of the data and the inits", low=0, high=2**32 - 1)
    x64: bool = param(True, "compute in float64 (needed wherever results are compared with theory)")

    # ---- construction -----------------------------------------------------------------
    @classmethod
    def presets(cls) -> list[str]:
        """Preset names; ``default`` is always there."""
        names = list(cls.PRESETS)
        return names if "default" in names else ["default", *names]

    @classmethod
    def field_types(cls) -> dict[str, Any]:
        hints = typing.get_type_hints(cls)
        return {f.name: hints[f.name] for f in dataclasses.fields(cls)}

    @classmethod
    def make(cls, preset: str = "default", overrides: Mapping[str, Any] | None = None) -> Config:
        """Build a validated config from a preset and overrides (strings or values)."""
        if preset not in cls.presets():
            raise ConfigError(
                "preset", "one of " + ", ".join(cls.presets()), preset, choices=cls.presets()
            )
        values: dict[str, Any] = dict(cls.PRESETS.get(preset, {}))
        values.update(overrides or {})
        return cls.from_values(values)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Config:
        types_ = cls.field_types()
        parsed = {}
        dotted: dict[str, dict[str, Any]] = {}
        for key, raw in values.items():
            head, _, sub = str(key).partition(".")
            if sub and types_.get(head) is OptimizerSpec:
                dotted.setdefault(head, {})[sub] = raw
                continue
            if key not in types_:
                raise ConfigError(
                    "--set key",
                    "a field of " + cls.__name__ + " (see --help)",
                    key,
                    choices=list(types_),
                )
            parsed[key] = parse_value(key, types_[key], raw)
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        for head, changes in dotted.items():
            spec = parsed.get(head, defaults[head])
            for sub, raw in changes.items():
                if not sub.isidentifier():
                    raise ConfigError(f"{head}.{sub}", "a hyperparameter name", sub)
                value = parse_scalar(raw) if isinstance(raw, str) else raw
                spec = spec.replace(**{sub: value})
            parsed[head] = spec
        config = cls(**parsed)
        config.check()
        return config

    # ---- validation -------------------------------------------------------------------
    def check(self) -> None:
        """Check bounds declared with :func:`param`, then :meth:`validate`."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if "runtime" in f.metadata:
                specs = value if isinstance(value, tuple) else (value,)
                with precision(getattr(self, "x64", True)):  # the trial build, as in the run
                    for spec in specs:
                        spec.check(f.name, f.metadata["runtime"])
                continue
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if isinstance(item, bool) or not isinstance(item, int | float):
                    continue
                if not math.isfinite(item):
                    raise ConfigError(f.name, "a finite number", value)
                low, high = f.metadata.get("low"), f.metadata.get("high")
                if high is None and isinstance(item, int) and f.name != "seed":
                    logs = f.name == "num_logs" or f.name.endswith("_logs")
                    high = MAX_LOG_POINTS if logs else MAX_COUNT
                open_ = f.metadata.get("low_open", False)
                if low is not None and (item <= low if open_ else item < low):
                    allowed = f"a number {'>' if open_ else '>='} {low}"
                    if high is not None:
                        allowed += f" and <= {high}"
                    raise ConfigError(f.name, allowed, value)
                if high is not None and item > high:
                    raise ConfigError(f.name, f"a number <= {high}", value)
        self.validate()

    def validate(self) -> None:
        """Cross-field checks; subclasses override and raise :class:`ConfigError`."""

    # ---- export -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> Config:
        new = dataclasses.replace(self, **changes)
        new.check()
        return new

    @classmethod
    def describe(cls) -> list[tuple[str, str, str, str]]:
        """(name, type, default, doc) for every field, for ``--help``."""
        rows = []
        types_ = cls.field_types()
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not _MISSING else "(required)"
            shown = _show(default) if _is_spec_type(types_[f.name]) else repr(default)
            rows.append((f.name, _type_name(types_[f.name]), shown, f.metadata.get("doc", "")))
        return rows


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, OptimizerSpec):
        return value.to_json()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value
