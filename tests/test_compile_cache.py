"""The command line's persistent compilation cache (``implicitbias._compile_cache``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from implicitbias import _compile_cache


def _run(tmp_path: Path, **env: str) -> Path:
    environ = {**os.environ, "IMPLICITBIAS_PROGRESS": "0", **env}
    environ.pop("IMPLICITBIAS_COMPILATION_CACHE", None)
    environ.update(env)
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "implicitbias", "run", "min-norm", "--preset", "smoke"]
    done = subprocess.run(
        [*cmd, "--out", str(out), "--set", "sgd=false", "--set", "plane=false"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return max(out.iterdir(), key=lambda p: p.stat().st_mtime)


def test_a_second_run_reads_every_program_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    first = _run(tmp_path, IMPLICITBIAS_CACHE_DIR=str(cache))
    entries = sorted(p.name for p in cache.iterdir())
    assert entries, "the first run wrote no cache entry"
    second = _run(tmp_path, IMPLICITBIAS_CACHE_DIR=str(cache))
    # Every program of the second run was found: it wrote no new entry.
    assert sorted(p.name for p in cache.iterdir()) == entries
    a = json.loads((first / "results.json").read_text())["scalars"]
    b = json.loads((second / "results.json").read_text())["scalars"]
    assert _numbers(a) == _numbers(b)  # the same numbers from cached programs


def _numbers(tree):
    """The results without their timings."""
    if isinstance(tree, dict):
        return {k: _numbers(v) for k, v in tree.items() if not k.endswith("_seconds")}
    if isinstance(tree, list):
        return [_numbers(v) for v in tree]
    return tree


@pytest.mark.slow
def test_the_cache_can_be_turned_off(tmp_path):
    cache = tmp_path / "cache"
    _run(tmp_path, IMPLICITBIAS_CACHE_DIR=str(cache), IMPLICITBIAS_COMPILATION_CACHE="0")
    assert not cache.exists()


@pytest.mark.slow
def test_an_unwritable_cache_folder_never_fails_a_run(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    folder = _run(tmp_path, IMPLICITBIAS_CACHE_DIR=str(blocker / "sub"))
    assert json.loads((folder / "results.json").read_text())["status"] == "ok"


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"IMPLICITBIAS_CACHE_DIR": "/x/y"}, Path("/x/y")),
        ({"XDG_CACHE_HOME": "/c"}, Path("/c/implicitbias/jax")),
        ({"IMPLICITBIAS_COMPILATION_CACHE": "off", "IMPLICITBIAS_CACHE_DIR": "/x"}, None),
    ],
)
def test_cache_dir_follows_the_environment(monkeypatch, env, expected):
    for name in ("IMPLICITBIAS_CACHE_DIR", "XDG_CACHE_HOME", "IMPLICITBIAS_COMPILATION_CACHE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _compile_cache.cache_dir() == expected
