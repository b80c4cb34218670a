"""The flat-sharp claims and the results keys they, the plots and the tests read."""

from __future__ import annotations

from implicitbias.claims import Claim, Criterion
from implicitbias.experiments.flat_sharp.config import FlatSharpConfig

NAME = "flat-sharp"
SEED = "seed 000, 'Try It: Flat vs. Sharp Minima' and section 5"
WU = "Wu, Ma & E 2018 (NeurIPS); Cohen et al. 2021 (ICLR)"
_PRESETS = {"quick": "quick", "full": "default"}


def _gd_in_1d(cfg: FlatSharpConfig) -> bool:
    """The claims' theory is for plain GD (plus noise, or on minibatches), read in 1D."""
    return 1 in cfg.dims and cfg.optimizer.named("gd", "sgd", plain=True)


_GD = "the optimizer is plain gd (the theory is GD's) and dims includes 1"

KEYS = (
    "d1.noise.increase_z",
    "d1.noise.min_adjacent_z",
    "d1.noise.flat_fraction",
    "d1.stability.brackets",
    "d1.stability.bracket_error",
    "d1.stability.converged_fraction",
    "d1.eta_gd.min_flat_between_thresholds",
    "d1.sgd.min_small_vs_full_z",
    "d1.barrier_x",
    "d2.stability.converged_fraction",
    "d2.stability.bracket_error",
    "d2.stability.brackets",
    "optimizer.label",
)
"""Every results key that the claims, plots and tests read."""

ONE_SIDED_5 = 1.645
"""z of a one-sided test at the 5 % level (normal approximation over the repeats)."""

CLAIMS = (
    Claim(
        id=f"{NAME}/noise-flat",
        statement="Seed 000's 'Flat vs. Sharp Minima' widget (paraphrased): more gradient "
        "noise sends more walkers to the flat minimum. Lab's criterion: the flat fraction at "
        "the largest sigma exceeds that at sigma = 0 by >= 3 standard errors over the "
        "repeats (one-sided p ~ 1e-3), in each of 5 seeds.",
        source=SEED,
        quantity="1D: (flat fraction at the largest sigma - at sigma = 0) / its standard error "
        "over repeats",
        measure="d1.noise.increase_z",
        criterion=Criterion(">=", 3.0),
        presets=_PRESETS,
        applies=_gd_in_1d,
        requires=_GD,
        seeded=True,
    ),
    Claim(
        id=f"{NAME}/noise-flat-monotone",
        statement="Seed 000's widget, read strictly (paraphrased): the flat-basin fraction "
        "rises with sigma at every step of the sweep. Lab's criterion: every step to the "
        "next larger sigma is a significant rise, z >= 1.645 (one-sided test at the 5 % "
        "level over the repeats), in each of 5 seeds.",
        source=SEED,
        quantity="1D: min over adjacent sigmas of (f(sigma_next) - f(sigma)) / standard error",
        measure="d1.noise.min_adjacent_z",
        criterion=Criterion(">=", ONE_SIDED_5),
        presets=_PRESETS,
        applies=_gd_in_1d,
        requires=_GD,
        seeded=True,
        expect="refuted",
        refuted_because="below sigma ~ 6 (T = eta sigma^2 / 2 <= 0.18) no walker crosses "
        "the barrier within the run (Kramers time ~ exp(dL / T)): the fraction stays at the "
        "starts' share from sigma = 0 to 6 and rises only above",
    ),
    Claim(
        id=f"{NAME}/stability-threshold",
        statement="Linear stability (Wu, Ma & E 2018; Cohen et al. 2021): GD's sharp minimum "
        "is stable iff eta < 2 / k_sharp. An implementation check of the landscape's "
        "closed-form curvature and of the GD update.",
        source=WU,
        quantity="1D: 1 if every step on the grid eta k_sharp / 2 = stability_ratios below 1 "
        "converges back to the sharp minimum and every one above 1 does not, else 0 (the "
        "grid's resolution is d1.stability.bracket_error)",
        measure="d1.stability.brackets",
        criterion=Criterion(">=", 1.0),
        presets=_PRESETS,
        applies=_gd_in_1d,
        requires=_GD,
        kind="self-check",
    ),
    Claim(
        id=f"{NAME}/eta-flat",
        statement="Seed 000's widget (paraphrased): with 2/k_sharp < eta < 2/k_flat GD cannot "
        "stay in the sharp basin and ends in the flat one. Lab's criterion: >= 99 % of "
        "noise-free GD walkers end flat at every such eta of the grid, in each of 5 seeds.",
        source=SEED,
        quantity="1D: min over such eta of the fraction of noise-free GD walkers ending in the "
        "flat basin",
        measure="d1.eta_gd.min_flat_between_thresholds",
        criterion=Criterion(">=", 0.99),
        presets=_PRESETS,
        applies=_gd_in_1d,
        requires=_GD,
        seeded=True,
        expect="refuted",
        refuted_because="just above 2/k_sharp GD settles on a period-2 orbit inside the sharp "
        "basin (L'' falls from 20 to ~10 away from the minimum); walkers leave only above "
        "eta k_sharp / 2 ~ 1.45",
    ),
    Claim(
        id=f"{NAME}/sgd-small-batch-flat",
        statement="Keskar et al. 2017 (abstract: 'small-batch methods consistently converge to "
        "flat minimizers'); seed 000 section 6: minibatch SGD with the smallest batch ends in "
        "the flat basin more often than full-batch GD at the same eta. Lab's criterion: "
        "z >= 3 at every eta of the grid, in each of 5 seeds.",
        source="seed 000, section 6; Keskar et al. 2017 (ICLR)",
        quantity="1D: min over eta of (flat fraction at the smallest batch - at the full "
        "batch) / standard error",
        measure="d1.sgd.min_small_vs_full_z",
        criterion=Criterion(">=", 3.0),
        presets=_PRESETS,
        applies=_gd_in_1d,
        requires=_GD,
        seeded=True,
        expect="refuted",
        refuted_because="at eta = 0.01 (and 0.02 in an earlier run) batch-1 noise does not "
        "carry walkers over the barrier within the run, so batch size changes nothing "
        "(z ~ -0.2); at eta = 0.04 batch 1 ends flat (z ~ 40)",
    ),
)
