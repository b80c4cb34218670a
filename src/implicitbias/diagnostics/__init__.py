"""Diagnostics computed on trained (or training) models: Hessian curvature.

``hessian``: Hessian-vector products, Lanczos top-k eigenpairs (sharpness), power iteration,
Hutchinson and Hutch++ trace estimates. See :mod:`implicitbias.diagnostics.hessian`.
``curvature``: the Hessian toolkit (eigenpairs at both ends with residuals, per-block
eigenpairs, trace with standard error, spectral density, Gauss-Newton), public as
:mod:`implicitbias.hessian`.
"""

from implicitbias.diagnostics.curvature import (
    Eigenpairs,
    SpectralDensity,
    TraceResult,
    block_eigenpairs,
    bottom_eigenpairs,
    eigenpairs,
    spectral_density,
    top_eigenpairs,
    trace,
)
from implicitbias.diagnostics.hessian import (
    PROBE_CHUNK,
    LanczosResult,
    exact_hessian,
    fixed_subset,
    flat_hvp,
    hutchinson_trace,
    hutchpp_trace,
    hvp,
    hvp_norm_estimate,
    lanczos,
    power_iteration,
    ritz_history,
    sharpness,
    unflatten,
)

__all__ = [
    "PROBE_CHUNK",
    "Eigenpairs",
    "LanczosResult",
    "SpectralDensity",
    "TraceResult",
    "block_eigenpairs",
    "bottom_eigenpairs",
    "eigenpairs",
    "spectral_density",
    "top_eigenpairs",
    "trace",
    "exact_hessian",
    "fixed_subset",
    "flat_hvp",
    "hutchinson_trace",
    "hutchpp_trace",
    "hvp",
    "hvp_norm_estimate",
    "lanczos",
    "power_iteration",
    "ritz_history",
    "sharpness",
    "unflatten",
]
