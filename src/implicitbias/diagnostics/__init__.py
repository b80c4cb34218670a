"""Diagnostics computed on trained (or training) models: Hessian curvature.

``hessian``: Hessian-vector products, Lanczos top-k eigenpairs (sharpness), power iteration,
Hutchinson and Hutch++ trace estimates. See :mod:`implicitbias.diagnostics.hessian`.
"""

from implicitbias.diagnostics.hessian import (
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
    "LanczosResult",
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
