"""The command line through a subprocess, as a user types it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "IMPLICITBIAS_PROGRESS": "0", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "implicitbias", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_list_names_every_experiment_and_preset(tmp_path):
    out = cli("list", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("min-norm"))
    for preset in ("smoke", "default", "large", "seed"):
        assert preset in line


def test_run_help_documents_every_field(tmp_path):
    from implicitbias.experiments.min_norm import MinNormConfig

    out = cli("run", "min-norm", "--help", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for name, _, _, doc in MinNormConfig.describe():
        assert name in out.stdout and doc in out.stdout


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["run", "min-nrm"], ["`experiment`", "min-nrm", "Did you mean `min-norm`?"]),
        (["run", "min-norm", "--preset", "smok"], ["`preset`", "'smok'", "`smoke`"]),
        (["run", "min-norm", "--set", "setps=10"], ["'setps'", "Did you mean `steps`?"]),
        (["run", "min-norm", "--set", "steps=abc"], ["`steps`", "an integer", "'abc'"]),
        (["run", "min-norm", "--set", "n=150"], ["`n`", "< p (= 100)", "150"]),
        (["run", "min-norm", "--set", "steps"], ["`--set`", "KEY=VALUE", "'steps'"]),
        (["run", "min-norm", "--set", "optimizer=adma"], ["`optimizer`", "`adam`?"]),
        (["run", "min-norm", "--set", "optimizer=nopkg_q.x:make"], ["`optimizer`", "importable"]),
        (
            ["run", "min-norm", "--set", "optimizer=adam", "--set", "optimizer.b9=1"],
            ["`optimizer.b9`", "accepts"],
        ),
        (["run", "min-norm", "--set", "optimizer=optax:nope"], ["`optimizer`", "attribute"]),
        (["verify", "--preset", "quik"], ["`--preset`", "`quick`"]),
        (["verify", "--only", "min-nrom"], ["`--only`", "`min-norm`"]),
    ],
)
def test_bad_input_is_one_line_exit_2_before_any_work(tmp_path, args, needles):
    out = cli(*args, "--out", str(tmp_path / "runs"), cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    for needle in needles:
        assert needle in lines[0]
    assert not (tmp_path / "runs").exists()  # nothing was run or written


def test_run_with_another_optimizer_and_a_hyperparameter(tmp_path):
    out = cli(
        "run",
        "min-norm",
        "--preset",
        "smoke",
        "--set",
        "optimizer=lion",
        "--set",
        "optimizer.b1=0.8",
        "--out",
        str(tmp_path / "runs"),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    config = json.loads((folder / "config.json").read_text())
    assert config["config"]["optimizer"] == {"name": "lion", "hparams": {"b1": 0.8}}
    results = json.loads((folder / "results.json").read_text())
    assert results["scalars"]["problem"]["optimizer"] == "lion(b1=0.8)"
    verdicts = {c["id"]: c["reason"] for c in results["claims"]}
    assert verdicts["min-norm/pinv"].startswith("not applicable")
    assert "not applicable" in out.stdout


def test_run_then_from_reproduces_the_numbers(tmp_path):
    runs = tmp_path / "runs"
    first = cli(
        "run",
        "min-norm",
        "--preset",
        "smoke",
        "--set",
        "steps=300",
        "--out",
        str(runs),
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    (folder,) = runs.iterdir()
    assert "run folder:" in first.stdout and folder.name.startswith("min-norm-smoke-")
    assert "min-norm/pinv" in first.stdout
    config = json.loads((folder / "config.json").read_text())
    assert config["config"]["steps"] == 300

    again = cli("run", "--from", str(folder / "config.json"), "--out", str(runs), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    folders = sorted(runs.iterdir())
    assert len(folders) == 2  # a new folder; the first one is untouched
    a, b = (json.loads((f / "results.json").read_text())["scalars"] for f in folders)
    # Same config, same machine, same compiled program: the numbers are identical.
    assert a["pinv"] == b["pinv"] and a["sgd"] == b["sgd"] and a["inits"] == b["inits"]

    report = cli("report", str(folders[0]), "--out", str(tmp_path / "r.html"), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    html = (tmp_path / "r.html").read_text()
    assert "min-norm/pinv" in html and "data:image/png;base64," in html
    refused = cli("report", str(folders[0]), "--out", str(tmp_path / "r.html"), cwd=tmp_path)
    assert refused.returncode == 2 and "never overwritten" in refused.stderr


def test_divergence_stops_with_message_and_keeps_the_run(tmp_path):
    runs = tmp_path / "runs"
    out = cli(
        "run",
        "min-norm",
        "--preset",
        "smoke",
        "--set",
        "learning_rate=5",
        "--out",
        str(runs),
        cwd=tmp_path,
    )
    assert out.returncode == 1
    assert "diverged" in out.stderr and "lower the learning rate below 2/L" in out.stderr
    (folder,) = runs.iterdir()
    results = json.loads((folder / "results.json").read_text())
    assert results["status"] == "diverged"
    assert results["scalars"]["divergence"]["step"] > 0


def test_env_reports_backend(tmp_path):
    out = cli("env", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    env = json.loads(out.stdout)
    assert env["backend"] in ("cpu", "gpu", "cuda", "tpu") and env["versions"]["jax"]


@pytest.mark.slow
def test_verify_quick_measures_every_claim(tmp_path):
    record = tmp_path / "verify.json"
    out = cli(
        "verify",
        "--preset",
        "quick",
        "--out",
        str(tmp_path / "runs"),
        "--json",
        str(record),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout[-3000:]  # 0: every claim as the lab expects
    claims = json.loads(record.read_text())["outcomes"]
    from implicitbias.experiments import all_claims

    assert {c["id"] for c in claims} == {c.id for c in all_claims() if "quick" in c.presets}
    assert all(c["error"] is None for c in claims)
