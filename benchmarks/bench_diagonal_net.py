"""The diagonal-net alpha sweep: ONE batched (vmapped) engine run against 20 sequential ones.

Workload: the ``diagonal-net`` experiment's ``default`` data (``n = 40``, ``d = 200``,
5-sparse ``w*``, seed 0), the ``square`` model ``w = u*u - v*v``, 20 init scales alpha
log-spaced in ``[1e-4, 10]``, each with the experiment's own step
(``learning_rates(...)``), full-batch GD for ``STEPS`` steps (``--quick``: fewer), float64,
metrics (distances to the Q_alpha, l1 and l2 interpolators, residual, test error) at 100
log-spaced steps, as the experiment logs them.

Contenders, side by side in one process (medians of interleaved repeats, warm programs):

* batched: one ``engine.train`` call with params of shape ``(20, 2, 200)`` and a ``(20,)``
  array of learning rates;
* sequential: 20 ``engine.train`` calls with params ``(1, 2, 200)`` (one compiled program,
  reused: the learning rate is an input, not a constant).

Both the program time (``Trajectory.run_seconds``) and the wall time of the whole sweep are
reported; the benchmark asserts that both routes give the same final ``w`` (1e-10 relative)
and that no program was recompiled after the warm-up.

Run: ``python benchmarks/bench_diagonal_net.py [--quick] [--repeats N]``.
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

from implicitbias import engine
from implicitbias.datasets.sparse import sparse_regression
from implicitbias.experiments import diagonal_net as dn
from implicitbias.optim import gd
from implicitbias.theory import diagonal as theory

NAME = "diagonal_net"
MEMBERS, ALPHA_MIN, ALPHA_MAX = 20, 1e-4, 10.0
STEPS, QUICK_STEPS = 50_000, 5_000
NUM_LOGS = 100
TOLERANCE = 1e-10


def workload() -> dict[str, Any]:
    """Data, inits, steps and references of the sweep, from the experiment's own helpers."""
    cfg = dn.DiagonalNetConfig.make("default")
    X, y, w_star = sparse_regression(
        cfg.n, cfg.d, cfg.k, noise=cfg.noise, signal=cfg.signal, seed=cfg.seed
    )
    alphas = np.geomspace(ALPHA_MIN, ALPHA_MAX, MEMBERS)
    w_l1, w_l2 = theory.basis_pursuit(X, y), theory.min_l2_interpolator(X, y)
    q = np.array([s.w for s in theory.q_alpha_path(X, y, alphas)])
    L = float(np.linalg.norm(X, 2) ** 2 / cfg.n)
    B = float(max(np.abs(w_l1).max(), np.abs(w_l2).max()))
    return {
        "X": X,
        "y": y,
        "alphas": alphas,
        "inits": dn.initial_params("square", alphas, cfg.d, 1.0),
        "lrs": dn.learning_rates("square", alphas, L, B, cfg.lr_scale),
        "aux": {"q": q, "l1": w_l1, "l2": w_l2, "w_star": w_star},
        "cfg": cfg,
    }


def run_members(wl: dict[str, Any], members: slice, steps: int):
    """One engine call for the members ``members`` of the sweep."""
    aux = dict(wl["aux"], q=wl["aux"]["q"][members])
    return engine.train(
        dn.diagonal_loss,
        wl["inits"][members],
        gd,
        steps=steps,
        data=(wl["X"], wl["y"]),
        hparams={"learning_rate": wl["lrs"][members]},
        metrics=dn.diagonal_metrics,
        aux=aux,
        aux_axis={"q": 0, "l1": None, "l2": None, "w_star": None},
        num_logs=NUM_LOGS,
        spacing="log",
        progress=False,
    )


def measure(wl: dict[str, Any], steps: int, repeats: int) -> dict[str, Any]:
    run_batched: list[float] = []
    run_sequential: list[float] = []
    finals: dict[str, np.ndarray] = {}

    def batched():
        traj = run_members(wl, slice(None), steps)
        run_batched.append(traj.run_seconds)
        finals["batched"] = np.asarray(traj.params)

    def sequential():
        trajs = [run_members(wl, slice(m, m + 1), steps) for m in range(MEMBERS)]
        run_sequential.append(sum(t.run_seconds for t in trajs))
        finals["sequential"] = np.concatenate([np.asarray(t.params) for t in trajs])

    t0 = time.perf_counter()
    batched()
    first_batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    sequential()
    first_sequential = time.perf_counter() - t0
    compiled = engine.compilation_count()
    times = interleave({"batched": batched, "sequential": sequential}, repeats=repeats, warmup=0)
    recompiled = engine.compilation_count() - compiled
    w = {k: v[:, 0] ** 2 - v[:, 1] ** 2 for k, v in finals.items()}
    rel = np.linalg.norm(w["batched"] - w["sequential"], axis=1) / np.linalg.norm(
        w["sequential"], axis=1
    )
    batched_run, sequential_run = median(run_batched[1:]), median(run_sequential[1:])
    batched_wall, sequential_wall = median(times["batched"]), median(times["sequential"])
    return {
        "steps": steps,
        "members": MEMBERS,
        "repeats": repeats,
        "first_call_batched_s": first_batched,
        "first_sweep_sequential_s": first_sequential,
        "batched_wall_s": times["batched"],
        "sequential_wall_s": times["sequential"],
        "batched_run_s": run_batched[1:],
        "sequential_run_s": run_sequential[1:],
        "batched_wall_median_s": batched_wall,
        "sequential_wall_median_s": sequential_wall,
        "batched_run_median_s": batched_run,
        "sequential_run_median_s": sequential_run,
        "ratio_run": sequential_run / batched_run,
        "ratio_wall": sequential_wall / batched_wall,
        "ns_per_member_step_batched": batched_run / (MEMBERS * steps) * 1e9,
        "ns_per_member_step_sequential": sequential_run / (MEMBERS * steps) * 1e9,
        "recompilations_after_warmup": recompiled,
        "max_rel_diff_batched_vs_sequential": float(rel.max()),
        "max_dist_q_batched": float(theory.relative_distance(w["batched"], wl["aux"]["q"]).max()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_STEPS} steps instead of {STEPS}, 2 repeats"
    )
    parser.add_argument("--repeats", type=int, default=None, help="repeats (default 5)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    if repeats < 1:
        parser.error("--repeats must be >= 1")
    steps = QUICK_STEPS if args.quick else STEPS

    os.environ["IMPLICITBIAS_PROGRESS"] = "0"
    x64 = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    try:
        jnp.zeros(1).block_until_ready()
        print(
            f"{NAME}: {MEMBERS} alphas in [{ALPHA_MIN:g}, {ALPHA_MAX:g}] x {steps} GD steps, "
            f"u*u - v*v, n=40, d=200, float64, {repeats} repeats"
        )
        wl = workload()
        r = measure(wl, steps, repeats)
        env = environment()
    finally:
        jax.config.update("jax_enable_x64", x64)

    print_table(
        [
            [
                "program time of the sweep [s]",
                r["batched_run_median_s"],
                r["sequential_run_median_s"],
                f"{r['ratio_run']:.1f}x",
            ],
            [
                "wall time of the sweep [s]",
                r["batched_wall_median_s"],
                r["sequential_wall_median_s"],
                f"{r['ratio_wall']:.1f}x",
            ],
            [
                "ns per member-step (program)",
                r["ns_per_member_step_batched"],
                r["ns_per_member_step_sequential"],
                "-",
            ],
            [
                "first call(s), compile included [s]",
                r["first_call_batched_s"],
                r["first_sweep_sequential_s"],
                "-",
            ],
        ],
        header=["measurement", "batched (1 call)", f"sequential ({MEMBERS} calls)", "ratio"],
    )
    print(
        f"agreement: max ||w_batched - w_sequential|| / ||w_sequential|| = "
        f"{r['max_rel_diff_batched_vs_sequential']:.1e}; recompilations after warm-up: "
        f"{r['recompilations_after_warmup']}; max distance to the Q_alpha minimizers at "
        f"{steps} steps: {r['max_dist_q_batched']:.2e}"
    )
    assert r["max_rel_diff_batched_vs_sequential"] < TOLERANCE, r
    assert r["recompilations_after_warmup"] == 0, r

    payload = {
        "benchmark": NAME,
        "command": " ".join(["python", "benchmarks/bench_diagonal_net.py", *(argv or [])]),
        "quick": args.quick,
        "workload": {
            "n": 40,
            "d": 200,
            "k": 5,
            "model": "u*u - v*v",
            "members": MEMBERS,
            "alphas": wl["alphas"],
            "learning_rates": wl["lrs"],
            "steps": steps,
            "num_logs": NUM_LOGS,
            "dtype": "float64",
        },
        "result": r,
        "environment": env,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = write_json(NAME, payload)
    print(f"raw timings: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
