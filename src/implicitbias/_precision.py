"""Switching JAX's 64-bit mode for the span of one run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import jax


@contextlib.contextmanager
def precision(x64: bool) -> Iterator[None]:
    """Run the body with ``jax_enable_x64`` set to ``x64`` and restore it afterwards.

    Results compared with theory are computed in float64; a config's ``x64`` field says
    which mode its run uses. The flag is global to the process, so runs are not meant to
    be interleaved across threads.
    """
    before = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", bool(x64))
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)
