"""Seed 004 Experiment 2's workload: the seed's NumPy loop against ``implicitbias.engine.train``.

The workload: a 20 x 20 rank-1 matrix, 60 % of its entries observed, ``M = U V^T`` with
``U, V`` 20 x 20 from a 1e-3 Gaussian init, GD on half the summed squared error of the
observed entries with step 0.01 for 20 000 steps, float64; the data and init are the
seed's own draws (``low_rank.seed004()``, which continues seed 004's global stream after
Experiment 1). The seed's loop records the SVD of ``U V^T`` every 100 steps (200 SVDs);
it is timed with and without that recording.

implicitbias runs the same problem as the ``matrix-completion`` experiment does (preset
``seed-004``: the loss ``completion_loss`` over a stack ``[V^T, U]``): (a) logged only at
the end, (b) with the experiment's in-loop metrics (SVD, errors, effective rank) at the
same 200 steps as the seed (``log_at`` every 100 steps). The engine's figure is the program
time (``Trajectory.run_seconds``) of a warm call; the whole call's wall time is reported
next to it. The benchmark asserts that the final ``U V^T`` agrees with the NumPy loop's to
1e-9 relative.

Run: ``python benchmarks/bench_matrix_completion.py [--quick] [--repeats N]``.
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

from implicitbias.datasets import low_rank
from implicitbias.engine.train import train
from implicitbias.experiments import matrix_completion as mc
from implicitbias.optim import gd
from implicitbias.problems.factorization import completion_loss, recovery_metrics

NAME = "matrix_completion"
N, STEPS, LR, RECORD_EVERY = 20, 20_000, 0.01, 100
REL_TOLERANCE = 1e-9


def seed_problem():
    """The seed's draws, cross-checked against the ``seed-004`` preset's."""
    prob, factors = low_rank.seed004()
    cfg = mc.MatrixCompletionConfig.make("seed-004")
    problems, members, inits = mc.build(cfg)
    assert np.array_equal(problems[0].target, prob.target)
    assert np.array_equal(problems[0].mask, prob.mask)
    assert np.array_equal(inits[0], factors), "seed-004 preset: other inits"
    assert (cfg.learning_rate, cfg.steps, cfg.reduction) == (LR, STEPS, "sum")
    return prob, factors


def numpy_loop(M, mask, U0, V0, record: bool = True) -> tuple[np.ndarray, list]:
    """The seed's loop (float64): forward, masked residual, chain rule, SVD every 100."""
    U, V = U0.copy(), V0.copy()
    history = []
    for t in range(STEPS):
        M_pred = U @ V.T
        diff = (M_pred - M) * mask
        grad_U = diff @ V
        grad_V = diff.T @ U
        U -= LR * grad_U
        V -= LR * grad_V
        if record and t % RECORD_EVERY == 0:
            history.append(np.linalg.svd(M_pred, compute_uv=False))
    return U @ V.T, history


def engine_call(data, W0, log_at, metrics):
    traj = train(
        completion_loss,
        W0,
        gd,
        steps=STEPS,
        data=data,
        data_axis=0,
        hparams={"learning_rate": LR},
        metrics=metrics,
        log_at=log_at,
    )
    return traj


def measure(repeats: int) -> dict[str, Any]:
    prob, factors = seed_problem()
    M, mask = prob.target, prob.mask
    U0, V0 = factors[1], factors[0].T
    cfg = mc.MatrixCompletionConfig.make("seed-004")
    data = mc.member_data(cfg, [prob], mc.build(cfg)[1])
    W0 = factors[None]
    final_only = np.array([STEPS])
    every = np.arange(RECORD_EVERY, STEPS + 1, RECORD_EVERY)

    t0 = time.perf_counter()
    first = engine_call(data, W0, final_only, None)
    first_wall = time.perf_counter() - t0
    first_m = engine_call(data, W0, every, recovery_metrics)
    W_numpy, history = numpy_loop(M, mask, U0, V0, record=True)

    runs: dict[str, list] = {"plain": [], "metrics": []}
    finals: dict[str, np.ndarray] = {}

    def engine(kind: str, log_at, metrics):
        def call():
            traj = engine_call(data, W0, log_at, metrics)
            runs[kind].append(traj.run_seconds)
            finals[kind] = mc.end_to_end(np.asarray(traj.params[0]), 2)

        return call

    times = interleave(
        {
            "numpy_record": lambda: numpy_loop(M, mask, U0, V0, record=True),
            "numpy_plain": lambda: numpy_loop(M, mask, U0, V0, record=False),
            "engine": engine("plain", final_only, None),
            "engine_metrics": engine("metrics", every, recovery_metrics),
        },
        repeats=repeats,
        warmup=1,
    )
    run_plain, run_metrics = runs["plain"][1:], runs["metrics"][1:]  # drop warm-up calls

    def rel(W):
        return float(np.linalg.norm(W - W_numpy) / np.linalg.norm(W_numpy))

    rec, plain = median(times["numpy_record"]), median(times["numpy_plain"])
    eng, eng_m = median(run_plain), median(run_metrics)
    return {
        "steps": STEPS,
        "repeats": repeats,
        "first_call_s": first_wall,
        "first_call_compile_s": first.compile_seconds,
        "first_call_metrics_compile_s": first_m.compile_seconds,
        "rel_diff_engine_vs_numpy": rel(mc.end_to_end(np.asarray(first.params[0]), 2)),
        "rel_diff_warm_engine_vs_numpy": rel(finals["plain"]),
        "rel_diff_warm_engine_metrics_vs_numpy": rel(finals["metrics"]),
        "final_sv_numpy": np.linalg.svd(W_numpy, compute_uv=False)[:3],
        "final_sv_engine": float(first_m.metrics["sv1"][-1, 0]),
        "logged_svds_numpy": len(history),
        "numpy_record_s": times["numpy_record"],
        "numpy_plain_s": times["numpy_plain"],
        "engine_wall_s": times["engine"],
        "engine_metrics_wall_s": times["engine_metrics"],
        "engine_run_s": run_plain,
        "engine_metrics_run_s": run_metrics,
        "numpy_record_median_s": rec,
        "numpy_plain_median_s": plain,
        "engine_run_median_s": eng,
        "engine_metrics_run_median_s": eng_m,
        "engine_wall_median_s": median(times["engine"]),
        "engine_metrics_wall_median_s": median(times["engine_metrics"]),
        "ratio_record": rec / eng,
        "ratio_plain": plain / eng,
        "ratio_record_vs_metrics": rec / eng_m,
        "ratio_record_wall": rec / median(times["engine"]),
        "ratio_record_vs_metrics_wall": rec / median(times["engine_metrics"]),
    }


def report(a: dict[str, Any]) -> None:
    def us(s):
        return s / STEPS * 1e6

    rows = [
        [
            "per step, seed loop with its SVDs vs engine (no metrics) [us/step]",
            us(a["engine_run_median_s"]),
            us(a["numpy_record_median_s"]),
            f"{a['ratio_record']:.1f}x",
        ],
        [
            "per step, seed loop without SVDs [us/step]",
            us(a["engine_run_median_s"]),
            us(a["numpy_plain_median_s"]),
            f"{a['ratio_plain']:.1f}x",
        ],
        [
            "per step, engine with metrics at the seed's 200 steps [us/step]",
            us(a["engine_metrics_run_median_s"]),
            us(a["numpy_record_median_s"]),
            f"{a['ratio_record_vs_metrics']:.1f}x",
        ],
        [
            "whole warm call, no metrics [ms]",
            a["engine_wall_median_s"] * 1e3,
            a["numpy_record_median_s"] * 1e3,
            f"{a['ratio_record_wall']:.1f}x",
        ],
        [
            "whole warm call, with metrics [ms]",
            a["engine_metrics_wall_median_s"] * 1e3,
            a["numpy_record_median_s"] * 1e3,
            f"{a['ratio_record_vs_metrics_wall']:.1f}x",
        ],
        [
            "first call, no metrics: compile + run [ms]",
            a["first_call_s"] * 1e3,
            a["numpy_record_median_s"] * 1e3,
            f"{a['numpy_record_median_s'] / a['first_call_s']:.1f}x",
        ],
    ]
    print_table(rows, header=["measurement", "implicitbias", "NumPy loop", "speed-up"])
    print(
        f"medians of {a['repeats']} interleaved repeats; compile {a['first_call_compile_s']:.2f}"
        f" s (no metrics), {a['first_call_metrics_compile_s']:.2f} s (with metrics)"
    )
    print(
        f"agreement ||W_engine - W_numpy||_F / ||W_numpy||_F: "
        f"{a['rel_diff_engine_vs_numpy']:.1e} (first call), "
        f"{a['rel_diff_warm_engine_vs_numpy']:.1e} / "
        f"{a['rel_diff_warm_engine_metrics_vs_numpy']:.1e} (warm, without / with metrics); "
        f"final sigma_1 {a['final_sv_numpy'][0]:.6g} (NumPy), {a['final_sv_engine']:.6g} "
        f"(engine metric)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (3)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats (default 7)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    if repeats < 1:
        parser.error("--repeats must be >= 1")
    os.environ["IMPLICITBIAS_PROGRESS"] = "0"
    x64 = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    try:
        jnp.zeros(1).block_until_ready()
        print(
            f"{NAME}: seed 004 Experiment 2, {N}x{N} rank 1, 60% observed, depth 2 "
            f"(U V^T), {STEPS} GD steps at lr {LR}, float64, {repeats} repeats"
        )
        a = measure(repeats)
        env = environment()
    finally:
        jax.config.update("jax_enable_x64", x64)
    report(a)
    for key in (
        "rel_diff_engine_vs_numpy",
        "rel_diff_warm_engine_vs_numpy",
        "rel_diff_warm_engine_metrics_vs_numpy",
    ):
        assert a[key] < REL_TOLERANCE, (key, a[key])
    payload = {
        "benchmark": NAME,
        "command": " ".join(["python", "benchmarks/bench_matrix_completion.py", *(argv or [])]),
        "argv": list(argv or []),
        "invoked_as": " ".join(sys.argv),
        "quick": args.quick,
        "workload": {
            "n": N,
            "rank": 1,
            "observed_fraction": 0.6,
            "depth": 2,
            "init": 1e-3,
            "steps": STEPS,
            "learning_rate": LR,
            "loss": "half the summed squared error on the observed entries",
            "svd_every": RECORD_EVERY,
            "dtype": "float64",
            "data": "low_rank.seed004() (seed 004's stream after Experiment 1)",
        },
        "ratios": {
            "per_step_vs_seed_loop_with_svds": a["ratio_record"],
            "per_step_vs_seed_loop_without_svds": a["ratio_plain"],
            "per_step_with_metrics_vs_seed_loop_with_svds": a["ratio_record_vs_metrics"],
        },
        "seed004": a,
        "environment": env,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = write_json(NAME, payload)
    print(f"raw timings: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
