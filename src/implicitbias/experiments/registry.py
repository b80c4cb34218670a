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
        raise ConfigError(
            "experiment", "one of " + ", ".join(sorted(registry)), name, choices=list(registry)
        )
    return registry[name]


def all_claims() -> list[Claim]:
    return [c for e in experiments().values() for c in e.claims]


def _load_builtin() -> None:
    """Import every module of ``implicitbias.experiments``: importing one registers it.

    An experiment is one module that calls :func:`register` at import; helper modules
    (``*_plots`` and the like) register nothing. An import error is raised, never hidden.
    """
    import importlib
    import pkgutil

    import implicitbias.experiments as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name != "registry" and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
