"""Optimizers as optax ``GradientTransformation``s, and their step-size schedules.

Named optimizers are short chains ``direction -> (-learning_rate) * direction`` built from
the ``scale_by_*`` transforms of :mod:`implicitbias.optim.geometry`, the Grokfast filters
of :mod:`implicitbias.optim.grokfast`, the noise stream of :mod:`implicitbias.optim.noise`,
and from optax.
"""

from implicitbias.optim.geometry import (
    NORMS,
    dual_norm,
    global_l1,
    global_l2,
    global_linf,
    scale_by_global_norm,
    scale_by_sign,
    scale_by_steepest,
    steepest_direction,
)
from implicitbias.optim.mirror import mirror_step, pnorm_mirror_step
from implicitbias.optim.noise import add_gaussian_noise, gaussian_stream
from implicitbias.optim.registry import (
    OPTIMIZERS,
    adafactor,
    adam,
    adamw,
    coordinate_descent,
    gd,
    get_optimizer,
    grokfast_ema,
    grokfast_ma,
    heavy_ball,
    lion,
    muon,
    nesterov,
    noisy_gd,
    normalized_gd,
    pnorm_gd,
    resolve_learning_rate,
    sgd,
    sign_gd,
    spectral_gd,
    steepest_descent,
    steepest_l1,
    steepest_l2,
    steepest_linf,
)
from implicitbias.optim.schedules import SCHEDULES, make_schedule
from implicitbias.optim.spectral import scale_by_spectral, spectral_direction

__all__ = [
    "NORMS",
    "OPTIMIZERS",
    "SCHEDULES",
    "adafactor",
    "adam",
    "adamw",
    "add_gaussian_noise",
    "coordinate_descent",
    "dual_norm",
    "gaussian_stream",
    "gd",
    "get_optimizer",
    "global_l1",
    "global_l2",
    "global_linf",
    "grokfast_ema",
    "grokfast_ma",
    "heavy_ball",
    "lion",
    "make_schedule",
    "mirror_step",
    "muon",
    "nesterov",
    "noisy_gd",
    "normalized_gd",
    "pnorm_gd",
    "pnorm_mirror_step",
    "resolve_learning_rate",
    "scale_by_global_norm",
    "scale_by_sign",
    "scale_by_spectral",
    "scale_by_steepest",
    "sgd",
    "sign_gd",
    "spectral_direction",
    "spectral_gd",
    "steepest_descent",
    "steepest_direction",
    "steepest_l1",
    "steepest_l2",
    "steepest_linf",
]
