"""What a run records about where and how it ran (meta.json)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any


def git_commit(start: Path | None = None) -> str | None:
    """The commit of the git checkout that holds the package, if any."""
    here = start or Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def environment() -> dict[str, Any]:
    """Versions, backend and devices."""
    import jax

    from implicitbias import __version__
    from implicitbias._precision import x64_enabled

    versions = {
        "implicitbias": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "jax": jax.__version__,
    }
    for name in ("jaxlib", "optax", "equinox", "numpy", "scipy", "cvxpy", "matplotlib"):
        try:
            module = __import__(name)
            versions[name] = getattr(module, "__version__", "?")
        except ImportError:
            versions[name] = None
    return {
        "cpus": os.cpu_count(),
        "versions": versions,
        "git_commit": git_commit(),
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "x64": x64_enabled(),
    }
