"""Reference solutions from theory: closed forms and convex solvers."""

from implicitbias.theory.least_squares import (
    bottom_eigen_weight,
    closest_interpolator,
    fit_log_rate,
    gd_contraction,
    gd_error_closed_form,
    hessian_spectrum,
    min_norm_solution,
    null_projector,
    pinv,
    ridge,
    ridge_path,
    smoothness,
)
from implicitbias.theory.margins import (
    MaxMargin,
    Separability,
    add_bias,
    angle_degrees,
    fit_against,
    max_margin,
    normalized_margin,
    separability,
)

__all__ = [
    "MaxMargin",
    "Separability",
    "add_bias",
    "angle_degrees",
    "fit_against",
    "max_margin",
    "normalized_margin",
    "separability",
    "bottom_eigen_weight",
    "closest_interpolator",
    "fit_log_rate",
    "gd_contraction",
    "gd_error_closed_form",
    "hessian_spectrum",
    "min_norm_solution",
    "null_projector",
    "pinv",
    "ridge",
    "ridge_path",
    "smoothness",
]
