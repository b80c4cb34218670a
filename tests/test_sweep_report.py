"""The sweep report on synthetic sweep folders, its CLI, and the sweep presets."""

from __future__ import annotations

import html
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from implicitbias.errors import ConfigError
from implicitbias.sweep import report as sr

HOSTILE = '<script>alert("x")</script>&$\\frac{'


def make_sweep(
    folder: Path,
    *,
    axes: dict[str, list] | None = None,
    seeds: int = 3,
    statuses: dict[int, str] | None = None,
) -> list[dict]:
    """A sweep folder in the engine's format: value = x * 10 + y_index + seed / 10."""
    axes = axes if axes is not None else {"wd": [0.0, 0.5, 1.0], "frac": [0.3, 0.5]}
    all_axes = {**axes, **({"seed": list(range(seeds))} if seeds else {})}
    folder.mkdir(parents=True)
    spec = {
        "version": 1,
        "experiment": "toy",
        "preset": "smoke",
        "axes": [{"name": k, "values": v} for k, v in all_axes.items()],
        "seeds": seeds,
        "retries": 1,
        "created": "2026-01-01T00:00:00Z",
        "batched_axes": [],
    }
    (folder / "sweep.json").write_text(json.dumps(spec))
    cells, rows = [], []
    statuses = statuses or {}
    names = list(all_axes)
    for index, combo in enumerate(itertools.product(*all_axes.values())):
        overrides = dict(zip(names, combo, strict=True))
        cid = f"c{index:04d}"
        status = statuses.get(index, "done")
        cells.append(
            {
                "id": cid,
                "index": index,
                "overrides": overrides,
                "status": status,
                "tries": 2 if status == "failed" else 1,
                "worker": "w0",
                "wall_seconds": 1.5,
                "error": "ValueError: boom <b>" if status == "failed" else None,
                "run": f"cells/{cid}/run" if status != "failed" else None,
            }
        )
        row = {"cell": cid, "status": status, **overrides}
        if status == "done":
            x = overrides.get("wd", 0.0)
            y = axes.get("frac", [None]).index(overrides.get("frac")) if "frac" in axes else 0
            seed = overrides.get("seed", 0)
            row["scalar:main.ratio"] = x * 10 + y + seed / 10
            row["scalar:main.flag"] = "nan" if x == 0.0 else 1.0
            verdict = "holds" if (seed + index) % 2 else "does not hold"
            row["claim:toy/holds"] = verdict
            row["measured:toy/holds"] = 0.5
            row["claim:toy/never"] = "not applicable"
        rows.append(row)
    (folder / "manifest.json").write_text(json.dumps({"cells": cells}))
    table = {"version": 1, "axes": names, "rows": rows}
    # The engine writes {"version", "axes", "columns", "rows"}; a bare list is read too.
    (folder / "table.json").write_text(json.dumps(table if seeds != 2 else rows))
    return rows


def test_heatmap_values_are_the_means_over_seeds(tmp_path):
    rows = make_sweep(tmp_path / "s", statuses={4: "failed"})
    sweep = sr.load_sweep(tmp_path / "s")
    assert sweep.sweep_axes == ["wd", "frac"]
    stats = sr.grid(sweep, "scalar:main.ratio", "wd", "frac")
    for i, frac in enumerate([0.3, 0.5]):
        for j, wd in enumerate([0.0, 0.5, 1.0]):
            mine = [
                r["scalar:main.ratio"]
                for r in rows
                if r["wd"] == wd and r["frac"] == frac and r["status"] == "done"
            ]
            assert stats[i][j].mean == pytest.approx(np.mean(mine), rel=1e-12)
            assert stats[i][j].low == pytest.approx(min(mine))
            assert stats[i][j].high == pytest.approx(max(mine))
    # The figure writes the same means in its squares.
    fig = sr.heatmap_figure(sweep, "scalar:main.ratio", "wd", "frac")
    texts = [t.get_text() for t in fig.axes[0].texts]
    expected = [s for row in stats for s in row]
    assert len(texts) == len(expected)
    for text, stat in zip(texts, expected, strict=True):
        assert float(text.split("\n")[0]) == pytest.approx(stat.mean, rel=1e-3)
    # Cell 4 (wd=0, frac=0.5, seed=1) failed: its square says so.
    assert stats[1][0].not_done == {"failed": 1}
    assert "1 failed" in texts[3]


def test_claims_are_holds_fractions_and_the_page_lists_them(tmp_path):
    rows = make_sweep(tmp_path / "s")
    page = sr.render_sweep_report(tmp_path / "s")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    # Default: the measured claim, then the scalars; never the all-n/a claim.
    assert "claim:toy/holds" in page and "scalar:main.ratio" in page
    assert "claim:toy/never" not in page  # not applicable in every cell: nothing to draw
    means = [float(m) for m in re.findall(r'data-mean="([^"]+)"', page)]
    fractions = []
    for frac, wd in itertools.product([0.3, 0.5], [0.0, 0.5, 1.0]):
        verdicts = [r["claim:toy/holds"] for r in rows if r["wd"] == wd and r["frac"] == frac]
        fractions.append(np.mean([v == "holds" for v in verdicts]))
    assert means[: len(fractions)] == pytest.approx(fractions)
    assert page.count("data:image/png;base64,") >= 4  # heatmaps and line plots


def test_failed_and_diverged_cells_are_shown(tmp_path):
    make_sweep(tmp_path / "s", statuses={0: "failed", 1: "failed", 2: "failed", 5: "diverged"})
    page = sr.render_sweep_report(tmp_path / "s", value="main.ratio")
    # wd=0, frac=0.3 has no done cell: the square says "failed", not a number.
    assert ">failed<" in page
    assert "1 diverged" in page
    assert "ValueError: boom &lt;b&gt;" in page  # the manifest's error, escaped
    assert "3 failed" in page and "1 diverged" in page and "14 done" in page
    # NaN in done cells is named, not averaged away in silence.
    page = sr.render_sweep_report(tmp_path / "s", value="main.flag")
    assert ">nan<" in page and "2 not finite" in page


def test_hostile_axis_values_are_escaped(tmp_path):
    make_sweep(tmp_path / "s", axes={"name": [HOSTILE, "plain"], "frac": [0.3, 0.5]}, seeds=2)
    page = sr.render_sweep_report(tmp_path / "s")
    assert "<script" not in page
    assert html.escape(HOSTILE, quote=True) in page


def test_one_axis_gives_line_plots_only(tmp_path):
    make_sweep(tmp_path / "s", axes={"wd": [0.1, 1.0, 10.0]}, seeds=2)
    page = sr.render_sweep_report(tmp_path / "s", value=["scalar:main.ratio"])
    assert "Phase diagrams" not in page and "Line plots" in page
    points = page[page.index('class="points"') :]
    assert '<td class="num">1.05</td>' in points  # wd = 0.1: 1 + (0 + 1) / 10 / 2 seeds
    fig = sr.line_figure(sr.load_sweep(tmp_path / "s"), "scalar:main.ratio", "wd", None)
    assert fig.axes[0].get_xscale() == "log"


def test_bad_value_and_axis_are_config_errors(tmp_path):
    make_sweep(tmp_path / "s")
    with pytest.raises(ConfigError, match="main.ratio"):
        sr.render_sweep_report(tmp_path / "s", value="main.rati")
    with pytest.raises(ConfigError, match="--x"):
        sr.render_sweep_report(tmp_path / "s", x="nope")
    with pytest.raises(ConfigError, match="sweep.json"):
        sr.render_sweep_report(tmp_path)


def test_write_is_atomic_and_replaces(tmp_path):
    make_sweep(tmp_path / "s", seeds=0)
    path = sr.write_sweep_report(tmp_path / "s", x="frac", y="wd")
    assert path == tmp_path / "s" / "report.html"
    assert sr.write_sweep_report(tmp_path / "s") == path
    assert not list((tmp_path / "s").glob(".*.tmp"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "implicitbias", "report", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_writes_the_sweep_report_and_rejects_a_bad_value(tmp_path):
    make_sweep(tmp_path / "s", statuses={3: "failed"})
    ok = _cli(str(tmp_path / "s"), "--value", "main.ratio", "--x", "frac")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"report: {tmp_path / 's' / 'report.html'}"
    assert (tmp_path / "s" / "report.html").is_file()
    bad = _cli(str(tmp_path / "s"), "--value", "main.rati")
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "--value" in lines[0] and "Did you mean" in lines[0]


def test_presets_build_valid_configs():
    from implicitbias.experiments.registry import get_experiment
    from implicitbias.sweep.grid import build_axes, cells_of
    from implicitbias.sweep.presets import PRESETS, cell_overrides

    assert set(PRESETS) == {
        "grokking/phase",
        "edge-of-stability/phase",
        "matrix-completion/phase",
        "diagonal-net/phase",
    }
    for name, preset in PRESETS.items():
        experiment = get_experiment(preset.experiment)
        assert name.split("/")[0] == preset.experiment
        assert preset.source and preset.shows and preset.seeds >= 1
        assert not set(preset.fixed) & set(preset.axes)
        if name == "edge-of-stability/phase":
            assert len(preset.axes["learning_rates"]) >= 4
        else:
            assert len(preset.axes) == 2
        for overrides in cell_overrides(preset):
            cfg = experiment.config_cls.make(preset.preset, overrides)
            for axis, value in overrides.items():
                head, _, sub = axis.partition(".")
                got = dict(getattr(cfg, head).hparams)[sub] if sub else getattr(cfg, head)
                assert got == value, (name, axis)
        # The engine accepts the grid and validates every cell's config.
        axes = build_axes(experiment, preset.run_grid(), preset.seeds)
        assert [a.name for a in axes][: len(preset.axes)] == list(preset.axes)
        assert len(cells_of(experiment, preset.preset, axes)) == preset.cells


@pytest.mark.slow
def test_report_of_a_real_sweep(tmp_path):
    """A real 4-cell sweep on 2 local workers (about 30-40 s on 2 cores), then its report."""
    from implicitbias.sweep import run_sweep

    result = run_sweep(
        "min-norm",
        "smoke",
        {"init_scale": (0.5, 2.0), "null_scale": (1.0, 3.0)},
        seeds=1,
        workers=2,
        out=tmp_path,
        progress=False,
    )
    assert result.counts["done"] == 4
    page = sr.render_sweep_report(result.path, value=["min-norm/pinv", "pinv.relative_distance"])
    assert "claim:min-norm/pinv" in page and "Phase diagrams" in page and "Line plots" in page
    assert "4 cells" in page and "4 done" in page
    # Every square of the pinv claim's diagram holds (one seed: 1.0 or 0.0).
    means = [float(m) for m in re.findall(r'data-mean="([^"]+)"', page)]
    assert means[:4] == [1.0, 1.0, 1.0, 1.0]
