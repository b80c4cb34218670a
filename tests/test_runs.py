"""Run folders: atomic writes, fresh folder names, save/load round trips, lab.run/run_from."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest

from implicitbias import lab
from implicitbias.claims import Outcome
from implicitbias.errors import ConfigError, ImplicitBiasError
from implicitbias.experiments.min_norm import MinNormConfig
from implicitbias.runs import Results, figure_files, load, new_run_dir, save, store
from implicitbias.runs.atomic import (
    read_json,
    to_jsonable,
    write_bytes,
    write_json,
    write_npz,
    write_text,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ atomic writes


def test_atomic_writes_leave_no_temporary_file(tmp_path: Path):
    write_bytes(tmp_path / "a.bin", b"\x00\x01")
    write_text(tmp_path / "b.txt", "héllo\n")
    write_json(tmp_path / "c.json", {"x": np.float64(1.5), "y": (1, 2), "z": np.arange(3)})
    write_npz(tmp_path / "d.npz", {"w": np.arange(6.0).reshape(2, 3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.txt", "c.json", "d.npz"]
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "héllo\n"
    assert read_json(tmp_path / "c.json") == {"x": 1.5, "y": [1, 2], "z": [0, 1, 2]}
    with np.load(tmp_path / "d.npz") as npz:
        np.testing.assert_array_equal(npz["w"], np.arange(6.0).reshape(2, 3))


def test_atomic_write_replaces_an_existing_file(tmp_path: Path):
    target = tmp_path / "f.txt"
    write_text(target, "old")
    write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failing_write_keeps_the_old_file(tmp_path: Path, monkeypatch, failing):
    target = tmp_path / "results.json"
    write_json(target, {"version": 1})

    def boom(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError, match="disk on fire"):
        write_json(target, {"version": 2})
    monkeypatch.undo()
    assert read_json(target) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_to_jsonable():
    out = to_jsonable(
        {
            1: np.int64(3),
            "b": np.bool_(True),
            "f": np.float32(0.5),
            "t": (np.arange(2), Path("a/b")),
            "bad": [math.inf, np.nan],
        }
    )
    assert out == {"1": 3, "b": True, "f": 0.5, "t": [[0, 1], "a/b"], "bad": ["inf", "nan"]}
    assert type(out["1"]) is int and type(out["b"]) is bool and type(out["f"]) is float
    json.dumps(out, allow_nan=False)  # strict JSON


# ------------------------------------------------------------------ run folder names


def test_new_run_dir_never_reuses_a_folder(tmp_runs: Path):
    paths = [new_run_dir(tmp_runs, "exp", "quick") for _ in range(60)]
    assert len(set(paths)) == 60
    for path in paths:
        assert path.is_dir() and path.parent == tmp_runs
        assert path.name.startswith("exp-quick-")
        assert list(path.iterdir()) == []


def test_new_run_dir_creates_the_root(tmp_path: Path):
    path = new_run_dir(tmp_path / "a" / "b", "exp", "p")
    assert path.is_dir() and path.parent == tmp_path / "a" / "b"


def test_new_run_dir_does_not_return_an_existing_folder(tmp_runs: Path, monkeypatch):
    monkeypatch.setattr(store.secrets, "token_hex", lambda nbytes: "abcdef")
    first = new_run_dir(tmp_runs, "exp", "quick")
    (first / "keep.txt").write_text("mine")
    try:
        second = new_run_dir(tmp_runs, "exp", "quick")
    except ImplicitBiasError:
        second = None
    assert second != first  # a new name (the clock ticked) or an error, never the old one
    assert (first / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in first.iterdir()) == ["keep.txt"]


def test_new_run_dir_raises_when_every_name_is_taken(tmp_runs: Path, monkeypatch):
    monkeypatch.setattr(store.secrets, "token_hex", lambda nbytes: "abcdef")
    monkeypatch.setattr(store, "utc_stamp", lambda: "20250101T000000Z")
    first = new_run_dir(tmp_runs, "exp", "quick")
    assert first.name == "exp-quick-20250101T000000Z-abcdef"
    with pytest.raises(ImplicitBiasError, match="could not create a new run folder"):
        new_run_dir(tmp_runs, "exp", "quick")
    assert [p.name for p in tmp_runs.iterdir()] == [first.name]


# ------------------------------------------------------------------ save / load


def _results() -> Results:
    rs = np.random.RandomState(0)
    steps = np.array([0, 1, 3, 10, 30], dtype=np.int64)
    outcome = Outcome(
        id="x/claim",
        statement="s",
        source="src",
        quantity="q",
        criterion="<= 1e-08",
        measured=1.25e-9,
        holds=True,
    )
    failed = Outcome(
        id="x/broken",
        statement="s2",
        source="src",
        quantity="q",
        criterion="> 1",
        measured=None,
        holds=None,
        error="KeyError: 'a'",
    )
    return Results(
        experiment="exp",
        preset="quick",
        config={"n": 5, "lr": 0.1, "tags": [1, 2]},
        scalars={
            "a": {"b": 1.0 / 3.0, "c": [1, 2.5, -3e-300], "d": {"e": True, "f": None}},
            "g": np.float64(2.0) ** 0.5,
            "h": np.int64(7),
            "i": "text",
            "j": 1e300,
        },
        steps=steps,
        arrays={
            "w": rs.randn(4, 3),
            "mask": np.array([True, False]),
            "empty": np.zeros((0, 2)),
            "f32": rs.randn(3).astype(np.float32),
        },
        metrics={"loss": rs.rand(5, 2), "dist": rs.rand(5, 2) * 1e-17},
        claims=[outcome.to_dict(), failed.to_dict()],
        meta={"versions": {"jax": "x"}, "wall_seconds": 1.5},
        status="ok",
        message="",
    )


def test_save_load_round_trip(tmp_runs: Path):
    original = _results()
    path = save(original, tmp_runs)
    assert original.path == path and path.parent == tmp_runs
    assert path.name.startswith("exp-quick-")
    loaded = load(path)
    assert loaded.path == path
    assert (loaded.experiment, loaded.preset, loaded.status, loaded.message) == (
        "exp",
        "quick",
        "ok",
        "",
    )
    assert loaded.config == original.config
    assert loaded.scalars == {
        "a": {"b": 1.0 / 3.0, "c": [1, 2.5, -3e-300], "d": {"e": True, "f": None}},
        "g": 2.0**0.5,
        "h": 7,
        "i": "text",
        "j": 1e300,
    }
    assert loaded.claims == original.claims
    assert loaded.meta == original.meta
    assert set(loaded.arrays) == set(original.arrays)
    np.testing.assert_array_equal(loaded.steps, original.steps)
    for name, value in original.arrays.items():
        assert loaded.arrays[name].dtype == value.dtype, name
        np.testing.assert_array_equal(loaded.arrays[name], value)
    assert set(loaded.metrics) == {"loss", "dist"}
    for name, value in original.metrics.items():
        np.testing.assert_array_equal(loaded.metrics[name], value)
    assert loaded.get("a.d.e") is True
    with pytest.raises(KeyError, match="a.zz"):
        loaded.get("a.zz")


def test_metrics_csv_is_exact_long_format(tmp_runs: Path):
    original = _results()
    path = save(original, tmp_runs)
    rows = list(csv.reader(io.StringIO((path / "metrics.csv").read_text())))
    assert rows[0] == ["step", "member", "loss", "dist"]
    body = rows[1:]
    assert len(body) == 5 * 2
    for row in body:
        step, member = int(row[0]), int(row[1])
        i = int(np.flatnonzero(original.steps == step)[0])
        assert float(row[2]) == original.metrics["loss"][i, member]  # repr round-trips
        assert float(row[3]) == original.metrics["dist"][i, member]


def test_non_finite_scalars_round_trip_as_floats(tmp_runs: Path):
    original = Results("exp", "quick", {}, scalars={"rate": math.nan, "top": math.inf})
    loaded = load(save(original, tmp_runs))
    assert isinstance(loaded.scalars["rate"], float) and math.isnan(loaded.scalars["rate"])
    assert loaded.scalars["top"] == math.inf


def test_load_rejects_a_folder_that_is_not_a_run(tmp_path: Path):
    with pytest.raises(ImplicitBiasError, match="a run folder \\(with config.json\\)"):
        load(tmp_path)


# ------------------------------------------------------------------ lab.run and run_from


@pytest.fixture(scope="module")
def saved_smoke(tmp_path_factory) -> Results:
    return lab.run("min-norm", "smoke", out=tmp_path_factory.mktemp("runs"))


_TIMINGS = {"compile_seconds", "run_seconds"}


def _assert_same_numbers(a: Any, b: Any, where: str = "") -> None:
    """Nested dicts/lists equal; floats to 1e-12 relative (timings skipped)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for key in a:
            if key not in _TIMINGS:
                _assert_same_numbers(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, z) in enumerate(zip(a, b, strict=True)):
            _assert_same_numbers(x, z, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        if math.isnan(a):
            assert isinstance(b, float) and math.isnan(b), where
        else:
            assert b == pytest.approx(a, rel=1e-12, abs=0), where
    else:
        assert a == b, where


def test_lab_run_writes_the_run_folder(saved_smoke: Results):
    path = saved_smoke.path
    assert path is not None and path.is_dir()
    assert path.name.startswith("min-norm-smoke-")
    names = {p.name for p in path.iterdir()}
    for name in ("config.json", "meta.json", "results.json", "arrays.npz", "metrics.csv"):
        assert name in names, name
    figures = ["distance", "norms", "ridge", "plane"]
    for fig in figures:
        png, svg = path / f"{fig}.png", path / f"{fig}.svg"
        assert png.read_bytes()[:8] == PNG_MAGIC, fig
        assert b"<svg" in svg.read_bytes()[:2000], fig
    assert [p.stem for p in figure_files(path)] == sorted(figures)
    assert not [n for n in names if n.endswith(".tmp")]


def test_lab_run_config_json_is_complete(saved_smoke: Results):
    stored = read_json(saved_smoke.path / "config.json")
    assert stored["experiment"] == "min-norm" and stored["preset"] == "smoke"
    assert stored["config"] == MinNormConfig.make("smoke").to_dict()


def test_lab_run_meta_json(saved_smoke: Results):
    meta = read_json(saved_smoke.path / "meta.json")
    assert meta["versions"]["jax"] == jax.__version__
    assert meta["backend"] == jax.default_backend()
    assert isinstance(meta["wall_seconds"], float) and 0 < meta["wall_seconds"] < 600
    assert meta["devices"] and meta == saved_smoke.meta


def test_lab_run_results_and_arrays_match_what_it_returned(saved_smoke: Results):
    loaded = load(saved_smoke.path)
    assert loaded.scalars == json.loads(json.dumps(to_jsonable(saved_smoke.scalars)))
    assert loaded.claims == saved_smoke.claims
    for name, value in saved_smoke.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[name], value, err_msg=name)
    for name, value in saved_smoke.metrics.items():
        np.testing.assert_array_equal(loaded.metrics[name], value, err_msg=name)
    # The stored numbers are the ones of the problem: X^+ y from lstsq.
    X, y = loaded.arrays["X"], loaded.arrays["y"]
    np.testing.assert_allclose(
        loaded.arrays["w_star"], np.linalg.lstsq(X, y, rcond=None)[0], rtol=0, atol=1e-12
    )


def test_run_from_reproduces_the_numbers(saved_smoke: Results, tmp_runs: Path):
    again = lab.run_from(saved_smoke.path / "config.json", out=tmp_runs)
    assert again.path is not None and again.path.parent == tmp_runs
    assert again.path != saved_smoke.path
    assert (again.experiment, again.preset) == ("min-norm", "smoke")
    assert again.config == saved_smoke.config
    first = read_json(saved_smoke.path / "results.json")
    second = read_json(again.path / "results.json")
    # The same machine should give bit-identical numbers; 1e-12 relative is the contract.
    _assert_same_numbers(first["scalars"], second["scalars"])
    assert first["claims"] == second["claims"]
    for name in ("final_params", "w_star", "targets", "w_random"):
        np.testing.assert_allclose(
            again.arrays[name], saved_smoke.arrays[name], rtol=1e-12, atol=0, err_msg=name
        )
    np.testing.assert_allclose(
        again.metrics["dist"], saved_smoke.metrics["dist"], rtol=1e-12, atol=1e-15
    )  # tail values are round-off ~1e-16


def test_run_from_accepts_the_folder_and_rejects_other_paths(saved_smoke: Results, tmp_path: Path):
    again = lab.run_from(saved_smoke.path, out=None)
    assert again.path is None
    assert again.get("pinv.norm_gd") == pytest.approx(saved_smoke.get("pinv.norm_gd"), rel=1e-12)
    with pytest.raises(ConfigError) as err:
        lab.run_from(tmp_path / "missing.json", out=None)
    assert err.value.param == "--from"
    bogus = tmp_path / "config.json"
    bogus.write_text('{"not": "a config"}')
    with pytest.raises(ConfigError, match="a JSON file written by implicitbias"):
        lab.run_from(bogus, out=None)


def test_lab_run_restores_x64(saved_smoke: Results):
    assert jax.config.jax_enable_x64  # conftest's setting survives lab.run
    jax.config.update("jax_enable_x64", False)
    try:
        res = lab.run("min-norm", "smoke", {"sgd": False, "plane": False, "steps": 50}, out=None)
        assert not jax.config.jax_enable_x64
    finally:
        jax.config.update("jax_enable_x64", True)
    assert res.arrays["final_params"].dtype == np.float64  # the run itself used float64


# ------------------------------------------------------------------ resume


def test_interrupted_run_resumes_to_the_same_numbers(tmp_path: Path, monkeypatch):
    """A run killed mid-way finishes from its checkpoints with the uninterrupted numbers."""
    import importlib

    train_module = importlib.import_module("implicitbias.engine.train")

    overrides = {"steps": 400, "sgd_steps": 3000}
    whole = lab.run("min-norm", "smoke", overrides, out=tmp_path / "whole")

    real = train_module._compiled_chunk
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 25:  # inside the SGD call, after some of its chunks were saved
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "_compiled_chunk", flaky)
    with pytest.raises(KeyboardInterrupt):
        lab.run("min-norm", "smoke", overrides, out=tmp_path / "cut")
    monkeypatch.setattr(train_module, "_compiled_chunk", real)
    (folder,) = (tmp_path / "cut").iterdir()
    assert json.loads((folder / "results.json").read_text())["status"] == "running"
    saved = sorted(p.name for p in (folder / "checkpoints").iterdir())
    assert saved[:2] == ["train-000.npz", "train-001.npz"]  # GD done, SGD part-way

    resumed = lab.resume(folder)
    assert resumed.path == folder and resumed.status == "ok"
    assert not (folder / "checkpoints").exists()
    assert resumed.scalars["pinv"] == whole.scalars["pinv"]
    assert resumed.scalars["sgd"] == whole.scalars["sgd"]
    np.testing.assert_array_equal(resumed.arrays["sgd_dist"], whole.arrays["sgd_dist"])
    with pytest.raises(ConfigError, match="never overwritten"):
        lab.resume(folder)
