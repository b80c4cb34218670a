"""Grokking: memorize modular arithmetic first, generalize much later (weight decay).

Command::

    implicitbias run grokking                     # MLP, (a + b) mod 97, 50 % train, with a
                                                  # no-weight-decay control: ~5 min
    implicitbias run grokking --preset quick      # smaller MLP at lr 3e-3, 1200 steps, ~30 s
    implicitbias run grokking --preset grokfast   # Grokfast EMA and MA vs the AdamW baseline
    implicitbias run grokking --preset phase      # train fraction x weight decay (p = 59)
    implicitbias run grokking --preset paper      # Nanda et al.'s transformer, p = 113, 30 %
    implicitbias run grokking --preset power      # Power et al.'s a / b mod 97, 50 % train

Setting: every pair ``(a, b)`` of ``a o b mod p`` (p prime), a random train part (a key
split), the rest is the test set. A two-layer MLP on learned embeddings or the one-layer
transformer of Nanda et al. (2023), trained with AdamW (lr 1e-3, weight decay 1, betas
(0.9, 0.98)) full batch, float32. Metrics at log-spaced and linear steps: train/test loss
and accuracy and the parameter norm; the first logged steps at which train and test
accuracy reach 99 % give the grokking delay and ratio.

Theory: Power et al. (2022) found that small networks on such tables fit the training set
long before they generalize, and that weight decay shortens the delay the most. Nanda et
al. (2023, ICLR) reverse-engineered the generalizing solution for ``a + b``: a few key
Fourier frequencies, measured by the restricted and excluded losses
(:mod:`implicitbias.diagnostics.fourier`). Liu et al. (2022, Omnigrok) tie the delay to the
weight norm: memorizing solutions have a large norm, weight decay shrinks it until only
the low-norm generalizing one fits. Lee et al. (2024, Grokfast) amplify the slow part of
the gradient (:mod:`implicitbias.optim.grokfast`) to generalize in fewer steps.

Expected outcome (``default``): train accuracy reaches 99 % at step ~170, test accuracy at
~2550 (ratio 15) while the parameter norm falls by ~30 %; without weight decay test
accuracy stays at chance within the same budget. On ``quick`` (3x the learning rate) the
ratio is only ~4.7. Grokfast does not beat this baseline (0.78x, 0.84x). The measured
numbers are in docs/experiments/grokking.md.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from implicitbias import engine
from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, param
from implicitbias.datasets.modular import ModularData, modular_data
from implicitbias.diagnostics import fourier
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment, register
from implicitbias.models import EmbedMLP, OneLayerTransformer, split_model
from implicitbias.optim import grokfast as gf
from implicitbias.runs.results import Results

NAME = "grokking"
THRESHOLD = 0.99
FOURIER_OPS = {"add": 1, "sub": -1}  # operations whose answer depends on a + sign * b


@dataclasses.dataclass(frozen=True)
class GrokkingConfig(Config):
    """Modular arithmetic with an MLP or a one-layer transformer, AdamW with weight decay."""

    operation: Literal["add", "sub", "mul", "div", "quad"] = param(
        "add", "a + b, a - b, a * b, a / b (b != 0) or a^2 + a b, mod p"
    )
    p: int = param(97, "the modulus (a prime)", low=3)
    train_fraction: float = param(
        0.5, "fraction of the table used for training", low=0, high=1, low_open=True
    )
    model: Literal["mlp", "transformer"] = param("mlp", "the network")
    d_embed: int = param(128, "mlp: embedding width (per operand)", low=1)
    d_hidden: int = param(256, "mlp: hidden width", low=1)
    d_model: int = param(128, "transformer: residual width", low=1)
    n_heads: int = param(4, "transformer: attention heads", low=1)
    d_mlp: int = param(512, "transformer: MLP width", low=1)
    learning_rate: float = param(1e-3, "AdamW learning rate", low=0, low_open=True)
    weight_decay: float = param(1.0, "AdamW decoupled weight decay", low=0)
    beta1: float = param(0.9, "AdamW beta1", low=0, high=0.999999)
    beta2: float = param(0.98, "AdamW beta2", low=0, high=0.999999)
    batch_size: int = param(0, "minibatch size (0: full batch)", low=0)
    steps: int = param(3500, "optimizer steps", low=1)
    num_seeds: int = param(1, "model inits trained side by side (vmap)", low=1)
    num_logs: int = param(120, "log-spaced logged steps", low=2)
    linear_logs: int = param(81, "linearly spaced logged steps (added to the log ones)", low=2)
    no_wd_control: bool = param(True, "also train the same inits without weight decay")
    progress_measures: bool = param(True, "Fourier progress measures (a + b, a - b only)")
    key_factor: float = param(
        3.0,
        "key frequency: share of the embedding's Fourier energy "
        ">= key_factor / ((p - 1) / 2), i.e. this many times the "
        "share of a flat spectrum",
        low=1,
    )
    grokfast: Literal["off", "ema", "ma", "both"] = param(
        "off", "also train with Grokfast filters (same lr and weight decay)"
    )
    grokfast_alpha: float = param(0.98, "Grokfast-EMA decay", low=0, high=0.999999)
    grokfast_lamb_ema: float = param(2.0, "Grokfast-EMA amplification", low=0)
    grokfast_window: int = param(100, "Grokfast-MA window", low=1)
    grokfast_lamb_ma: float = param(5.0, "Grokfast-MA amplification", low=0)
    probe_steps: int = param(
        300,
        "steps over which the per-step update norms of Grokfast and the baseline are compared",
        low=1,
    )
    phase: bool = param(False, "phase diagram: train fraction x weight decay")
    phase_fractions: tuple[float, ...] = param(
        (0.3, 0.5, 0.7), "phase diagram: train fractions", low=0, high=1, low_open=True
    )
    phase_weight_decays: tuple[float, ...] = param(
        (0.0, 0.3, 1.0, 3.0), "phase diagram: weight decays", low=0
    )
    phase_seeds: int = param(1, "phase diagram: inits per cell (batched)", low=1)
    phase_steps: int = param(2000, "phase diagram: budget in steps", low=1)
    x64: bool = param(False, "compute in float64 (float32 is the setting of the papers)")

    PRESETS = {
        "smoke": dict(
            p=23,
            d_embed=16,
            d_hidden=32,
            d_model=32,
            d_mlp=64,
            steps=200,
            learning_rate=3e-3,
            num_logs=20,
            linear_logs=11,
            grokfast="ema",
            probe_steps=20,
            phase=True,
            phase_fractions=(0.5,),
            phase_weight_decays=(0.0, 1.0),
            phase_steps=100,
            num_seeds=2,
        ),
        "quick": dict(
            d_embed=64, d_hidden=128, learning_rate=3e-3, steps=1200, no_wd_control=False
        ),
        "default": {},
        "paper": dict(
            model="transformer",
            p=113,
            train_fraction=0.3,
            steps=20000,
            no_wd_control=False,
            num_logs=100,
            linear_logs=101,
        ),
        # Power et al. used a transformer; this is the division task on the default MLP.
        "power": dict(operation="div", p=97, train_fraction=0.5, steps=6000, no_wd_control=False),
        "grokfast": dict(
            grokfast="both", no_wd_control=False, d_embed=64, d_hidden=128, progress_measures=False
        ),
        "phase": dict(
            p=59,
            d_embed=64,
            d_hidden=128,
            learning_rate=3e-3,
            steps=1500,
            no_wd_control=False,
            progress_measures=False,
            phase=True,
            phase_steps=2000,
            phase_seeds=2,
        ),
    }

    def validate(self) -> None:
        from implicitbias.datasets.modular import is_prime

        if not is_prime(self.p):
            raise ConfigError(
                "p", "a prime (division and the Fourier measures need a field)", self.p
            )
        if self.model == "transformer" and self.d_model % self.n_heads:
            raise ConfigError("n_heads", f"a divisor of d_model (={self.d_model})", self.n_heads)
        n = self.p * (self.p - 1) if self.operation == "div" else self.p**2
        n_train = int(round(self.train_fraction * n))
        if not 1 <= n_train <= n - 1:
            raise ConfigError(
                "train_fraction",
                f"a fraction leaving at least one train and one test pair out of {n}",
                self.train_fraction,
            )
        if self.batch_size > n_train:
            raise ConfigError(
                "batch_size",
                f"0 (full batch) or at most the {n_train} training pairs",
                self.batch_size,
            )


# ---------------------------------------------------------------------------------------
# the problem: models, loss and in-loop metrics
# ---------------------------------------------------------------------------------------
def make_model(cfg: GrokkingConfig, key: jax.Array) -> eqx.Module:
    if cfg.model == "mlp":
        return EmbedMLP(cfg.p, cfg.d_embed, cfg.d_hidden, key=key)
    return OneLayerTransformer(cfg.p, cfg.d_model, cfg.n_heads, cfg.d_mlp, key=key)


def init_params(cfg: GrokkingConfig, keys: jax.Array) -> tuple[Any, Any]:
    """``(params with a leading member axis, static part)`` for a batch of inits."""
    models = _init_models(cfg, keys)
    return split_model(models)


@eqx.filter_jit
def _init_models(cfg, keys):
    return eqx.filter_vmap(lambda k: make_model(cfg, k))(keys)


def _global_norm(params: Any) -> jax.Array:
    return jnp.sqrt(sum(jnp.sum(x.astype(jnp.float32) ** 2) for x in jax.tree.leaves(params)))


@functools.cache
def problem(static: Any) -> tuple[Any, Any]:
    """``(loss, metrics)`` for the engine, closing over the static part of the model.

    Cached on ``static`` (an equinox module skeleton, hashable), so that every run of the
    same architecture hands the engine the same functions and reuses its programs.
    """

    def logits(params, x):
        return jax.vmap(eqx.combine(params, static))(x)

    def loss(params, batch):
        x, y = batch
        return fourier.cross_entropy(logits(params, x), y)

    def metrics(params, data, aux):
        x, y = data
        test = logits(params, aux["x"])
        return {
            "train_acc": jnp.mean(jnp.argmax(logits(params, x), -1) == y),
            "test_loss": fourier.cross_entropy(test, aux["y"]),
            "test_acc": jnp.mean(jnp.argmax(test, -1) == aux["y"]),
            "norm": _global_norm(params),
        }

    return loss, metrics


def log_steps(steps: int, num_log: int, num_linear: int) -> np.ndarray:
    """The union of log-spaced and linearly spaced step indices (0 and ``steps`` included)."""
    log = engine.log_points(steps, num_log, "log")
    lin = engine.log_points(steps, num_linear, "linear")
    return np.union1d(log, lin).astype(np.int64)


def train(
    cfg: GrokkingConfig,
    data: ModularData,
    optimizer: Any,
    hparams: dict,
    keys,
    *,
    steps: int,
    label: str,
    keep_params: bool = False,
    sample_key=None,
):
    """One engine call: ``len(keys)`` members, one program. Returns the trajectory and the
    model's static part."""
    params, static = init_params(cfg, keys)
    loss, metrics = problem(static)
    x_test, y_test = data.part("test")
    sampler = engine.Minibatch(cfg.batch_size, replace=False) if cfg.batch_size else None
    traj = engine.train(
        loss,
        params,
        optimizer,
        steps=steps,
        data=data.part("train"),
        aux={"x": x_test, "y": y_test},
        hparams=hparams,
        metrics=metrics,
        sampler=sampler,
        key=sample_key,
        log_at=log_steps(steps, cfg.num_logs, cfg.linear_logs),
        keep_params=keep_params,
        description=f"{NAME}: {label}",
        divergence_hint="lower the learning rate",
        on_divergence="continue",
    )
    return traj, static, params


# ---------------------------------------------------------------------------------------
# numbers from curves
# ---------------------------------------------------------------------------------------
def first_reach(steps: np.ndarray, values: np.ndarray, level: float) -> int | None:
    """First logged step at which ``values >= level`` (None if never)."""
    hit = np.flatnonzero(np.asarray(values) >= level)
    return int(steps[hit[0]]) if hit.size else None


def _at(steps: np.ndarray, values: np.ndarray, step: int | None) -> float:
    if step is None:
        return float("nan")
    return float(values[int(np.flatnonzero(steps == step)[0])])


def summarize(steps: np.ndarray, m: dict[str, np.ndarray], member: int) -> dict[str, Any]:
    """Grokking numbers of one member: steps to 99 %, delay, ratio, norms, sharpness."""
    train_acc, test_acc = m["train_acc"][:, member], m["test_acc"][:, member]
    norm = m["norm"][:, member]
    t_train = first_reach(steps, train_acc, THRESHOLD)
    t_test = first_reach(steps, test_acc, THRESHOLD)
    t10, t90 = first_reach(steps, test_acc, 0.1), first_reach(steps, test_acc, 0.9)
    both = t_train is not None and t_test is not None
    plateau = (t10 - t_train) if (t10 is not None and t_train is not None) else None
    rise = (t90 - t10) if (t10 is not None and t90 is not None) else None
    return {
        "steps_train_99": t_train,
        "steps_test_99": t_test,
        "delay": (t_test - t_train) if both else None,
        "ratio": (t_test / max(t_train, 1)) if both else float("nan"),
        "final_train_acc": float(train_acc[-1]),
        "final_test_acc": float(test_acc[-1]),
        "max_test_acc": float(test_acc.max()),
        "test_acc_at_train_99": _at(steps, test_acc, t_train),
        "norm_init": float(norm[0]),
        "norm_at_train_99": _at(steps, norm, t_train),
        "norm_at_test_99": _at(steps, norm, t_test),
        "norm_final": float(norm[-1]),
        "norm_ratio_transition": (_at(steps, norm, t_test) / _at(steps, norm, t_train))
        if both
        else float("nan"),
        "steps_test_10": t10,
        "steps_test_90": t90,
        # (10 % -> 90 % test accuracy) / (train 99 % -> test 10 %): < 1 when the jump is
        # shorter than the plateau before it.
        "rise_over_plateau": (rise / plateau) if (rise is not None and plateau) else float("nan"),
    }


# ---------------------------------------------------------------------------------------
# progress measures (Nanda et al.)
# ---------------------------------------------------------------------------------------
def progress(
    cfg: GrokkingConfig, data: ModularData, static: Any, snapshots: Any, final: Any
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Key frequencies of the final embedding; restricted/excluded loss and the key-frequency
    share of the embedding at every logged step (member 0)."""
    basis = jnp.asarray(fourier.fourier_basis(cfg.p), dtype=jnp.float32)

    def embedding(params):
        return eqx.combine(params, static).embedding()

    final0 = jax.tree.map(lambda a: jnp.asarray(a[0]), final)
    energy = np.asarray(fourier.frequency_energy(embedding(final0), basis))
    keys = fourier.key_frequencies(energy, cfg.key_factor / len(energy))
    directions = jnp.asarray(
        fourier.sum_directions(data.pairs, cfg.p, keys, FOURIER_OPS[cfg.operation]),
        dtype=jnp.float32,
    )
    labels, train_idx = jnp.asarray(data.answers), jnp.asarray(data.train)
    pairs = jnp.asarray(data.pairs)
    key_idx = jnp.asarray(keys - 1)

    @jax.jit
    def measures(snaps):
        def one(params):
            logits = jax.vmap(eqx.combine(params, static))(pairs)
            out = fourier.progress_losses(logits, labels, directions, train_idx)
            e = fourier.frequency_energy(embedding(params), basis)
            out["key_share"] = jnp.sum(e[key_idx]) / jnp.sum(e)
            out["full_loss"] = fourier.cross_entropy(logits, labels)
            return out

        return lax.map(one, snaps)

    member0 = jax.tree.map(lambda a: jnp.asarray(a[:, 0]), snapshots)
    curves = {k: np.asarray(v) for k, v in measures(member0).items()}
    summary = {
        "key_frequencies": keys.tolist(),
        "energy_share_final": [float(energy[k - 1] / energy.sum()) for k in keys],
        "key_share_final": float(curves["key_share"][-1]),
        "restricted_loss_final": float(curves["restricted_loss"][-1]),
        "excluded_loss_final": float(curves["excluded_loss"][-1]),
    }
    return summary, {"freq_energy": energy, **{f"progress_{k}": v for k, v in curves.items()}}


# ---------------------------------------------------------------------------------------
# Grokfast
# ---------------------------------------------------------------------------------------
def _filters(cfg: GrokkingConfig) -> dict[str, tuple[Any, dict, optax.GradientTransformation]]:
    """name -> (engine factory, extra hyperparameters, the filter alone for the probe)."""
    out = {}
    if cfg.grokfast in ("ema", "both"):
        out["ema"] = (
            gf.adamw_ema,
            {"alpha": cfg.grokfast_alpha, "lamb": cfg.grokfast_lamb_ema},
            gf.ema_filter(cfg.grokfast_alpha, cfg.grokfast_lamb_ema),
        )
    if cfg.grokfast in ("ma", "both"):
        out["ma"] = (
            functools.partial(gf.adamw_ma, window=cfg.grokfast_window),
            {"lamb": cfg.grokfast_lamb_ma},
            gf.ma_filter(cfg.grokfast_window, cfg.grokfast_lamb_ma),
        )
    return out


def step_probe(loss, params, data, filt, adam, steps: int) -> dict[str, np.ndarray]:
    """``steps`` compiled steps of ``adam(filt(g))`` from ``params`` (one member), recording
    per step ``||g||``, ``||filtered g||`` and ``||update||`` (one ``lax.scan``)."""

    @jax.jit
    def go(p0):
        def step(carry, _):
            p, fs, s = carry
            g = jax.grad(loss)(p, data)
            gh, fs = filt.update(g, fs, p)
            u, s = adam.update(gh, s, p)
            stats = (optax.tree.norm(g), optax.tree.norm(gh), optax.tree.norm(u))
            return (optax.apply_updates(p, u), fs, s), stats

        _, stats = lax.scan(step, (p0, filt.init(p0), adam.init(p0)), None, length=steps)
        return stats

    g, gh, u = go(params)
    return {"grad": np.asarray(g), "filtered": np.asarray(gh), "update": np.asarray(u)}


def run_grokfast(cfg, data, keys, hp, base_traj, static, params0, results, sample_key=None) -> None:
    identity = optax.identity()
    adam = optax.adamw(cfg.learning_rate, b1=cfg.beta1, b2=cfg.beta2, weight_decay=cfg.weight_decay)
    loss, _ = problem(static)
    p0 = jax.tree.map(lambda a: a[0], params0)
    train_data = tuple(jnp.asarray(a) for a in data.part("train"))
    probe_steps = min(cfg.probe_steps, cfg.steps)
    base_probe = step_probe(loss, p0, train_data, identity, adam, probe_steps)
    base = summarize(base_traj.steps, base_traj.metrics, 0)
    out: dict[str, Any] = {"baseline": base}
    for name, (factory, extra, filt) in _filters(cfg).items():
        traj, _, _ = train(
            cfg,
            data,
            factory,
            {**hp, **extra},
            keys,
            steps=cfg.steps,
            label=f"Grokfast-{name.upper()}",
            sample_key=sample_key,
        )
        s = summarize(traj.steps, traj.metrics, 0)
        probe = step_probe(loss, p0, train_data, filt, adam, probe_steps)
        t_b, t_g = base["steps_test_99"], s["steps_test_99"]
        s["speedup"] = (
            (t_b / max(t_g, 1))
            if (t_b is not None and t_g is not None)
            else (float("nan") if t_g is None else float("inf"))
        )
        s["speedup_kind"] = (
            "measured"
            if t_b is not None and t_g is not None
            else "baseline did not reach 99 % (speed-up > budget / steps)"
            if t_g is not None
            else "Grokfast did not reach 99 %"
        )
        s["speedup_lower_bound"] = (
            (cfg.steps / max(t_g, 1)) if (t_b is None and t_g) else s["speedup"]
        )
        s["gradient_amplification"] = float(np.mean(probe["filtered"] / probe["grad"]))
        s["update_norm_ratio"] = float(np.mean(probe["update"]) / np.mean(base_probe["update"]))
        out[name] = s
        for k in ("train_acc", "test_acc", "norm"):
            results.arrays[f"grokfast_{name}_{k}"] = traj.metrics[k][:, 0]
        results.arrays[f"grokfast_{name}_steps"] = traj.steps
        results.arrays[f"probe_{name}_update"] = probe["update"]
    results.arrays["probe_baseline_update"] = base_probe["update"]
    out["probe_steps"] = probe_steps
    results.scalars["grokfast"] = out


# ---------------------------------------------------------------------------------------
# phase diagram
# ---------------------------------------------------------------------------------------
def run_phase(cfg: GrokkingConfig, key_data, key_model, results: Results) -> None:
    """Steps to 99 % test accuracy for each (train fraction, weight decay), seeds batched:
    one engine call per train fraction (the shapes differ), members = decays x seeds."""
    wds = np.asarray(cfg.phase_weight_decays, dtype=np.float64)
    seeds = cfg.phase_seeds
    keys = jnp.tile(jax.random.split(key_model, seeds), (len(wds), 1))
    grid = np.full((len(cfg.phase_fractions), len(wds), seeds), np.nan)
    final_acc = np.full_like(grid, np.nan)
    for i, frac in enumerate(cfg.phase_fractions):
        data = modular_data(cfg.operation, cfg.p, frac, key_data)
        hp = {
            "learning_rate": cfg.learning_rate,
            "b1": cfg.beta1,
            "b2": cfg.beta2,
            "weight_decay": np.repeat(wds, seeds),
        }
        traj, _, _ = train(
            cfg,
            data,
            gf.adamw_plain,
            hp,
            keys,
            steps=cfg.phase_steps,
            label=f"phase diagram, train fraction {frac:g}",
        )
        for j in range(len(wds)):
            for s in range(seeds):
                m = j * seeds + s
                reach = first_reach(traj.steps, traj.metrics["test_acc"][:, m], THRESHOLD)
                grid[i, j, s] = np.nan if reach is None else reach
                final_acc[i, j, s] = traj.metrics["test_acc"][-1, m]
    # The median over seeds of the steps, with "not within budget" as +inf.
    med = np.median(np.where(np.isnan(grid), np.inf, grid), axis=-1)
    results.arrays.update(
        phase_fractions=np.asarray(cfg.phase_fractions),
        phase_weight_decays=wds,
        phase_steps_to_99=grid,
        phase_median=np.where(np.isinf(med), np.nan, med),
        phase_final_test_acc=final_acc,
    )
    results.scalars["phase"] = {
        "budget": cfg.phase_steps,
        "median_steps_to_99": [[None if np.isinf(v) else float(v) for v in row] for row in med],
        "cells_grokked": int(np.isfinite(med).sum()),
        "cells": int(med.size),
    }


# ---------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------
def run(cfg: GrokkingConfig) -> Results:
    """Train, measure the grokking numbers, progress measures, Grokfast, phase diagram."""
    results = Results(NAME, "", cfg.to_dict())
    k_data, k_model, k_sample = jax.random.split(jax.random.PRNGKey(cfg.seed), 3)
    data = modular_data(cfg.operation, cfg.p, cfg.train_fraction, k_data)
    results.scalars["data"] = {
        "pairs": int(len(data.answers)),
        "train": int(len(data.train)),
        "test": int(len(data.test)),
        "chance": 1.0 / cfg.p,
    }
    seed_keys = jax.random.split(k_model, cfg.num_seeds)
    wds = [cfg.weight_decay] + ([0.0] if cfg.no_wd_control else [])
    keys = jnp.tile(seed_keys, (len(wds), 1))
    hp = {
        "learning_rate": cfg.learning_rate,
        "b1": cfg.beta1,
        "b2": cfg.beta2,
        "weight_decay": np.repeat(np.asarray(wds), cfg.num_seeds),
    }
    measure = cfg.progress_measures and cfg.operation in FOURIER_OPS
    traj, static, params0 = train(
        cfg,
        data,
        gf.adamw_plain,
        hp,
        keys,
        steps=cfg.steps,
        label=cfg.model,
        keep_params=measure,
        sample_key=k_sample,
    )
    results.arrays["steps"] = traj.steps
    results.arrays["member_weight_decay"] = hp["weight_decay"]
    results.metrics.update(traj.metrics)
    results.scalars["model"] = {"params": int(sum(np.size(x[0]) for x in jax.tree.leaves(params0)))}
    seeds = [summarize(traj.steps, traj.metrics, m) for m in range(cfg.num_seeds)]
    results.scalars["main"] = seeds[0]
    results.scalars["seeds"] = {
        k: [s[k] for s in seeds] for k in ("steps_train_99", "steps_test_99", "ratio")
    }
    if cfg.no_wd_control:
        ctrl = [
            summarize(traj.steps, traj.metrics, cfg.num_seeds + m) for m in range(cfg.num_seeds)
        ]
        results.scalars["no_wd"] = {
            **ctrl[0],
            "max_test_acc_all_seeds": max(c["max_test_acc"] for c in ctrl),
        }
    if measure:
        summary, arrays = progress(cfg, data, static, traj.snapshots, traj.params)
        results.scalars["progress"] = summary
        results.arrays.update(arrays)
    if cfg.grokfast != "off":
        run_grokfast(
            cfg,
            data,
            seed_keys,
            {**hp, "weight_decay": cfg.weight_decay},
            _member_slice(traj, cfg.num_seeds),
            static,
            params0,
            results,
            sample_key=k_sample,
        )
    if cfg.phase:
        run_phase(cfg, k_data, k_model, results)
    results.scalars["timing"] = {
        "compile_seconds": traj.compile_seconds,
        "run_seconds": traj.run_seconds,
        "steps_per_second": cfg.steps * len(wds) * cfg.num_seeds / max(traj.run_seconds, 1e-9),
    }
    return results


def _member_slice(traj, n: int):
    """The trajectory of the first ``n`` members (those with weight decay)."""
    return dataclasses.replace(
        traj, metrics={k: v[:, :n] for k, v in traj.metrics.items()}, snapshots=None
    )


def plot(results: Results) -> dict[str, Any]:
    from implicitbias.experiments import grokking_plots

    return grokking_plots.all_figures(results)


# ---------------------------------------------------------------------------------------
# claims
# ---------------------------------------------------------------------------------------
POWER = "Power et al. 2022 (arXiv:2201.02177)"
LIU = "Liu et al. 2022 (Omnigrok, arXiv:2210.01117)"
LEE = "Lee et al. 2024 (Grokfast, arXiv:2405.20233)"
SEED = "seed 000, section 7"
_MAIN = {"quick": "quick", "full": "default"}
_FULL = {"full": "default"}


def _claim(
    name, statement, quantity, measure, criterion, presets=_MAIN, source=POWER, also=("smoke",)
):
    return Claim.legacy(
        f"{NAME}/{name}", statement, source, NAME, presets, quantity, measure, criterion, also
    )


CLAIMS = (
    _claim(
        "memorize-then-generalize",
        "Train accuracy reaches 99 % at least 5x earlier (in steps) than test accuracy.",
        "steps to 99 % test accuracy / steps to 99 % train accuracy (seed 0)",
        lambda r: r.get("main.ratio"),
        Criterion(">=", 5.0),
    ),
    _claim(
        "norm-falls",
        "The parameter norm falls while the network goes from memorizing to generalizing.",
        "||theta|| at 99 % test accuracy / ||theta|| at 99 % train accuracy",
        lambda r: r.get("main.norm_ratio_transition"),
        Criterion("<", 1.0),
        source=LIU,
    ),
    _claim(
        "no-weight-decay",
        "Without weight decay test accuracy stays below 99 % within the same budget.",
        "max test accuracy of the weight-decay-free control within the budget, over seeds",
        lambda r: r.get("no_wd.max_test_acc_all_seeds"),
        Criterion("<", THRESHOLD),
        presets=_FULL,
        also=("smoke",),
    ),
    _claim(
        "grokfast-speedup",
        "Grokfast-EMA reaches 99 % test accuracy in fewer steps than "
        "AdamW with the same learning rate and weight decay.",
        "steps to 99 % test (AdamW) / steps to 99 % test (Grokfast-EMA)",
        lambda r: r.get("grokfast.ema.speedup"),
        Criterion(">", 1.0),
        presets={"full": "grokfast"},
        source=LEE,
        also=(),
    ),
    _claim(
        "grokfast-ma-speedup",
        "Grokfast-MA reaches 99 % test accuracy in fewer steps "
        "than AdamW with the same learning rate and weight decay.",
        "steps to 99 % test (AdamW) / steps to 99 % test (Grokfast-MA)",
        lambda r: r.get("grokfast.ma.speedup"),
        Criterion(">", 1.0),
        presets={"full": "grokfast"},
        source=LEE,
        also=(),
    ),
    _claim(
        "seed-000-chance",
        "Seed 000 section 7: when the training set is memorized, test accuracy is still at chance.",
        "test accuracy when train accuracy first reaches 99 % (chance is 1/p)",
        lambda r: r.get("main.test_acc_at_train_99"),
        Criterion("<=", 0.05),
        source=SEED,
    ),
    _claim(
        "seed-000-10x",
        "Seed 000 section 7: generalization comes 10x (or 100x) later than memorization.",
        "steps to 99 % test accuracy / steps to 99 % train accuracy (seed 0)",
        lambda r: r.get("main.ratio"),
        Criterion(">=", 10.0),
        source=SEED,
    ),
    _claim(
        "seed-000-sharp",
        "Seed 000 section 7: test accuracy jumps from chance to "
        "near-perfect in a sharp transition, after a long plateau.",
        "steps from 10 % to 90 % test accuracy / steps from 99 % train to 10 % test",
        lambda r: r.get("main.rise_over_plateau"),
        Criterion("<", 1.0),
        source=SEED,
    ),
)

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="grokking on modular arithmetic: memorize first, generalize later",
        config_cls=GrokkingConfig,
        run=run,
        plot=plot,
        claims=CLAIMS,
        doc=__doc__ or "",
    )
)
