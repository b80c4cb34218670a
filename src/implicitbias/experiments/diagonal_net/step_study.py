"""The step-size study: ``square`` at one alpha for several step sizes (the same time
``eta * steps``), the gap to the Q_alpha minimizer as a finite-step effect."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from implicitbias.experiments.diagonal_net.sweeps import learning_rates, train
from implicitbias.problems.diagonal import initial_params, predictor
from implicitbias.runs.results import Results
from implicitbias.theory import diagonal as theory


def run_step_study(cfg, X, y, refs, L, B, results: Results) -> None:
    """``square`` at one alpha with the steps ``fraction * eta``, for ``steps / fraction``
    steps: the same 'time' ``eta * steps``; one batched run."""
    fractions = np.array(sorted(cfg.step_fractions, reverse=True))
    alpha = cfg.step_study_alpha
    ref = theory.q_alpha_minimizer(X, y, alpha).w
    base = learning_rates("square", np.array([alpha]), L, B, cfg.lr_scale)[0]
    lrs = base * fractions
    # One batched run shares one step count: steps / (smallest fraction). The members with
    # larger steps run on past their equal-time point; their residuals are reported.
    steps = int(round(cfg.step_study_steps / fractions.min()))
    inits = initial_params("square", np.full(len(fractions), alpha), cfg.d, 1.0)
    aux = {
        "q": np.tile(ref, (len(fractions), 1)),
        "l1": refs["l1"],
        "l2": refs["l2"],
        "w_star": results.arrays["w_star"],
    }
    traj = train(cfg, X, y, inits, lrs, aux, steps, "step-size study")
    w = np.asarray(predictor(jnp.asarray(np.swapaxes(traj.params, 0, 1))))
    gaps = theory.relative_distance(w, ref)
    results.arrays.update(
        step_study_steps=traj.steps,
        step_study_dist_q=traj.metrics["dist_q"],
        step_study_residual=traj.metrics["residual"],
        step_study_lrs=lrs,
    )
    results.scalars["step_study"] = {
        "alpha": alpha,
        "fractions": fractions.tolist(),
        "learning_rates": lrs.tolist(),
        "steps": steps,
        "dist_q": gaps.tolist(),
        "residual": traj.metrics["residual"][-1].tolist(),
        "gap_ratio_largest_to_smallest_step": float(gaps[0] / gaps[-1]),
        "step_ratio": float(fractions[0] / fractions[-1]),
        # gap ~ eta^p: p from the largest and smallest steps (1: first order in eta)
        "order_in_step": float(np.log(gaps[0] / gaps[-1]) / np.log(fractions[0] / fractions[-1])),
    }
