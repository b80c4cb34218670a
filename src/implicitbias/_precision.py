"""Switching JAX's 64-bit mode for the span of one run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import jax
import numpy as np


def x64_enabled() -> bool:
    """Whether JAX computes in 64 bits now (read through the public dtype rules)."""
    return jax.dtypes.canonicalize_dtype(np.float64) == np.dtype(np.float64)


@contextlib.contextmanager
def precision(x64: bool) -> Iterator[None]:
    """Run the body with ``jax_enable_x64`` set to ``x64`` and restore it afterwards.

    Results compared with theory are computed in float64; a config's ``x64`` field says
    which mode its run uses. The flag is global to the process, so runs are not meant to
    be interleaved across threads.
    """
    before = x64_enabled()
    jax.config.update("jax_enable_x64", bool(x64))
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)
