"""Faults injected into the command line: corrupt and hostile files, bad folders, absurd
values, signals. Each gets a one-line error naming the parameter or file, exit 2 for bad
input, and no folder left behind; never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from implicitbias import lab
from implicitbias.claims import Claim, Criterion, evaluate
from implicitbias.cli import main
from implicitbias.experiments import get_experiment
from implicitbias.runs.results import Results


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    return lab.run("min-norm", "smoke", out=tmp_path_factory.mktemp("good")).path


def _stored(good_run: Path) -> dict:
    return json.loads((good_run / "config.json").read_text())


CORRUPT = {
    "empty": (b"", "empty"),
    "truncated": (b'{"experiment": "min-', "not valid JSON"),
    "binary": (b"\x00\xff\xfe\x00", "not UTF-8"),
    "a list": (b"[1, 2]", "not a JSON object"),
    "config is a string": (
        json.dumps({"experiment": "min-norm", "preset": "smoke", "config": "abc"}).encode(),
        "`config` should be",
    ),
    "experiment is a list": (
        json.dumps({"experiment": ["min-norm"], "preset": "smoke", "config": {}}).encode(),
        "`experiment` should be",
    ),
    "preset is null": (
        json.dumps({"experiment": "min-norm", "preset": None, "config": {}}).encode(),
        "is null",
    ),
    "preset escapes": (
        json.dumps({"experiment": "min-norm", "preset": "../../etc", "config": {}}).encode(),
        "plain name",
    ),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
}


def _one_line_error(capsys, code: int, *words: str) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize("case", list(CORRUPT))
def test_from_and_resume_on_a_corrupt_config(tmp_path, capsys, case):
    data, why = CORRUPT[case]
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_bytes(data)
    (folder / "results.json").write_text('{"status": "running"}')
    out = tmp_path / "runs"
    code = main(["run", "--from", str(folder), "--out", str(out)])
    _one_line_error(capsys, code, "`--from`", "config.json", why)
    code = main(["run", "--resume", str(folder)])
    _one_line_error(capsys, code, "`--resume`", "config.json", why)
    assert not out.exists()


def test_from_with_another_experiments_config_names_the_mismatch(tmp_path, capsys, good_run):
    stored = _stored(good_run)
    stored["experiment"] = "max-margin"
    (tmp_path / "config.json").write_text(json.dumps(stored))
    code = main(["run", "--from", str(tmp_path), "--out", str(tmp_path / "runs")])
    err = _one_line_error(capsys, code, "`--from`", "max-margin", "is not a field")
    assert "--set" not in err


@pytest.mark.parametrize(
    "results, why",
    [(None, "missing"), (b"", "empty"), (b'{"status": "ok", "sca', "not valid JSON")],
)
def test_report_and_resume_on_a_half_written_folder(tmp_path, capsys, good_run, results, why):
    folder = tmp_path / "half"
    folder.mkdir()
    shutil.copy(good_run / "config.json", folder)
    if results is not None:
        (folder / "results.json").write_bytes(results)
    code = main(["report", str(folder), "--out", str(tmp_path / "r.html")])
    _one_line_error(capsys, code, "results.json", why)
    code = main(["run", "--resume", str(folder)])
    _one_line_error(capsys, code, "`--resume`", "results.json", why)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--out", ""], ["`--out`", "not empty"]),
        (["--set", "seed=4294967296"], ["`seed`", "4294967295"]),
        (["--set", "learning_rate=inf"], ["`learning_rate`", "a finite number"]),
        (["--set", "learning_rate=-inf"], ["a finite number"]),
    ],
)
def test_bad_values_are_refused_before_any_folder(tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    code = main(["run", "min-norm", "--preset", "smoke", *argv])
    _one_line_error(capsys, code, *words)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "experiment, argv, words",
    [
        ("min-norm", ["--set", "p=1000000000000"], ["`p`", "<= 1000000"]),
        ("min-norm", ["--set", "steps=1000000000000"], ["`steps`", "<= 1000000000"]),
        ("min-norm", ["--set", "n=50000", "--set", "p=500000"], ["`p`", "n * p"]),
        ("diagonal-net", ["--set", "n=20000", "--set", "d=900000"], ["`d`", "n * d"]),
        ("max-margin", ["--set", "num_logs=1000000000"], ["`num_logs`", "<= 1000000"]),
        ("grokking", ["--set", "p=100003"], ["`p`", "<= 10000"]),
        ("flat-sharp", ["--set", "walkers=1000000000"], ["`walkers`", "<= 10000000"]),
        ("edge-of-stability", ["--set", "hidden=64,100000000"], ["`hidden`", "<= 100000"]),
    ],
)
def test_absurd_sizes_are_refused_before_any_folder(
    tmp_path, capsys, monkeypatch, experiment, argv, words
):
    """Sizes that would allocate terabytes or run for years are refused per field, with
    exit 2 and no folder, instead of an out-of-memory error or a run with no end."""
    monkeypatch.chdir(tmp_path)
    code = main(["run", experiment, "--preset", "smoke", *argv])
    _one_line_error(capsys, code, *words)
    assert list(tmp_path.iterdir()) == []


def test_out_under_a_file_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["run", "min-norm", "--preset", "smoke", "--out", str(blocker / "sub")])
    _one_line_error(capsys, code, "`--out`", "file/sub")


@pytest.mark.parametrize(
    "argv, suggestion",
    [
        (["run", "MIN-NORM"], "`min-norm`"),
        (["run", "min-norm", "--preset", "SMOKE"], "`smoke`"),
        (["rnu"], "`run`"),
        (["verfiy"], "`verify`"),
    ],
)
def test_case_and_typo_suggestions(capsys, argv, suggestion):
    code = main(argv)
    _one_line_error(capsys, code, f"Did you mean {suggestion}?")


def test_a_duplicated_set_key_warns(tmp_path, capsys):
    code = main(
        [
            "run",
            "min-norm",
            "--preset",
            "smoke",
            "--set",
            "seed=1",
            "--set",
            "seed=2",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "--set seed is given twice" in err and "seed=2" in err
    (folder,) = tmp_path.iterdir()
    assert json.loads((folder / "config.json").read_text())["config"]["seed"] == 2


def test_numpy_scalars_are_values():
    cls = get_experiment("min-norm").config_cls
    cfg = cls.make("smoke", {"seed": np.int64(5), "sgd": np.bool_(False)})
    assert cfg.seed == 5 and type(cfg.seed) is int and cfg.sgd is False


def test_verify_only_takes_a_single_name():
    tasks = lab.verify_plan("quick", "min-norm")
    assert tasks and {t.experiment for t in tasks} == {"min-norm"}


def test_a_nan_measurement_could_not_be_measured():
    claim = Claim(
        id="x/nan",
        statement="s",
        source="s",
        quantity="q",
        measure=lambda r: float("nan"),
        criterion=Criterion("<=", 1.0),
        presets={"quick": "default"},
    )
    outcome = evaluate(claim, Results())
    assert outcome.verdict == "error" and "nan" in outcome.error and outcome.holds is None
    inf = Claim(**{**claim.__dict__, "measure": lambda r: [float("inf"), float("-inf")]})
    assert evaluate(inf, Results()).verdict == "error"


def test_run_files_follow_the_umask(good_run):
    mask = os.umask(0o022)
    os.umask(mask)
    for path in good_run.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path.name


def _cli(*args: str, env: dict | None = None, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("implicitbias")
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "IMPLICITBIAS_PROGRESS": "0", **(env or {})},
        timeout=600,
    )


def test_sigterm_stops_like_ctrl_c_and_the_run_resumes(tmp_path, good_run):
    """A SIGTERM right after the first checkpoint: exit 130 with how to resume, the folder
    printed at the start is left `running`, and --resume gives the uninterrupted numbers."""
    env = {"IMPLICITBIAS_KILL_AFTER_CHECKPOINTS": "1", "IMPLICITBIAS_KILL_SIGNAL": "TERM"}
    done = _cli("run", "min-norm", "--preset", "smoke", "--out", "runs", env=env, cwd=tmp_path)
    assert done.returncode == 130, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "interrupted" in done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith("run folder: ") and "--resume" in first
    (folder,) = (tmp_path / "runs").iterdir()
    assert str(folder.relative_to(tmp_path)) in first
    assert json.loads((folder / "results.json").read_text())["status"] == "running"
    resumed = _cli("run", "--resume", str(folder), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    again = json.loads((folder / "results.json").read_text())
    reference = json.loads((good_run / "results.json").read_text())
    assert again["status"] == "ok"
    assert _numbers(again["scalars"]) == _numbers(reference["scalars"])
    assert [c["values"] for c in again["claims"]] == [c["values"] for c in reference["claims"]]


def _numbers(tree):
    """The scalars without wall-clock timings (compile and run seconds differ by nature)."""
    if isinstance(tree, dict):
        return {k: _numbers(v) for k, v in tree.items() if not k.endswith("_seconds")}
    return tree


def test_resume_refuses_a_folder_another_process_is_writing(tmp_path, capsys, good_run):
    from implicitbias.runs import store

    folder = tmp_path / good_run.name
    shutil.copytree(good_run, folder)
    record = json.loads((folder / "results.json").read_text())
    (folder / "results.json").write_text(json.dumps({**record, "status": "running"}))
    holder = subprocess.Popen(  # another process holding the folder's lock
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
            str(folder / store.LOCK_FILE),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        code = main(["run", "--resume", str(folder)])
        _one_line_error(capsys, code, "`--resume`", "another implicitbias process")
    finally:
        holder.kill()
        holder.wait()
    assert main(["run", "--resume", str(folder)]) == 0  # the lock died with its process


def _disk_full(*args, **kwargs):
    import errno

    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_at_the_start_leaves_nothing(tmp_path, capsys, monkeypatch):
    from implicitbias.runs import store

    monkeypatch.setattr(store, "write_config", _disk_full)
    code = main(["run", "min-norm", "--preset", "smoke", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "No space left" in err, err
    assert list(tmp_path.iterdir()) == []  # no empty run folder left behind


def test_a_full_disk_at_the_end_keeps_the_run_resumable(tmp_path, capsys, monkeypatch):
    from implicitbias.runs import store

    monkeypatch.setattr(store, "save_into", _disk_full)
    code = main(["run", "min-norm", "--preset", "smoke", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and "No space left" in err[-1] and "--resume" in err[-1], err
    (folder,) = tmp_path.iterdir()
    assert json.loads((folder / "results.json").read_text())["status"] == "running"
    monkeypatch.undo()
    assert main(["run", "--resume", str(folder)]) == 0
    assert json.loads((folder / "results.json").read_text())["status"] == "ok"


def test_an_unexpected_exception_is_one_line_without_traceback(capsys, monkeypatch):
    monkeypatch.delenv("IMPLICITBIAS_DEBUG", raising=False)
    monkeypatch.setattr(lab, "verify_plan", lambda *a: (_ for _ in ()).throw(KeyError("x\ny")))
    code = main(["verify", "--only", "min-norm"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "internal error: KeyError" in err


def test_edge_of_stability_where_every_step_diverges_is_a_diverged_run(tmp_path, capsys):
    """Every member's loss becomes inf (eta = 1000 against 2/S ~ 0.9): the run is marked
    diverged, exits 1 with the step, value and hint, judges no claim, and keeps its arrays."""
    argv = ["run", "edge-of-stability", "--preset", "smoke", "--out", str(tmp_path)]
    code = main([*argv, "--set", "learning_rates=1000", "--set", "momentum_learning_rates=1000"])
    err = capsys.readouterr().err
    assert code == 1
    assert "training diverged: loss = inf at step" in err and "lower the step size 1000" in err
    assert "Traceback" not in err
    (folder,) = tmp_path.iterdir()
    record = json.loads((folder / "results.json").read_text())
    assert record["status"] == "diverged" and record["claims"] == []
    assert len(record["scalars"]["divergences"]) == 2


def test_edge_of_stability_where_one_step_diverges_warns_and_measures_the_rest(tmp_path, capsys):
    argv = ["run", "edge-of-stability", "--preset", "smoke", "--out", str(tmp_path)]
    code = main([*argv, "--set", "learning_rates=1000"])
    captured = capsys.readouterr()
    assert code == 0
    assert "warning: 1 of 2 members diverged" in captured.err
    (folder,) = tmp_path.iterdir()
    record = json.loads((folder / "results.json").read_text())
    assert record["status"] == "ok" and record["claims"]


def test_max_margin_loss_underflow_is_a_warning(tmp_path, capsys):
    """learning_rate = 1e6: exp(-margin) underflows to exactly 0 after one step and the
    iterate freezes; the run says so instead of reporting a frozen direction silently."""
    argv = ["run", "max-margin", "--preset", "smoke", "--out", str(tmp_path)]
    assert main([*argv, "--set", "learning_rate=1e6"]) == 0
    err = capsys.readouterr().err
    assert "warning: the logistic loss underflowed to exactly 0 at step 1" in err
    (folder,) = tmp_path.iterdir()
    record = json.loads((folder / "results.json").read_text())
    assert record["scalars"]["main"]["loss_underflow_step"] == 1
    assert min(record["scalars"]["main"]["final_loss"]) == 0.0


def test_max_margin_at_its_default_step_does_not_warn(tmp_path, capsys):
    assert main(["run", "max-margin", "--preset", "smoke", "--out", str(tmp_path)]) == 0
    assert "underflowed" not in capsys.readouterr().err
