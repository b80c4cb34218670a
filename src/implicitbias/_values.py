"""Keys by value for the things a compiled program or a checkpoint depends on.

The engine caches compiled programs and stamps checkpoints with what determines a run: the
loss, the metrics, the optimizer, the sampler. Those are Python objects (functions,
``functools.partial``\\ s, closures, frozen dataclasses, optimizer specs), and their
identity (``id()``, or a ``repr`` holding a memory address) differs from one process to the
next. :func:`value_key` turns such an object into a nested tuple of plain values that is the
same in every process for equal objects:

* a function: its module, qualified name, bytecode and constants, defaults, and the values
  of its closure cells (so two lambdas built by one factory with equal arguments are equal);
* a ``functools.partial``: its function, arguments and keywords;
* an array: its shape, dtype and a SHA-256 digest of its bytes;
* a dataclass or an equinox module: its type and fields; a named tuple: type and items.

:func:`digest` hashes that key into a hex string for checkpoint fingerprints.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import types
from typing import Any

import numpy as np

_PRIMITIVES = (type(None), bool, int, str, bytes)


def _code_key(code: types.CodeType) -> tuple:
    consts = tuple(
        _code_key(c) if isinstance(c, types.CodeType) else ("const", type(c).__name__, repr(c))
        for c in code.co_consts
    )
    return ("code", code.co_qualname, code.co_code, consts, code.co_names, code.co_varnames)


def _array_key(arr: np.ndarray) -> tuple:
    arr = np.ascontiguousarray(arr)
    return ("array", arr.shape, str(arr.dtype), hashlib.sha256(arr.tobytes()).hexdigest())


def value_key(obj: Any, _seen: frozenset[int] = frozenset()) -> Any:
    """A hashable, process-independent key of ``obj``, equal for equal values."""
    if isinstance(obj, _PRIMITIVES):
        return obj
    if isinstance(obj, float):
        return ("float", repr(obj))
    if id(obj) in _seen:
        return ("cycle", type(obj).__qualname__)
    seen = _seen | {id(obj)}
    key = _key_of(obj, seen)
    return key


def _key_of(obj: Any, seen: frozenset[int]) -> Any:  # noqa: PLR0911 - one branch per kind
    if isinstance(obj, types.ModuleType):
        return ("module", obj.__name__)
    own = getattr(obj, "value_key", None)
    if callable(own) and not isinstance(obj, type):
        return ("own", type(obj).__qualname__, own())
    if isinstance(obj, enum.Enum):
        return ("enum", type(obj).__qualname__, obj.name)
    if isinstance(obj, np.ndarray | np.generic):
        return _array_key(np.asarray(obj))
    if _is_jax_array(obj):
        return _array_key(np.asarray(obj))
    if isinstance(obj, functools.partial):
        return (
            "partial",
            value_key(obj.func, seen),
            tuple(value_key(a, seen) for a in obj.args),
            tuple(sorted((k, value_key(v, seen)) for k, v in obj.keywords.items())),
        )
    if isinstance(obj, types.FunctionType):
        return _function_key(obj, seen)
    if isinstance(obj, types.MethodType):
        return ("method", value_key(obj.__func__, seen), value_key(obj.__self__, seen))
    if isinstance(obj, type):
        return ("type", obj.__module__, obj.__qualname__)
    if isinstance(obj, tuple):
        name = type(obj).__qualname__
        return ("tuple", name, tuple(value_key(x, seen) for x in obj))
    if isinstance(obj, list):
        return ("list", tuple(value_key(x, seen) for x in obj))
    if isinstance(obj, dict):
        items = sorted(
            ((repr(k), value_key(v, seen)) for k, v in obj.items()), key=lambda kv: kv[0]
        )
        return ("dict", tuple(items))
    if isinstance(obj, set | frozenset):
        return ("set", tuple(sorted(repr(value_key(x, seen)) for x in obj)))
    if dataclasses.is_dataclass(obj):
        fields = tuple(
            (f.name, value_key(getattr(obj, f.name), seen)) for f in dataclasses.fields(obj)
        )
        return ("dataclass", type(obj).__module__, type(obj).__qualname__, fields)
    wrapped = getattr(obj, "__wrapped__", None)
    if wrapped is not None:  # jax.jit and functools.wraps
        return ("wrapped", type(obj).__qualname__, value_key(wrapped, seen))
    if isinstance(obj, types.BuiltinFunctionType):
        return (
            "builtin",
            getattr(obj, "__module__", None),
            getattr(obj, "__qualname__", obj.__name__),
        )
    state = getattr(obj, "__dict__", None)
    if state is not None:
        return ("object", type(obj).__module__, type(obj).__qualname__, value_key(state, seen))
    name = getattr(obj, "__qualname__", None)
    return ("opaque", type(obj).__module__, type(obj).__qualname__, name)


def _function_key(fn: types.FunctionType, seen: frozenset[int]) -> tuple:
    cells = ()
    if fn.__closure__:
        cells = tuple(_cell_key(c, seen) for c in fn.__closure__)
    return (
        "function",
        fn.__module__,
        fn.__qualname__,
        _code_key(fn.__code__),
        value_key(fn.__defaults__, seen),
        value_key(fn.__kwdefaults__, seen),
        cells,
    )


def _cell_key(cell: types.CellType, seen: frozenset[int]) -> Any:
    try:
        return value_key(cell.cell_contents, seen)
    except ValueError:  # an empty cell (a name assigned after the closure was made)
        return ("empty-cell",)


def _is_jax_array(obj: Any) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith("jax") and hasattr(obj, "shape") and hasattr(obj, "dtype")


def digest(obj: Any) -> str:
    """SHA-256 hex digest of :func:`value_key` (the same in every process)."""
    return hashlib.sha256(repr(value_key(obj)).encode()).hexdigest()
