"""Rank probe: how low-rank a matrix completion by a depth-2 factorization comes out.

The model is :math:`W = UV^\\top` with full-width factors ``U, V`` (``d x d``) from a small
Gaussian init (``E||U V^T||_F = 1e-3``), trained on half the *sum* of squared errors on the
observed entries of a low-rank matrix whose entries have mean square 1
(:func:`implicitbias.problems.factorization.completion_loss` at depth 2, the
matrix-completion experiment's default reduction; the draws of
:mod:`implicitbias.datasets.low_rank`). With the sum, GD's workable steps (about
``2^-7..2^-3``) lie near the sign methods' (``2^-12..2^-9``), so one grid covers both. One
truth and one mask per seed; every grid step and every seed is one member of one batched
:func:`~implicitbias.engine.train` call.

**Theory.** Gunasekar et al. 2017 (NeurIPS, "Implicit regularization in matrix
factorization") conjecture, and prove for commuting observations, that gradient flow from
an infinitesimal init reaches the completion of least nuclear norm; Arora et al. 2019
(NeurIPS, "Implicit regularization in deep matrix factorization") find the bias better
described as a pull towards low (effective) rank, which the nuclear norm does not always
capture. The reference is the nuclear-norm minimizer subject to the observed entries
(:func:`implicitbias.theory.nuclear.min_nuclear_completion`, cvxpy SCS, float64, a 10 x 10
problem per seed), solved independently of the training, with its effective rank (Roy &
Vetterli 2007) and that of the truth.

**Parameters.** The factors ``(V^T, U)`` are two 2-D leaves, so a matrix method acts on
matrices (optax's ``muon`` orthogonalizes each factor's momentum); ``adafactor`` keeps an
unfactored second moment, the factors being smaller than its ``min_dim_size_to_factor``.

**Step.** The shared rule (:func:`~implicitbias.experiments.profile.base.choose_step`), a seed
fitting when the relative error on its observed entries is at most ``1e-2``. The fit of
every seed is reported (``observed_error``): an effective rank is compared with the
reference's (which fits exactly) only where the seed fits, and a note says when one does
not.

Measures (per seed): the effective rank of ``W`` (headline); the nuclear-norm ratio
:math:`\\lVert W\\rVert_* / \\lVert W_{nuc}\\rVert_*`; the relative distance to
:math:`W_{nuc}`; the relative error on the observed entries; the relative error to the truth.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np

from implicitbias import engine
from implicitbias.datasets import low_rank
from implicitbias.experiments.profile.base import (
    Measure,
    ProbeDef,
    ProbeReport,
    StepChoice,
    choose_step,
    gap_note,
    grid_batch,
    lr_grid,
    range_note,
)
from implicitbias.problems.factorization import completion_loss
from implicitbias.theory import nuclear

INIT = 1e-3
"""Expected Frobenius norm of the initial product ``U V^T`` (Gaussian factors)."""
FIT = 1e-2
"""A seed fits when its observed-entry relative error is at most this."""
SCS_EPS = 1e-7
"""SCS's tolerance for the nuclear-norm minimizer (its constraint residual is ~1e-9)."""


@dataclasses.dataclass(frozen=True)
class Setting:
    """Sizes of one level: matrix side, rank, observed entries, steps and the step grid."""

    d: int
    rank: int
    observed: int
    steps: int
    lr_low: float
    lr_high: float


SETTINGS = {
    "smoke": Setting(d=6, rank=1, observed=20, steps=1_500, lr_low=2**-11, lr_high=2**1),
    "quick": Setting(d=10, rank=2, observed=50, steps=3_000, lr_low=2**-12, lr_high=2**1),
    "full": Setting(d=10, rank=2, observed=50, steps=20_000, lr_low=2**-14, lr_high=2**2),
}


def loss(factors: tuple[Any, Any], data: dict[str, Any]) -> Any:
    """Half the sum of squared errors on the observed entries of :math:`W = UV^\\top`,
    ``factors = (V^T, U)`` (:func:`~implicitbias.problems.factorization.completion_loss`,
    depth 2, ``scale = 1`` in ``data``)."""
    return completion_loss(jnp.stack(factors), data)


def problem(setting: Setting, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(M, mask, factors)``: a rank-``r`` truth scaled to entries of mean square 1,
    ``observed`` entries uniformly without replacement, and the init ``(V^T, U)``."""
    d = setting.d
    rs = np.random.RandomState(seed)
    M = d * low_rank.low_rank(d, setting.rank, rs, normalize=True)
    mask = low_rank.nested_masks(d, (setting.observed,), rs)[0]
    factors = low_rank.factor_init("gaussian", 2, d, INIT, rs, per="product")
    return M, mask, factors


def train_grid(
    spec: Any, grid: np.ndarray, draws: list, steps: int, description: str = "rank"
) -> np.ndarray:
    """Every (grid step, seed) in one engine call: the final ``W`` ``(G, S, d, d)``."""
    S = len(draws)
    lrs, member = grid_batch(grid, S)
    factors = np.stack([draws[s][2] for s in member])
    data = {
        "target": np.stack([draws[s][0] for s in member]),
        "mask": np.stack([draws[s][1] for s in member]).astype(np.float64),
        "active": np.ones((len(lrs), 2), dtype=bool),
        "scale": np.ones(len(lrs)),
    }
    traj = engine.train(
        loss,
        (factors[:, 0], factors[:, 1]),
        spec,
        steps=steps,
        data=data,
        data_axis=0,
        hparams={"learning_rate": lrs},
        num_logs=4,
        description=description,
        on_divergence="continue",  # one diverging grid step must not stop the others
    )
    first, second = (np.asarray(f) for f in traj.params)
    with np.errstate(over="ignore", invalid="ignore"):
        W = np.einsum("bij,bjk->bik", second, first)  # W = U V^T, in NumPy
    return W.reshape(len(grid), S, *W.shape[1:])


def observed_error(W: np.ndarray, M: np.ndarray, mask: np.ndarray) -> float:
    """:math:`\\lVert P_\\Omega(W - M)\\rVert_F / \\lVert P_\\Omega(M)\\rVert_F` (NaN if not
    finite)."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged run: inf or NaN
        err = float(np.linalg.norm(mask * (W - M)) / np.linalg.norm(mask * M))
    return err if np.isfinite(err) else float("nan")


def measure(cfg: Any, spec: Any, description: str = "rank") -> ProbeReport:
    """Train every (grid step, seed) in one batch; measure at the chosen step."""
    setting = SETTINGS[cfg.level]
    S = int(cfg.seeds)
    draws = [problem(setting, int(cfg.seed) + s) for s in range(S)]
    grid = lr_grid(setting.lr_low, setting.lr_high)
    W = train_grid(spec, grid, draws, setting.steps, description)
    G = len(grid)
    errors = np.array(
        [[observed_error(W[g, s], *draws[s][:2]) for s in range(S)] for g in range(G)]
    )
    fits = errors <= FIT  # NaN compares False
    step = choose_step(
        grid,
        fits,
        np.where(np.isfinite(errors), errors, np.inf),
        fit_words=f"observed-entry relative error <= {FIT:g}",
    )
    refs = [nuclear.min_nuclear_completion(M, mask, eps=SCS_EPS) for M, mask, _ in draws]
    report = _report(W[step.index], draws, refs, step, errors[step.index])
    erank = np.array([[_erank(W[g, s]) for s in range(S)] for g in range(G)])
    report.notes.extend(range_note("effective rank", erank, fits, grid))
    report.arrays.update(grid=np.asarray(grid), fits=fits, effective_rank_by_step=erank)
    return report


def _erank(W: np.ndarray) -> float:
    return nuclear.effective_rank(W) if np.all(np.isfinite(W)) else float("nan")


def _report(W, draws, refs, step: StepChoice, observed: np.ndarray) -> ProbeReport:
    pairs = list(zip(W, refs, strict=True))
    truths = [M for M, _, _ in draws]

    def rel(a, b):
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    true_erank = float(np.mean([nuclear.effective_rank(M) for M in truths]))
    measures = [
        Measure(
            "effective_rank",
            "effective rank of W (Roy & Vetterli)",
            np.array([_erank(w) for w in W]),
            f"nuclear-norm minimizer (cvxpy SCS); the truth's is {true_erank:.3g}",
            float(np.mean([nuclear.effective_rank(r.X) for r in refs])),
        ),
        Measure(
            "nuclear_ratio",
            "||W||_* / ||W_nuc||_*",
            np.array([nuclear.nuclear_norm(w) / r.nuclear_norm for w, r in pairs]),
            "nuclear-norm minimizer",
            1.0,
        ),
        Measure(
            "dist_nuclear",
            "relative distance to the nuclear-norm minimizer",
            np.array([rel(w, r.X) for w, r in pairs]),
            "nuclear-norm minimizer",
            0.0,
        ),
        Measure(
            "observed_error",
            "relative error on the observed entries",
            observed,
            f"fit: <= {FIT:g}",
            0.0,
        ),
        Measure(
            "truth_error",
            "relative error to the true matrix",
            np.array([rel(w, M) for w, M in zip(W, truths, strict=True)]),
            "the nuclear-norm minimizer's",
            float(np.mean([rel(r.X, M) for r, M in zip(refs, truths, strict=True)])),
        ),
    ]
    notes = gap_note(step)
    unfit = int(np.sum(~(observed <= FIT)))
    if unfit:
        notes.append(
            f"{unfit} of {len(observed)} seeds do not fit their observed entries (relative "
            f"error up to {np.nanmax(observed):.2g} > {FIT:g}): their rank is not comparable "
            "with the nuclear-norm minimizer's, which fits them exactly"
        )
    return ProbeReport(
        measures,
        step=step,
        notes=notes,
        arrays={"W": W, "W_nuclear": np.stack([r.X for r in refs])},
    )


PROBE = ProbeDef(
    name="rank",
    title="rank (matrix completion)",
    levels=("smoke", "quick", "full"),
    rule=(
        "shared grid rule: half the stable step (the top of the first unbroken run of x2 grid "
        "steps) at which every seed fits its "
        f"observed entries to a relative error <= {FIT:g}, from ||U V^T||_F ~ {INIT:g}"
    ),
    source=(
        "Gunasekar et al. 2017 (NeurIPS), 'Implicit regularization in matrix "
        "factorization': gradient flow from a small init towards the min-nuclear-norm "
        "completion; Arora et al. 2019 (NeurIPS): towards low effective rank"
    ),
    measure=measure,
)
