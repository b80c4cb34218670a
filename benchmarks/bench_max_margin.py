"""The max-margin workloads: the seed's NumPy loop against ``implicitbias.engine.train``.

(1) Seed 004, Experiment 1: the exponential loss *summed* over 20 points (two Gaussian
    clouds, ``np.random.seed(42)``), GD with step 0.01 for 50 000 steps from 4 inits
    ``[-2, 4], [4, -1], [-3, -3], [1, 5]``, float64. The seed runs its NumPy loop once per
    init and records the normalized direction at every step; the loop is timed with and
    without that recording. implicitbias runs the 4 inits as ONE batched ``train`` call
    (warm program), logged only at the end, and also with the margin metrics at 200
    log-spaced steps as the ``max-margin`` experiment runs it (preset ``seed-004``).
    Medians of interleaved repeats; the engine's figure is its program time
    (``Trajectory.run_seconds``), the wall time of the whole call is reported next to it.
    The benchmark asserts that every init's final ``w`` agrees with the NumPy loop's to
    1e-9 relative (the init ``[-3, -3]`` jumps to a norm of about 2e4 on its first step).

(2) The ``long`` preset's GD route: ``clouds(20, 2, 0.5, 1.5, 0)``, mean exponential loss,
    GD at the config's default learning rate, 5 inits (zero + 4 Gaussian, ``make_inits``),
    10^7 steps with the margin metrics at 300 log-spaced steps: ONE engine call, run once
    (first call in this process for that program: compile included in the wall time).
    ``--quick`` runs 10^6 steps instead. The NumPy loop is not run for 10^7 steps; for
    reference it is timed for a few thousand steps per init and scaled (the output says so).

Run: ``python benchmarks/bench_max_margin.py [--quick] [--repeats N]``.
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
from _harness import environment, interleave, median, print_table, timeit, write_json

from implicitbias import theory
from implicitbias.datasets.classification import clouds
from implicitbias.engine.train import train
from implicitbias.experiments import max_margin
from implicitbias.optim import gd
from implicitbias.problems.classification import (
    LOSSES,
    exponential_mean,
    exponential_sum,
    margin_metrics,
)

NAME = "max_margin"
# (1) seed 004, Experiment 1
N, STEPS, LR, SEED = 10, 50_000, 0.01, 42
INITS = ((-2.0, 4.0), (4.0, -1.0), (-3.0, -3.0), (1.0, 5.0))
NUM_LOGS = 200
TARGET_PER_STEP = 20.0
REL_TOLERANCE = 1e-9
# (2) the `long` preset
LONG_PRESET = "long"
LONG_STEPS, QUICK_LONG_STEPS = 10_000_000, 1_000_000
NUMPY_REF_STEPS = 5000  # NumPy steps per init timed for the scaled reference in (2)
NUMPY_REF_REPEATS = 3


# --------------------------------------------------------------------------- the contenders


def seed_data() -> tuple[np.ndarray, np.ndarray]:
    """The seed's ``np.random.seed(42)`` clouds, cross-checked against the package.

    ``RandomState(42)`` is the generator ``np.random.seed(42)`` resets, without touching
    NumPy's global state. The ``seed-004`` preset of ``max-margin`` must load the same
    data, use the same loss, step, steps and inits, and log at ``NUM_LOGS`` points.
    """
    rs = np.random.RandomState(SEED)
    X_pos = rs.randn(N, 2) * 0.5 + [1.5, 1.5]
    X_neg = rs.randn(N, 2) * 0.5 + [-1.5, -1.5]
    X = np.vstack([X_pos, X_neg])
    y = np.hstack([np.ones(N), -np.ones(N)])
    X2, y2 = clouds(N, 2, 0.5, 1.5, SEED)
    assert np.array_equal(X, X2) and np.array_equal(y, y2), "clouds drifted from the seed"
    cfg = max_margin.MaxMarginConfig.make("seed-004")
    X3, y3 = max_margin.load_data(cfg)
    assert np.array_equal(X, X3) and np.array_equal(y, y3), "seed-004 preset: other data"
    assert LOSSES[(cfg.loss, cfg.reduction)] is exponential_sum, "seed-004: other loss"
    assert (cfg.learning_rate, cfg.steps, cfg.num_logs) == (LR, STEPS, NUM_LOGS)
    assert np.array_equal(max_margin.make_inits(cfg, 2), np.array(INITS)), "seed-004 inits"
    return X, y


def numpy_loop(
    X: np.ndarray, y: np.ndarray, init, record: bool = True, steps: int = STEPS, lr: float = LR
) -> np.ndarray:
    """The seed's loop for one init (float64), verbatim; ``record=False`` drops the path."""
    w = np.array(init, dtype=float)
    path = []
    for _ in range(steps):
        if record:  # the seed records the direction every step
            w_norm = np.linalg.norm(w)
            path.append(w / w_norm if w_norm > 1e-9 else w)
        margins = y * (X @ w)
        coeffs = np.exp(-margins)
        grad = -(coeffs[:, None] * y[:, None] * X).sum(axis=0)
        w = w - lr * grad
    return w


def numpy_all(X: np.ndarray, y: np.ndarray, record: bool) -> np.ndarray:
    """The seed's loop run once per init, as the seed does: final ``w`` of shape (4, 2)."""
    return np.array([numpy_loop(X, y, init, record) for init in INITS])


def numpy_mean_loop(X: np.ndarray, y: np.ndarray, init, steps: int, lr: float) -> np.ndarray:
    """The seed's loop for the *mean* exponential loss (the ``long`` preset), no path."""
    w = np.array(init, dtype=float)
    for _ in range(steps):
        margins = y * (X @ w)
        coeffs = np.exp(-margins)
        grad = -(coeffs[:, None] * y[:, None] * X).mean(axis=0)
        w = w - lr * grad
    return w


def engine_plain(X: np.ndarray, y: np.ndarray, W0: np.ndarray):
    """One batched ``train`` call for the 4 inits, logged only at the last step."""
    return train(
        exponential_sum,
        W0,
        gd,
        steps=STEPS,
        data=(X, y),
        hparams={"learning_rate": LR},
        log_at=np.array([STEPS]),
    )


def svm_aux(X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The ``aux`` of ``margin_metrics``: the l2 max-margin direction and margin."""
    svm = theory.max_margin(X, y, "l2")
    return {"direction": svm.direction, "gamma": np.asarray(svm.l2_margin)}


def engine_metrics(X, y, W0, aux, loss=exponential_sum, lr=LR, steps=STEPS, num_logs=NUM_LOGS):
    """One batched ``train`` call with the experiment's margin metrics at log-spaced steps.

    The arguments of ``max_margin._train`` for 2D data (``keep_params`` on), without its
    progress-bar description and divergence hint.
    """
    return train(
        loss,
        W0,
        gd,
        steps=steps,
        data=(X, y),
        hparams={"learning_rate": lr},
        metrics=margin_metrics,
        aux=aux,
        num_logs=num_logs,
        spacing="log",
        keep_params=True,
    )


def _rel_diff(w: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Per-member ``||w - ref|| / ||ref||``."""
    return np.linalg.norm(w - ref, axis=1) / np.linalg.norm(ref, axis=1)


# --------------------------------------------------------------------------- measurements


def seed004(X: np.ndarray, y: np.ndarray, repeats: int) -> dict[str, Any]:
    """(1): the seed-004 workload, NumPy (with and without the path) against the engine."""
    W0 = np.array(INITS)
    aux = svm_aux(X, y)

    t0 = time.perf_counter()
    first = engine_plain(X, y, W0)
    first_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    first_m = engine_metrics(X, y, W0, aux)
    first_m_wall = time.perf_counter() - t0

    w_path = numpy_all(X, y, record=True)
    w_nopath = numpy_all(X, y, record=False)
    one_step = np.array([numpy_loop(X, y, init, steps=1) for init in INITS])
    row1 = int(np.flatnonzero(first_m.steps == 1)[0])

    run_plain: list[float] = []
    run_metrics: list[float] = []
    compiles: list[float] = []
    finals: dict[str, np.ndarray] = {}

    def plain():
        traj = engine_plain(X, y, W0)
        run_plain.append(traj.run_seconds)
        compiles.append(traj.compile_seconds)
        finals["plain"] = traj.params

    def with_metrics():
        traj = engine_metrics(X, y, W0, aux)
        run_metrics.append(traj.run_seconds)
        compiles.append(traj.compile_seconds)
        finals["metrics"] = traj.params

    times = interleave(
        {
            "numpy_path": lambda: numpy_all(X, y, record=True),
            "numpy_nopath": lambda: numpy_all(X, y, record=False),
            "engine": plain,
            "engine_metrics": with_metrics,
        },
        repeats=repeats,
        warmup=1,
    )
    run_plain, run_metrics = run_plain[1:], run_metrics[1:]  # drop the warm-up calls
    assert max(compiles) == 0.0, "the engine recompiled a cached program"

    member_steps = len(INITS) * STEPS
    numpy_path_s = median(times["numpy_path"])
    numpy_nopath_s = median(times["numpy_nopath"])
    engine_s = median(run_plain)
    engine_m_s = median(run_metrics)
    engine_wall_s = median(times["engine"])
    engine_m_wall_s = median(times["engine_metrics"])
    return {
        "inits": [list(i) for i in INITS],
        "steps": STEPS,
        "member_steps": member_steps,
        "repeats": repeats,
        "first_call_s": first_wall,
        "first_call_compile_s": first.compile_seconds,
        "first_call_run_s": first.run_seconds,
        "first_call_metrics_s": first_m_wall,
        "first_call_metrics_compile_s": first_m.compile_seconds,
        "w_numpy": w_path,
        "w_engine": first.params,
        "rel_diff_engine_vs_numpy": _rel_diff(first.params, w_path),
        "rel_diff_engine_metrics_vs_numpy": _rel_diff(first_m.params, w_path),
        "rel_diff_warm_engine_vs_numpy": _rel_diff(finals["plain"], w_path),
        "rel_diff_warm_engine_metrics_vs_numpy": _rel_diff(finals["metrics"], w_path),
        "numpy_path_equals_nopath": bool(np.array_equal(w_path, w_nopath)),
        "norm_after_one_step_numpy": np.linalg.norm(one_step, axis=1),
        "norm_after_one_step_engine": first_m.metrics["norm"][row1],
        "final_norm_metric_rel_diff": float(
            np.max(
                np.abs(first_m.metrics["norm"][-1] - np.linalg.norm(w_path, axis=1))
                / np.linalg.norm(w_path, axis=1)
            )
        ),
        "final_angle_deg": first_m.metrics["angle"][-1],
        "logged_steps": int(first_m.steps.size),
        "numpy_path_s": times["numpy_path"],
        "numpy_nopath_s": times["numpy_nopath"],
        "engine_call_wall_s": times["engine"],
        "engine_run_s": run_plain,
        "engine_metrics_call_wall_s": times["engine_metrics"],
        "engine_metrics_run_s": run_metrics,
        "numpy_path_median_s": numpy_path_s,
        "numpy_nopath_median_s": numpy_nopath_s,
        "engine_run_median_s": engine_s,
        "engine_wall_median_s": engine_wall_s,
        "engine_metrics_run_median_s": engine_m_s,
        "engine_metrics_wall_median_s": engine_m_wall_s,
        # per step of the whole workload (4 inits) and per member-step
        "numpy_path_us_per_step": numpy_path_s / STEPS * 1e6,
        "numpy_nopath_us_per_step": numpy_nopath_s / STEPS * 1e6,
        "engine_us_per_step": engine_s / STEPS * 1e6,
        "engine_metrics_us_per_step": engine_m_s / STEPS * 1e6,
        "numpy_path_ns_per_member_step": numpy_path_s / member_steps * 1e9,
        "numpy_nopath_ns_per_member_step": numpy_nopath_s / member_steps * 1e9,
        "engine_ns_per_member_step": engine_s / member_steps * 1e9,
        "engine_metrics_ns_per_member_step": engine_m_s / member_steps * 1e9,
        "ratio_path": numpy_path_s / engine_s,
        "ratio_nopath": numpy_nopath_s / engine_s,
        "ratio_path_metrics": numpy_path_s / engine_m_s,
        "ratio_nopath_metrics": numpy_nopath_s / engine_m_s,
        "ratio_path_wall": numpy_path_s / engine_wall_s,
        "ratio_nopath_wall": numpy_nopath_s / engine_wall_s,
        "ratio_path_metrics_wall": numpy_path_s / engine_m_wall_s,
        "ratio_nopath_metrics_wall": numpy_nopath_s / engine_m_wall_s,
    }


def long_run(steps: int) -> dict[str, Any]:
    """(2): ONE engine call of the ``long`` preset's GD route, run once."""
    cfg = max_margin.MaxMarginConfig.make(LONG_PRESET, {"steps": steps})
    X, y = max_margin.load_data(cfg)
    X2, y2 = clouds(20, 2, 0.5, 1.5, 0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2), "long preset: other data"
    loss = LOSSES[(cfg.loss, cfg.reduction)]
    assert loss is exponential_mean, "long preset: other loss"
    lr = cfg.learning_rate or max_margin.default_learning_rate(cfg, X)
    inits = max_margin.make_inits(cfg, X.shape[1])
    aux = svm_aux(X, y)

    t0 = time.perf_counter()
    traj = engine_metrics(X, y, inits, aux, loss=loss, lr=lr, steps=steps, num_logs=cfg.num_logs)
    wall = time.perf_counter() - t0
    assert traj.divergence is None and np.all(np.isfinite(traj.params))
    member_steps = inits.shape[0] * steps

    # Agreement on a short run of the same settings (another, small, compiled program).
    short = engine_metrics(
        X, y, inits, aux, loss=loss, lr=lr, steps=NUMPY_REF_STEPS, num_logs=cfg.num_logs
    )
    w_numpy = np.array([numpy_mean_loop(X, y, init, NUMPY_REF_STEPS, lr) for init in inits])
    numpy_s = timeit(  # all inits, NUMPY_REF_REPEATS times; the median is scaled
        lambda: [numpy_mean_loop(X, y, init, NUMPY_REF_STEPS, lr) for init in inits],
        repeats=NUMPY_REF_REPEATS,
        warmup=0,
    )
    diff = np.linalg.norm(short.params - w_numpy, axis=1) / np.linalg.norm(w_numpy, axis=1)
    numpy_scaled = median(numpy_s) * steps / NUMPY_REF_STEPS
    return {
        "preset": LONG_PRESET,
        "steps": steps,
        "members": int(inits.shape[0]),
        "member_steps": member_steps,
        "learning_rate": lr,
        "num_logs": cfg.num_logs,
        "logged_steps": int(traj.steps.size),
        "wall_s": wall,
        "compile_s": traj.compile_seconds,
        "run_s": traj.run_seconds,
        "overhead_s": wall - traj.compile_seconds - traj.run_seconds,
        "ns_per_member_step": traj.run_seconds / member_steps * 1e9,
        "ns_per_member_step_wall": wall / member_steps * 1e9,
        "final_angle_deg": traj.metrics["angle"][-1],
        "final_norm": traj.metrics["norm"][-1],
        "numpy_ref_steps": NUMPY_REF_STEPS,
        "numpy_ref_s": numpy_s,
        "numpy_ref_ns_per_member_step": median(numpy_s) / (len(inits) * NUMPY_REF_STEPS) * 1e9,
        "numpy_scaled_s": numpy_scaled,
        "numpy_scaling": f"median of {NUMPY_REF_REPEATS} timings of {len(inits)} inits x "
        f"{NUMPY_REF_STEPS} steps, x {steps // NUMPY_REF_STEPS}",
        "ratio_scaled_vs_wall": numpy_scaled / wall,
        "rel_diff_short_engine_vs_numpy": diff,
    }


# --------------------------------------------------------------------------- report


def _verdict(ratio: float, target: float) -> str:
    return "MET" if ratio >= target else f"MISSED ({ratio / target:.0%} of target)"


def report(a: dict[str, Any], b: dict[str, Any]) -> None:
    t = f">= {TARGET_PER_STEP:g}x"
    rows = [
        [
            "(1) per step, path recorded (seed) [us/step]",
            a["engine_us_per_step"],
            a["numpy_path_us_per_step"],
            f"{a['ratio_path']:.1f}x",
            t,
            _verdict(a["ratio_path"], TARGET_PER_STEP),
        ],
        [
            "(1) per step, no path recording [us/step]",
            a["engine_us_per_step"],
            a["numpy_nopath_us_per_step"],
            f"{a['ratio_nopath']:.1f}x",
            t,
            _verdict(a["ratio_nopath"], TARGET_PER_STEP),
        ],
        [
            "    per member-step, path / no path [ns]",
            a["engine_ns_per_member_step"],
            f"{a['numpy_path_ns_per_member_step']:.0f} / "
            f"{a['numpy_nopath_ns_per_member_step']:.0f}",
            f"{a['ratio_path']:.1f}x / {a['ratio_nopath']:.1f}x",
            "-",
            "-",
        ],
        [
            f"(1) with metrics, {NUM_LOGS} log-spaced ({a['logged_steps']} steps) [us/step]",
            a["engine_metrics_us_per_step"],
            a["numpy_path_us_per_step"],
            f"{a['ratio_path_metrics']:.1f}x",
            "-",
            f"no path: {a['ratio_nopath_metrics']:.1f}x",
        ],
        [
            "(1) whole warm call, no metrics [ms]",
            a["engine_wall_median_s"] * 1e3,
            a["numpy_path_median_s"] * 1e3,
            f"{a['ratio_path_wall']:.1f}x",
            "-",
            f"no path: {a['ratio_nopath_wall']:.1f}x",
        ],
        [
            "(1) whole warm call, with metrics [ms]",
            a["engine_metrics_wall_median_s"] * 1e3,
            a["numpy_path_median_s"] * 1e3,
            f"{a['ratio_path_metrics_wall']:.1f}x",
            "-",
            f"no path: {a['ratio_nopath_metrics_wall']:.1f}x",
        ],
        [
            "    first call, no metrics: compile + run [ms]",
            a["first_call_s"] * 1e3,
            a["numpy_path_median_s"] * 1e3,
            f"{a['numpy_path_median_s'] / a['first_call_s']:.1f}x",
            "-",
            "-",
        ],
    ]
    print_table(
        rows, header=["measurement", "implicitbias", "NumPy loop", "speed-up", "target", "verdict"]
    )
    print()
    print(
        f"(1) the target ratio is the seed's loop WITH its per-step path recording against the "
        f"engine's program time (Trajectory.run_seconds) of one batched call of "
        f"{len(INITS)} inits; NumPy: {len(INITS)} loops of {STEPS} steps, medians of "
        f"{a['repeats']} interleaved repeats"
    )
    print(
        f"(1) compile: {a['first_call_compile_s']:.3f} s (no metrics), "
        f"{a['first_call_metrics_compile_s']:.3f} s (with metrics); first call with metrics "
        f"{a['first_call_metrics_s'] * 1e3:.0f} ms"
    )
    print(
        "(1) agreement, max over inits of ||w_engine - w_numpy|| / ||w_numpy||: "
        f"{np.max(a['rel_diff_engine_vs_numpy']):.1e} (no metrics), "
        f"{np.max(a['rel_diff_engine_metrics_vs_numpy']):.1e} (with metrics), "
        f"warm calls {np.max(a['rel_diff_warm_engine_vs_numpy']):.1e} / "
        f"{np.max(a['rel_diff_warm_engine_metrics_vs_numpy']):.1e}; "
        f"NumPy with and without the path identical: {a['numpy_path_equals_nopath']}"
    )
    norms1 = ", ".join(f"{v:.4g}" for v in a["norm_after_one_step_numpy"])
    finals = ", ".join(f"{v:.4g}" for v in np.linalg.norm(a["w_numpy"], axis=1))
    angles = ", ".join(f"{v:.3g}" for v in a["final_angle_deg"])
    print(
        f"(1) ||w|| after one step: {norms1}; final ||w||: {finals}; final angle to SVM "
        f"[deg]: {angles}"
    )
    print()
    print_table(
        [
            ["steps x inits", f"{b['steps']:.0e} x {b['members']}"],
            ["logged steps (log-spaced)", b["logged_steps"]],
            ["learning rate (default_learning_rate)", b["learning_rate"]],
            ["wall time of the call [s]", b["wall_s"]],
            ["  compile [s]", b["compile_s"]],
            ["  program run [s]", b["run_s"]],
            ["  rest (Python, transfers) [s]", b["overhead_s"]],
            ["ns per member-step (program)", b["ns_per_member_step"]],
            ["ns per member-step (wall)", b["ns_per_member_step_wall"]],
            ["NumPy loop, ns per member-step (no path)", b["numpy_ref_ns_per_member_step"]],
            ["NumPy, same run, s (SCALED estimate)", b["numpy_scaled_s"]],
            ["  NumPy estimate / engine wall", f"{b['ratio_scaled_vs_wall']:.1f}x"],
        ],
        header=[f"(2) `{b['preset']}` preset, GD route, ONE engine call (run once)", "value"],
    )
    angles = ", ".join(f"{v:.3g}" for v in b["final_angle_deg"])
    print(
        f"(2) final angle to the SVM direction [deg]: {angles}; NumPy estimate: "
        f"{b['numpy_scaling']}; agreement at {b['numpy_ref_steps']} steps: "
        f"max rel diff {np.max(b['rel_diff_short_engine_vs_numpy']):.1e}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"fewer repeats, and {QUICK_LONG_STEPS:.0e} steps instead of "
        f"{LONG_STEPS:.0e} in (2) (a smoke test)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="repeats of (1) (default 7; 3 quick)"
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    if repeats < 1:
        parser.error("--repeats must be >= 1")
    long_steps = QUICK_LONG_STEPS if args.quick else LONG_STEPS

    os.environ["IMPLICITBIAS_PROGRESS"] = "0"
    x64 = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    try:
        jnp.zeros(1).block_until_ready()  # start the backend outside the first-call timing
        X, y = seed_data()
        command = " ".join(["python", "benchmarks/bench_max_margin.py", *(argv or [])])
        print(
            f"{NAME}: (1) seed 004, {len(INITS)} inits x {STEPS} GD steps (lr={LR}, summed "
            f"exponential loss, 20 points), float64, {repeats} repeats; (2) `{LONG_PRESET}` "
            f"preset, {long_steps:.0e} steps x 5 inits"
            + (" (--quick: NOT the preset's 1e+07 steps)" if args.quick else "")
        )
        a = seed004(X, y, repeats)
        b = long_run(long_steps)
        env = environment()
    finally:
        jax.config.update("jax_enable_x64", x64)

    report(a, b)
    for key in (
        "rel_diff_engine_vs_numpy",
        "rel_diff_engine_metrics_vs_numpy",
        "rel_diff_warm_engine_vs_numpy",
        "rel_diff_warm_engine_metrics_vs_numpy",
    ):
        assert np.max(a[key]) < REL_TOLERANCE, (key, a[key])
    assert a["numpy_path_equals_nopath"]
    assert np.max(b["rel_diff_short_engine_vs_numpy"]) < REL_TOLERANCE

    payload = {
        "benchmark": NAME,
        "command": command,
        "argv": list(argv or []),
        "invoked_as": " ".join(sys.argv),
        "quick": args.quick,
        "workload": {
            "seed004": {
                "n": 2 * N,
                "features": 2,
                "loss": "exponential, sum",
                "steps": STEPS,
                "learning_rate": LR,
                "seed": SEED,
                "inits": [list(i) for i in INITS],
                "num_logs": NUM_LOGS,
                "dtype": "float64",
            },
            "long": {
                "preset": LONG_PRESET,
                "steps": long_steps,
                "preset_steps": LONG_STEPS,
                "data": "clouds(20, 2, 0.5, 1.5, 0)",
                "loss": "exponential, mean",
                "members": b["members"],
                "learning_rate": b["learning_rate"],
                "num_logs": b["num_logs"],
            },
        },
        "targets": {
            "per_step": {
                "target": TARGET_PER_STEP,
                "baseline": "the seed's loop with its per-step path recording",
                "ratio": a["ratio_path"],
                "met": a["ratio_path"] >= TARGET_PER_STEP,
                "ratio_without_path_recording": a["ratio_nopath"],
                "met_without_path_recording": a["ratio_nopath"] >= TARGET_PER_STEP,
            },
        },
        "seed004": a,
        "long": b,
        "environment": env,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = write_json(NAME, payload)
    print(f"raw timings: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
