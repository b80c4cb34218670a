"""The grid of a sweep: axes from ``KEY=V1,V2,...`` or ``KEY=LO:HI:N[:log]``, and its cells.

Values are parsed as ``implicitbias run --set KEY=VALUE`` parses them (the config's field
types), and every cell's config is built and validated before any work starts, so a bad
grid is one :class:`~implicitbias.errors.ConfigError` naming the parameter.

Batch axes. An experiment may declare tuple fields that it trains as members of one
vmapped program (:attr:`Experiment.batch_axes`, e.g. ``learning_rates`` of
``edge-of-stability``). An axis over such a field whose values are all scalars
(``--grid learning_rates=0.25,0.4,0.6,0.8``, a range, or numbers in a ``{key: values}``
grid) is *folded*: every cell gets the whole axis as one tuple
(``learning_rates=(0.25,0.4,0.6,0.8)``) instead of one cell per value, and the table expands
each cell back into one row per member (:mod:`implicitbias.sweep.table`). Values written as
tuples (``"(0.25),(0.4)"`` or ``(0.25,)``) are not folded: one cell per tuple, as for any
axis; ``batch=False`` (``implicitbias sweep --no-batch``) folds nothing. At most one axis of
a grid is folded.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from implicitbias.config import parse_value
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment
from implicitbias.optim.spec import OptimizerSpec, parse_scalar

RANGE = "LO:HI:N or LO:HI:N:log (numbers, N >= 2, LO and HI > 0 for log)"


@dataclasses.dataclass(frozen=True)
class Axis:
    """One axis of the grid: a config field (or ``optimizer.KEY``) and its values.

    ``batch`` is the experiment's results prefix template (``"members.{i}"``) when the
    axis is folded into every cell (a declared batch field with scalar values: the cell's
    override is the tuple of all ``values``); ``None`` for an ordinary axis.
    """

    name: str
    values: tuple[Any, ...]
    batch: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "values": list(self.values)}


@dataclasses.dataclass(frozen=True)
class Cell:
    """One point of the grid: ``c0000``... and the overrides that make its config."""

    id: str
    index: int
    overrides: dict[str, Any]


def _split_values(text: str) -> list[str]:
    """Split on commas outside parentheses (``adam(b1=0.9,b2=0.99),gd`` is two values)."""
    items, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return [s.strip() for s in items if s.strip()]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _range(key: str, text: str) -> list[Any]:
    parts = text.split(":")
    if len(parts) not in (3, 4) or not all(_is_number(p) for p in parts[:3]):
        raise ConfigError(f"--grid {key}", RANGE, text)
    if len(parts) == 4 and parts[3] != "log":
        raise ConfigError(f"--grid {key}", RANGE, text)
    lo, hi, n = float(parts[0]), float(parts[1]), float(parts[2])
    if not n.is_integer() or n < 2:
        raise ConfigError(f"--grid {key}", RANGE, text)
    if len(parts) == 4:
        if lo <= 0 or hi <= 0:
            raise ConfigError(f"--grid {key}", RANGE, text)
        points = np.geomspace(lo, hi, int(n))
    else:
        points = np.linspace(lo, hi, int(n))
    return [float(p) for p in points]


def _field_type(experiment: Experiment, key: str) -> Any:
    types_ = experiment.config_cls.field_types()
    head, _, sub = key.partition(".")
    if sub and types_.get(head) is OptimizerSpec:
        return None  # an optimizer hyperparameter: parsed like `--set optimizer.KEY=V`
    if key not in types_:
        raise ConfigError(
            "--grid key",
            f"a field of {experiment.config_cls.__name__} (see `implicitbias run "
            f"{experiment.name} --help`)",
            key,
            choices=list(types_),
        )
    return types_[key]


def _is_tuple(tp: Any) -> bool:
    return typing.get_origin(tp) is tuple


def _plain(key: str, tp: Any, raw: Any) -> Any:
    """The value as it goes into ``overrides`` and JSON: parsed when plain, else the text."""
    if tp is None:
        return parse_scalar(raw) if isinstance(raw, str) else raw
    value = parse_value(key, tp, raw)  # raises ConfigError on a bad value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return raw  # specs, tuples: the command-line text, parsed again by Config.make


def _scalar_members(key: str, tp: Any, raw_values: Sequence[Any]) -> tuple[Any, ...] | None:
    """The values of an axis over a tuple field as members, or ``None`` when any value is
    not a scalar (a tuple, a list, or text with parentheses, brackets or commas)."""
    members = []
    for raw in raw_values:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            return None
        if isinstance(raw, str) and any(c in raw for c in "()[],"):
            return None
        parsed = parse_value(key, tp, raw if isinstance(raw, str) else (raw,))
        if len(parsed) != 1:
            return None
        members.append(parsed[0])
    return tuple(members)


def _batched(
    experiment: Experiment, key: str, tp: Any, raw_values: Sequence[Any], text: Any
) -> Axis | None:
    """The folded axis when ``key`` is a declared batch field and the values are scalars."""
    if key not in experiment.batch_axes:
        return None
    members = _scalar_members(key, tp, raw_values)
    if members is None:
        return None
    if not members:
        raise ConfigError(f"--grid {key}", "at least one value", text)
    if len({repr(v) for v in members}) != len(members):
        raise ConfigError(f"--grid {key}", "distinct values", text)
    return Axis(key, members, batch=experiment.batch_axes[key])


def parse_axis(experiment: Experiment, text: str, batch: bool = True) -> Axis:
    """``KEY=V1,V2,...`` or ``KEY=LO:HI:N[:log]`` -> :class:`Axis` with parsed values.

    With ``batch``, an axis over a declared batch field with scalar values is folded (see
    the module doc).
    """
    key, sep, values = str(text).partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError("--grid", "KEY=V1,V2,... or KEY=LO:HI:N[:log]", text)
    tp = _field_type(experiment, key)
    values = values.strip()
    if ":" in values and _is_number(values.split(":")[0]):
        raw_values: list[Any] = _range(key, values)
    else:
        raw_values = _split_values(values)
    if not raw_values:
        raise ConfigError(f"--grid {key}", "at least one value", values)
    folded = _batched(experiment, key, tp, raw_values, values) if batch else None
    if folded is not None:
        return folded
    parsed = [_plain(key, tp, raw) for raw in raw_values]
    if len({repr(v) for v in parsed}) != len(parsed):
        raise ConfigError(f"--grid {key}", "distinct values", values)
    return Axis(key, tuple(parsed))


def build_axes(
    experiment: Experiment,
    grid: Sequence[str | Axis] | Mapping[str, Any],
    seeds: int = 1,
    batch: bool = True,
) -> list[Axis]:
    """The axes of ``grid`` (strings, :class:`Axis` or ``{key: values}``), then ``seed``.

    With ``batch`` (the default), an axis over one of the experiment's declared batch
    fields with scalar values is folded into every cell (see the module doc);
    ``batch=False`` makes one cell per value of every axis.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError("--seeds", "an integer >= 1", seeds)
    if isinstance(grid, Mapping):
        items: list[str | Axis] = []
        for key, values in grid.items():
            if isinstance(values, str):
                items.append(f"{key}={values}")
            else:
                tp = _field_type(experiment, key)
                values = list(values)
                folded = _batched(experiment, key, tp, values, values) if batch else None
                if folded is None:
                    # A number on a tuple field: its text, one member (as on the command line).
                    values = [
                        str(v)
                        if _is_tuple(tp) and isinstance(v, int | float) and not isinstance(v, bool)
                        else v
                        for v in values
                    ]
                    folded = Axis(key, tuple(_plain(key, tp, v) for v in values))
                items.append(folded)
    else:
        items = list(grid)
    axes = [
        item if isinstance(item, Axis) else parse_axis(experiment, item, batch) for item in items
    ]
    folded_names = [a.name for a in axes if a.batch]
    if len(folded_names) > 1:
        raise ConfigError(
            "--grid",
            "at most one batched axis (or --no-batch for one cell per value)",
            ", ".join(folded_names),
        )
    for axis in axes:
        if not axis.values:
            raise ConfigError(f"--grid {axis.name}", "at least one value", [])
    if seeds > 1:
        axes.append(Axis("seed", tuple(range(seeds))))
    names = [a.name for a in axes]
    for name in names:
        if names.count(name) > 1:
            hint = "(--seeds K makes the axis seed=0..K-1)" if name == "seed" else None
            raise ConfigError("--grid", "each key once", name, hint=hint)
    if not axes:
        raise ConfigError("--grid", "at least one KEY=VALUES axis (or --seeds K >= 2)", [])
    return axes


def cells_of(
    experiment: Experiment,
    preset: str,
    axes: Sequence[Axis],
    *,
    max_cells: int = 1000,
    yes: bool = False,
) -> list[Cell]:
    """The product of ``axes`` (the last axis varies fastest); every config validated.

    A folded axis (``axis.batch``) has one value in the product: the tuple of its values.
    """
    presets = experiment.config_cls.presets()
    if preset not in presets:
        raise ConfigError("preset", "one of " + ", ".join(presets), preset, choices=presets)
    points = [(tuple(a.values),) if a.batch else a.values for a in axes]
    count = int(np.prod([len(p) for p in points]))
    if count > max_cells and not yes:
        raise ConfigError(
            "--max-cells", f"at most {max_cells} cells (or --yes to run them all)", count
        )
    cells = []
    for index, combo in enumerate(itertools.product(*points)):
        overrides = {a.name: v for a, v in zip(axes, combo, strict=True)}
        try:
            experiment.config_cls.make(preset, overrides)
        except ConfigError as exc:
            shown = ", ".join(f"{k}={v}" for k, v in overrides.items())
            exc.args = (f"{exc.args[0]} (cell {shown})",)
            raise exc from None
        cells.append(Cell(f"c{index:04d}", index, overrides))
    return cells
