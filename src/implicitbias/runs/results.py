"""The results object every experiment returns, and that a run folder loads back into."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np


@dataclasses.dataclass
class Results:
    """Numbers, arrays and claim outcomes of one experiment run.

    Attributes:
        experiment: experiment name (``min-norm``, ...).
        preset: the preset the config started from.
        config: the complete config as a dict (``config.json``).
        scalars: nested dict of numbers and short lists (``results.json``), the measured
            quantities that the report and the claims read.
        arrays: name -> array (``arrays.npz``): trajectories, spectra, paths.
        metrics: name -> ``(L, B)`` array at the logged ``arrays["steps"]``
            (``metrics.csv`` and ``arrays.npz`` under ``metric/<name>``).
        claims: claim outcomes (dicts) measured on this run.
        meta: versions, backend, devices, wall time (``meta.json``).
        path: the run folder, once saved or loaded.
    """

    experiment: str
    preset: str
    config: dict[str, Any]
    scalars: dict[str, Any] = dataclasses.field(default_factory=dict)
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    metrics: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    claims: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    path: Path | None = None
    status: str = "ok"
    message: str = ""

    def get(self, dotted: str) -> Any:
        """A scalar by dotted path, e.g. ``results.get("pinv.relative_distance")``."""
        node: Any = self.scalars
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(
                    f"results of {self.experiment!r} have no scalar {dotted!r} "
                    "(is the part that measures it switched off in the config?)"
                )
            node = node[part]
        return node
