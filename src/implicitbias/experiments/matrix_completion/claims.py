"""The matrix-completion claims and the results keys they, the plots and the tests read.

The low-rank statements are about gradient descent (or flow) from a small init
(Gunasekar et al. 2017; Arora et al. 2019); the seed presets' claims are about the seeds'
own constant-step GD. With another optimizer they are *not applicable*.
"""

from __future__ import annotations

from typing import Any

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.matrix_completion.config import (
    GRADIENT_DESCENT,
    NAME,
    MatrixCompletionConfig,
)
from implicitbias.runs.results import Results

GUNASEKAR = "Gunasekar et al. 2017 (NeurIPS)"
ARORA = "Arora et al. 2019 (NeurIPS)"


def _only(results: Results, depth: int) -> dict[str, Any]:
    rows = [m for m in results.scalars["members"] if m["depth"] == depth]
    if len(rows) != 1:
        raise KeyError(f"expected one member of depth {depth}, found {len(rows)}")
    return rows[0]["final"]


def _gd(cfg: MatrixCompletionConfig) -> bool:
    """Gradient descent (any step schedule), the algorithm of the low-rank theory."""
    return cfg.optimizer.named(*GRADIENT_DESCENT)


def _plain_gd(cfg: MatrixCompletionConfig) -> bool:
    return cfg.optimizer.named(*GRADIENT_DESCENT, plain=True)


def _depth_vs_direct_applies(cfg: MatrixCompletionConfig) -> bool:
    return _gd(cfg) and 1 in cfg.depths and max(cfg.depths) >= 2


def _nuclear_applies(cfg: MatrixCompletionConfig) -> bool:
    return _gd(cfg) and cfg.nuclear and 2 in cfg.depths


def _arora_applies(cfg: MatrixCompletionConfig) -> bool:
    return _nuclear_applies(cfg) and max(cfg.depths) >= 3


_GD = (
    "the optimizer is gd (the theory is for gradient descent or flow from a small init: "
    + GUNASEKAR
    + "; "
    + ARORA
    + ")"
)
_SEED_GD = "the optimizer is plain constant-step gd (the seed's own update)"
_DEFAULT = {"quick": "default", "full": "default"}
_SEED4 = {"quick": "seed-004", "full": "seed-004"}
_SEED0 = {"quick": "seed-000", "full": "seed-000"}
_DEEP_VS_DIRECT = "summary.depth_vs_direct.max_ratio"
_NUCLEAR_GAP = "summary.nuclear_gap_depth2.max_abs"

KEYS = (
    "problem.optimizer",
    "members",
    "truth",
    "nuclear",
    "summary.by_count",
    _DEEP_VS_DIRECT,
    _NUCLEAR_GAP,
    "summary.deep_vs_shallow.error_ratio",
    "summary.deep_vs_shallow.erank_ratio",
)
"""Every results key that the claims, plots and tests read."""

CLAIMS = (
    Claim(
        id=f"{NAME}/seed-004-recovery",
        statement="Seed 004 Experiment 2: GD on U V^T from a 1e-3 init "
        "recovers the rank-1 matrix from 60% of its entries.",
        source="seed 004, Experiment 2",
        quantity="relative error ||W - M||_F / ||M||_F after 20000 steps "
        "(recovered: <= 1e-3, the criterion of Candes & Recht 2009's experiments)",
        measure=lambda r: _only(r, 2)["relative_error"],
        criterion=Criterion("<=", 1e-3),
        presets=_SEED4,
        applies=_plain_gd,
        requires=_SEED_GD,
    ),
    Claim(
        id=f"{NAME}/seed-004-rank",
        statement="Seed 004 Experiment 2: the singular values beyond the first stay "
        "near zero (the solution is rank 1).",
        source="seed 004, Experiment 2",
        quantity="effective rank (Roy & Vetterli 2007) of the final W (rank 1: 1)",
        measure=lambda r: _only(r, 2)["effective_rank"],
        criterion=Criterion("<=", 1.1),
        presets=_SEED4,
        applies=_plain_gd,
        requires=_SEED_GD,
    ),
    Claim(
        id=f"{NAME}/depth-lower-erank",
        statement="A deep factorization (depth >= 2) reaches a lower effective "
        "rank than depth 1 at equal training loss.",
        source=GUNASEKAR + "; " + ARORA,
        quantity="max over deep members of erank(depth L) / erank(depth 1), each where it "
        "first fits the observations to `match_error` relative error",
        measure=_DEEP_VS_DIRECT,
        criterion=Criterion("<", 1.0),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_depth_vs_direct_applies,
        requires=_GD + " and depths include 1 and a depth >= 2",
    ),
    Claim(
        id=f"{NAME}/depth2-nuclear",
        statement="With a small init, depth 2 converges to (nearly) the minimum "
        "nuclear norm among matrices that fit the observations.",
        source=GUNASEKAR,
        quantity="max over seeds of |(||W||_* - ||X_nuc||_*)| / ||X_nuc||_* for depth 2 at "
        "the smallest init ('a few percent': <= 0.05)",
        measure=_NUCLEAR_GAP,
        criterion=Criterion("<=", 0.05),
        presets=_DEFAULT,
        also=("smoke",),
        applies=_nuclear_applies,
        requires=_GD + ", nuclear is on and depths include 2",
    ),
    Claim(
        id=f"{NAME}/arora-error",
        statement="With few observations (2000 of 100x100, rank 5), depth >= 3 "
        "reconstructs better than depth 2 and than the nuclear-norm minimizer.",
        source=ARORA,
        quantity="max over depths >= 3 of relative error / min(depth 2's, the "
        "nuclear-norm minimizer's) at the fewest observations",
        measure="summary.deep_vs_shallow.error_ratio",
        criterion=Criterion("<", 1.0),
        presets={"full": "paper"},
        applies=_arora_applies,
        requires=_GD + ", nuclear is on and depths include 2 and a depth >= 3",
    ),
    Claim(
        id=f"{NAME}/arora-erank",
        statement="With few observations, depth >= 3 finds lower effective rank than "
        "depth 2 and than the nuclear-norm minimizer.",
        source=ARORA,
        quantity="max over depths >= 3 of effective rank / min(depth 2's, the minimizer's) "
        "at the fewest observations",
        measure="summary.deep_vs_shallow.erank_ratio",
        criterion=Criterion("<", 1.0),
        presets={"full": "paper"},
        applies=_arora_applies,
        requires=_GD + ", nuclear is on and depths include 2 and a depth >= 3",
    ),
    Claim(
        id=f"{NAME}/seed-000-recovery",
        statement="Seed 000 section 4: the depth-2 factorization W2 W1 "
        "recovers the rank-2 matrix from 50% of its entries (8000 steps, lr 0.002, "
        "gradient / number observed).",
        source="seed 000, section 4",
        quantity="relative error ||W2 W1 - M||_F / ||M||_F (recovered: <= 0.1, a loose bar)",
        measure=lambda r: _only(r, 2)["relative_error"],
        criterion=Criterion("<=", 0.1),
        presets=_SEED0,
        applies=lambda cfg: _plain_gd(cfg) and 2 in cfg.depths,
        requires=_SEED_GD + " and depths include 2",
    ),
    Claim(
        id=f"{NAME}/seed-000-spectrum",
        statement="Seed 000 section 4: direct optimization spreads energy "
        "across all singular values, the deep factorization does not.",
        source="seed 000, section 4",
        quantity="effective rank of W2 W1 / effective rank of the direct solution",
        measure=lambda r: _only(r, 2)["effective_rank"] / _only(r, 1)["effective_rank"],
        criterion=Criterion("<", 1.0),
        presets=_SEED0,
        applies=lambda cfg: _plain_gd(cfg) and {1, 2} <= set(cfg.depths),
        requires=_SEED_GD + " and depths include 1 and 2",
    ),
)
