"""The contract every registered experiment passes, with no per-experiment test code.

Like optax's test battery over its optimizers: an experiment added to the package is
collected here by name. For each one:

* the smoke preset runs, draws its figures, and measures every claim that applies to it
  (none is an error; a claim whose part the config switches off is *not applicable*);
* ``--from config.json`` reproduces its numbers;
* a run killed with SIGKILL right after its first checkpoint resumes in a new process and
  ends with the numbers of an uninterrupted run;
* it runs with registry optimizers and with a user's factory given by import path.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from implicitbias import lab
from implicitbias.experiments.registry import experiments
from implicitbias.runs import store

NAMES = sorted(experiments())
ROOT = Path(__file__).resolve().parents[1]
USER_FACTORY = "user_optim:clipped_gd"
FAST_OPTIMIZERS = (USER_FACTORY,)  # a user factory by import path: the contract users rely on
SLOW_OPTIMIZERS = ("lion", "heavy_ball", "adam", "muon", "adafactor")


def _numbers(node, prefix=""):
    """Flatten the numeric leaves of a scalars tree; timings are left out."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if "seconds" in key or "per_second" in key or key in ("wall", "time"):
                continue
            out.update(_numbers(value, f"{prefix}{key}."))
        return out
    if isinstance(node, list):
        out = {}
        for i, value in enumerate(node):
            out.update(_numbers(value, f"{prefix}{i}."))
        return out
    if isinstance(node, bool) or not isinstance(node, int | float):
        return {prefix: node} if isinstance(node, str | bool) else {}
    return {prefix: float(node)}


def assert_same_numbers(a, b, rtol=1e-9):
    """Equal scalars (NaN equals NaN). The tolerance covers summation order only: the same
    compiled program on the same machine gives bit-identical results in practice."""
    na, nb = _numbers(a.scalars), _numbers(b.scalars)
    assert na.keys() == nb.keys()
    for key, x in na.items():
        y = nb[key]
        if isinstance(x, float) and isinstance(y, float):
            if math.isnan(x) or math.isnan(y):
                assert math.isnan(x) and math.isnan(y), key
            else:
                assert math.isclose(x, y, rel_tol=rtol, abs_tol=1e-300), (key, x, y)
        else:
            assert x == y, (key, x, y)
    ma = [c.get("measured") for c in a.claims]
    mb = [c.get("measured") for c in b.claims]
    assert [m is None for m in ma] == [m is None for m in mb]  # the same claims applied
    assert [m for m in ma if m is not None] == pytest.approx(
        [m for m in mb if m is not None], rel=rtol, nan_ok=True
    )


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """One uninterrupted smoke run of each experiment, shared by the tests below."""
    cache: dict[str, object] = {}
    root = tmp_path_factory.mktemp("contract")

    def get(name):
        if name not in cache:
            cache[name] = lab.run(name, "smoke", out=root / "runs")
        return cache[name]

    return get


def _spec_fields(experiment):
    cls = experiment.config_cls
    return [f for f in cls.__dataclass_fields__.values() if "runtime" in f.metadata]


@pytest.mark.parametrize("name", NAMES)
def test_declares_an_optimizer_field(name):
    """Every experiment that trains takes its optimizer from the config."""
    assert _spec_fields(experiments()[name]), f"{name} has no optimizer field"


@pytest.mark.parametrize("name", NAMES)
def test_smoke_runs_plots_and_measures_every_claim(name, smoke_runs):
    results = smoke_runs(name)
    assert results.status == "ok"
    assert store.figure_files(results.path), "no figure was drawn"
    experiment = experiments()[name]
    expected = {c.id for c in experiment.claims if c.applies_to("smoke")}
    assert {c["id"] for c in results.claims} == expected
    for claim in results.claims:
        assert claim["error"] is None, (claim["id"], claim["error"])
    for claim in experiment.claims:
        if isinstance(claim.measure, str):
            assert claim.measure in experiment.keys


@pytest.mark.parametrize("name", NAMES)
def test_from_config_reproduces_the_numbers(name, smoke_runs, tmp_path):
    first = smoke_runs(name)
    again = lab.run_from(first.path / store.CONFIG_FILE, out=tmp_path)
    assert again.path != first.path
    assert_same_numbers(first, again)


def _cli(*args, env=None, timeout=600):
    env = {**os.environ, "IMPLICITBIAS_PROGRESS": "0", **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "implicitbias", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("name", NAMES)
def test_resume_after_sigkill_in_a_new_process(name, smoke_runs, tmp_path):
    killed = _cli(
        "run",
        name,
        "--preset",
        "smoke",
        "--out",
        str(tmp_path),
        env={"IMPLICITBIAS_KILL_AFTER_CHECKPOINTS": "1"},
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert store.load(folder).status == "running"
    assert any((folder / "checkpoints").glob("train-*.npz"))
    resumed = _cli("run", "--resume", str(folder))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_same_numbers(smoke_runs(name), store.load(folder))


def _with_optimizer(name, optimizer, tmp_path):
    experiment = experiments()[name]
    overrides = {}
    for field in _spec_fields(experiment):
        listed = isinstance(field.default, tuple)  # a list of specs, like geometry's methods
        overrides[field.name] = [optimizer] if listed else optimizer
    results = lab.run(name, "smoke", overrides, out=tmp_path)
    assert results.status == "ok"
    for claim in results.claims:
        assert claim["error"] is None, (claim["id"], claim["error"])
    return results


@pytest.mark.parametrize("optimizer", FAST_OPTIMIZERS)
@pytest.mark.parametrize("name", NAMES)
def test_runs_with_another_optimizer(name, optimizer, tmp_path):
    _with_optimizer(name, optimizer, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", SLOW_OPTIMIZERS)
@pytest.mark.parametrize("name", NAMES)
def test_runs_with_more_registry_optimizers(name, optimizer, tmp_path):
    _with_optimizer(name, optimizer, tmp_path)
