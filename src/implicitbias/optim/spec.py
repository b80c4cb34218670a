"""The optimizer as a value: a name plus hyperparameters.

An :class:`OptimizerSpec` names a factory that returns an ``optax.GradientTransformation``
and holds the hyperparameters it is called with. It is compared, hashed and written to
``config.json`` by value, so the engine's compile cache, checkpoint fingerprints and run
folders never depend on the identity of a Python function.

The name is one of:

* a registry name (:data:`~implicitbias.optim.registry.OPTIMIZERS`): ``adam``, ``lion``;
* an import path ``module:attribute`` of any factory: ``optax:lion``, ``mypkg.opt:make``.

On the command line a spec is written ``NAME``, ``NAME(key=value, ...)`` or
``NAME:key=value,...``; one hyperparameter is changed with ``--set optimizer.KEY=VALUE``::

    implicitbias run min-norm --set optimizer=adam --set optimizer.b2=0.99
    implicitbias run min-norm --set "optimizer=optax:lion(b1=0.95)"
    implicitbias run geometry --set "methods=gd,sign_gd,adam(b2=0.99),lion"

In Python, a factory itself works too (``overrides={"optimizer": my_factory}``): a
module-level function is stored by its import path, a ``functools.partial`` of one by that
path plus its keywords, and any other callable (a lambda, a closure) is kept as it is and
compared by the value of its code and closure (it cannot be re-run from ``config.json``).

The step size is not part of the spec: each experiment passes ``learning_rate`` (often a
different one per batch member) when it builds the transformation.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import optax

from implicitbias._values import value_key
from implicitbias.errors import ConfigError

RUNTIME = ("learning_rate",)
"""Hyperparameters that experiments pass themselves, never through a spec."""

Scalar = bool | int | float | str | None
_NAME = re.compile(r"^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$")


def _registry() -> dict[str, Callable[..., optax.GradientTransformation]]:
    from implicitbias.optim.registry import OPTIMIZERS

    return OPTIMIZERS


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def parse_scalar(text: str) -> Scalar:
    """A hyperparameter value from the command line: bool, int, float, none or string."""
    text = text.strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text.strip("'\"")
    return value


@dataclasses.dataclass(frozen=True, eq=False)
class OptimizerSpec:
    """An optimizer by value: ``name`` plus ``hparams``.

    Attributes:
        name: a registry name or ``module:attribute``.
        hparams: ``((key, value), ...)`` sorted by key; values are plain numbers, booleans,
            strings or tuples of them.
        fn: only for factories that have no import path (a lambda or closure given in
            Python): the callable itself, compared by :func:`~implicitbias._values.value_key`.
    """

    name: str
    hparams: tuple[tuple[str, Any], ...] = ()
    fn: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        items = self.hparams.items() if isinstance(self.hparams, Mapping) else self.hparams
        frozen = tuple(sorted((str(k), _freeze(v)) for k, v in items))
        object.__setattr__(self, "hparams", frozen)

    # ---- value semantics -----------------------------------------------------------------
    def value_key(self) -> tuple:
        return ("optimizer", self.name, self.hparams, value_key(self.fn) if self.fn else None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OptimizerSpec) and self.value_key() == other.value_key()

    def __hash__(self) -> int:
        return hash(repr(self.value_key()))

    def __str__(self) -> str:
        if not self.hparams:
            return self.name
        inner = ", ".join(
            f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in self.hparams
        )
        return f"{self.name}({inner})"

    def __repr__(self) -> str:
        return f"OptimizerSpec({str(self)!r})"

    @property
    def label(self) -> str:
        """The name used in figures and tables (the spec as written on the command line)."""
        return str(self)

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.hparams)

    def get(self, key: str, default: Any = None) -> Any:
        return self.kwargs.get(key, default)

    @property
    def base_name(self) -> str:
        """The registry name, or the attribute of an import path (``optax:lion`` -> ``lion``)."""
        return self.name.rsplit(":", 1)[-1].rsplit(".", 1)[-1]

    def factory_defaults(self) -> dict[str, Any] | None:
        """The factory's keyword parameters and their defaults (``inspect.Parameter.empty``
        where there is none); ``None`` when it takes ``**kwargs`` or has no signature."""
        try:
            params = inspect.signature(self.factory()).parameters.values()
        except (TypeError, ValueError):
            return None
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return None
        return {p.name: p.default for p in params if p.kind is not inspect.Parameter.VAR_POSITIONAL}

    def hyperparameter(self, key: str) -> Any:
        """The value of ``key`` the optimizer runs with: set in the spec, else the
        factory's default; ``None`` when the factory names no such keyword (or gives it no
        default)."""
        if key in self.kwargs:
            return self.kwargs[key]
        try:
            parameter = inspect.signature(self.factory()).parameters.get(key)
        except (TypeError, ValueError):
            return None
        if parameter is None or parameter.default is inspect.Parameter.empty:
            return None
        return parameter.default

    def named(self, *names: str, plain: bool = False) -> bool:
        """Whether this is one of the registry optimizers ``names`` (not a Python callable
        that happens to carry the name); with ``plain``, also with no hyperparameter set.

        Claims use it to say which optimizers their theory covers.
        """
        return self.fn is None and self.name in names and not (plain and self.hparams)

    @property
    def reproducible(self) -> bool:
        """Whether ``config.json`` holds all of it (no bare Python callable)."""
        return self.fn is None

    def replace(self, **hparams: Any) -> OptimizerSpec:
        """A copy with hyperparameters set (``None`` removes one)."""
        merged = self.kwargs
        for key, value in hparams.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return OptimizerSpec(self.name, tuple(merged.items()), self.fn)

    # ---- building --------------------------------------------------------------------------
    def factory(self, parameter: str = "optimizer") -> Callable[..., optax.GradientTransformation]:
        """The callable the name resolves to; :class:`ConfigError` when it does not."""
        if self.fn is not None:
            return self.fn
        registry = _registry()
        if self.name in registry:
            return registry[self.name]
        if ":" not in self.name:
            raise ConfigError(
                parameter,
                "a registered optimizer (" + ", ".join(registry) + ") or an import path "
                "module:factory",
                self.name,
                choices=list(registry),
            )
        module_name, attr = self.name.split(":", 1)
        try:
            obj: Any = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - any import failure is the user's input
            raise ConfigError(
                parameter,
                "module:factory with an importable module",
                self.name,
                hint=f"({type(exc).__name__}: {exc})",
            ) from None
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise ConfigError(parameter, f"an attribute of module {module_name!r}", self.name)
            obj = getattr(obj, part)
        if not callable(obj):
            raise ConfigError(parameter, "a callable factory", self.name)
        return obj

    def build(self, **runtime: Any) -> optax.GradientTransformation:
        """``factory(**runtime, **hparams)``: called by the engine inside compiled code."""
        return self.factory()(**{**runtime, **self.kwargs})

    def check(self, parameter: str = "optimizer", runtime: Iterable[str] = RUNTIME) -> None:
        """Validate before any work: the name resolves, the factory takes the
        hyperparameters, and a trial build returns a ``GradientTransformation``.

        Raises:
            ConfigError: naming ``parameter`` (or ``parameter.KEY`` for one hyperparameter).
        """
        runtime = tuple(runtime)
        factory = self.factory(parameter)
        for key, value in self.hparams:
            if key in runtime:
                raise ConfigError(
                    f"{parameter}.{key}",
                    f"no {key} in the optimizer: the experiment sets `{key}` itself "
                    "(see its config fields)",
                    value,
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{parameter}.{key}", "a finite number", value)
        accepted = _accepted(factory)
        if accepted is not None:
            for key in (*runtime, *self.kwargs):
                if key not in accepted:
                    raise ConfigError(
                        f"{parameter}.{key}" if key in self.kwargs else parameter,
                        f"a hyperparameter that {self.name} accepts ({', '.join(accepted)})",
                        key,
                        choices=list(accepted),
                    )
        trial = {name: 1e-3 for name in runtime}
        try:
            tx = factory(**trial, **self.kwargs)
        except ConfigError as exc:
            raise ConfigError(f"{parameter}.{exc.param}", exc.allowed, exc.given) from None
        except Exception as exc:  # noqa: BLE001 - reported as the user's input
            raise ConfigError(
                parameter,
                "a factory that builds a GradientTransformation from these hyperparameters",
                str(self),
                hint=f"({type(exc).__name__}: {exc})",
            ) from None
        if not isinstance(tx, optax.GradientTransformation):
            raise ConfigError(
                parameter,
                "a factory that returns an optax.GradientTransformation",
                f"{self} returned {type(tx).__name__}",
            )

    # ---- serialization ---------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "hparams": {k: _jsonable(v) for k, v in self.hparams},
        }
        if self.fn is not None:
            out["python_callable"] = True
        return out

    @classmethod
    def parse(cls, text: str, parameter: str = "optimizer") -> OptimizerSpec:
        """``NAME``, ``NAME(k=v, ...)`` or ``NAME:k=v,...`` (see the module docstring)."""
        text = text.strip()
        name, body = text, ""
        if text.endswith(")") and "(" in text:
            name, body = text[: text.index("(")], text[text.index("(") + 1 : -1]
        elif ":" in text and "=" in text.rsplit(":", 1)[1]:
            name, body = text.rsplit(":", 1)
        name = name.strip()
        if not _NAME.match(name):
            raise ConfigError(
                parameter,
                "an optimizer name or module:factory, optionally with (key=value, ...)",
                text,
            )
        hparams = {}
        for item in _split_top(body):
            if "=" not in item:
                raise ConfigError(parameter, "hyperparameters written key=value", text)
            key, value = item.split("=", 1)
            key = key.strip()
            if not key.isidentifier():
                raise ConfigError(parameter, "hyperparameter names that are identifiers", key)
            hparams[key] = parse_scalar(value)
        return cls(name, tuple(hparams.items()))

    @classmethod
    def coerce(cls, value: Any, parameter: str = "optimizer") -> OptimizerSpec:
        """A spec from a spec, a string, a ``config.json`` dict or a factory."""
        if isinstance(value, OptimizerSpec):
            return value
        if isinstance(value, str):
            return cls.parse(value, parameter)
        if isinstance(value, Mapping):
            if value.get("python_callable"):
                raise ConfigError(
                    parameter,
                    "a registered optimizer or an importable module:factory",
                    value.get("name"),
                    hint="A factory given as a Python lambda or closure is not stored in "
                    "config.json; define it at module level to re-run it.",
                )
            if not isinstance(value.get("name"), str) or not isinstance(
                value.get("hparams", {}), Mapping
            ):
                raise ConfigError(parameter, '{"name": str, "hparams": {...}}', value)
            return cls(value["name"], tuple(value.get("hparams", {}).items()))
        if isinstance(value, optax.GradientTransformation):
            raise ConfigError(
                parameter,
                "an optimizer factory (e.g. optax.adam or 'adam'), not a built transformation",
                type(value).__name__,
                hint="The experiment sets the learning rate, so it needs the factory.",
            )
        if callable(value):
            return cls.from_callable(value)
        raise ConfigError(parameter, "an optimizer name, spec or factory", value)

    @classmethod
    def from_callable(cls, fn: Callable[..., Any]) -> OptimizerSpec:
        """A spec for a factory: by registry name or import path where one exists."""
        if isinstance(fn, functools.partial) and not fn.args:
            inner = cls.from_callable(fn.func)
            simple = all(_plain(v) for v in fn.keywords.values())
            if inner.fn is None and simple:
                return OptimizerSpec(inner.name, tuple({**inner.kwargs, **fn.keywords}.items()))
        for name, registered in _registry().items():
            if registered is fn:
                return cls(name)
        path = _import_path(fn)
        if path is not None:
            return cls(path)
        module = getattr(fn, "__module__", None) or "?"
        qualname = getattr(fn, "__qualname__", None) or type(fn).__qualname__
        return cls(f"{module}:{qualname}", (), fn)


def _plain(value: Any) -> bool:
    if isinstance(value, tuple | list):
        return all(_plain(v) for v in value)
    return isinstance(value, Scalar)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _import_path(fn: Any) -> str | None:
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception:  # noqa: BLE001
        return None
    return f"{module}:{qualname}" if obj is fn else None


def _accepted(factory: Callable[..., Any]) -> tuple[str, ...] | None:
    """Keyword names the factory takes, or ``None`` when it takes ``**kwargs``."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(p.name for p in params if p.kind in kinds)


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses and brackets."""
    items, depth, current = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    return [i.strip() for i in items if i.strip()]


def parse_list(raw: Any, parameter: str) -> tuple[OptimizerSpec, ...]:
    """Specs from ``"gd,adam(b2=0.99),optax:lion"`` or a list of specs/names/factories.

    In the ``NAME:k=v,k=v`` form, an item ``k=v`` with no name belongs to the spec before it.
    """
    if isinstance(raw, str):
        items: list[Any] = []
        for piece in _split_top(raw.strip().removeprefix("[").removesuffix("]")):
            if "=" in piece and "(" not in piece and ":" not in piece and items:
                items[-1] = items[-1] + "," + piece
            else:
                items.append(piece)
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise ConfigError(parameter, "a comma-separated list of optimizers", raw)
    return tuple(OptimizerSpec.coerce(item, parameter) for item in items)


__all__ = ["RUNTIME", "OptimizerSpec", "parse_list", "parse_scalar"]
