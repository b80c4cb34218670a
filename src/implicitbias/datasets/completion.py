"""The batch of a matrix-completion run: problems, members and their initial factors.

A run trains many members in one compiled program: for every seed a ground truth ``M``
(d x d, rank r) and its observations (a mask of entries, nested over several counts, or
Gaussian measurements), and for every problem one member per (depth, init scale). Members
of different depths share one parameter shape ``(L_max, d, d)``: the slots beyond a
member's depth are zeros that the loss replaces by the identity
(:func:`implicitbias.problems.factorization.end_to_end`), so they get no gradient.

The draws come from :mod:`implicitbias.datasets.low_rank` (including the seed snippets'
streams, draw for draw).
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np

from implicitbias.datasets import low_rank
from implicitbias.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Member:
    """One trained model: which problem, depth and init scale."""

    problem: int
    seed: int
    count: int
    depth: int
    init_scale: float


def build(cfg: Any) -> tuple[list[low_rank.Problem], list[Member], np.ndarray]:
    """The problems, the members and their initial factors ``(B, L_max, d, d)``.

    Args:
        cfg: a matrix-completion config (source, d, rank, normalize, observation, fraction,
            counts, depths, init, init_scales, init_per, seeds, seed).

    Returns:
        ``(problems, members, inits)``: every seed draws a truth and its observations (one
        problem per observation count); every (depth, init scale) of a problem is a member,
        its factors padded to the largest depth with zero slots (the loss replaces them by
        the identity).
    """
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


def _observe(cfg: Any, M: np.ndarray, rs) -> list[low_rank.Problem]:
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


def member_data(cfg: Any, problems, members) -> dict[str, np.ndarray]:
    """Per-member data (stacked on axis 0) for the engine: target, mask (or A, y), the
    active factor slots, and the loss scale (1, or 1 / number observed for ``mean``)."""
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
