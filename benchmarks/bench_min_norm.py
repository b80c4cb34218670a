"""The seed's min-norm workload: its NumPy loop against ``implicitbias.engine.train``.

Workload: least squares with ``n = 10`` examples and ``p = 50`` features (the seed's data,
``np.random.seed(42)``), gradient descent with step 0.01 for 5000 steps, float64.

Measured, side by side in one process (medians of interleaved repeats):

(a) per step: the seed's NumPy loop against the engine's compiled program (warm; the
    program's run time from ``Trajectory.run_seconds``), one member, logged only at the end.
    The first call (compile + run) and the compile seconds are reported separately.
(b) end to end per call (warm): the wall time of one ``train(...)`` call, the engine's
    Python overhead included, against the NumPy loop.
(d) layouts: ns per member-step of one vmap over B = 1000 and 10 000 members against the
    engine's block-mapped layout (``block_size="auto"``), bit-identical final parameters.
(c) 1000 inits: the NumPy loop run from 1000 different random inits (a subset is timed and
    scaled linearly to 1000 runs; the output says so) against ONE batched ``train`` call
    with params of shape (1000, 50).

A hand-written ``jax.jit(lax.fori_loop)`` of the same update (no engine, no vmap) is timed
next to (a) as a reference for what XLA itself costs per step of this tiny problem.

Run: ``python benchmarks/bench_min_norm.py [--quick] [--repeats N] [--subset S]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from _harness import environment, interleave, median, print_table, write_json
from jax import lax

from implicitbias.datasets.synthetic import gaussian_regression
from implicitbias.engine.train import train
from implicitbias.optim import gd
from implicitbias.problems.linear import least_squares

NAME = "min_norm"
N, P, STEPS, LR, SEED = 10, 50, 5000, 0.01, 42
LONG_STEPS = 50_000  # a longer run of the same program: per-step cost without call overhead
MEMBERS = 1000
INIT_SEED = 1  # the 1000 random inits of (c)
TARGET_PER_STEP = 20.0
TARGET_BATCH = 100.0
TOLERANCE = 1e-10


# --------------------------------------------------------------------------- the contenders


def seed_data() -> tuple[np.ndarray, np.ndarray]:
    """The seed's ``np.random.seed(42); X = randn(n, p); y = randn(n)``.

    ``RandomState(42)`` is the generator ``np.random.seed(42)`` resets, without touching
    NumPy's global state. Cross-checked against the package's ``gaussian_regression``.
    """
    rs = np.random.RandomState(SEED)
    X = rs.randn(N, P)
    y = rs.randn(N)
    X2, y2, _ = gaussian_regression(N, P, SEED)
    assert np.array_equal(X, X2) and np.array_equal(y, y2), "gaussian_regression drifted"
    return X, y


def numpy_loop(
    X: np.ndarray, y: np.ndarray, w0: np.ndarray, steps: int = STEPS, lr: float = LR
) -> np.ndarray:
    """The seed's loop (float64), verbatim apart from the starting point ``w0``."""
    n = X.shape[0]
    w = w0
    for _ in range(steps):
        grad = X.T @ (X @ w - y) / n
        w = w - lr * grad
    return w


def engine_run(X: np.ndarray, y: np.ndarray, W0: np.ndarray, steps: int = STEPS):
    """One ``train`` call: params ``W0`` of shape ``(B, p)``, logged only at ``steps``.

    The returned ``Trajectory`` holds NumPy arrays, so the call has waited for the result.
    """
    return train(
        least_squares,
        W0,
        gd,
        steps=steps,
        data=(X, y),
        hparams={"learning_rate": LR},
        log_at=np.array([steps]),
    )


def xla_reference(steps: int = STEPS):
    """``jax.jit`` of a ``lax.fori_loop`` of the same GD update, one member, no engine."""

    @jax.jit
    def run(w, X, y):
        grad = jax.grad(least_squares)
        return lax.fori_loop(0, steps, lambda _, w: w - LR * grad(w, (X, y)), w)

    return run


# --------------------------------------------------------------------------- measurements


def per_step(X, y, repeats: int) -> dict[str, Any]:
    """(a) and (b): one member, 5000 steps."""
    w0 = np.zeros(P)
    W0 = w0[None, :]

    t0 = time.perf_counter()
    first = engine_run(X, y, W0)
    first_wall = time.perf_counter() - t0

    w_numpy = numpy_loop(X, y, w0)
    diff = float(np.max(np.abs(first.params[0] - w_numpy)))

    Xj, yj, wj = jnp.asarray(X), jnp.asarray(y), jnp.asarray(w0)
    ref = xla_reference()
    w_ref = np.asarray(ref(wj, Xj, yj))
    diff_ref = float(np.max(np.abs(w_ref - w_numpy)))

    run_seconds: list[float] = []
    long_run_seconds: list[float] = []
    compiles: list[float] = []

    def engine_call():
        traj = engine_run(X, y, W0)
        run_seconds.append(traj.run_seconds)
        compiles.append(traj.compile_seconds)

    def engine_long():
        traj = engine_run(X, y, W0, steps=LONG_STEPS)
        long_run_seconds.append(traj.run_seconds)
        compiles.append(traj.compile_seconds)

    times = interleave(
        {
            "numpy": lambda: numpy_loop(X, y, w0),
            "engine": engine_call,
            "xla_reference": lambda: ref(wj, Xj, yj).block_until_ready(),
            "engine_long": engine_long,
        },
        repeats=repeats,
        warmup=1,
    )
    run_seconds, long_run_seconds = run_seconds[1:], long_run_seconds[1:]  # drop warm-ups
    compiles = compiles[2:]
    assert max(compiles) == 0.0, "the engine recompiled a cached program"

    us = 1e6 / STEPS
    numpy_us = median(times["numpy"]) * us
    engine_us = median(run_seconds) * us
    return {
        "steps": STEPS,
        "repeats": repeats,
        "first_call_s": first_wall,
        "first_call_compile_s": first.compile_seconds,
        "first_call_run_s": first.run_seconds,
        "max_abs_diff_engine_vs_numpy": diff,
        "max_abs_diff_xla_reference_vs_numpy": diff_ref,
        "numpy_loop_s": times["numpy"],
        "engine_call_wall_s": times["engine"],
        "engine_run_s": run_seconds,
        "xla_reference_s": times["xla_reference"],
        "numpy_us_per_step": numpy_us,
        "engine_us_per_step": engine_us,
        "xla_reference_us_per_step": median(times["xla_reference"]) * us,
        "per_step_ratio": numpy_us / engine_us,
        "long_steps": LONG_STEPS,
        "engine_long_run_s": long_run_seconds,
        "engine_long_us_per_step": median(long_run_seconds) * 1e6 / LONG_STEPS,
        "long_ratio": numpy_us / (median(long_run_seconds) * 1e6 / LONG_STEPS),
        "numpy_call_ms": median(times["numpy"]) * 1e3,
        "engine_call_ms": median(times["engine"]) * 1e3,
        "end_to_end_ratio": median(times["numpy"]) / median(times["engine"]),
        "engine_overhead_ms": (median(times["engine"]) - median(run_seconds)) * 1e3,
    }


def batched(X, y, blocks: int, subset: int) -> dict[str, Any]:
    """(c): 1000 inits, one batched call against ``subset`` NumPy runs scaled to 1000.

    The NumPy runs are split into ``blocks`` groups with one batched engine call before
    each group, so both are measured over the same stretch of time.
    """
    W0 = np.random.RandomState(INIT_SEED).randn(MEMBERS, P)
    members = np.linspace(0, MEMBERS - 1, subset).round().astype(int)

    t0 = time.perf_counter()
    first = engine_run(X, y, W0)
    first_wall = time.perf_counter() - t0

    engine_wall, engine_run_s, numpy_runs = [], [], []
    diff = 0.0
    groups = np.array_split(members, blocks)
    for group in groups:
        t0 = time.perf_counter()
        traj = engine_run(X, y, W0)
        engine_wall.append(time.perf_counter() - t0)
        engine_run_s.append(traj.run_seconds)
        assert traj.compile_seconds == 0.0, "the engine recompiled a cached program"
        for m in group:
            t0 = time.perf_counter()
            w = numpy_loop(X, y, W0[m])
            numpy_runs.append(time.perf_counter() - t0)
            diff = max(diff, float(np.max(np.abs(traj.params[m] - w))))
    first_diff = float(np.max(np.abs(first.params - traj.params)))

    numpy_total = median(numpy_runs) * MEMBERS
    return {
        "members": MEMBERS,
        "steps": STEPS,
        "blocks": blocks,
        "numpy_runs_timed": int(subset),
        "numpy_scaled": subset < MEMBERS,
        "numpy_scaling": f"median of {subset} timed runs x {MEMBERS}",
        "members_checked": members.tolist(),
        "max_abs_diff_engine_vs_numpy": diff,
        "max_abs_diff_first_vs_warm": first_diff,
        "first_call_s": first_wall,
        "first_call_compile_s": first.compile_seconds,
        "first_call_run_s": first.run_seconds,
        "numpy_run_s": numpy_runs,
        "engine_call_wall_s": engine_wall,
        "engine_run_s": engine_run_s,
        "numpy_1000_runs_s": numpy_total,
        "numpy_subset_sum_s": float(np.sum(numpy_runs)),
        "engine_batched_s": median(engine_wall),
        "engine_batched_run_s": median(engine_run_s),
        "batch_ratio": numpy_total / median(engine_wall),
        "batch_ratio_cold": numpy_total / first_wall,
        "engine_us_per_member_step": median(engine_run_s) / (MEMBERS * STEPS) * 1e6,
    }


LAYOUT_SIZES = (1000, 10_000)
TARGET_NS_AT_10000 = 150.0


def layouts(X, y, repeats: int) -> list[dict[str, Any]]:
    """(d): ns per member-step of one vmap over all members against block-mapped members
    (``block_size="auto"``), B = 1000 and 10 000, interleaved warm calls, medians; the
    final parameters must be bit-identical."""
    rows = []
    for size in LAYOUT_SIZES:
        W0 = np.random.RandomState(INIT_SEED).randn(size, P)

        def call(block, W0=W0):
            return train(
                least_squares,
                W0,
                gd,
                steps=STEPS,
                data=(X, y),
                hparams={"learning_rate": LR},
                log_at=np.array([STEPS]),
                block_size=block,
            )

        ref, auto = call(0), call("auto")  # compile both
        identical = bool(np.array_equal(ref.params, auto.params))
        times: dict[str, list[float]] = {"vmap": [], "auto": []}
        for _ in range(repeats):
            times["vmap"].append(call(0).run_seconds)
            times["auto"].append(call("auto").run_seconds)
        ns = {k: median(v) / (size * STEPS) * 1e9 for k, v in times.items()}
        rows.append(
            {
                "members": size,
                "auto_block_size": auto.block_size,
                "vmap_ns_per_member_step": ns["vmap"],
                "auto_ns_per_member_step": ns["auto"],
                "speedup": ns["vmap"] / ns["auto"],
                "bit_identical": identical,
                "run_seconds": times,
            }
        )
    return rows


# --------------------------------------------------------------------------- report


def _verdict(ratio: float, target: float) -> str:
    return "MET" if ratio >= target else f"MISSED ({ratio / target:.0%} of target)"


def report(a: dict[str, Any], c: dict[str, Any]) -> None:
    scaled = f"scaled: {c['numpy_scaling']}" if c["numpy_scaled"] else "all runs timed"
    rows = [
        [
            "(a) per step, warm program [us/step]",
            a["engine_us_per_step"],
            a["numpy_us_per_step"],
            f"{a['per_step_ratio']:.1f}x",
            f">= {TARGET_PER_STEP:g}x",
            _verdict(a["per_step_ratio"], TARGET_PER_STEP),
        ],
        [
            "(b) end to end per call, warm [ms]",
            a["engine_call_ms"],
            a["numpy_call_ms"],
            f"{a['end_to_end_ratio']:.1f}x",
            "-",
            "-",
        ],
        [
            "    first call: compile + run [ms]",
            a["first_call_s"] * 1e3,
            a["numpy_call_ms"],
            f"{a['numpy_call_ms'] / (a['first_call_s'] * 1e3):.2f}x",
            "-",
            "-",
        ],
        [
            f"(c) {MEMBERS} inits, one batched call, warm [s]",
            c["engine_batched_s"],
            c["numpy_1000_runs_s"],
            f"{c['batch_ratio']:.1f}x",
            f">= {TARGET_BATCH:g}x",
            _verdict(c["batch_ratio"], TARGET_BATCH),
        ],
        [
            "    first batched call: compile + run [s]",
            c["first_call_s"],
            c["numpy_1000_runs_s"],
            f"{c['batch_ratio_cold']:.1f}x",
            "-",
            "-",
        ],
    ]
    print_table(
        rows, header=["measurement", "implicitbias", "NumPy loop", "speed-up", "target", "verdict"]
    )
    print()
    print(
        f"compile: {a['first_call_compile_s']:.3f} s (one member), "
        f"{c['first_call_compile_s']:.3f} s (batch of {MEMBERS}); "
        f"engine Python overhead per warm call: {a['engine_overhead_ms']:.1f} ms"
    )
    print(
        f"per step, for reference: engine over {a['long_steps']} steps (same program) "
        f"{a['engine_long_us_per_step']:.3f} us/step ({a['long_ratio']:.1f}x); "
        f"hand-written jax.jit(fori_loop), no engine, {STEPS} steps "
        f"{a['xla_reference_us_per_step']:.3f} us/step "
        f"({a['numpy_us_per_step'] / a['xla_reference_us_per_step']:.1f}x)"
    )
    print(
        f"batched engine: {c['engine_us_per_member_step'] * 1e3:.1f} ns per member-step "
        f"(program time {c['engine_batched_run_s']:.3f} s)"
    )
    print(
        f"NumPy {MEMBERS} runs: {scaled} "
        f"({c['numpy_runs_timed']} runs took {c['numpy_subset_sum_s']:.2f} s in all)"
    )
    print(
        f"agreement with NumPy (max |w_engine - w_numpy|): one member "
        f"{a['max_abs_diff_engine_vs_numpy']:.2e}; {len(c['members_checked'])} batch "
        f"members {c['max_abs_diff_engine_vs_numpy']:.2e}; "
        f"XLA reference {a['max_abs_diff_xla_reference_vs_numpy']:.2e}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats and NumPy runs (a smoke test, noisier figures)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="repeats of (a)/(b), and engine calls in (c) (default 21; 5 quick)",
    )
    parser.add_argument(
        "--subset",
        type=int,
        default=None,
        help=f"NumPy runs timed in (c), scaled to {MEMBERS} (default 100; 20 quick)",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (5 if args.quick else 21)
    subset = min(MEMBERS, args.subset or (20 if args.quick else 100))
    if repeats < 1 or subset < 1:
        parser.error("--repeats and --subset must be >= 1")
    blocks = min(repeats, subset, 5 if args.quick else 10)

    os.environ["IMPLICITBIAS_PROGRESS"] = "0"
    x64 = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    try:
        jnp.zeros(1).block_until_ready()  # start the backend outside the first-call timing
        X, y = seed_data()
        command = " ".join(["python", "benchmarks/bench_min_norm.py", *(argv or [])])
        print(
            f"{NAME}: n={N}, p={P}, {STEPS} GD steps (lr={LR}), float64; "
            f"{repeats} repeats, {subset} NumPy runs for (c)"
        )
        a = per_step(X, y, repeats)
        c = batched(X, y, blocks, subset)
        d = layouts(X, y, max(3, repeats // 3))
        env = environment()
    finally:
        jax.config.update("jax_enable_x64", x64)

    report(a, c)
    print_table(
        [
            [
                r["members"],
                r["auto_block_size"],
                r["vmap_ns_per_member_step"],
                r["auto_ns_per_member_step"],
                r["speedup"],
                r["bit_identical"],
            ]
            for r in d
        ],
        [
            "(d) members",
            "auto block",
            "vmap [ns/member-step]",
            "auto [ns]",
            "speed-up",
            "bit-identical",
        ],
    )
    at_10000 = d[-1]["auto_ns_per_member_step"]
    print(
        f"(d) target <= {TARGET_NS_AT_10000:.0f} ns per member-step at B = 10 000: "
        f"{at_10000:.0f} ns, {'met' if at_10000 <= TARGET_NS_AT_10000 else 'MISSED'}"
    )
    assert all(r["bit_identical"] for r in d), "block-mapped results differ from one vmap"
    assert a["max_abs_diff_engine_vs_numpy"] < TOLERANCE, a["max_abs_diff_engine_vs_numpy"]
    assert a["max_abs_diff_xla_reference_vs_numpy"] < TOLERANCE
    assert c["max_abs_diff_engine_vs_numpy"] < TOLERANCE, c["max_abs_diff_engine_vs_numpy"]

    payload = {
        "benchmark": NAME,
        "command": command,
        "argv": list(argv or []),
        "invoked_as": " ".join(sys.argv),
        "quick": args.quick,
        "workload": {
            "n": N,
            "p": P,
            "steps": STEPS,
            "learning_rate": LR,
            "seed": SEED,
            "dtype": "float64",
            "members": MEMBERS,
            "init_seed": INIT_SEED,
        },
        "targets": {
            "per_step": {
                "target": TARGET_PER_STEP,
                "ratio": a["per_step_ratio"],
                "met": a["per_step_ratio"] >= TARGET_PER_STEP,
            },
            "batch_1000": {
                "target": TARGET_BATCH,
                "ratio": c["batch_ratio"],
                "met": c["batch_ratio"] >= TARGET_BATCH,
            },
            "ns_per_member_step_at_10000": {
                "target": TARGET_NS_AT_10000,
                "value": d[-1]["auto_ns_per_member_step"],
                "met": d[-1]["auto_ns_per_member_step"] <= TARGET_NS_AT_10000,
            },
        },
        "per_step": a,
        "batched": c,
        "layouts": d,
        "environment": env,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = write_json(NAME, payload)
    print(f"raw timings: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
