r"""Lazy vs rich training: the output scale alpha moves a two-layer network from feature
learning to kernel regression with its tangent kernel at init.

Command::

    implicitbias run lazy-rich                  # 5 draws x 12 alphas, ~30-40 s on 2 cores
    implicitbias run lazy-rich --preset smoke   # seconds
    implicitbias run lazy-rich --preset large   # the full-level check, a few minutes

Setting (Chizat, Oyallon & Bach 2019, NeurIPS, "On Lazy Training in Differentiable
Programming"): a two-layer student :math:`f(w; x) = m^{-1/2}\sum_i a_i
\tanh(W_i\cdot x/\sqrt d)` on a regression task with a ReLU teacher network and Gaussian
inputs (``n`` < number of parameters). The predictor is the centered, scaled model
:math:`g_\alpha = \alpha(f(w) - f(w_0))`, trained by full-batch GD on
:math:`\frac{1}{\alpha^2}\frac{1}{2n}\lVert g_\alpha(X) - y\rVert^2` (the factor
:math:`1/\alpha^2` makes the speed in function space the same for every alpha; see
:mod:`implicitbias.experiments.lazy_rich.model`). Every alpha of a log-spaced sweep, for
each of ``draws`` independent draws of data, teacher and init, is a member of ONE batched
engine run; the alphas of a draw share the init ``w0``. Step: ``lr_scale * n /
lambda_max(K) * min(1, alpha)``.

Reference, independent of the engine (:mod:`implicitbias.experiments.lazy_rich.kernel`): the
empirical tangent kernel ``K = J0 J0^T`` from ``jax.jacobian`` of ``f`` at ``w0``, and the
min-RKHS-norm interpolator ``K(x, X) K^-1 y`` by a Cholesky solve (SciPy, float64).

Expected outcome (``default``, measured): the relative weight change falls like 1/alpha
(fitted slopes -0.9983 .. -1.0000 over alpha >= 10), and alpha ||w_T - w0|| matches the
kernel solve's ||J0^T K^-1 y|| to 2e-4; the distance to the kernel predictor falls at every
alpha step, like 1/alpha, to 1.6e-4 .. 3.2e-4 at alpha = 1000; at alpha = 0.03 the weights
move by 2.9-3.6 times their init norm and the test error differs from the kernel's by
7.9-46 % in four draws, 4.4 % in the fifth. See docs/experiments/lazy-rich.md.

Any optimizer (``--set optimizer=...``) runs the sweep and reports the same numbers; the
claims are about gradient flow, which plain GD with a small step follows, and are *not
applicable* to other optimizers.
"""

from __future__ import annotations

from implicitbias.experiments.lazy_rich.claims import CLAIMS, KEYS
from implicitbias.experiments.lazy_rich.config import NAME, LazyRichConfig, uses_gd
from implicitbias.experiments.lazy_rich.kernel import jacobian, kernel_regression
from implicitbias.experiments.lazy_rich.model import centered_loss, draw, network
from implicitbias.experiments.lazy_rich.sweep import run_sweep
from implicitbias.experiments.registry import Experiment, register
from implicitbias.runs.results import Results


def run(cfg: LazyRichConfig) -> Results:
    """The kernel references, then the batched alpha sweep."""
    results = Results()
    run_sweep(cfg, results)
    return results


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="lazy vs rich: the output scale alpha moves a two-layer net to kernel "
        "regression with its tangent kernel at init (weights move like 1/alpha)",
        config_cls=LazyRichConfig,
        run=run,
        plots="implicitbias.experiments.lazy_rich.plots",
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
    "LazyRichConfig",
    "centered_loss",
    "draw",
    "jacobian",
    "kernel_regression",
    "network",
    "run",
    "uses_gd",
]
