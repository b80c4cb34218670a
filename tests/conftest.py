"""Shared test setup: float64 JAX, no progress bars, a headless matplotlib, fresh run folders.

The environment variables are set before JAX or matplotlib is imported by any test module.
``lab.run`` switches ``jax_enable_x64`` per config and restores it afterwards, so the
float64 default set here holds between runs.
"""

from __future__ import annotations

import os

os.environ["IMPLICITBIAS_PROGRESS"] = "0"
os.environ["MPLBACKEND"] = "Agg"
# The command line's persistent compilation cache stays off in tests (each test that checks
# it turns it on in a folder of its own), so that no test reads what another compiled.
os.environ.setdefault("IMPLICITBIAS_COMPILATION_CACHE", "0")

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


# Debian's chromium, driven by playwright, for the web explorer's browser tests.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _playwright():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed")
    return sync_playwright


@pytest.fixture(scope="module")
def browser():
    """One headless chromium per test module (skipped when chromium or playwright is
    absent)."""
    sync_playwright = _playwright()
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
