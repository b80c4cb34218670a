"""The sgd-noise claims and the results keys they, the plots and the tests read.

Every claim is about plain constant-step SGD (``gd`` on minibatches): seed 000's
statements, the stationary covariance of SGD (Pflug 1986; Mandt, Hoffman & Blei 2017) and
the noise scale ``eta / B`` of SGD (Keskar et al. 2017; Jastrzebski et al. 2017). With
another optimizer they are *not applicable*; the numbers are still measured and reported.
"""

from __future__ import annotations

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.sgd_noise.config import SGDNoiseConfig, plain_sgd

NAME = "sgd-noise"
SEED6 = "seed 000, section 6"
_SEED = {"quick": "seed-000", "full": "seed-000"}
# The MLP claims take about a minute (training + Lanczos + Hutch++): `full` level only.
_MLP = {"full": "default"}
_SGD = "the optimizer is plain gd (SGD on minibatches)"


def _linear_sgd(cfg: SGDNoiseConfig) -> bool:
    return cfg.linear and plain_sgd(cfg)


def _mlp_sgd(cfg: SGDNoiseConfig) -> bool:
    return cfg.mlp and plain_sgd(cfg)


KEYS = (
    "linear.comparisons.test_mse.z",
    "linear.comparisons.norm.z",
    "linear.comparisons.train_mse.z",
    "linear.comparisons.max_dist2_ratio_error",
    "linear.per_batch",
    "linear.optimizer",
    "theory.w_hat_norm",
    "theory.train_mse_w_hat",
    "mlp.spearman_eta_over_b_sharpness",
    "mlp.spearman_eta_over_b_test_error",
    "mlp.rows",
    "mlp.optimizer",
)
"""Every results key that the claims, plots and tests read."""

CLAIMS = (
    Claim(
        id=f"{NAME}/seed-000-test",
        statement="Batch 1 (most noise) generalizes best: its test MSE is below the full batch's.",
        source=SEED6,
        quantity="(test MSE at batch 1 - at full batch) / its standard error over "
        "seeds (<= -2: significantly lower)",
        measure="linear.comparisons.test_mse.z",
        criterion=Criterion("<=", -2.0),
        presets=_SEED,
        applies=_linear_sgd,
        requires="linear is on and " + _SGD,
    ),
    Claim(
        id=f"{NAME}/seed-000-norm",
        statement="Smaller batches find a smaller ||w|| (0.841 at batch 1 vs 0.872 at full batch).",
        source=SEED6,
        quantity="(||w|| at batch 1 - at full batch) / its standard error over seeds",
        measure="linear.comparisons.norm.z",
        criterion=Criterion("<=", -2.0),
        presets=_SEED,
        applies=_linear_sgd,
        requires="linear is on and " + _SGD,
    ),
    Claim(
        id=f"{NAME}/seed-000-train",
        statement="Batch 1 has a higher train MSE than the full batch.",
        source=SEED6,
        quantity="(train MSE at batch 1 - at full batch) / its standard error over seeds",
        measure="linear.comparisons.train_mse.z",
        criterion=Criterion(">=", 2.0),
        presets=_SEED,
        applies=_linear_sgd,
        requires="linear is on and " + _SGD,
    ),
    Claim(
        id=f"{NAME}/sgd-stationary-covariance",
        statement="Constant-step SGD fluctuates around the unique least-squares solution with "
        "the covariance of the exact moment recursion.",
        source="Pflug 1986; Mandt, Hoffman & Blei 2017 (JMLR)",
        quantity="max over batch sizes < n of |time-averaged ||w - w_hat||^2 / tr Sigma - 1|",
        measure="linear.comparisons.max_dist2_ratio_error",
        criterion=Criterion("<=", 0.15),
        presets=_SEED,
        applies=_linear_sgd,
        requires="linear is on and " + _SGD,
    ),
    Claim(
        id=f"{NAME}/mlp-sharpness-vs-noise",
        statement="More SGD noise (larger eta / B) ends at flatter minima (lower top Hessian "
        "eigenvalue).",
        source="Keskar et al. 2017 (ICLR); Jastrzebski et al. 2017",
        quantity="Spearman correlation of eta / B with the final sharpness over the (B, eta) grid",
        measure="mlp.spearman_eta_over_b_sharpness",
        criterion=Criterion("<=", -0.5),
        presets=_MLP,
        applies=_mlp_sgd,
        requires="mlp is on and " + _SGD,
    ),
    Claim(
        id=f"{NAME}/mlp-test-error-vs-noise",
        statement="More SGD noise (larger eta / B) generalizes better (lower test error).",
        source="Keskar et al. 2017 (ICLR); seed 000, section 6",
        quantity="Spearman correlation of eta / B with the final test error over the (B, eta) grid",
        measure="mlp.spearman_eta_over_b_test_error",
        criterion=Criterion("<=", -0.5),
        presets=_MLP,
        applies=_mlp_sgd,
        requires="mlp is on and " + _SGD,
    ),
)
