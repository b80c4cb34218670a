"""Minimum-norm least squares: gradient descent picks the interpolator closest to its init.

Command::

    implicitbias run min-norm               # about ten seconds on 2 CPU cores
    implicitbias run min-norm --set optimizer=adam --set optimizer.b2=0.99

Setting: overparameterized least squares (``n < p``), loss :math:`\\frac{1}{2n}\\lVert Xw-y
\\rVert^2`, in float64. Every GD step adds a vector of the row space of ``X``, so GD from
``w0`` converges to :math:`w_0 + X^+(y - Xw_0)`, the interpolator closest to ``w0``, and from
zero to the pseudo-inverse solution :math:`X^+y`, the limit of ridge regression as
:math:`\\lambda \\to 0` (seed 000, sections 1-2; e.g. Gunasekar et al. 2018, ICML).

Expected outcome on the default preset: relative distance of GD to :math:`X^+y` near
1e-15; every init reaches its own closest interpolator; a random interpolator has the same
residual and a larger norm; the error decays at the asymptotic rate
:math:`1-\\eta\\lambda_{\\min}^+` from random inits, and at least that fast from zero (exactly
that fast only when :math:`X^+y` has enough weight on the bottom eigenvector: not for seed 0,
whose slowest mode dominates only below round-off); minibatch SGD from zero stays in the row
space and reaches the same limit. Seed 000's printed numbers (0.8942, 4.7281, 3.12e-4) are
not what its own code gives; the ``seed`` preset runs that code exactly.

Any optimizer (``--set optimizer=...``) runs the main batch, the minibatch part and the
plane picture. The claims about the limit hold for methods whose updates stay in the span
of past gradients (GD, SGD, heavy ball, Nesterov: Gunasekar et al. 2018, ICML, section 2);
for other optimizers they are *not applicable* and the distances are still reported. The
rate claims are for plain constant-step GD. Seed 000's second snippet is its exact GD code.
"""

from __future__ import annotations

from implicitbias.experiments.min_norm.claims import CLAIMS, KEYS
from implicitbias.experiments.min_norm.config import GRADIENT_SPAN, NAME, MinNormConfig
from implicitbias.experiments.min_norm.run import run
from implicitbias.experiments.registry import Experiment, register

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="GD on least squares converges to the min-norm / closest interpolator",
        config_cls=MinNormConfig,
        run=run,
        plots="implicitbias.experiments.min_norm.plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)

__all__ = ["CLAIMS", "EXPERIMENT", "GRADIENT_SPAN", "KEYS", "NAME", "MinNormConfig", "run"]
