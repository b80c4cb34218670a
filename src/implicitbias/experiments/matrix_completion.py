"""Matrix completion: GD on a deep factorization finds low-rank, low-nuclear-norm solutions.

Command::

    implicitbias run matrix-completion                    # 20x20 rank 2, depths 1-3
    implicitbias run matrix-completion --preset seed-004  # seed 004 Experiment 2, exactly
    implicitbias run matrix-completion --preset seed-000  # seed 000 section 4, exactly
    implicitbias run matrix-completion --preset paper     # Arora et al. 2019, 100x100 rank 5

Setting: a ground truth ``M`` (d x d, rank r), seen through a mask of observed entries or
through Gaussian measurements. The model is the end-to-end matrix :math:`W = W_L\\cdots
W_1` of ``L`` square factors (``L = 1``: ``W`` itself), from a small init (Gaussian,
orthogonal or scaled identity), trained by full-batch GD on the squared error of the
observations. Depths, init scales, seeds and observation counts are the members of ONE
batched, compiled run (shallower members pad their product with identity slots that GD
never moves). float64.

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
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Literal

import numpy as np

from implicitbias import engine
from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, param
from implicitbias.datasets import low_rank
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment, register
from implicitbias.optim import gd
from implicitbias.problems.factorization import (
    TOP_SINGULAR,
    completion_loss,
    recovery_metrics,
    sensing_loss,
)
from implicitbias.runs.results import Results
from implicitbias.theory import nuclear

NAME = "matrix-completion"


@dataclasses.dataclass(frozen=True)
class MatrixCompletionConfig(Config):
    """Low-rank recovery by GD on a deep matrix factorization."""

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
    learning_rate: float = param(0.2, "GD step", low=0, low_open=True)
    reduction: Literal["sum", "mean"] = param(
        "sum", "loss: half the sum of squared errors, or that divided by the number of observations"
    )
    steps: int = param(20_000, "GD steps", low=1)
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
# problems and members
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Member:
    """One trained model: which problem, depth and init scale."""

    problem: int
    seed: int
    count: int
    depth: int
    init_scale: float


def build(cfg: MatrixCompletionConfig) -> tuple[list, list[Member], np.ndarray]:
    """The problems, the members and their initial factors ``(B, L_max, d, d)``."""
    if cfg.source == "seed-000":
        return _seed000(cfg)
    if cfg.source == "seed-004":
        return _seed004(cfg)
    lmax = max(cfg.depths)
    problems, members, inits = [], [], []
    for s in range(cfg.seeds):
        seed = cfg.seed + s
        rs = np.random.RandomState(seed)
        M = low_rank.low_rank(cfg.d, cfg.rank, rs, normalize=cfg.normalize)
        for prob in _observe(cfg, M, rs):
            problems.append(prob)
            for depth, alpha in itertools.product(cfg.depths, cfg.init_scales):
                members.append(Member(len(problems) - 1, seed, prob.num_observed, depth, alpha))
                # The same base draws for every depth and scale of a seed.
                f = low_rank.factor_init(
                    cfg.init, depth, cfg.d, alpha, np.random.RandomState([seed, 1]), cfg.init_per
                )
                inits.append(_pad(f, lmax))
    return problems, members, np.stack(inits)


def _observe(cfg: MatrixCompletionConfig, M: np.ndarray, rs) -> list[low_rank.Problem]:
    if cfg.observation == "mask":
        masks = (
            low_rank.nested_masks(cfg.d, cfg.counts, rs)
            if cfg.counts
            else [low_rank.bernoulli_mask(cfg.d, cfg.fraction, rs)]
        )
        return [low_rank.Problem(M, mask) for mask in masks]
    counts = cfg.counts or (max(1, round(cfg.fraction * cfg.d**2)),)
    out = []
    for m in counts:
        A, y = low_rank.gaussian_sensing(M, m, rs)
        out.append(low_rank.Problem(M, A=A, y=y))
    return out


def _pad(factors: np.ndarray, lmax: int) -> np.ndarray:
    out = np.zeros((lmax, *factors.shape[1:]))
    out[: factors.shape[0]] = factors
    return out


def _seed000(cfg):
    prob, deep, direct = low_rank.seed000(cfg.d, cfg.rank, cfg.fraction, cfg.init_scales[0])
    lmax = max(cfg.depths)
    members = [Member(0, 42, prob.num_observed, L, cfg.init_scales[0]) for L in cfg.depths]
    inits = [_pad(deep if L == 2 else direct, lmax) for L in cfg.depths]
    return [prob], members, np.stack(inits)


def _seed004(cfg):
    prob, factors = low_rank.seed004(cfg.d, cfg.rank, cfg.fraction, cfg.init_scales[0])
    return [prob], [Member(0, 42, prob.num_observed, 2, cfg.init_scales[0])], factors[None]


def member_data(cfg, problems, members) -> dict[str, np.ndarray]:
    """Per-member data (stacked on axis 0) for the engine."""
    lmax = max(cfg.depths)
    rows = []
    for m in members:
        p = problems[m.problem]
        if p.num_observed == 0:
            raise ConfigError(
                "fraction",
                f"a fraction that observes at least one entry (seed {m.seed} drew none)",
                cfg.fraction,
            )
        row = {
            "target": p.target,
            "active": np.arange(lmax) < m.depth,
            "scale": np.asarray(1.0 / p.num_observed if cfg.reduction == "mean" else 1.0),
        }
        if p.mask is not None:
            row["mask"] = p.mask.astype(np.float64)
        else:
            row.update(A=p.A, y=p.y)
        rows.append(row)
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


def end_to_end(factors: np.ndarray, depth: int) -> np.ndarray:
    """:math:`W_L\\cdots W_1` in NumPy (an independent product for the reported numbers)."""
    W = factors[0]
    for layer in factors[1:depth]:
        W = layer @ W
    return W


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
    results = Results(NAME, "", cfg.to_dict())
    problems, members, inits = build(cfg)
    data = member_data(cfg, problems, members)
    loss = completion_loss if cfg.observation == "mask" else sensing_loss
    traj = engine.train(
        loss,
        inits,
        gd,
        steps=cfg.steps,
        data=data,
        data_axis=0,
        hparams={"learning_rate": cfg.learning_rate},
        metrics=recovery_metrics,
        num_logs=cfg.num_logs,
        spacing="log",
        description=f"{NAME}: GD",
        divergence_hint=lambda b: (
            f"lower the learning rate (member {b}: depth "
            f"{members[b].depth}, init {members[b].init_scale:g})"
        ),
    )
    results.metrics.update(traj.metrics)
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
        steps=traj.steps,
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


def plot(results: Results) -> dict[str, Any]:
    from implicitbias.experiments import matrix_completion_plots

    return matrix_completion_plots.all_figures(results)


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


def _claim(name, statement, source, presets, quantity, measure, criterion, also=()):
    return Claim.legacy(
        f"{NAME}/{name}", statement, source, NAME, presets, quantity, measure, criterion, also
    )


_DEFAULT = {"quick": "default", "full": "default"}
_SEED4 = {"quick": "seed-004", "full": "seed-004"}
_SEED0 = {"quick": "seed-000", "full": "seed-000"}

CLAIMS = (
    _claim(
        "seed-004-recovery",
        "Seed 004 Experiment 2: GD on U V^T from a 1e-3 init "
        "recovers the rank-1 matrix from 60% of its entries.",
        "seed 004, Experiment 2",
        _SEED4,
        "relative error ||W - M||_F / ||M||_F after 20000 steps "
        "(recovered: <= 1e-3, the criterion of Candes & Recht 2009's experiments)",
        lambda r: _only(r, 2)["relative_error"],
        Criterion("<=", 1e-3),
    ),
    _claim(
        "seed-004-rank",
        "Seed 004 Experiment 2: the singular values beyond the first stay "
        "near zero (the solution is rank 1).",
        "seed 004, Experiment 2",
        _SEED4,
        "effective rank (Roy & Vetterli 2007) of the final W (rank 1: 1)",
        lambda r: _only(r, 2)["effective_rank"],
        Criterion("<=", 1.1),
    ),
    _claim(
        "depth-lower-erank",
        "A deep factorization (depth >= 2) reaches a lower effective "
        "rank than depth 1 at equal training loss.",
        GUNASEKAR + "; " + ARORA,
        _DEFAULT,
        "max over deep members of erank(depth L) / erank(depth 1), each where it first "
        "fits the observations to `match_error` relative error",
        lambda r: r.get("summary.depth_vs_direct.max_ratio"),
        Criterion("<", 1.0),
        also=("smoke",),
    ),
    _claim(
        "depth2-nuclear",
        "With a small init, depth 2 converges to (nearly) the minimum "
        "nuclear norm among matrices that fit the observations.",
        GUNASEKAR,
        _DEFAULT,
        "max over seeds of |(||W||_* - ||X_nuc||_*)| / ||X_nuc||_* for depth 2 at the "
        "smallest init ('a few percent': <= 0.05)",
        lambda r: r.get("summary.nuclear_gap_depth2.max_abs"),
        Criterion("<=", 0.05),
        also=("smoke",),
    ),
    _claim(
        "arora-error",
        "With few observations (2000 of 100x100, rank 5), depth >= 3 "
        "reconstructs better than depth 2 and than the nuclear-norm minimizer.",
        ARORA,
        {"full": "paper"},
        "max over depths >= 3 of relative error / min(depth 2's, the "
        "nuclear-norm minimizer's) at the fewest observations",
        lambda r: r.get("summary.deep_vs_shallow.error_ratio"),
        Criterion("<", 1.0),
    ),
    _claim(
        "arora-erank",
        "With few observations, depth >= 3 finds lower effective rank than "
        "depth 2 and than the nuclear-norm minimizer.",
        ARORA,
        {"full": "paper"},
        "max over depths >= 3 of effective rank / min(depth 2's, the minimizer's) at the "
        "fewest observations",
        lambda r: r.get("summary.deep_vs_shallow.erank_ratio"),
        Criterion("<", 1.0),
    ),
    _claim(
        "seed-000-recovery",
        "Seed 000 section 4: the depth-2 factorization W2 W1 "
        "recovers the rank-2 matrix from 50% of its entries (8000 steps, lr 0.002, "
        "gradient / number observed).",
        "seed 000, section 4",
        _SEED0,
        "relative error ||W2 W1 - M||_F / ||M||_F (recovered: <= 0.1, a loose bar)",
        lambda r: _only(r, 2)["relative_error"],
        Criterion("<=", 0.1),
    ),
    _claim(
        "seed-000-spectrum",
        "Seed 000 section 4: direct optimization spreads energy "
        "across all singular values, the deep factorization does not.",
        "seed 000, section 4",
        _SEED0,
        "effective rank of W2 W1 / effective rank of the direct solution",
        lambda r: _only(r, 2)["effective_rank"] / _only(r, 1)["effective_rank"],
        Criterion("<", 1.0),
    ),
)

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="deep matrix factorization: low rank and low nuclear norm from depth",
        config_cls=MatrixCompletionConfig,
        run=run,
        plot=plot,
        claims=CLAIMS,
        doc=__doc__ or "",
    )
)
