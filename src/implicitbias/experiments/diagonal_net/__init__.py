"""Diagonal linear networks: the init scale alpha moves GD from the l2 to the l1 interpolator.

Command::

    implicitbias run diagonal-net                  # 13 alphas x 2 models, ~20-40 s on 2 cores
    implicitbias run diagonal-net --preset smoke   # seconds
    implicitbias run diagonal-net --set optimizer=adam --set optimizer.b2=0.99

Setting: sparse regression with ``d >> n`` (Gaussian ``X``, a ``k``-sparse ``w*`` of unit
norm, ``y = X w*``), the mean squared loss :math:`\\frac{1}{2n}\\lVert Xw - y\\rVert^2`, and
two depth-2 diagonal parameterizations of the linear predictor:

* ``square``: :math:`w = u\\odot u - v\\odot v`, init :math:`u = v = \\alpha\\mathbf 1`;
* ``product``: :math:`w = u_+\\odot v_+ - u_-\\odot v_-`, init :math:`u_\\pm = c\\alpha`,
  :math:`v_\\pm = \\alpha/c` (``imbalance`` ``c``).

Full-batch GD, float64, every alpha of a log-spaced sweep in ONE batched (vmapped) run per
parameterization, each member with its own step :math:`\\eta = s/(4L(B + 2\\alpha^2))`
(``square``; twice that for ``product``), ``L`` the top eigenvalue of :math:`X^\\top X/n`
and ``B`` the largest entry of the l1 and l2 interpolators: a bound on the curvature of the
loss in ``(u, v)`` near the solutions.

Theory (Woodworth et al. 2020, COLT, Theorem 1): gradient flow on ``square`` that reaches an
interpolator reaches :math:`\\arg\\min Q_\\alpha(w)` s.t. :math:`Xw = y`, with
:math:`Q_\\alpha(w) = \\alpha^2\\sum_i q(w_i/\\alpha^2)`,
:math:`q(z) = 2 - \\sqrt{4 + z^2} + z\\operatorname{arcsinh}(z/2)`; this tends to the
min-l2 interpolator as :math:`\\alpha\\to\\infty` (kernel regime) and to the min-l1
interpolator (basis pursuit) as :math:`\\alpha\\to 0` (rich regime). The ``product`` form
reaches the minimizer of :math:`Q_{\\alpha_{eff}}`,
:math:`\\alpha_{eff} = \\alpha\\sqrt{(c^2+c^{-2})/2}` (derived in
:mod:`implicitbias.theory.diagonal`). The references are float64 NumPy/cvxpy, independent
of the engine.

GD with a finite step is not gradient flow: each step multiplies :math:`u_iv_i` by
:math:`1 - 4\\eta^2 g_i^2`, which shrinks the effective init scale coordinate by coordinate
(Even et al. 2023, NeurIPS, study this effect). The ``step_study`` part measures the gap to
the :math:`Q_\\alpha` minimizer at one alpha for several step sizes (same ``eta * steps``).

Expected outcome (``default``, measured): GD matches the min-:math:`Q_\\alpha` interpolator
for every alpha to 4.1e-3 (``square``) and 3.9e-3 (``product``), the largest gaps in the
transition, where they are the finite step (first order: 4.1e-3, 2.0e-3, 1.0e-3 at
eta, eta/2, eta/4); the distance to the l1 interpolator falls at every alpha step, to 6.5e-3
at alpha = 1e-4; the distance to the l2 interpolator is 1.6e-8 at alpha = 10; the test error
:math:`\\lVert w - w^*\\rVert^2` goes from the l2 level (0.79) to 4e-5, towards the l1 level
(~0: basis pursuit recovers ``w*``). See docs/experiments/diagonal-net.md.

Any optimizer (``--set optimizer=...``, default ``gd``) runs the sweeps and the step-size
study, with the same per-member steps (``lr_scale`` scales them); the distances to the
Q_alpha, l1 and l2 interpolators are reported for it. The Q_alpha characterization and its
limits are theorems about gradient flow, which GD with small steps follows: they apply to
``gd`` (and ``sgd``, the same update on the full batch), and are *not applicable* to other
optimizers. The step-size claim is about plain constant-step GD.
"""

from __future__ import annotations

import numpy as np

from implicitbias.datasets.sparse import sparse_regression
from implicitbias.experiments.diagonal_net.claims import CLAIMS, KEYS, WOODWORTH
from implicitbias.experiments.diagonal_net.config import (
    GRADIENT_DESCENT,
    NAME,
    DiagonalNetConfig,
    uses_gd,
)
from implicitbias.experiments.diagonal_net.references import references, relative_test_error
from implicitbias.experiments.diagonal_net.step_study import run_step_study
from implicitbias.experiments.diagonal_net.sweeps import learning_rates, run_sweep, train
from implicitbias.experiments.registry import Experiment, register

# The problem's functions live in implicitbias.problems.diagonal; they stay importable here.
from implicitbias.problems.diagonal import (
    MODELS,
    diagonal_loss,
    diagonal_metrics,
    initial_params,
    predictor,
)
from implicitbias.runs.results import Results


def run(cfg: DiagonalNetConfig) -> Results:
    """References, one batched run per parameterization, the step-size study."""
    results = Results()
    X, y, w_star = sparse_regression(
        cfg.n, cfg.d, cfg.k, noise=cfg.noise, signal=cfg.signal, seed=cfg.seed
    )
    alphas = np.geomspace(cfg.alpha_min, cfg.alpha_max, cfg.num_alphas)
    results.arrays.update(X=X, y=y, w_star=w_star, alphas=alphas)
    refs = references(cfg, X, y, alphas, results)
    L = float(np.linalg.norm(X, 2) ** 2 / cfg.n)  # top eigenvalue of X^T X / n
    B = float(max(np.abs(refs["l1"]).max(), np.abs(refs["l2"]).max()))
    results.scalars["problem"] = {
        "n": cfg.n,
        "d": cfg.d,
        "k": cfg.k,
        "L": L,
        "B": B,
        "alphas": alphas.tolist(),
        "steps": cfg.steps,
        "optimizer": cfg.optimizer.label,
    }
    for model in cfg.model_list():
        run_sweep(model, cfg, X, y, alphas, refs, L, B, results)
    if cfg.step_study:
        run_step_study(cfg, X, y, refs, L, B, results)
    return results


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="diagonal linear nets: init scale alpha moves GD from the l2 to the l1 "
        "interpolator, through the Q_alpha minimizers",
        config_cls=DiagonalNetConfig,
        run=run,
        plots="implicitbias.experiments.diagonal_net.plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)

__all__ = [
    "CLAIMS",
    "EXPERIMENT",
    "GRADIENT_DESCENT",
    "KEYS",
    "MODELS",
    "NAME",
    "WOODWORTH",
    "DiagonalNetConfig",
    "diagonal_loss",
    "diagonal_metrics",
    "initial_params",
    "learning_rates",
    "predictor",
    "references",
    "relative_test_error",
    "run",
    "run_step_study",
    "run_sweep",
    "train",
    "uses_gd",
]
