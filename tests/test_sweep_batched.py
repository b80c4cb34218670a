"""Batching inside a cell: an axis over a declared batch field is one vmapped program.

``edge-of-stability`` declares ``batch_axes={"learning_rates": "members.{i}"}``. The real
sweeps are its ``smoke`` preset without momentum members and gradient flow (as the
``edge-of-stability/phase`` sweep preset), two step sizes: batched (one cell) and with
``batch=False`` (one cell, i.e. one ``lab.run``, per step size), on one local cluster of two
workers. About 25-35 s on 2 cores.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from implicitbias.cli import main
from implicitbias.errors import ConfigError
from implicitbias.experiments import get_experiment
from implicitbias.runs.atomic import read_json
from implicitbias.sweep import resume_sweep, run_sweep
from implicitbias.sweep.grid import build_axes, cells_of
from implicitbias.sweep.table import scalar_leaves

EOS = "edge-of-stability"
RATES = (0.5, 0.8)
FIXED = {"momentum_learning_rates": ((),), "flow": (False,)}
GRID = {"learning_rates": RATES, **FIXED}
# Member i's first sharpness estimate is a cold 10-step Lanczos whose start vector comes
# from jax.random.split(PRNGKey(seed), number of members)[i]: it depends on how many members
# run together, and 10 iterations are accurate to ~1e-4 there (measured 7.5e-5). Every
# later estimate is warm-started from the previous top eigenvector and converged, so the
# trajectories agree to round-off (measured <= 1e-9 relative); 1e-6 leaves a margin.
START_VECTOR_KEYS = ("sharpness_init", "init_ratio")
RTOL_START, RTOL = 1e-3, 1e-6


def test_the_declaration_is_checked_at_registration():
    eos = get_experiment(EOS)
    assert eos.batch_axes == {"learning_rates": "members.{i}"}
    eos.check()
    with pytest.raises(ValueError, match="not a tuple field"):
        dataclasses.replace(eos, batch_axes={"steps": "members.{i}"}).check()
    with pytest.raises(ValueError, match="not a tuple field"):
        dataclasses.replace(eos, batch_axes={"nope": "members.{i}"}).check()
    with pytest.raises(ValueError, match="template"):
        dataclasses.replace(eos, batch_axes={"learning_rates": "members"}).check()
    assert get_experiment("min-norm").batch_axes == {}


def test_the_grid_folds_scalar_values_of_a_batch_field():
    eos = get_experiment(EOS)
    axes = build_axes(eos, ["learning_rates=0.25,0.4,0.6,0.8"], seeds=2)
    assert axes[0].values == (0.25, 0.4, 0.6, 0.8) and axes[0].batch == "members.{i}"
    cells = cells_of(eos, "smoke", axes)
    assert [c.overrides for c in cells] == [
        {"learning_rates": (0.25, 0.4, 0.6, 0.8), "seed": s} for s in (0, 1)
    ]
    ranged = build_axes(eos, ["learning_rates=0.2:0.8:4"])
    assert ranged[0].batch and len(cells_of(eos, "smoke", ranged)) == 1
    # Opt-out, and values written as tuples: one cell per value.
    for grid, batch in (
        (["learning_rates=0.25,0.4"], False),
        (["learning_rates=[0.25],[0.4]"], True),
    ):
        axes = build_axes(eos, grid, batch=batch)
        assert axes[0].batch is None and len(cells_of(eos, "smoke", axes)) == 2
    assert len(cells_of(eos, "smoke", build_axes(eos, GRID, batch=False))) == 2
    # Validation before any work, as for every axis.
    for bad in ("learning_rates=0.5,abc", "learning_rates=0.5,0.5"):
        with pytest.raises(ConfigError):
            build_axes(eos, [bad])
    with pytest.raises(ConfigError, match="> 0"):
        cells_of(eos, "smoke", build_axes(eos, ["learning_rates=0.5,-1"]))
    assert main(["sweep", EOS, "--preset", "smoke", "--grid", "learning_rates=0.5,-1"]) == 2


# ---- real sweeps ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def address():
    from implicitbias.sweep.runner import dask_client

    with dask_client(workers=2) as client:
        yield client.scheduler.address


@pytest.fixture(scope="module")
def batched(address, tmp_path_factory):
    out = tmp_path_factory.mktemp("batched")
    return run_sweep(EOS, "smoke", GRID, scheduler=address, out=out, progress=False)


@pytest.fixture(scope="module")
def separate(address, tmp_path_factory):
    out = tmp_path_factory.mktemp("separate")
    return run_sweep(EOS, "smoke", GRID, scheduler=address, out=out, progress=False, batch=False)


def test_a_batched_axis_is_one_cell_and_one_row_per_member(batched, separate):
    assert len(batched.cells) == 1 and batched.cells[0]["status"] == "done"
    assert list(batched.cells[0]["overrides"]["learning_rates"]) == list(RATES)
    record = read_json(batched.path / "sweep.json")
    assert record["batched_axes"] == [
        {"name": "learning_rates", "values": list(RATES), "prefix": "members.{i}"}
    ]
    assert record["axes"][0] == {"name": "learning_rates", "values": list(RATES)}
    table = read_json(batched.path / "table.json")
    rows = table["rows"]
    assert [r["learning_rates"] for r in rows] == list(RATES)
    assert {r["cell"] for r in rows} == {"c0000"}

    # The opt-out: one cell (one lab.run) per step size, nothing batched.
    assert [c["status"] for c in separate.cells] == ["done", "done"]
    assert read_json(separate.path / "sweep.json")["batched_axes"] == []

    shared_keys = {"scalar:data.params", "scalar:data.n"}
    compared = 0
    for row, cell in zip(rows, separate.cells, strict=True):
        assert not any(k.startswith("scalar:members.") for k in row)  # re-keyed
        assert shared_keys <= set(row)  # the cell's shared scalars are kept
        ref = read_json(separate.path / cell["run"] / "results.json")["scalars"]
        assert ref["members"][0]["learning_rate"] == row["learning_rates"]
        expected = scalar_leaves(ref["members"][0])
        got = {
            k[len("scalar:member.") :]: v for k, v in row.items() if k.startswith("scalar:member.")
        }
        assert set(got) == set(expected)
        for key, want in expected.items():
            rtol = RTOL_START if key in START_VECTOR_KEYS else RTOL
            if isinstance(want, float) and math.isnan(want):
                assert math.isnan(got[key]), key
            else:
                assert got[key] == pytest.approx(want, rel=rtol, abs=1e-12), key
            compared += 1
        assert row["scalar:member.median_ratio_second_half"] > 0.5
    assert compared >= 20
    # From the saved manifest (overrides as JSON lists), the table is the same.
    assert resume_sweep(batched.path, progress=False).rows == rows


def test_the_report_draws_a_batched_axis(batched):
    from implicitbias.sweep import report as sr

    page = sr.render_sweep_report(batched.path, value=["member.median_ratio_second_half"])
    assert page.startswith("<!DOCTYPE html>")
    assert "Line plots" in page and "learning_rates" in page and "batched_axes" in page
    points = page[page.index('class="points"') :]
    for row in read_json(batched.path / "table.json")["rows"]:
        value = row["scalar:member.median_ratio_second_half"]
        assert sr.format_number(value) in points
