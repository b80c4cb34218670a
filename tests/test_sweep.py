"""``implicitbias sweep``: grid parsing, bad input, and real sweeps on a local Dask cluster.

The cells are ``min-norm --preset smoke`` without its SGD and plane parts (a few seconds
each). One local cluster of two worker processes (the runner's own ``dask_client``, i.e.
the default cluster of ``implicitbias sweep``) serves the in-process sweeps through its
address, so the workers are warm after the first sweep; the interrupt test runs the CLI in
a subprocess on its own default cluster.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import optax
import pytest

from implicitbias.cli import main
from implicitbias.errors import ConfigError
from implicitbias.experiments import get_experiment
from implicitbias.runs.atomic import read_json, write_json
from implicitbias.sweep import load_sweep, resume_sweep, run_sweep
from implicitbias.sweep.grid import build_axes, cells_of, parse_axis

TESTS = Path(__file__).resolve().parent
SMOKE = "smoke"
CHEAP = ["sgd=false", "plane=false"]  # one-value axes: every cell skips those parts
BROKEN = "test_sweep:broken"


def broken(learning_rate):
    """An optimizer that builds (so the config validates) but fails when training starts."""

    def init(params):
        raise RuntimeError("broken optimizer: init always fails")

    return optax.GradientTransformation(init, lambda g, s, p=None: (g, s))


def numbers(node, prefix=""):
    """Numeric leaves of a results.json ``scalars`` tree (lists up to 8 by index); a NaN is
    the text ``"nan"``, as the sweep table writes it, so that equal trees compare equal."""
    out = {}
    if isinstance(node, dict):
        for key, value in node.items():
            out.update(numbers(value, f"{prefix}{key}."))
    elif isinstance(node, list):
        if len(node) <= 8:
            for i, value in enumerate(node):
                out.update(numbers(value, f"{prefix}{i}."))
    elif isinstance(node, bool | int | float):
        out[prefix[:-1]] = node if node == node else "nan"  # NaN != NaN: compare as text
    elif node in ("nan", "inf", "-inf"):
        out[prefix[:-1]] = node if node == "nan" else float(node)
    return out


def timing(key: str) -> bool:
    return "seconds" in key


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


# ---- grid ------------------------------------------------------------------------------
EXP = get_experiment("min-norm")


def test_axes_parse_values_ranges_and_seeds():
    assert parse_axis(EXP, "steps=10,20").values == (10, 20)
    assert parse_axis(EXP, "learning_rate=0.1:0.3:3").values == pytest.approx((0.1, 0.2, 0.3))
    assert parse_axis(EXP, "learning_rate=1e-3:1e-1:3:log").values == pytest.approx(
        (1e-3, 1e-2, 1e-1)
    )
    assert parse_axis(EXP, "learning_rate=none,0.1").values == (None, 0.1)
    assert parse_axis(EXP, "optimizer=gd,adam(b1=0.9,b2=0.99)").values == (
        "gd",
        "adam(b1=0.9,b2=0.99)",
    )
    assert parse_axis(EXP, "optimizer.b2=0.9,0.99").values == (0.9, 0.99)
    axes = build_axes(EXP, ["steps=10,20", "n=3,4"], seeds=3)
    assert [a.name for a in axes] == ["steps", "n", "seed"]
    cells = cells_of(EXP, SMOKE, axes)
    assert len(cells) == 12 and [c.id for c in cells[:2]] == ["c0000", "c0001"]
    assert cells[0].overrides == {"steps": 10, "n": 3, "seed": 0}
    assert cells[1].overrides == {"steps": 10, "n": 3, "seed": 1}  # the last axis is fastest
    assert cells[-1].overrides == {"steps": 20, "n": 4, "seed": 2}


@pytest.mark.parametrize(
    ("grid", "seeds", "needle"),
    [
        (["setps=1,2"], 1, "Did you mean `steps`?"),
        (["steps=1,abc"], 1, "`steps`"),
        (["steps="], 1, "at least one value"),
        (["steps"], 1, "KEY=V1,V2"),
        ([], 1, "at least one KEY=VALUES"),
        (["learning_rate=0.1:0.2"], 1, "LO:HI:N"),
        (["learning_rate=0.1:0.2:1"], 1, "N >= 2"),
        (["learning_rate=0:0.2:3:log"], 1, "LO:HI:N"),
        (["learning_rate=0.1:0.2:3:lin"], 1, "LO:HI:N"),
        (["steps=1,2", "steps=3"], 1, "each key once"),
        (["seed=1,2"], 2, "each key once"),
        (["n=5,50"], 1, "`n`"),  # n >= p in one cell: the config's own check
        (["steps=1,2"], 0, "`--seeds`"),
    ],
)
def test_bad_grid_is_a_config_error(grid, seeds, needle):
    with pytest.raises(ConfigError) as err:
        axes = build_axes(EXP, grid, seeds)
        cells_of(EXP, SMOKE, axes)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_too_many_cells_needs_yes():
    axes = build_axes(EXP, ["steps=1:40:40", "num_logs=2:31:30"])
    with pytest.raises(ConfigError, match="--max-cells"):
        cells_of(EXP, SMOKE, axes)
    assert len(cells_of(EXP, SMOKE, axes, yes=True)) == 1200


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["min-nrm", "--grid", "steps=1,2"], ["`experiment`", "`min-norm`"]),
        (["min-norm", "--preset", "smok", "--grid", "steps=1,2"], ["`preset`", "`smoke`"]),
        (["min-norm", "--grid", "setps=1,2"], ["`--grid key`", "`steps`"]),
        (["min-norm", "--grid", "steps=1,x"], ["`steps`", "an integer", "'x'"]),
        (["min-norm", "--grid", "steps=1:2"], ["`--grid steps`", "LO:HI:N"]),
        (["min-norm"], ["`--grid`", "at least one"]),
        (["min-norm", "--grid", "steps=1,2", "--grid", "steps=3"], ["each key once"]),
        (["min-norm", "--grid", "steps=1:300:300", "--seeds", "4"], ["`--max-cells`", "1200"]),
        (["min-norm", "--grid", "steps=1,2", "--workers", "0"], ["`--workers`"]),
        (["min-norm", "--grid", "steps=1,2", "--retries", "-1"], ["`--retries`"]),
        (["--resume", "nowhere"], ["`--resume`", "a sweep folder"]),
    ],
)
def test_cli_bad_input_is_one_line_exit_2_and_no_folder(tmp_path, capsys, args, needles):
    code = main(["sweep", *args, "--out", str(tmp_path / "sweeps")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    for needle in needles:
        assert needle in err[0]
    assert not (tmp_path / "sweeps").exists()


# ---- real sweeps ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def address():
    """A local cluster made as ``implicitbias sweep`` makes its default one (2 workers)."""
    from implicitbias.sweep.runner import dask_client

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), old) if p)
    try:
        with dask_client(workers=2) as client:
            yield client.scheduler.address
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.fixture(scope="module")
def mixed(address, tmp_path_factory):
    """4 cells: gd or a broken optimizer, at a good and a diverging step size."""
    out = tmp_path_factory.mktemp("mixed")
    grid = [f"optimizer=gd,{BROKEN}", "learning_rate=0.1,50", *CHEAP]
    return run_sweep("min-norm", SMOKE, grid, scheduler=address, out=out, progress=False)


def test_sweep_records_every_outcome_and_goes_on(mixed):
    folder = mixed.path
    record, manifest = read_json(folder / "sweep.json"), read_json(folder / "manifest.json")
    assert folder.name.startswith("min-norm-") and record["version"] == 1
    assert [a["name"] for a in record["axes"]] == ["optimizer", "learning_rate", "sgd", "plane"]
    cells = manifest["cells"]
    assert [c["status"] for c in cells] == ["done", "diverged", "failed", "failed"]
    assert all(c["tries"] == 1 and c["worker"].startswith("tcp://") for c in cells)
    assert "non-finite" in cells[1]["error"].lower() or "diverge" in cells[1]["error"].lower()
    assert cells[2]["error"] == "RuntimeError: broken optimizer: init always fails"
    for cell in cells:
        assert "Traceback" not in (cell["error"] or "")
        run = folder / cell["run"]  # what was kept, also for the failed and diverged ones
        assert run.parent == folder / "cells" / cell["id"]
        assert (
            read_json(run / "results.json")["status"]
            == {
                "done": "ok",
                "diverged": "diverged",
                "failed": "failed",
            }[cell["status"]]
        )
        assert len([p for p in run.parent.iterdir() if p.name != "attempts"]) == 1


def test_table_numbers_equal_the_run_folders(mixed):
    table = read_json(mixed.path / "table.json")
    assert table["axes"] == ["optimizer", "learning_rate", "sgd", "plane"]
    assert table["columns"][:7] == ["cell", "status", "run", *table["axes"]]
    assert [r["cell"] for r in table["rows"]] == ["c0000", "c0001", "c0002", "c0003"]
    row = table["rows"][0]
    assert row["optimizer"] == "gd" and row["learning_rate"] == 0.1
    results = read_json(mixed.path / row["run"] / "results.json")
    expected = numbers(results["scalars"])
    assert expected and {k: row[f"scalar:{k}"] for k in expected} == expected
    for claim in results["claims"]:
        assert row[f"claim:{claim['id']}"] in ("holds", "does not hold", "not applicable")
        assert row[f"measured:{claim['id']}"] == claim["measured"]
    csv_lines = (mixed.path / "table.csv").read_text().splitlines()
    assert csv_lines[0].split(",") == table["columns"] and len(csv_lines) == 5
    assert load_sweep(mixed.path).rows == table["rows"]


def test_transfer_mode_gives_the_numbers_of_the_shared_mode(mixed, address, tmp_path):
    grid = ["optimizer=gd", "learning_rate=0.1", *CHEAP]
    moved = run_sweep(
        "min-norm", SMOKE, grid, scheduler=address, out=tmp_path, shared_fs=False, progress=False
    )
    cell = moved.cells[0]
    assert cell["status"] == "done" and cell["tries"] == 1
    assert not (moved.path / "cells" / "c0000" / "attempts").exists()  # nothing on the worker
    files = {p.name for p in (moved.path / cell["run"]).iterdir()}
    assert {"config.json", "results.json", "arrays.npz", "metrics.csv"} <= files
    a = numbers(read_json(moved.path / cell["run"] / "results.json")["scalars"])
    b = numbers(read_json(mixed.path / mixed.cells[0]["run"] / "results.json")["scalars"])
    assert {k: v for k, v in a.items() if not timing(k)} == {
        k: v for k, v in b.items() if not timing(k)
    }


def test_resume_runs_only_the_missing_cells(mixed, address, tmp_path):
    folder = tmp_path / mixed.path.name
    shutil.copytree(mixed.path, folder)
    manifest = read_json(folder / "manifest.json")
    kept = manifest["cells"][0]["run"]
    for cell in manifest["cells"][1:3]:  # as if interrupted: pending/running, no run folder
        shutil.rmtree(folder / "cells" / cell["id"])
        cell.update(status="pending", run=None, worker=None)
    manifest["cells"][2]["status"] = "running"
    write_json(folder / "manifest.json", manifest)
    result = resume_sweep(folder, scheduler=address, progress=False)
    cells = result.cells
    assert [c["status"] for c in cells] == ["done", "diverged", "failed", "failed"]
    assert [c["tries"] for c in cells] == [1, 2, 2, 1]  # earlier attempts are kept
    assert cells[0]["run"] == kept and cells[3]["run"] == mixed.cells[3]["run"]
    assert (folder / cells[1]["run"]).is_dir() and (folder / cells[2]["run"]).is_dir()
    assert [r["status"] for r in read_json(folder / "table.json")["rows"]] == [
        c["status"] for c in cells
    ]


def test_interrupted_cli_sweep_resumes(address, tmp_path):
    """SIGINT to the CLI mid-sweep: exit 130, the manifest says pending; resume finishes."""
    env = {
        **os.environ,
        "IMPLICITBIAS_PROGRESS": "0",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": str(TESTS),
    }
    args = ["min-norm", "--preset", SMOKE, "--grid", "learning_rate=0.1,0.12", "--seeds", "2"]
    args += ["--grid", "sgd=false", "--grid", "plane=false", "--workers", "2"]
    cmd = [sys.executable, "-m", "implicitbias", "sweep", *args, "--out", str(tmp_path)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(tmp_path.glob("min-norm-*/cells/*/attempts/1.json"))
            if found:  # a cell is running on a worker
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    (folder,) = tmp_path.glob("min-norm-*")
    assert f"implicitbias sweep --resume {folder}" in err.strip().splitlines()[-1]
    assert "Traceback" not in err, err
    before = read_json(folder / "manifest.json")["cells"]
    assert all(c["status"] in ("pending", "done") for c in before)
    assert any(c["status"] == "pending" for c in before)
    done_before = {c["id"]: c["run"] for c in before if c["status"] == "done"}
    resumed = subprocess.run(
        [sys.executable, "-m", "implicitbias", "sweep", "--resume", str(folder),
         "--scheduler", address],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "4 cells: 4 done, 0 diverged, 0 failed" in resumed.stdout
    after = read_json(folder / "manifest.json")["cells"]
    assert all(c["status"] == "done" for c in after)
    for cell in after:
        runs = [p for p in (folder / "cells" / cell["id"]).iterdir() if p.name != "attempts"]
        assert len(runs) == 1 and str(runs[0].relative_to(folder)) == cell["run"]
        if cell["id"] in done_before:
            assert cell["run"] == done_before[cell["id"]] and cell["tries"] == 1
