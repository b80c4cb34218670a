"""JAX's persistent compilation cache for the command line.

A second ``implicitbias run X`` in a new process loads its compiled programs from disk
instead of compiling them again. The folder is ``$IMPLICITBIAS_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/implicitbias/jax`` (``~/.cache/implicitbias/jax``);
``IMPLICITBIAS_COMPILATION_CACHE=0`` turns the cache off. Entries are keyed by JAX on the
program, the JAX and jaxlib versions and the backend, so a stale entry is never used; the
folder can be deleted at any time.
"""

from __future__ import annotations

import os
from pathlib import Path

OFF = ("0", "false", "no", "off")


def cache_dir() -> Path | None:
    """The folder the command line caches compiled programs in, or ``None`` when off."""
    if os.environ.get("IMPLICITBIAS_COMPILATION_CACHE", "").strip().lower() in OFF:
        return None
    explicit = os.environ.get("IMPLICITBIAS_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base).expanduser() / "implicitbias" / "jax"


def enable() -> Path | None:
    """Point JAX's persistent cache at :func:`cache_dir` (caching every program, however
    quick to compile: the engine's programs take 0.3-2 s each). Returns the folder, or
    ``None`` when the cache is off or the folder cannot be created (then nothing changes:
    a cache is never a reason for a run to fail)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            return None
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder
