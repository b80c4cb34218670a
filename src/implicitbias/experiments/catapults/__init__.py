r"""Catapults: GD on a wide two-layer network over a sweep of learning rates eta, in units of
2/lambda_0 (lambda_0 the top eigenvalue of the NTK at init): lazy below 2/lambda_0, a loss
spike then convergence to a flatter point (lambda_T < 2/eta) above it, divergence past
eta_max.

Command::

    implicitbias run catapults                  # 3 draws x 30 etas, ~30 s on 2 cores
    implicitbias run catapults --preset smoke   # seconds
    implicitbias run catapults --preset full    # the full-level check, several minutes

Setting (Lewkowycz, Bahri, Dyer, Sohl-Dickstein & Gur-Ari 2020, "The large learning rate
phase of deep learning: the catapult mechanism", arXiv 2003.02218): a two-layer ReLU network
in the NTK parametrization, :math:`f(w; x) = m^{-1/2}\sum_i v_i\,\mathrm{relu}(U_i\cdot x/
\sqrt d)`, width ``m = 2048``, on the mean square loss of ``n = 16`` Gaussian inputs with a
linear teacher; full-batch GD with ``eta = c * 2 / lambda_0`` for ``c`` on a log grid from 0.5
to 8. Every (draw, c) is a member of ONE batched engine run (the c's of a draw share the
init); the engine keeps running the members that diverge. lambda_0 and the final lambda_T
are the top eigenvalue of ``J J^T / n``, ``J`` from ``jax.jacobian`` over the training
inputs, by NumPy's eigvalsh (:mod:`implicitbias.experiments.catapults.model`). A second run
does the same for the uv model (``x = 1``, ``y = 0``, identity activation), whose thresholds
2/lambda_0 and 4/lambda_0 the lab derives exactly.

Expected outcome (``default``, seed 0, measured): the spike starts between c = 0.976 and
1.074 for the network and the uv model (every draw); below it the loss falls monotonically
and lambda moves by at most 3.4 %; the catapult members end with eta lambda_T / 2 at
most 0.93 (lambda_T < 2/eta); the uv model diverges from c = 2.10 on and converges at
c = 1.91 (eta_max = 4/lambda_0); the ReLU network still converges at c = 2.10 and
diverges from c = 2.31 on (eta_max between 4.2 and 4.6 / lambda_0).
See docs/experiments/catapults.md.
"""

from __future__ import annotations

from implicitbias.experiments.catapults.claims import CLAIMS, KEYS
from implicitbias.experiments.catapults.config import NAME, CatapultsConfig, runs_uv, uses_gd
from implicitbias.experiments.catapults.model import (
    network,
    ntk_top,
    numpy_jacobian,
    numpy_ntk_top,
    square_loss,
)
from implicitbias.experiments.catapults.study import run
from implicitbias.experiments.registry import Experiment, register

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="catapults: GD on a wide two-layer net over eta in units of 2/lambda_0 (NTK "
        "at init): lazy below 1, a loss spike then a flatter end (lambda_T < 2/eta) above, "
        "divergence past eta_max",
        config_cls=CatapultsConfig,
        run=run,
        plots="implicitbias.experiments.catapults.plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)

__all__ = [
    "CLAIMS",
    "EXPERIMENT",
    "KEYS",
    "NAME",
    "CatapultsConfig",
    "network",
    "ntk_top",
    "numpy_jacobian",
    "numpy_ntk_top",
    "run",
    "runs_uv",
    "square_loss",
    "uses_gd",
]
