"""Shared test setup: float64 JAX, no progress bars, a headless matplotlib, fresh run folders.

The environment variables are set before JAX or matplotlib is imported by any test module.
``lab.run`` switches ``jax_enable_x64`` per config and restores it afterwards, so the
float64 default set here holds between runs.
"""

from __future__ import annotations

import os

os.environ["IMPLICITBIAS_PROGRESS"] = "0"
os.environ["MPLBACKEND"] = "Agg"

from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)


@pytest.fixture
def tmp_runs(tmp_path: Path) -> Path:
    """An empty runs folder of its own for each test."""
    folder = tmp_path / "runs"
    folder.mkdir()
    return folder
