"""The results object every experiment returns, and that a run folder loads back into."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np


@dataclasses.dataclass
class Results:
    """Numbers, arrays and claim outcomes of one experiment run.

    An experiment's ``run`` returns ``Results()`` filled with numbers only; the lab
    (:func:`implicitbias.lab.run`) stamps the envelope: experiment, preset, config, meta,
    claims.

    Attributes:
        experiment: experiment name (``min-norm``, ...); set by the lab.
        preset: the preset the config started from; set by the lab.
        config: the complete config as a dict (``config.json``); set by the lab.
        scalars: nested dict of numbers and short lists (``results.json``), the measured
            quantities that the report and the claims read.
        arrays: name -> array (``arrays.npz``): trajectories, spectra, paths.
        metrics: name -> ``(L, B)`` array at the logged ``steps``
            (``metrics.csv`` and ``arrays.npz`` under ``metric/<name>``).
        steps: ``(L,)`` the logged steps of ``metrics`` (``arrays.npz`` under ``steps``).
        claims: claim outcomes (dicts) measured on this run.
        meta: versions, backend, devices, wall time (``meta.json``).
        path: the run folder, once saved or loaded.
    """

    experiment: str = ""
    preset: str = ""
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    scalars: dict[str, Any] = dataclasses.field(default_factory=dict)
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    metrics: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    claims: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    path: Path | None = None
    status: str = "ok"
    steps: np.ndarray | None = None
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
