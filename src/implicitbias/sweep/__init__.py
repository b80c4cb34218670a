"""Sweeps: one experiment over a grid of configs, each cell a run folder, on Dask.

``implicitbias sweep EXPERIMENT --grid KEY=V1,V2 --seeds K`` (see ``cli/sweep_cmd.py``).
Modules: ``grid`` (axes and cells), ``manifest`` (the sweep folder), ``cell`` (one cell on a
worker), ``runner`` (Dask execution, resume), ``table`` (one row per cell).
"""

from implicitbias.sweep.runner import SweepResult, load_sweep, resume_sweep, run_sweep

__all__ = ["SweepResult", "load_sweep", "resume_sweep", "run_sweep"]
