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
from typing import Any, Literal

import numpy as np

from implicitbias import engine
from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, optimizer_param, param
from implicitbias.datasets import low_rank
from implicitbias.datasets.completion import build, end_to_end, member_data
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment, register
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.problems.factorization import (
    TOP_SINGULAR,
    completion_loss,
    recovery_metrics,
    sensing_loss,
)
from implicitbias.runs.results import Results
from implicitbias.theory import nuclear

NAME = "matrix-completion"
GRADIENT_DESCENT = ("gd", "sgd")
"""Registry names of gradient descent (full batch here: ``sgd`` is the same update)."""


@dataclasses.dataclass(frozen=True)
class MatrixCompletionConfig(Config):
    """Low-rank recovery by training a deep matrix factorization (GD by default)."""

    source: Literal["random", "seed-000", "seed-004"] = param(
        "random", "data and inits: fresh draws, or a seed snippet's stream draw for draw"
    )
    d: int = param(20, "the matrices are d x d", low=2)
    rank: int = param(2, "rank of the ground truth", low=1)
    normalize: bool = param(True, "random source: scale the truth to unit Frobenius norm")
    observation: Literal["mask", "sensing"] = param(
        "mask", "observed entries (mask) or Gaussian measurements <A_i, M> (sensing)"
    )
    fraction: float = param(
        0.5,
        "mask: each entry observed with this probability (when "
        "`counts` is empty); sensing: measurements = fraction d^2",
        low=0,
        high=1,
        low_open=True,
    )
    counts: tuple[int, ...] = param(
        (),
        "exact numbers of observed entries (mask, nested) or of measurements (sensing); "
        "each is a group of members",
        low=1,
    )
    depths: tuple[int, ...] = param((1, 2, 3), "depths L (1: optimize W directly)", low=1)
    init: Literal["gaussian", "orthogonal", "identity"] = param("gaussian", "factor init kind")
    init_scales: tuple[float, ...] = param((1e-3,), "init scales alpha", low=0, low_open=True)
    init_per: Literal["factor", "product"] = param(
        "product",
        "alpha is each factor's scale (factor: entries ~ alpha N(0,1)), or the "
        "expected Frobenius norm of the initial end-to-end matrix (product)",
    )
    seeds: int = param(1, "number of seeds (seed, seed+1, ...), each a new truth and mask", low=1)
    optimizer: OptimizerSpec = optimizer_param("gd", "optimizer of every member (one batched run)")
    learning_rate: float = param(0.2, "step size of the optimizer", low=0, low_open=True)
    reduction: Literal["sum", "mean"] = param(
        "sum", "loss: half the sum of squared errors, or that divided by the number of observations"
    )
    steps: int = param(20_000, "optimizer steps", low=1)
    num_logs: int = param(150, "log-spaced logged steps", low=10)
    nuclear: bool = param(True, "solve the nuclear-norm minimizer (cvxpy, SCS)")
    match_error: float = param(
        1e-2,
        "'equal training loss': effective ranks are compared where each member first "
        "reaches this relative error on the observations",
        low=0,
        low_open=True,
    )

    PRESETS = {
        "smoke": dict(d=10, rank=2, fraction=0.6, steps=3000, num_logs=40),
        "default": {},
        "seed-000": dict(
            source="seed-000",
            d=10,
            rank=2,
            fraction=0.5,
            depths=(2, 1),
            init_scales=(0.01,),
            init_per="factor",
            learning_rate=0.002,
            reduction="mean",
            steps=8000,
            normalize=False,
        ),
        "seed-004": dict(
            source="seed-004",
            d=20,
            rank=1,
            fraction=0.6,
            depths=(2,),
            init_scales=(1e-3,),
            init_per="factor",
            learning_rate=0.01,
            reduction="sum",
            steps=20_000,
            normalize=False,
        ),
        "paper": dict(
            d=100,
            rank=5,
            counts=(2000, 5000),
            depths=(2, 3, 4),
            steps=10_000,
            learning_rate=0.5,
            num_logs=100,
        ),
    }

    def validate(self) -> None:
        if self.rank > self.d:
            raise ConfigError("rank", f"an integer <= d ({self.d})", self.rank)
        if len(set(self.depths)) != len(self.depths) or not self.depths:
            raise ConfigError("depths", "distinct depths >= 1", self.depths)
        if self.observation == "mask" and any(c > self.d**2 for c in self.counts):
            raise ConfigError(
                "counts", f"numbers of observed entries <= d^2 = {self.d**2}", self.counts
            )
        if self.source != "random":
            self._validate_seed_source()

    def _validate_seed_source(self) -> None:
        allowed = {"seed-000": {1, 2}, "seed-004": {2}}[self.source]
        why = f"with source={self.source!r} (the seed draws its own data and inits)"
        if not set(self.depths) <= allowed:
            raise ConfigError("depths", f"a subset of {sorted(allowed)} {why}", self.depths)
        fixed = {
            "observation": "mask",
            "counts": (),
            "init": "gaussian",
            "init_per": "factor",
            "seeds": 1,
            "normalize": False,
        }
        for name, value in fixed.items():
            if getattr(self, name) != value:
                raise ConfigError(name, f"{value!r} {why}", getattr(self, name))
        if len(self.init_scales) != 1:
            raise ConfigError("init_scales", f"one scale {why}", self.init_scales)


# ---------------------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------------------
def describe_matrix(W: np.ndarray, prob: low_rank.Problem) -> dict[str, Any]:
    """Errors and spectrum of one matrix against a problem (float64 NumPy)."""
    M = prob.target
    s = nuclear.singular_values(W)
    out = {
        "relative_error": float(np.linalg.norm(W - M) / np.linalg.norm(M)),
        "nuclear_norm": float(s.sum()),
        "effective_rank": nuclear.effective_rank_of_spectrum(s),
        "top_singular_values": s[:5].tolist(),
    }
    if prob.mask is not None:
        seen = prob.mask
        out["observed_error"] = float(np.linalg.norm((W - M)[seen]) / np.linalg.norm(M[seen]))
        out["unobserved_error"] = (
            float(np.linalg.norm((W - M)[~seen]) / np.linalg.norm(M[~seen]))
            if (~seen).any()
            else 0.0
        )
    else:
        r = np.einsum("mij,ij->m", prob.A, W) - prob.y
        out["observed_error"] = float(np.linalg.norm(r) / np.linalg.norm(prob.y))
    return out


def _at_match(metrics, member: int, level: float) -> dict[str, Any]:
    """Effective rank and step where a member first has observed error <= level."""
    hit = np.flatnonzero(metrics["observed_error"][:, member] <= level)
    if hit.size == 0:
        return {"step_index": None, "effective_rank": float("nan")}
    i = int(hit[0])
    return {"step_index": i, "effective_rank": float(metrics["effective_rank"][i, member])}


def _pickups(traj, member: int, target: np.ndarray, rank: int) -> list[int | None]:
    """Incremental learning: for each i < rank (and < the logged count), the first logged
    step at which sigma_i(W) reaches half of sigma_i(M); None if it never does."""
    truth = nuclear.singular_values(target)
    out = []
    for i in range(min(rank, TOP_SINGULAR, len(truth))):
        hit = np.flatnonzero(traj.metrics[f"sv{i + 1}"][:, member] >= 0.5 * truth[i])
        out.append(int(traj.steps[hit[0]]) if hit.size else None)
    return out


def _nuclear_reference(problems) -> list[dict[str, Any]]:
    out = []
    for prob in problems:
        if prob.mask is not None:
            ref = nuclear.min_nuclear_completion(prob.target, prob.mask)
        else:
            ref = nuclear.min_nuclear_sensing(prob.A, prob.y)
        out.append(
            {
                **describe_matrix(ref.X, prob),
                "constraint_residual": ref.residual,
                "status": ref.status,
                "solver": ref.solver,
                "X": ref.X,
            }
        )
    return out


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
            "at_match": _at_match(traj.metrics, b, cfg.match_error),
            "pickup_steps": _pickups(traj, b, prob.target, cfg.rank),
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
        refs = _nuclear_reference(problems)
        results.arrays["nuclear_spectra"] = np.stack(
            [nuclear.singular_values(r.pop("X")) for r in refs]
        )
        results.scalars["nuclear"] = refs
    results.scalars["summary"] = summarize(cfg, results)
    return results


# ---------------------------------------------------------------------------------------
# the numbers the claims read
# ---------------------------------------------------------------------------------------
def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def summarize(cfg: MatrixCompletionConfig, results: Results) -> dict[str, Any]:
    """Per observation count and depth (at the smallest init, mean over seeds), and the
    comparisons the claims read."""
    members = results.scalars["members"]
    refs = results.scalars.get("nuclear")
    alpha = min(cfg.init_scales)
    small = [m for m in members if m["init_scale"] == alpha]
    by_count: dict[str, Any] = {}
    for count in sorted({m["count"] for m in small}):
        rows = [m for m in small if m["count"] == count]
        entry = {}
        for depth in sorted({m["depth"] for m in rows}):
            mine = [m["final"] for m in rows if m["depth"] == depth]
            entry[f"depth_{depth}"] = {
                k: _mean([f[k] for f in mine])
                for k in ("relative_error", "observed_error", "effective_rank", "nuclear_norm")
            }
        if refs is not None:
            problems = sorted({m["problem"] for m in rows})
            entry["nuclear"] = {
                k: _mean([refs[p][k] for p in problems])
                for k in ("relative_error", "effective_rank", "nuclear_norm")
            }
        by_count[str(count)] = entry
    out: dict[str, Any] = {"init_scale": alpha, "by_count": by_count}
    out["depth_vs_direct"] = _depth_vs_direct(members)
    if refs is not None:
        out["nuclear_gap_depth2"] = _nuclear_gap(small, refs)
        out["deep_vs_shallow"] = _deep_vs_shallow(by_count)
    return out


def _depth_vs_direct(members) -> dict[str, Any]:
    """Effective rank of each deeper member / that of depth 1 on the same problem and init
    scale, each taken where it first fits the observations to ``match_error``."""
    ratios = []
    for m in members:
        if m["depth"] == 1:
            continue
        base = [
            o
            for o in members
            if o["depth"] == 1
            and o["problem"] == m["problem"]
            and o["init_scale"] == m["init_scale"]
        ]
        if base:
            ratios.append(m["at_match"]["effective_rank"] / base[0]["at_match"]["effective_rank"])
    return {"ratios": ratios, "max_ratio": float(np.max(ratios)) if ratios else float("nan")}


def _nuclear_gap(small, refs) -> dict[str, Any]:
    """(||W||_* - ||X_nuc||_*) / ||X_nuc||_* for the depth-2 members at the smallest init."""
    gaps = [
        (m["final"]["nuclear_norm"] - refs[m["problem"]]["nuclear_norm"])
        / refs[m["problem"]]["nuclear_norm"]
        for m in small
        if m["depth"] == 2
    ]
    return {"gaps": gaps, "max_abs": float(np.max(np.abs(gaps))) if gaps else float("nan")}


def _deep_vs_shallow(by_count) -> dict[str, Any]:
    """At the fewest observations: depth >= 3 against depth 2 and the nuclear-norm
    minimizer (Arora et al. 2019). Ratios < 1 mean every deeper depth does better."""
    entry = by_count[min(by_count, key=int)]
    deep = [v for k, v in entry.items() if k.startswith("depth_") and int(k[6:]) >= 3]
    if "depth_2" not in entry or not deep:
        return {"error_ratio": float("nan"), "erank_ratio": float("nan")}
    other = [entry["depth_2"], entry["nuclear"]]
    return {
        "count": int(min(by_count, key=int)),
        "error_ratio": max(v["relative_error"] for v in deep)
        / min(v["relative_error"] for v in other),
        "erank_ratio": max(v["effective_rank"] for v in deep)
        / min(v["effective_rank"] for v in other),
    }


# ---------------------------------------------------------------------------------------
# claims
# ---------------------------------------------------------------------------------------
GUNASEKAR = "Gunasekar et al. 2017 (NeurIPS)"
ARORA = "Arora et al. 2019 (NeurIPS)"


def _only(results: Results, depth: int) -> dict[str, Any]:
    rows = [m for m in results.scalars["members"] if m["depth"] == depth]
    if len(rows) != 1:
        raise KeyError(f"expected one member of depth {depth}, found {len(rows)}")
    return rows[0]["final"]


def _gd(cfg: MatrixCompletionConfig) -> bool:
    """Gradient descent (any step schedule), the algorithm of the low-rank theory."""
    return cfg.optimizer.name in GRADIENT_DESCENT and cfg.optimizer.fn is None


def _plain_gd(cfg: MatrixCompletionConfig) -> bool:
    return _gd(cfg) and not cfg.optimizer.hparams


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

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="deep matrix factorization: low rank and low nuclear norm from depth",
        config_cls=MatrixCompletionConfig,
        run=run,
        plots="implicitbias.experiments.matrix_completion_plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)
