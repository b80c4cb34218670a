"""Matrix completion: GD on a deep factorization finds low-rank, low-nuclear-norm solutions.

Command::

    implicitbias run matrix-completion                    # 20x20 rank 2, depths 1-3
    implicitbias run matrix-completion --preset seed-004  # seed 004 Experiment 2, exactly
    implicitbias run matrix-completion --preset seed-000  # seed 000 section 4, exactly
    implicitbias run matrix-completion --preset paper     # Arora et al. 2019, 100x100 rank 5
    implicitbias run matrix-completion --set optimizer=adam --set learning_rate=1e-3

Setting: a ground truth ``M`` (d x d, rank r), seen through a mask of observed entries or
through Gaussian measurements. The model is the end-to-end matrix :math:`W = W_L\\cdots
W_1` of ``L`` square factors (``L = 1``: ``W`` itself), from a small init (Gaussian,
orthogonal or scaled identity), trained by full-batch GD (or the ``optimizer`` of the
config) on the squared error of the observations. Depths, init scales, seeds and
observation counts are the members of ONE batched, compiled run (shallower members pad
their product with identity slots that get no gradient; the batch is built in
:mod:`implicitbias.datasets.completion`). float64.

References: the nuclear-norm minimizer subject to the observations (cvxpy, SCS), and the
truth. Theory: Gunasekar et al. 2017 (NeurIPS) conjecture that depth 2 with an
infinitesimal init converges to the minimum-nuclear-norm solution; Arora et al. 2019
(NeurIPS) find that depth >= 3 gives lower effective rank and better recovery than depth 2
and than the nuclear-norm minimizer when observations are few, and that singular values
are learned one at a time, more sharply with depth (also Razin & Cohen 2020, NeurIPS).

Expected outcome (details in docs/experiments/matrix-completion.md): ``default`` -- depth
1 leaves the unobserved entries at their init (relative error 0.72, effective rank 10.5),
depth 2 and 3 reach 0.11 and 0.017 with effective ranks 2.6 and 2.1; depth 2's nuclear norm
is 0.7 % above the minimizer's. ``seed-004`` recovers the rank-1 matrix (error 1.3e-4).
``seed-000`` does not recover anything in its 8000 steps (error 0.995: its step is divided
by the 52 observed entries). ``paper``, 2000 entries: depth 3 and 4 reach 0.03 and 0.05
where depth 2 (0.37) and the nuclear-norm minimizer (0.24) fail.

Any optimizer (``--set optimizer=...``, default ``gd``) trains the members with the
config's ``learning_rate``; errors, effective ranks and nuclear norms are reported for it
and the figures carry its name. The claims are statements about gradient descent (or
flow) from a small init: with another optimizer they are *not applicable*; the seed
presets' claims are about the seeds' own constant-step GD.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from implicitbias import engine
from implicitbias.datasets.completion import build, end_to_end, member_data
from implicitbias.experiments.matrix_completion.claims import CLAIMS, KEYS
from implicitbias.experiments.matrix_completion.config import (
    GRADIENT_DESCENT,
    NAME,
    MatrixCompletionConfig,
)
from implicitbias.experiments.matrix_completion.measure import (
    at_match,
    describe_matrix,
    nuclear_reference,
    pickups,
)
from implicitbias.experiments.matrix_completion.summary import summarize
from implicitbias.experiments.registry import Experiment, register
from implicitbias.problems.factorization import (
    TOP_SINGULAR,
    completion_loss,
    recovery_metrics,
    sensing_loss,
)
from implicitbias.runs.results import Results
from implicitbias.theory import nuclear


def run(cfg: MatrixCompletionConfig) -> Results:
    """Train every member in one batched run; compare with the nuclear-norm minimizer."""
    results = Results()
    problems, members, inits = build(cfg)
    data = member_data(cfg, problems, members)
    loss = completion_loss if cfg.observation == "mask" else sensing_loss
    traj = engine.train(
        loss,
        inits,
        cfg.optimizer,
        steps=cfg.steps,
        data=data,
        data_axis=0,
        hparams={"learning_rate": cfg.learning_rate},
        metrics=recovery_metrics,
        num_logs=cfg.num_logs,
        spacing="log",
        description=f"{NAME}: {cfg.optimizer.label}",
        divergence_hint=lambda b: (
            f"lower the learning rate (member {b}: depth "
            f"{members[b].depth}, init {members[b].init_scale:g})"
        ),
    )
    results.steps = traj.steps
    results.metrics.update(traj.metrics)
    results.scalars["problem"] = {
        "optimizer": cfg.optimizer.label,
        "learning_rate": cfg.learning_rate,
        "steps": cfg.steps,
        "compile_seconds": traj.compile_seconds,
        "run_seconds": traj.run_seconds,
    }
    finals = np.stack(
        [end_to_end(np.asarray(traj.params[b]), m.depth) for b, m in enumerate(members)]
    )
    per_member = []
    for b, m in enumerate(members):
        prob = problems[m.problem]
        row = {
            **dataclasses.asdict(m),
            "final": describe_matrix(finals[b], prob),
            "at_match": at_match(traj.metrics, b, cfg.match_error),
            "pickup_steps": pickups(traj, b, prob.target, cfg.rank),
        }
        per_member.append(row)
    results.scalars["members"] = per_member
    results.scalars["truth"] = [
        {
            "nuclear_norm": nuclear.nuclear_norm(p.target),
            "effective_rank": nuclear.effective_rank(p.target),
            "top_singular_values": nuclear.singular_values(p.target)[:5].tolist(),
            "num_observed": p.num_observed,
        }
        for p in problems
    ]
    k = min(TOP_SINGULAR, cfg.d)
    results.arrays.update(
        final_W=finals,
        singular_values=np.stack([traj.metrics[f"sv{i + 1}"] for i in range(k)], axis=-1),
        final_spectra=np.stack([nuclear.singular_values(W) for W in finals]),
        truth_spectra=np.stack([nuclear.singular_values(p.target) for p in problems]),
        member_depth=np.array([m.depth for m in members]),
        member_scale=np.array([m.init_scale for m in members]),
        member_problem=np.array([m.problem for m in members]),
        member_count=np.array([m.count for m in members]),
    )
    if cfg.nuclear:
        refs = nuclear_reference(problems)
        results.arrays["nuclear_spectra"] = np.stack(
            [nuclear.singular_values(r.pop("X")) for r in refs]
        )
        results.scalars["nuclear"] = refs
    results.scalars["summary"] = summarize(cfg, results)
    return results


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="deep matrix factorization: low rank and low nuclear norm from depth",
        config_cls=MatrixCompletionConfig,
        run=run,
        plots="implicitbias.experiments.matrix_completion.plots",
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
    "NAME",
    "MatrixCompletionConfig",
    "build",
    "describe_matrix",
    "end_to_end",
    "member_data",
    "run",
    "summarize",
]
