"""SGD noise and batch size: what changes with the batch size, and what theory predicts.

Command::

    implicitbias run sgd-noise --preset seed-000   # seed 000 section 6 exactly, ~5 s
    implicitbias run sgd-noise                     # + a tanh MLP on scikit-learn digits
    implicitbias run sgd-noise --preset seed-000 --set optimizer=adam --set optimizer.b2=0.99

Part (i), convex (:mod:`.linear`). Seed 000 section 6: ``RandomState(55)`` draws ``X``
(200 x 15), then ``w_true * 0.5``, then the noise ``0.3 * randn(200)``; the first 150 rows
train. SGD from ``w = 0`` with step 0.01 for 3000 steps, each step on ``rng.choice(150, B,
replace=False)`` with ``rng = RandomState(42)`` (seed repetition ``s`` uses
``RandomState(42 + s)``; ``s = 0`` is the seed's own index stream), for batch sizes 1, 8,
32, 128 and 150 (full batch), float64; every (batch size, seed) pair is a member of one
vmapped run (minibatches padded to one width and weighted, :mod:`.samplers`).

Theory for this problem (least squares, ``X`` of full column rank, :mod:`.stationary`): the
minimizer ``w_hat = X^+ y`` is unique, full-batch GD converges to it at the rate
``(1 - eta lambda_min)^t``, and constant-step SGD does not converge but fluctuates around
it: the mean error obeys ``E e_{t+1} = (I - eta H) E e_t`` (so ``E w_t -> w_hat``) and the
covariance tends to the solution ``Sigma`` of the exact moment recursion
``Sigma = E[(I - eta H_B) Sigma (I - eta H_B)] + eta^2 C_B`` (``H_B``: minibatch Hessian,
``C_B``: minibatch gradient covariance at ``w_hat``, both with the finite-population factor
``(n - B) / (B (n - 1))``; Pflug 1986, Mandt, Hoffman & Blei 2017 JMLR). Then
``E train MSE = MSE(w_hat) + tr(H Sigma)``, ``E test MSE = MSE_test(w_hat) +
tr(H_test Sigma)`` and ``E ||w||^2 = ||w_hat||^2 + tr Sigma``: smaller batches make all
three larger *in expectation*. Noise cannot act as a useful regularizer when the
minimizer is unique and the noise has zero mean.

Part (ii), non-convex (:mod:`.mlp`): a tanh MLP (64-32-10, MSE on one-hot targets) on
scikit-learn's digits, SGD for each batch size and learning rate (learning rates and seeds
batched per batch size), then the final sharpness (Lanczos) and Hessian trace (Hutch++) on
the training set, and train/test error; ``eta / B`` is the axis along which Keskar et al.
2017 (ICLR) and Jastrzebski et al. 2017 relate the noise to flatness. Every run takes the
same number of steps, so small batches are also less trained.

Optimizer (``--set optimizer=...``, default ``gd``, i.e. SGD on the minibatches): every
minibatch run of both parts uses it, with the experiment's learning rates. The
stationary-covariance theory and every claim (:mod:`.claims`) are for plain SGD: with
another optimizer they are *not applicable*, and the measured numbers (and SGD's theory
values beside them) are still reported, labelled with the optimizer.

Measured (docs/experiments/sgd-noise.md): on ``seed-000`` the means over 8 seeds match the
theory's expected values (e.g. test MSE 0.0822 at batch 1 vs 0.0825 predicted, 0.0755 at
full batch); batch 1 has a significantly *higher* test MSE than full batch (z = +2.85),
contrary to the seed, and no significant difference in ``||w||``. On the MLP, larger
``eta / B`` ends flatter (Spearman -0.82 with sharpness) but not with lower test error.
"""

from __future__ import annotations

from implicitbias.experiments.registry import Experiment, register
from implicitbias.experiments.sgd_noise.claims import CLAIMS, KEYS
from implicitbias.experiments.sgd_noise.config import SGDNoiseConfig, plain_sgd
from implicitbias.experiments.sgd_noise.linear import comparisons, run_linear, seed_data
from implicitbias.experiments.sgd_noise.mlp import curvature, matched_train_loss, run_mlp
from implicitbias.experiments.sgd_noise.samplers import PaddedSampler, TableSampler, index_tables
from implicitbias.experiments.sgd_noise.stationary import stationary_covariance
from implicitbias.runs.results import Results

NAME = "sgd-noise"


def run(cfg: SGDNoiseConfig) -> Results:
    """Part (i) and/or (ii); no printing."""
    results = Results()
    if cfg.linear:
        run_linear(cfg, results)
    if cfg.mlp:
        run_mlp(cfg, results)
        if not cfg.linear:
            results.steps = results.arrays["mlp_steps"]
    return results


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="batch size and SGD noise: linear regression (seed 000) and an MLP",
        config_cls=SGDNoiseConfig,
        run=run,
        plots="implicitbias.experiments.sgd_noise.plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)

__all__ = [
    "CLAIMS",
    "EXPERIMENT",
    "KEYS",
    "PaddedSampler",
    "SGDNoiseConfig",
    "TableSampler",
    "comparisons",
    "curvature",
    "index_tables",
    "matched_train_loss",
    "plain_sgd",
    "run",
    "seed_data",
    "stationary_covariance",
]
