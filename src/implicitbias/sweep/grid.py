"""The grid of a sweep: axes from ``KEY=V1,V2,...`` or ``KEY=LO:HI:N[:log]``, and its cells.

Values are parsed as ``implicitbias run --set KEY=VALUE`` parses them (the config's field
types), and every cell's config is built and validated before any work starts, so a bad
grid is one :class:`~implicitbias.errors.ConfigError` naming the parameter.
"""

from __future__ import annotations

import dataclasses
import itertools
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
    """One axis of the grid: a config field (or ``optimizer.KEY``) and its values."""

    name: str
    values: tuple[Any, ...]

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


def _plain(key: str, tp: Any, raw: Any) -> Any:
    """The value as it goes into ``overrides`` and JSON: parsed when plain, else the text."""
    if tp is None:
        return parse_scalar(raw) if isinstance(raw, str) else raw
    value = parse_value(key, tp, raw)  # raises ConfigError on a bad value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return raw  # specs, tuples: the command-line text, parsed again by Config.make


def parse_axis(experiment: Experiment, text: str) -> Axis:
    """``KEY=V1,V2,...`` or ``KEY=LO:HI:N[:log]`` -> :class:`Axis` with parsed values."""
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
    parsed = [_plain(key, tp, raw) for raw in raw_values]
    if len({repr(v) for v in parsed}) != len(parsed):
        raise ConfigError(f"--grid {key}", "distinct values", values)
    return Axis(key, tuple(parsed))


def build_axes(
    experiment: Experiment, grid: Sequence[str | Axis] | Mapping[str, Any], seeds: int = 1
) -> list[Axis]:
    """The axes of ``grid`` (strings, :class:`Axis` or ``{key: values}``), then ``seed``."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError("--seeds", "an integer >= 1", seeds)
    if isinstance(grid, Mapping):
        items: list[str | Axis] = []
        for key, values in grid.items():
            if isinstance(values, str):
                items.append(f"{key}={values}")
            else:
                tp = _field_type(experiment, key)
                items.append(Axis(key, tuple(_plain(key, tp, v) for v in values)))
    else:
        items = list(grid)
    axes = [item if isinstance(item, Axis) else parse_axis(experiment, item) for item in items]
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
    """The product of ``axes`` (the last axis varies fastest); every config validated."""
    presets = experiment.config_cls.presets()
    if preset not in presets:
        raise ConfigError("preset", "one of " + ", ".join(presets), preset, choices=presets)
    count = int(np.prod([len(a.values) for a in axes]))
    if count > max_cells and not yes:
        raise ConfigError(
            "--max-cells", f"at most {max_cells} cells (or --yes to run them all)", count
        )
    cells = []
    for index, combo in enumerate(itertools.product(*(a.values for a in axes))):
        overrides = {a.name: v for a, v in zip(axes, combo, strict=True)}
        try:
            experiment.config_cls.make(preset, overrides)
        except ConfigError as exc:
            shown = ", ".join(f"{k}={v}" for k, v in overrides.items())
            exc.args = (f"{exc.args[0]} (cell {shown})",)
            raise exc from None
        cells.append(Cell(f"c{index:04d}", index, overrides))
    return cells
