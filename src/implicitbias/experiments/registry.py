"""The experiment record and the name registry."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from implicitbias.claims import Claim
from implicitbias.config import Config
from implicitbias.errors import ConfigError
from implicitbias.runs.results import Results


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One phenomenon: a config class with presets, ``run``, ``plot`` and its claims.

    Attributes:
        name: the CLI name (``min-norm``).
        summary: one line for ``implicitbias list``.
        config_cls: the config dataclass (its presets are the experiment's presets).
        run: ``run(config) -> Results``; computes, never prints.
        plot: ``plot(results) -> {figure name: matplotlib Figure}``; draws, never computes.
        claims: the claims this experiment measures.
        doc: the module docstring (command and expected outcome).
    """

    name: str
    summary: str
    config_cls: type[Config]
    run: Callable[[Any], Results]
    plot: Callable[[Results], Mapping[str, Any]]
    claims: tuple[Claim, ...] = ()
    doc: str = ""


_REGISTRY: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    if experiment.name in _REGISTRY:
        raise ValueError(f"experiment {experiment.name!r} is registered twice")
    _REGISTRY[experiment.name] = experiment
    return experiment


def experiments() -> dict[str, Experiment]:
    """Every registered experiment, by name."""
    _load_builtin()
    return dict(_REGISTRY)


def get_experiment(name: str) -> Experiment:
    registry = experiments()
    if name not in registry:
        raise ConfigError("experiment", "one of " + ", ".join(sorted(registry)), name,
                          choices=list(registry))
    return registry[name]


def all_claims() -> list[Claim]:
    return [c for e in experiments().values() for c in e.claims]


def _load_builtin() -> None:
    # Importing a module registers its experiment.
    from implicitbias.experiments import geometry, max_margin, min_norm  # noqa: F401
