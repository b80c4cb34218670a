"""Sweeps on an existing Dask cluster: ``dask scheduler`` and two ``dask worker`` processes.

The tests start the processes themselves on 127.0.0.1 (workers without a nanny, so that
killing one is final) and stop every one of them in a ``finally``. The scheduler allows 2
worker deaths per task (``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES``), the setting
that governs retries on an existing cluster.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from implicitbias.runs.atomic import read_json
from implicitbias.sweep import run_sweep
from implicitbias.sweep.runner import THREAD_LIMITS

TESTS = Path(__file__).resolve().parent
DASK = str(Path(sys.executable).with_name("dask"))
GRID = ["learning_rate=0.1,0.12", "sgd=false", "plane=false"]


def _numbers(node, prefix=""):
    out = {}
    if isinstance(node, dict):
        for key, value in node.items():
            out.update(_numbers(value, f"{prefix}{key}."))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.update(_numbers(value, f"{prefix}{i}."))
    elif isinstance(node, bool | int | float) and "seconds" not in prefix:
        out[prefix[:-1]] = node
    return out


def _stop(procs):
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``{"address", "workers": [Popen, Popen]}`` of a scheduler and two worker processes."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    env = {
        **os.environ,
        **THREAD_LIMITS,
        "IMPLICITBIAS_PROGRESS": "0",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": str(TESTS),
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "2",
    }
    common = dict(cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [
        subprocess.Popen(
            [
                DASK,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(file),
            ],
            **common,
        )  # fmt: skip
    ]
    try:
        deadline = time.monotonic() + 60
        while not file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        DASK,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                        "--host",
                        "127.0.0.1",
                    ],
                    **common,
                )  # fmt: skip
            )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield {"address": address, "workers": procs[1:]}
    finally:
        _stop(procs)


def _same_numbers(a: Path, b: Path) -> None:
    na, nb = (_numbers(read_json(p / "results.json")["scalars"]) for p in (a, b))
    assert na.keys() == nb.keys()
    for key, value in na.items():  # the same program; summation order only (1e-9)
        assert math.isclose(value, nb[key], rel_tol=1e-9, abs_tol=1e-300), key


def test_sweep_on_an_existing_cluster_equals_the_cells_run_one_by_one(cluster, tmp_path):
    from implicitbias import lab

    remote = run_sweep(
        "min-norm", "smoke", GRID, scheduler=cluster["address"], out=tmp_path / "remote",
        progress=False,
    )  # fmt: skip
    assert [c["status"] for c in remote.cells] == ["done", "done"]
    assert all(c["tries"] == 1 for c in remote.cells)
    assert {c["worker"] for c in remote.cells} <= _worker_addresses(cluster["address"])
    for cell in remote.cells:
        alone = lab.run("min-norm", "smoke", cell["overrides"], out=tmp_path / "alone")
        _same_numbers(remote.path / cell["run"], alone.path)


@pytest.mark.slow  # two cold clusters: about 45 s on 2 cores
def test_sweep_on_an_existing_cluster_equals_the_local_default(cluster, tmp_path):
    remote = run_sweep(
        "min-norm", "smoke", GRID, scheduler=cluster["address"], out=tmp_path / "remote",
        progress=False,
    )  # fmt: skip
    local = run_sweep("min-norm", "smoke", GRID, workers=2, out=tmp_path / "local", progress=False)
    assert [c["status"] for c in remote.cells] == [c["status"] for c in local.cells]
    assert [c["overrides"] for c in remote.cells] == [c["overrides"] for c in local.cells]
    for a, b in zip(remote.cells, local.cells, strict=True):
        _same_numbers(remote.path / a["run"], local.path / b["run"])


def _worker_addresses(address):
    from distributed import Client

    with Client(address, timeout="30s") as client:
        return set(client.scheduler_info()["workers"])


def test_a_killed_worker_s_cell_is_retried_once_and_nothing_is_lost(cluster, tmp_path):
    out = tmp_path / "sweeps"
    pids = {p.pid for p in cluster["workers"]}
    killed: dict = {}

    def kill_the_first_worker_holding_a_cell():
        """SIGKILL the worker of the first cell whose run folder says ``running``."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for results in out.glob("min-norm-*/cells/*/min-norm-*/results.json"):
                try:
                    running = read_json(results)["status"] == "running"
                    pid = read_json(results.parent.parent / "attempts" / "1.json")["pid"]
                except (OSError, ValueError, KeyError):
                    continue
                if not running:
                    continue
                assert pid in pids  # the worker process itself (no nanny)
                os.kill(pid, signal.SIGKILL)
                killed.update(pid=pid, cell=results.parent.parent.name, run=results.parent)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_the_first_worker_holding_a_cell)
    killer.start()
    try:
        result = run_sweep(
            "min-norm", "smoke", GRID, scheduler=cluster["address"], out=out, progress=False
        )
    finally:
        killer.join()
    assert killed, "no cell was seen running"
    cells = {c["id"]: c for c in result.cells}
    assert [c["status"] for c in result.cells] == ["done", "done"]
    assert cells[killed["cell"]]["tries"] == 2
    assert [c["tries"] for i, c in cells.items() if i != killed["cell"]] == [1]
    marks = sorted((result.path / "cells" / killed["cell"] / "attempts").glob("*.json"))
    assert [read_json(m)["pid"] for m in marks][0] == killed["pid"] and len(marks) == 2
    assert read_json(marks[1])["pid"] != killed["pid"]
    for cell in result.cells:  # one run folder per cell, finished: nothing lost or doubled
        runs = [p for p in (result.path / "cells" / cell["id"]).iterdir() if p.name != "attempts"]
        assert [str(r.relative_to(result.path)) for r in runs] == [cell["run"]]
        assert read_json(runs[0] / "results.json")["status"] == "ok"
    # the interrupted run folder was finished in place (lab.resume), not started again
    assert cells[killed["cell"]]["run"] == str(killed["run"].relative_to(result.path))
    rows = read_json(result.path / "table.json")["rows"]
    assert [r["cell"] for r in rows] == ["c0000", "c0001"]
