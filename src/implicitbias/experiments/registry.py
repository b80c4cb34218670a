"""The experiment record and the name registry."""

from __future__ import annotations

import dataclasses
import importlib
import typing
import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from implicitbias.claims import Claim
from implicitbias.config import Config
from implicitbias.errors import ConfigError
from implicitbias.runs.results import Results


@dataclasses.dataclass(frozen=True, kw_only=True)
class Experiment:
    """One phenomenon: a config class with presets, ``run``, its figures and its claims.

    Attributes:
        name: the CLI name (``min-norm``).
        summary: one line for ``implicitbias list``.
        config_cls: the config dataclass (its presets are the experiment's presets).
        run: ``run(config) -> Results``; computes, never prints. It returns ``Results()``
            with numbers only: the lab stamps experiment, preset, config and meta.
        plots: the module (or its dotted import path, imported when figures are drawn)
            whose ``all_figures(results) -> {name: Figure}`` draws, never computes.
        pages: the module (or its dotted path) whose ``all_pages(results) -> {relative
            path: html}`` writes extra self-contained pages into the saved run folder
            (read after the figures are saved, so a page may embed them); ``None``: none.
        claims: the claims this experiment measures.
        keys: every results key (dotted, for :meth:`Results.get`) that the claims,
            plots and tests read; a claim whose ``measure`` is a key must name one of
            these (checked at registration, i.e. at import).
        doc: the module docstring (command and expected outcome).
        batch_axes: ``{tuple config field: results prefix template}``: the fields whose
            values the experiment trains as members of one batched (vmapped) program, and
            where member ``i``'s scalars are in its results (``"members.{i}"``: the dotted
            scalars prefix of the ``i``-th value, ``{i}`` its index in the tuple). A sweep
            folds a ``--grid`` axis of scalars over such a field into one cell
            (:mod:`implicitbias.sweep.grid`) and expands it back into one table row per
            member (:mod:`implicitbias.sweep.table`). Checked at registration: the field
            is a ``tuple[...]`` field and the template contains ``{i}``.
    """

    name: str
    summary: str
    config_cls: type[Config]
    run: Callable[[Any], Results]
    plots: ModuleType | str | None = None
    pages: ModuleType | str | None = None
    claims: tuple[Claim, ...] = ()
    keys: tuple[str, ...] = ()
    doc: str = ""
    batch_axes: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def figures(self, results: Results) -> Mapping[str, Any]:
        """The experiment's figures of ``results`` (``{}`` when it has none)."""
        if self.plots is None:
            return {}
        module = importlib.import_module(self.plots) if isinstance(self.plots, str) else self.plots
        with warnings.catch_warnings():
            # A member that diverged leaves inf in its curves; matplotlib's log scale then
            # warns about an overflow that says nothing the run's own message does not.
            warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
            return module.all_figures(results)

    def pages_of(self, results: Results) -> Mapping[str, str]:
        """The experiment's extra pages of a saved run (``{}`` when it has none)."""
        if self.pages is None:
            return {}
        module = importlib.import_module(self.pages) if isinstance(self.pages, str) else self.pages
        return module.all_pages(results)

    def check(self) -> None:
        """Consistency of the declaration (raised at import, so a typo fails early)."""
        ids = [c.id for c in self.claims]
        if len(set(ids)) != len(ids):
            raise ValueError(f"experiment {self.name!r}: duplicate claim ids")
        for claim in self.claims:
            if claim.experiment != self.name:
                raise ValueError(f"claim {claim.id!r} is not named '{self.name}/...'")
            if isinstance(claim.measure, str) and claim.measure not in self.keys:
                raise ValueError(
                    f"claim {claim.id!r} measures {claim.measure!r}, which is not one of "
                    f"the keys {self.name!r} declares"
                )
        types_ = self.config_cls.field_types()
        for field, template in self.batch_axes.items():
            if typing.get_origin(types_.get(field)) is not tuple:
                raise ValueError(
                    f"experiment {self.name!r}: batch axis {field!r} is not a tuple field "
                    f"of {self.config_cls.__name__}"
                )
            if not isinstance(template, str) or "{i}" not in template:
                raise ValueError(
                    f"experiment {self.name!r}: batch axis {field!r} needs a results prefix "
                    f"template with '{{i}}' (e.g. 'members.{{i}}'), not {template!r}"
                )


_REGISTRY: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    experiment.check()
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
