"""Flat vs. sharp minima: which basin do noisy GD and minibatch SGD end in?

Command::

    implicitbias run flat-sharp                  # 1D and 2D, 4000 walkers per setting
    implicitbias run flat-sharp --preset smoke   # seconds

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
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import integrate

from implicitbias import engine
from implicitbias.claims import Claim, Criterion
from implicitbias.config import Config, param
from implicitbias.errors import ConfigError
from implicitbias.experiments.registry import Experiment, register
from implicitbias.optim import gd
from implicitbias.problems.landscapes import Landscape, max_ratio, shifts
from implicitbias.runs.results import Results

NAME = "flat-sharp"


@dataclasses.dataclass(frozen=True)
class FlatSharpConfig(Config):
    """Walkers on a landscape with a sharp and a flat minimum of equal depth."""

    dims: tuple[int, ...] = param((1, 2), "landscape dimensions to run (1 and/or 2)", low=1, high=2)
    k_sharp: float = param(20.0, "curvature of the sharp minimum (x = -1)", low=0, low_open=True)
    k_flat: float = param(2.0, "curvature of the flat minimum (x = +1)", low=0, low_open=True)
    width: float = param(0.5, "ell in w(x) = A + B tanh(x / ell)", low=0, low_open=True)
    walkers: int = param(1000, "walkers per repeat (one vmapped run holds all of them)", low=1)
    repeats: int = param(4, "independent groups of walkers (the spread is over groups)", low=2)
    init_low: float = param(-2.0, "walkers start uniformly in [init_low, init_high]")
    init_high: float = param(2.0, "walkers start uniformly in [init_low, init_high]")
    steps: int = param(5000, "steps of every run", low=1)
    learning_rate: float = param(
        0.01, "eta of the noise and batch-size sweeps", low=0, low_open=True
    )
    sigmas: tuple[float, ...] = param(
        (0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 14.0), "gradient-noise scales of the sigma sweep", low=0
    )
    eta_ratios: tuple[float, ...] = param(
        (0.25, 0.5, 0.9, 0.98, 1.02, 1.1, 1.5, 2.0, 4.0, 8.0),
        "eta k_sharp / 2 of the eta sweeps (1 is the sharp minimum's threshold)",
        low=0,
        low_open=True,
    )
    eta_sigma: float = param(6.0, "gradient-noise scale of the noisy eta sweep", low=0)
    stability_ratios: tuple[float, ...] = param(
        (0.5, 0.9, 0.99, 1.01, 1.1, 2.0),
        "eta k_sharp / 2 of the stability test from the sharp minimum",
        low=0,
        low_open=True,
    )
    stability_walkers: int = param(64, "walkers per eta in the stability test", low=1)
    num_examples: int = param(64, "SGD: examples u_i of the finite sum", low=2)
    shift: float = param(
        0.5,
        "SGD: scale of the shifts u_i (0.5: SGD's noise at the sharp "
        "minimum at batch 1, shift k_sharp = 10, matches the sigma "
        "sweep's range)",
        low=0,
        low_open=True,
    )
    batch_sizes: tuple[int, ...] = param((1, 4, 16, 64), "SGD batch sizes (<= num_examples)", low=1)
    sgd_etas: tuple[float, ...] = param(
        (0.01, 0.04), "SGD learning rates (batched in one run)", low=0, low_open=True
    )
    num_logs: int = param(30, "logged steps per run", low=2)

    PRESETS = {
        "smoke": dict(
            walkers=200,
            repeats=2,
            steps=1000,
            sigmas=(0.0, 8.0, 14.0),
            eta_ratios=(0.5, 1.5, 4.0),
            batch_sizes=(1, 64),
            sgd_etas=(0.02,),
            stability_walkers=8,
            stability_ratios=(0.9, 1.1),
            num_logs=10,
        ),
        "quick": dict(
            walkers=500,
            repeats=4,
            steps=3000,
            dims=(1,),
            sigmas=(0.0, 6.0, 10.0, 14.0),
            eta_ratios=(0.5, 1.02, 1.5, 4.0),
            sgd_etas=(0.01, 0.04),
            batch_sizes=(1, 64),
            num_logs=15,
        ),
        "default": {},
    }

    def validate(self) -> None:
        if self.init_high <= self.init_low:
            raise ConfigError(
                "init_high", f"a number > init_low (= {self.init_low})", self.init_high
            )
        if not self.k_sharp > self.k_flat:
            raise ConfigError("k_sharp", f"a number > k_flat (= {self.k_flat})", self.k_sharp)
        limit = max_ratio(self.width)
        if self.k_sharp / self.k_flat >= limit:
            raise ConfigError(
                "k_sharp",
                f"k_sharp / k_flat < {limit:.4g} for width = {self.width:g}",
                self.k_sharp,
            )
        if len(set(self.dims)) != len(self.dims) or not self.dims:
            raise ConfigError("dims", "1, 2 or 1,2 (each at most once)", self.dims)
        big = [b for b in self.batch_sizes if b > self.num_examples]
        if big:
            raise ConfigError(
                "batch_sizes", f"sizes <= num_examples (= {self.num_examples})", self.batch_sizes
            )
        if not self.x64:
            raise ConfigError("x64", "true (the noise generator uses 64-bit integers)", self.x64)
        if not self.sigmas or 0.0 not in self.sigmas:
            raise ConfigError(
                "sigmas", "a list that includes 0 (the noise-free baseline)", self.sigmas
            )


# ---------------------------------------------------------------------------------------
# the noisy optimizer
# ---------------------------------------------------------------------------------------
_GAMMA = 0x9E3779B97F4A7C15  # splitmix64's increment (the golden ratio times 2^64)


class NoiseState(NamedTuple):
    counter: jax.Array  # uint64


def _mix64(z: jax.Array) -> jax.Array:
    """splitmix64's finalizer (Steele, Lea & Flood 2014, OOPSLA): a bijection of uint64."""
    z = (z ^ (z >> 30)) * jnp.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> 27)) * jnp.uint64(0x94D049BB133111EB)
    return z ^ (z >> 31)


def gaussian_stream(counter: jax.Array, size: int) -> tuple[jax.Array, jax.Array]:
    """``size`` standard normals from a splitmix64 stream, and the advanced counter.

    Box-Muller on pairs of 53-bit uniforms. Three times cheaper per draw than a threefry
    key split under vmap (31 vs 102 ns on 2 cores), which is what one walker-step costs.
    """
    pairs = (size + 1) // 2
    ticks = counter + jnp.uint64(_GAMMA) * jnp.arange(1, 2 * pairs + 1, dtype=jnp.uint64)
    bits = _mix64(ticks) >> 11
    u = bits.astype(jnp.float64) * (2.0**-53)
    u1, u2 = 1.0 - u[:pairs], u[pairs:]  # u1 in (0, 1]
    radius = jnp.sqrt(-2.0 * jnp.log(u1))
    angle = 2.0 * jnp.pi * u2
    z = jnp.concatenate([radius * jnp.cos(angle), radius * jnp.sin(angle)])[:size]
    return z, ticks[-1]


def noisy_gd(learning_rate, sigma, seed) -> optax.GradientTransformation:
    """GD on a noisy gradient: ``theta <- theta - eta (g + sigma xi)``, ``xi ~ N(0, I)``.

    ``seed`` (an integer, traced under vmap) starts each member's own noise stream at a
    hashed (so effectively random) point of splitmix64's 2^64 cycle; streams of different
    members do not overlap in practice. Needs 64-bit integers (``x64``).
    """

    def init(params):
        del params
        return NoiseState(_mix64(jnp.asarray(seed).astype(jnp.uint64) + jnp.uint64(_GAMMA)))

    def update(grads, state, params=None):
        del params
        leaves, treedef = jax.tree.flatten(grads)
        counter, updates = state.counter, []
        for g in leaves:
            z, counter = gaussian_stream(counter, int(np.prod(jnp.shape(g))))
            noise = z.reshape(jnp.shape(g)).astype(jnp.result_type(g))
            updates.append(-learning_rate * (g + sigma * noise))
        return jax.tree.unflatten(treedef, updates), NoiseState(counter)

    return optax.GradientTransformation(init, update)


def basin_metrics(theta, data, aux) -> dict[str, jax.Array]:
    """``flat``: 1 when ``x > x_barrier`` (in the compiled loop)."""
    del data
    return {"flat": (theta[0] > aux["barrier"]).astype(theta.dtype)}


# ---------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------
def initial_positions(cfg: FlatSharpConfig, dim: int) -> np.ndarray:
    """``(repeats * walkers, dim)`` starts: x uniform in [init_low, init_high], y in [-1, 1]."""
    rs = np.random.RandomState(cfg.seed)
    m = cfg.repeats * cfg.walkers
    x = rs.uniform(cfg.init_low, cfg.init_high, size=m)
    cols = [x] if dim == 1 else [x, rs.uniform(-1.0, 1.0, size=m)]
    return np.stack(cols, axis=1)


def _tile(a: np.ndarray, k: int) -> np.ndarray:
    return np.concatenate([a] * k, axis=0)


def _train(
    loss, starts, optimizer, hparams, steps, cfg, barrier, label, data=None, sampler=None, key=None
):
    return engine.train(
        loss,
        starts,
        optimizer,
        steps=steps,
        data=data,
        hparams=hparams,
        metrics=basin_metrics,
        aux={"barrier": np.asarray(barrier)},
        num_logs=cfg.num_logs,
        spacing="linear",
        sampler=sampler,
        key=key,
        on_divergence="continue",
        description=f"{NAME}: {label}",
    )


def _fractions(final, course, landscape: Landscape, groups: int, repeats: int) -> dict[str, Any]:
    """Final flat-basin fractions, shaped (groups, repeats), and the time course."""
    finite = np.all(np.isfinite(final), axis=1)
    flat = landscape.in_flat_basin(np.where(finite[:, None], final, 0.0)) & finite
    per = flat.reshape(groups, repeats, -1).mean(axis=2)
    diverged = (~finite).reshape(groups, repeats, -1).mean(axis=2)
    course = course.reshape(course.shape[0], groups, -1).mean(axis=2)
    return {
        "per_repeat": per,
        "mean": per.mean(axis=1),
        "std": per.std(axis=1, ddof=1),
        "se": per.std(axis=1, ddof=1) / np.sqrt(repeats),
        "diverged": diverged.mean(axis=1),
        "course": course,
    }


def gibbs_flat_fraction(landscape: Landscape, temperature: float) -> float:
    """Flat-basin mass of ``exp(-L / T)`` (in 2D the ``y`` integral is done in closed form:
    ``int exp(-2 w y^2 / T) dy = sqrt(pi T / (2 w))``)."""
    a, b = landscape.coefficients
    xb = landscape.barrier()

    def density(x):
        t = np.tanh(x / landscape.width)
        w = a + b * t
        g = x**2 - 3.0 + 4.0 / (1.0 + x**2)
        out = np.exp(-w * g / temperature)
        return out / np.sqrt(w) if landscape.dim == 2 else out

    lo = integrate.quad(density, -np.inf, xb, epsabs=0, epsrel=1e-10, limit=200)[0]
    hi = integrate.quad(density, xb, np.inf, epsabs=0, epsrel=1e-10, limit=200)[0]
    return float(hi / (lo + hi))


def _noisy_runs(cfg, landscape, starts, barrier) -> dict[str, Any]:
    """The sigma sweep, the two eta sweeps and the stability test as ONE vmapped run.

    Members are blocks of walkers; each block has its own (eta, sigma) and every member
    its own noise seed. Returns the trajectory and the slice of members of each block.
    """
    m, k = starts.shape[0], landscape.k_sharp
    ratios = np.asarray(cfg.eta_ratios, dtype=np.float64)
    stab = np.asarray(cfg.stability_ratios, dtype=np.float64)
    rs = np.random.RandomState(cfg.seed + 7)
    near = landscape.minima()["sharp"] + 1e-3 * rs.randn(cfg.stability_walkers, landscape.dim)
    blocks = (
        [("sigma", cfg.learning_rate, s, starts) for s in cfg.sigmas]
        + [("eta_gd", r * 2.0 / k, 0.0, starts) for r in ratios]
        + [("eta_noisy", r * 2.0 / k, cfg.eta_sigma, starts) for r in ratios]
        + [("stability", r * 2.0 / k, 0.0, near) for r in stab]
    )
    lr = np.concatenate([np.full(len(b[3]), b[1]) for b in blocks])
    sigma = np.concatenate([np.full(len(b[3]), b[2]) for b in blocks])
    params = np.concatenate([b[3] for b in blocks])
    hp = {"learning_rate": lr, "sigma": sigma, "seed": np.arange(len(lr)) + 10**7 * (cfg.seed + 1)}
    traj = _train(
        landscape,
        params,
        noisy_gd,
        hp,
        cfg.steps,
        cfg,
        barrier,
        f"{landscape.dim}D, noise, eta and stability sweeps",
    )
    spans, at = {}, 0
    for name, _, _, pts in blocks:
        lo, hi = spans.get(name, (at, at))
        spans[name] = (lo, hi + len(pts))
        at += len(pts)
    return {"traj": traj, "spans": spans, "m": m}


def _part(runs, name):
    """(final params, flat-indicator course) of one sweep's members."""
    lo, hi = runs["spans"][name]
    traj = runs["traj"]
    return np.asarray(traj.params)[lo:hi], traj.metrics["flat"][:, lo:hi]


def _noise_summary(cfg, landscape, runs) -> tuple[dict, dict]:
    final, course = _part(runs, "sigma")
    s, m = len(cfg.sigmas), runs["m"]
    fr = _fractions(final, course, landscape, s, cfg.repeats)
    temps = [cfg.learning_rate * x**2 / 2 for x in cfg.sigmas]
    gibbs = [gibbs_flat_fraction(landscape, t) if t > 0 else float("nan") for t in temps]
    scal = _summary(fr, "sigma", cfg.sigmas)
    scal.update(
        learning_rate=cfg.learning_rate,
        temperature=temps,
        gibbs_flat_fraction=gibbs,
        increase_z=_z(fr, int(np.argmax(cfg.sigmas)), cfg.sigmas.index(0.0)),
        min_adjacent_z=_min_adjacent_z(fr, cfg.sigmas),
    )
    arrays = {"steps": runs["traj"].steps, "course": fr["course"], "final": final.reshape(s, m, -1)}
    return scal, arrays


def _eta_summary(cfg, landscape, runs, name) -> tuple[dict, np.ndarray]:
    final, course = _part(runs, name)
    etas = np.asarray(cfg.eta_ratios) * 2.0 / landscape.k_sharp
    fr = _fractions(final, course, landscape, len(etas), cfg.repeats)
    scal = _summary(fr, "eta", etas.tolist())
    scal["eta_ratio"] = list(cfg.eta_ratios)
    above = [
        i
        for i, r in enumerate(cfg.eta_ratios)
        if 1.0 < r and r * 2.0 / landscape.k_sharp < 2.0 / landscape.k_flat
    ]
    scal["min_flat_between_thresholds"] = float(fr["mean"][above].min()) if above else float("nan")
    return scal, final.reshape(len(etas), runs["m"], -1)


def _stability(cfg, landscape, runs) -> dict[str, Any]:
    """Noise-free GD from the sharp minimum + 1e-3 N(0, I): does it converge back?"""
    ratios = np.asarray(cfg.stability_ratios, dtype=np.float64)
    final, _ = _part(runs, "stability")
    final = final.reshape(len(ratios), cfg.stability_walkers, -1)
    dist = np.linalg.norm(final - landscape.minima()["sharp"], axis=2)
    converged = (np.nan_to_num(dist, nan=np.inf) < 1e-9).mean(axis=1)
    stable = ratios[converged == 1.0]
    unstable = ratios[converged == 0.0]
    lo = float(stable.max()) if stable.size else float("nan")
    hi = float(unstable.min()) if unstable.size else float("nan")
    brackets = (
        bool(lo < 1.0 < hi)
        and bool(np.all(ratios[ratios < 1.0] <= lo))
        and bool(np.all(ratios[ratios > 1.0] >= hi))
    )
    return {
        "eta_ratio": ratios.tolist(),
        "eta": (ratios * 2.0 / landscape.k_sharp).tolist(),
        "converged_fraction": converged.tolist(),
        "largest_stable_ratio": lo,
        "smallest_unstable_ratio": hi,
        "threshold_eta": 2.0 / landscape.k_sharp,
        "final_distance_max": np.nanmax(np.where(np.isfinite(dist), dist, np.nan), axis=1).tolist(),
        "brackets": float(brackets),
        "bracket_error": max(abs(lo - 1.0), abs(hi - 1.0)) if brackets else float("inf"),
    }


def _sweep_sgd(cfg, landscape, starts, barrier) -> tuple[dict, dict]:
    u = shifts(cfg.num_examples, landscape.dim, cfg.shift, cfg.seed + 3)
    etas = np.asarray(cfg.sgd_etas, dtype=np.float64)
    e, m = len(etas), starts.shape[0]
    means, stds, ses = [], [], []
    finals = []
    for bs in cfg.batch_sizes:
        full = bs == cfg.num_examples
        traj = _train(
            landscape,
            _tile(starts, e),
            gd,
            {"learning_rate": np.repeat(etas, m)},
            cfg.steps,
            cfg,
            barrier,
            f"{landscape.dim}D, SGD batch {bs}",
            data=u,
            sampler=None if full else engine.Minibatch(bs, replace=True),
            key=jax.random.PRNGKey(cfg.seed + 100 + bs),
        )
        final = np.asarray(traj.params)
        fr = _fractions(final, traj.metrics["flat"], landscape, e, cfg.repeats)
        means.append(fr["mean"])
        stds.append(fr["std"])
        ses.append(fr["se"])
        finals.append(final.reshape(e, m, -1))
    means, ses = np.asarray(means), np.asarray(ses)  # (batch sizes, etas)
    small, full = int(np.argmin(cfg.batch_sizes)), int(np.argmax(cfg.batch_sizes))
    z = _z_score(means[small] - means[full], np.sqrt(ses[small] ** 2 + ses[full] ** 2))
    scal = {
        "batch_sizes": list(cfg.batch_sizes),
        "eta": etas.tolist(),
        "eta_over_batch": [[float(x / b) for x in etas] for b in cfg.batch_sizes],
        "flat_fraction": means.tolist(),
        "flat_fraction_std": np.asarray(stds).tolist(),
        "flat_fraction_se": ses.tolist(),
        "mean_shift_norm": float(np.linalg.norm(u.mean(axis=0))),
        "small_vs_full_z": z.tolist(),
        "min_small_vs_full_z": float(np.min(z)),
        "shift": cfg.shift,
        "num_examples": cfg.num_examples,
    }
    return scal, {"u": u, "final": np.asarray(finals), "flat_fraction": means}


def _summary(fr, name, values) -> dict[str, Any]:
    return {
        name: list(values),
        "flat_fraction": fr["mean"].tolist(),
        "flat_fraction_std": fr["std"].tolist(),
        "flat_fraction_se": fr["se"].tolist(),
        "diverged_fraction": fr["diverged"].tolist(),
    }


def _z_score(diff, se):
    """``diff / se``; with a zero standard error, +-inf for a nonzero difference and NaN for
    none (both make a claim fail its finiteness check rather than pass with a huge z)."""
    diff, se = np.asarray(diff, dtype=float), np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, diff / np.where(se > 0, se, 1.0), diff / 0.0)


def _z(fr, i: int, j: int) -> float:
    diff = fr["mean"][i] - fr["mean"][j]
    return float(_z_score(diff, np.sqrt(fr["se"][i] ** 2 + fr["se"][j] ** 2)))


def _min_adjacent_z(fr, values) -> float:
    order = np.argsort(values)
    return float(min(_z(fr, int(b), int(a)) for a, b in zip(order[:-1], order[1:], strict=True)))


def run(cfg: FlatSharpConfig) -> Results:
    """All sweeps for every dimension in ``cfg.dims``; no printing."""
    results = Results(NAME, "", cfg.to_dict())
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
        runs = _noisy_runs(cfg, landscape, starts, barrier)
        noise, noise_arrays = _noise_summary(cfg, landscape, runs)
        eta_gd, eta_gd_final = _eta_summary(cfg, landscape, runs, "eta_gd")
        eta_noisy, _ = _eta_summary(cfg, landscape, runs, "eta_noisy")
        eta_noisy["sigma"] = cfg.eta_sigma
        sgd, sgd_arrays = _sweep_sgd(cfg, landscape, starts, barrier)
        results.scalars[tag] = {
            **base,
            "noise": noise,
            "eta_gd": eta_gd,
            "eta_noisy": eta_noisy,
            "stability": _stability(cfg, landscape, runs),
            "sgd": sgd,
        }
        results.arrays.update(
            {
                f"{tag}_noise_steps": noise_arrays["steps"],
                f"{tag}_noise_course": noise_arrays["course"],
                f"{tag}_noise_final": noise_arrays["final"],
                f"{tag}_eta_gd_final": eta_gd_final,
                f"{tag}_sgd_final": sgd_arrays["final"],
                f"{tag}_sgd_u": sgd_arrays["u"],
            }
        )
    return results


def plot(results: Results) -> dict[str, Any]:
    from implicitbias.experiments import flat_sharp_plots

    return flat_sharp_plots.all_figures(results)


# ---------------------------------------------------------------------------------------
# claims
# ---------------------------------------------------------------------------------------
SEED = "seed 000, 'Try It: Flat vs. Sharp Minima' and section 5"
_PRESETS = {"quick": "quick", "full": "default"}


def _claim(name, statement, quantity, measure, criterion, source=SEED):
    return Claim.legacy(
        f"{NAME}/{name}", statement, source, NAME, _PRESETS, quantity, measure, criterion
    )


CLAIMS = (
    _claim(
        "noise-flat",
        "More gradient noise sends more walkers to the flat minimum.",
        "1D: (flat fraction at the largest sigma - at sigma = 0) / its standard error over repeats",
        lambda r: r.get("d1.noise.increase_z"),
        Criterion(">=", 3.0),
    ),
    _claim(
        "noise-flat-monotone",
        "The flat-basin fraction rises with sigma at every step of "
        "the sweep (no significant decrease).",
        "1D: min over adjacent sigmas of (f(sigma_next) - f(sigma)) / standard error",
        lambda r: r.get("d1.noise.min_adjacent_z"),
        Criterion(">=", -2.0),
    ),
    _claim(
        "stability-threshold",
        "GD's sharp minimum is stable iff eta < 2 / k_sharp (closed-form curvature).",
        "1D: 1 if every step on the grid eta k_sharp / 2 = stability_ratios below 1 "
        "converges back to the sharp minimum and every one above 1 does not, else 0 (the "
        "grid's resolution is d1.stability.bracket_error)",
        lambda r: r.get("d1.stability.brackets"),
        Criterion(">=", 1.0),
        source="Wu, Ma & E 2018 (NeurIPS); Cohen et al. 2021 (ICLR)",
    ),
    _claim(
        "eta-flat",
        "With 2/k_sharp < eta < 2/k_flat GD cannot stay in the sharp basin and "
        "ends in the flat one.",
        "1D: min over such eta of the fraction of noise-free GD walkers ending in the flat basin",
        lambda r: r.get("d1.eta_gd.min_flat_between_thresholds"),
        Criterion(">=", 0.99),
    ),
    _claim(
        "sgd-small-batch-flat",
        "Minibatch SGD with the smallest batch ends in the flat basin "
        "more often than full-batch GD (same eta).",
        "1D: min over eta of (flat fraction at the smallest batch - at the full batch) / "
        "standard error",
        lambda r: r.get("d1.sgd.min_small_vs_full_z"),
        Criterion(">=", 3.0),
        source="seed 000, section 6; Keskar et al. 2017 (ICLR)",
    ),
)

EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="noisy GD and SGD walkers prefer the flat of two equally deep minima",
        config_cls=FlatSharpConfig,
        run=run,
        plot=plot,
        claims=CLAIMS,
        doc=__doc__ or "",
    )
)
