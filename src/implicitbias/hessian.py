"""The Hessian toolkit, public API: curvature of any loss over a pytree of parameters
(arrays or equinox models) from Hessian- or Gauss-Newton-vector products, each result with
a self-check of its accuracy. See ``docs/hessian.md``.

* :func:`eigenpairs` / :func:`top_eigenpairs` / :func:`bottom_eigenpairs` -- the ``k``
  largest or smallest algebraic eigenpairs with residuals :math:`\\lVert Hv-\\lambda v\\rVert`,
  optionally iterated until a tolerance is met;
* :func:`block_eigenpairs` -- the same on each diagonal block (per layer);
* :func:`trace` -- Hutch++ or Hutchinson with a standard error (probes in ``lax.map``
  chunks of :data:`PROBE_CHUNK`);
* :func:`spectral_density` -- stochastic Lanczos quadrature with error bounds;
* ``curvature="ggn"`` everywhere, with the loss given as ``(model_fn, output_loss)``;
  :func:`ggn_vp`, :func:`curvature_matvec`, :func:`dense_curvature` (the dense reference).

The older entry points (:func:`lanczos`, :func:`power_iteration`, :func:`hutchinson_trace`,
:func:`hutchpp_trace`, :func:`sharpness`, :func:`hvp`, :func:`exact_hessian`) are re-exported
unchanged from :mod:`implicitbias.diagnostics.hessian`.
"""

from implicitbias.diagnostics.curvature import (
    CURVATURES,
    Eigenpairs,
    SpectralDensity,
    TraceResult,
    block_eigenpairs,
    block_indices,
    bottom_eigenpairs,
    curvature_matvec,
    dense_curvature,
    eigenpairs,
    ggn_vp,
    partition,
    slq_rule,
    spectral_density,
    top_eigenpairs,
    trace,
    unflatten_vector,
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
    lanczos,
    map_probes,
    power_iteration,
    ritz_history,
    sharpness,
    unflatten,
)

__all__ = [
    "CURVATURES",
    "PROBE_CHUNK",
    "Eigenpairs",
    "LanczosResult",
    "SpectralDensity",
    "TraceResult",
    "block_eigenpairs",
    "block_indices",
    "bottom_eigenpairs",
    "curvature_matvec",
    "dense_curvature",
    "eigenpairs",
    "exact_hessian",
    "fixed_subset",
    "flat_hvp",
    "ggn_vp",
    "hutchinson_trace",
    "hutchpp_trace",
    "hvp",
    "lanczos",
    "map_probes",
    "partition",
    "power_iteration",
    "ritz_history",
    "sharpness",
    "slq_rule",
    "spectral_density",
    "top_eigenpairs",
    "trace",
    "unflatten",
    "unflatten_vector",
]
