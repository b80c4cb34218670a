"""scripts/verify_docs.py: the docs' verify numbers are regenerated from verify.json only."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from implicitbias.claims import Claim, Criterion, evaluate
from implicitbias.runs.results import Results

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "verify_docs.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("verify_docs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _record(level: str, value: float, wall: float) -> dict:
    claim = Claim(
        id="min-norm/pinv",
        statement="s",
        source="src",
        quantity="distance | to pinv",
        measure=lambda r: [value, value * 2],
        criterion=Criterion("<=", 1e-8),
        presets={"quick": "default"},
    )
    o = evaluate(claim, Results())
    return {
        "level": level,
        "jobs": 1,
        "wall_seconds": wall,
        "peak_rss_mb": 2048.0,
        "summary": {"line": "1 as expected (1 hold, 0 refuted as expected), 0 unexpected"},
        "environment": {"backend": "cpu", "cpus": 2, "versions": {"jax": "9.9", "python": "3"}},
        "outcomes": [{**o.to_dict(), "verdict": o.verdict, "status": o.status, "spread": o.spread}],
    }


def _folder(tmp_path: Path, name: str, record: dict) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "verify.json").write_text(json.dumps(record))
    return folder


def test_blocks_are_rewritten_from_the_folders_and_check_detects_staleness(tmp_path, script):
    root = tmp_path / "repo"
    (root / "docs" / "experiments").mkdir(parents=True)
    readme = root / "README.md"
    readme.write_text(
        "intro 4.68x\n<!-- verify-quick:start -->\nold 4.68x\n<!-- verify-quick:end -->\n"
        "<!-- verify-full:start -->\n<!-- verify-full:end -->\nend\n"
    )
    page = root / "docs" / "experiments" / "min-norm.md"
    page.write_text("# min-norm\n<!-- claims:min-norm:start -->\n<!-- claims:min-norm:end -->\n")
    quick = _folder(tmp_path, "verify-quick-x", _record("quick", 1e-9, 125.0))
    full = _folder(tmp_path, "verify-full-y", _record("full", 3e-9, 1500.0))
    argv = [str(quick), str(full), "--root", str(root)]
    assert script.main([*argv, "--check"]) == 1  # stale before
    assert script.main(argv) == 0
    text = readme.read_text()
    assert text.startswith("intro 4.68x\n") and text.endswith("end\n")  # outside untouched
    assert "old 4.68x" not in text
    assert "2 min 05 s" in text and "25 min 00 s" in text and "peak memory 2.0 GB" in text
    assert "1.50e-09 ± 7.07e-10 (2 seeds, 2 hold)" in text  # mean and sample sd of [1, 2]e-9
    assert "distance \\| to pinv" in text and "verify-quick-x" in text
    table = page.read_text()
    assert "| `pinv` | 1.50e-09" in table and "4.50e-09" in table  # quick and full columns
    assert script.main([*argv, "--check"]) == 0  # fresh after


def test_a_full_folder_is_not_taken_for_quick(tmp_path, script):
    full = _folder(tmp_path, "verify-full-y", _record("full", 3e-9, 10.0))
    with pytest.raises(SystemExit, match="expected quick"):
        script.main([str(full), "--root", str(tmp_path)])
