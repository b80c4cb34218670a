"""Flat vs. sharp minima: which basin do noisy GD and minibatch SGD end in?

Command::

    implicitbias run flat-sharp                  # 1D and 2D, 4000 walkers per setting
    implicitbias run flat-sharp --preset smoke   # seconds
    implicitbias run flat-sharp --set optimizer=adam --set optimizer.b2=0.99

Setting: the landscape of :mod:`implicitbias.problems.landscapes`, ``L = w(x) g(x)`` (and
``w(x) (g(x) + 2y^2)`` in 2D), whose minima ``x = -1`` (sharp, curvature ``k_sharp``) and
``x = +1`` (flat, ``k_flat``) have equal depth ``L = 0`` and closed-form Hessians
``k I``. Walkers start uniformly in ``[init_low, init_high]`` (``y`` in ``[-1, 1]``) and
run, all in one vmapped compiled program per sweep (float64):

* GD plus Gaussian gradient noise ``theta <- theta - eta (grad L + sigma xi)``, for each
  ``sigma`` and for each ``eta`` (the seed's "Flat vs. Sharp Minima" widget);
* noise-free GD for each ``eta``, and from the sharp minimum itself (perturbed by 1e-3) for
  ``eta k_sharp / 2`` around 1: linear stability says the sharp minimum attracts iff
  ``eta < 2 / k_sharp`` (Wu, Ma & E 2018, NeurIPS; Cohen et al. 2021, ICLR);
* minibatch SGD (the engine's ``Sampler``, with replacement) on a finite sum whose mean
  is exactly ``L`` and whose gradient noise is ``H(theta) u`` (it scales with the local
  curvature, as SGD's does), for each batch size and ``eta``.

Reference for the noise sweep: for small ``eta`` GD plus noise is a discretized Langevin
dynamics at temperature ``T = eta sigma^2 / 2``, whose stationary law is
``exp(-L / T)`` (Gibbs); its flat-basin mass (quadrature) is what walkers approach once
they have crossed the barrier many times (Kramers' escape time ``~ exp(dL / T)``, so the
sharp basin, with its higher attempt frequency ``sqrt(k_sharp |L''(x_b)|) / 2 pi``, empties
first). The equal depths make width alone decide: the harmonic Gibbs mass of a basin is
``~ (2 pi T / k)^(d/2)``.

Outcome measured on ``default`` (docs/experiments/flat-sharp.md): the flat-basin fraction
stays at the share of starts (0.54) while sigma is too small to cross the barrier within
the run, then rises to the Gibbs value (1D: 0.745 at sigma = 14 vs 0.737); GD's sharp
minimum is stable exactly up to ``eta = 2 / k_sharp`` (0.99 vs 1.01 of it), yet just above
it 1D GD stays in the sharp basin on a period-2 orbit; SGD with batch 1 at ``eta = 0.04``
ends in the flat basin (1.00 vs 0.54 for full batch), at ``eta = 0.01`` no batch size
crosses the barrier within 5000 steps.

Optimizer (``--set optimizer=...``, default ``gd``): the base optimizer of every sweep. The
noise and eta sweeps and the stability test run :func:`implicitbias.optim.noisy.noisy`
around it: the Gaussian noise ``sigma xi`` is added to the *gradient*, before the base
optimizer's own transformation (Adam's normalization, Lion's sign), with the per-walker
``learning_rate``, ``sigma`` and ``seed`` passed by the experiment; the batch-size sweep
runs the base optimizer on minibatches. With ``gd`` the numbers are those of GD plus noise
and of SGD, bit for bit. The claims (the ``2 / k_sharp`` stability threshold, the
Langevin/Gibbs picture, minibatch SGD) are for GD (Wu, Ma & E 2018; seed 000): for any
other base optimizer they are *not applicable*, and the flat-basin fractions are still
measured, reported and labelled with the optimizer.
"""

from __future__ import annotations

import numpy as np

from implicitbias.experiments.flat_sharp.claims import CLAIMS, KEYS
from implicitbias.experiments.flat_sharp.config import FlatSharpConfig
from implicitbias.experiments.flat_sharp.gibbs import gibbs_flat_fraction
from implicitbias.experiments.flat_sharp.sweeps import (
    basin_metrics,
    eta_summary,
    initial_positions,
    noise_summary,
    noisy_runs,
    sgd_sweep,
    stability,
)
from implicitbias.experiments.registry import Experiment, register
from implicitbias.problems.landscapes import Landscape
from implicitbias.runs.results import Results

NAME = "flat-sharp"


def run(cfg: FlatSharpConfig) -> Results:
    """All sweeps for every dimension in ``cfg.dims``; no printing."""
    results = Results()
    results.scalars["optimizer"] = {
        "label": cfg.optimizer.label,
        "noisy": f"{cfg.optimizer.label} + gradient noise",
    }
    for dim in cfg.dims:
        landscape = Landscape(dim, cfg.k_sharp, cfg.k_flat, cfg.width)
        barrier = landscape.barrier()
        starts = initial_positions(cfg, dim)
        tag = f"d{dim}"
        base = {
            "barrier_x": barrier,
            "barrier_height": float(landscape.value(np.array([barrier] + [0.0] * (dim - 1)))),
            "k_sharp": cfg.k_sharp,
            "k_flat": cfg.k_flat,
            "eta_threshold_sharp": 2.0 / cfg.k_sharp,
            "eta_threshold_flat": 2.0 / cfg.k_flat,
            "start_flat_fraction": float(landscape.in_flat_basin(starts).mean()),
        }
        runs = noisy_runs(cfg, landscape, starts, barrier)
        noise, noise_arrays = noise_summary(cfg, landscape, runs)
        eta_gd, eta_gd_final = eta_summary(cfg, landscape, runs, "eta_gd")
        eta_noisy, _ = eta_summary(cfg, landscape, runs, "eta_noisy")
        eta_noisy["sigma"] = cfg.eta_sigma
        sgd, sgd_arrays = sgd_sweep(cfg, landscape, starts, barrier)
        results.scalars[tag] = {
            **base,
            "noise": noise,
            "eta_gd": eta_gd,
            "eta_noisy": eta_noisy,
            "stability": stability(cfg, landscape, runs),
            "sgd": sgd,
        }
        results.steps = noise_arrays["steps"]  # every sweep logs the same steps
        results.arrays.update(
            {
                f"{tag}_noise_course": noise_arrays["course"],
                f"{tag}_noise_final": noise_arrays["final"],
                f"{tag}_eta_gd_final": eta_gd_final,
                f"{tag}_sgd_final": sgd_arrays["final"],
                f"{tag}_sgd_u": sgd_arrays["u"],
            }
        )
    return results


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="noisy GD and SGD walkers prefer the flat of two equally deep minima",
        config_cls=FlatSharpConfig,
        run=run,
        plots="implicitbias.experiments.flat_sharp.plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)

__all__ = [
    "CLAIMS",
    "EXPERIMENT",
    "KEYS",
    "FlatSharpConfig",
    "basin_metrics",
    "gibbs_flat_fraction",
    "initial_positions",
    "run",
]
