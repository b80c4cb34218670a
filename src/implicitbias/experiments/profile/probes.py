"""The probes of the profile, by name, in column order (each one module of this package)."""

from __future__ import annotations

import importlib

from implicitbias.experiments.profile.base import ProbeDef

MODULES: dict[str, str] = {
    "margin-vectors": "margin_vectors",
    "margin-matrices": "margin_matrices",
    "interpolation": "interpolation",
    "sparsity": "sparsity",
    "rank": "rank",
    "stability": "stability",
    "flatness": "flatness",
    "grokking": "grokking",
}
PROBES: tuple[str, ...] = tuple(MODULES)
"""Probe names in the order of the table's columns."""


def get_probe(name: str) -> ProbeDef:
    """The :class:`ProbeDef` of the probe called ``name`` (its module is imported)."""
    module = importlib.import_module(f"implicitbias.experiments.profile.{MODULES[name]}")
    return module.PROBE


def probes_for(level: str, only: tuple[str, ...] = ()) -> list[ProbeDef]:
    """The probes a level runs (all of ``only`` when given, whatever their levels)."""
    names = only or tuple(n for n in PROBES if level in get_probe(n).levels)
    return [get_probe(n) for n in names]
