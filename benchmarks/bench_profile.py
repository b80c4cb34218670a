"""The profile of 7 optimizers at the quick level: under 5 minutes on 2 CPU cores.

(1) The whole command, as a user runs it: ``implicitbias profile gd heavy_ball adam sign_gd
    lion muon adafactor --level quick`` in a child process pinned to 2 CPU cores
    (``os.sched_setaffinity``), run folder and figures and cards included. Reported: wall
    time, and the child's CPU time (user + system, ``RUSAGE_CHILDREN``). Target: wall time
    under 300 s.
(2) Per probe and optimizer, in this process: the seconds of ``probe.measure`` (first
    call: compile included) and the number of programs the engine compiled for it
    (``engine.compilation_count()``). Each probe trains every grid step and seed of one
    optimizer in one batched program, so the count is 1 per (probe, optimizer structure)
    for the probes that train once; a second call of the same probe compiles nothing.

Run: ``python benchmarks/bench_profile.py [--quick]`` (``--quick``: the smoke level, for a
check that the benchmark itself works).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

from _harness import environment, print_table, write_json

OPTIMIZERS = ("gd", "heavy_ball", "adam", "sign_gd", "lion", "muon", "adafactor")
TARGET_SECONDS = 300.0
CORES = 2


def _pin() -> None:
    cpus = sorted(os.sched_getaffinity(0))[:CORES]
    os.sched_setaffinity(0, cpus)


def whole_command(level: str) -> dict[str, float]:
    """Wall and CPU seconds of the CLI in a child pinned to ``CORES`` cores."""
    env = {**os.environ, "IMPLICITBIAS_PROGRESS": "0", "MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "implicitbias",
                "profile",
                *OPTIMIZERS,
                "--level",
                level,
                "--out",
                out,
            ],
            env=env,
            preexec_fn=_pin,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"implicitbias profile failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": wall, "cpu_seconds": cpu, "cores": CORES}


def per_probe(level: str) -> list[dict[str, object]]:
    """Seconds and compiled programs of each (probe, optimizer), first and second call."""
    from implicitbias import engine
    from implicitbias._precision import precision
    from implicitbias.experiments.profile import ProfileConfig, probes_for
    from implicitbias.optim.spec import OptimizerSpec

    cfg = ProfileConfig.make(level)
    rows = []
    with precision(cfg.x64):
        for probe in probes_for(cfg.level):
            for name in OPTIMIZERS:
                spec = OptimizerSpec.parse(name)
                c0, t0 = engine.compilation_count(), time.perf_counter()
                probe.measure(cfg, spec, f"bench: {probe.name} / {name}")
                first, c1 = time.perf_counter() - t0, engine.compilation_count()
                t1 = time.perf_counter()
                probe.measure(cfg, spec, f"bench: {probe.name} / {name}")
                second, c2 = time.perf_counter() - t1, engine.compilation_count()
                rows.append(
                    {
                        "probe": probe.name,
                        "optimizer": name,
                        "first_seconds": first,
                        "second_seconds": second,
                        "compiled_first": c1 - c0,
                        "compiled_second": c2 - c1,
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the smoke level")
    args = parser.parse_args(argv)
    level = "smoke" if args.quick else "quick"
    whole = whole_command(level)
    rows = per_probe(level)
    print_table(
        [
            [
                r["probe"],
                r["optimizer"],
                r["first_seconds"],
                r["second_seconds"],
                r["compiled_first"],
                r["compiled_second"],
            ]
            for r in rows
        ],
        header=["probe", "optimizer", "first s", "second s", "compiled", "recompiled"],
    )
    ok = whole["wall_seconds"] < TARGET_SECONDS
    print(
        f"implicitbias profile ({len(OPTIMIZERS)} optimizers, level {level}, {CORES} cores): "
        f"wall {whole['wall_seconds']:.1f} s, CPU {whole['cpu_seconds']:.1f} s; target "
        f"< {TARGET_SECONDS:.0f} s: {'met' if ok else 'MISSED'}"
    )
    write_json(
        "profile" if level == "quick" else "profile-smoke",
        {
            "environment": environment(),
            "level": level,
            "optimizers": OPTIMIZERS,
            "whole_command": whole,
            "target_seconds": TARGET_SECONDS,
            "target_met": ok,
            "per_probe": rows,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
