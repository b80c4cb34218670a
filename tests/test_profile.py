"""The profile as a user meets it: the command's errors, the run folder, the cards, a fixed
step, and the claims' measures on known inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from implicitbias import lab
from implicitbias.claims.claim import evaluate
from implicitbias.errors import ConfigError
from implicitbias.experiments.profile import claims as profile_claims
from implicitbias.experiments.profile import optimizer_keys
from implicitbias.experiments.profile.base import (
    Measure,
    ProbeReport,
    choose_step,
    fixed_step,
    lr_grid,
)
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.runs.results import Results

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args):
    env = {**os.environ, "IMPLICITBIAS_PROGRESS": "0"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "implicitbias", "profile", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nosuch"], "`optimizers`: expected a registered optimizer"),
        (["nosuchmodule_xyz:make"], "nosuchmodule_xyz"),
        (["user_optim:missing"], "missing"),
        (["adam(foo=1)"], "`optimizers.foo`"),
        (["user_optim:not_a_transformation"], "GradientTransformation"),
        (["gd", "--level", "huge"], "`--level`"),
        (["gd", "--seeds", "0"], "`--seeds`"),
        (["gd", "--probes", "nosuch"], "`probes`"),
    ],
)
def test_bad_input_is_one_line_exit_2_before_any_work(args, words, tmp_path):
    done = _cli(*args, "--out", str(tmp_path))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("implicitbias profile: error:"), lines
    assert words in lines[0]
    assert "Traceback" not in done.stderr
    assert not any(tmp_path.iterdir())  # no run folder: nothing ran


def test_optimizer_keys_are_unique_and_readable():
    specs = tuple(OptimizerSpec.parse(s) for s in ("adam(b2=0.99)", "gd", "user_optim:clipped_gd"))
    assert list(optimizer_keys(specs)) == ["adam_b2_0_99", "gd", "user_optim_clipped_gd"]


def test_fixed_step_replaces_the_grid_and_says_so():
    with fixed_step(0.125):
        grid = lr_grid(1e-4, 1.0)
        assert grid.tolist() == [0.125]
        step = choose_step(grid, np.array([[True, False]]), np.zeros((1, 2)), fit_words="x")
    assert step.learning_rate == 0.125 and not step.fitted
    assert "fixed by the user" in step.rule and "NOT every seed fits" in step.rule
    assert lr_grid(0.25, 1.0).tolist() == [0.25, 0.5, 1.0]  # outside the block: the grid


def _report(values, nearest=None):
    return ProbeReport(
        [Measure("angle", "angle (deg)", np.asarray(values, float))],
        nearest=nearest,
        references=("l1", "l2", "linf"),
    ).to_scalars()


def test_report_scalars_mean_spread_and_nearest_counts():
    out = _report([1.0, 2.0, 6.0], nearest=["l2", "linf", "l2"])
    m = out["measures"]["angle"]
    assert m["mean"] == pytest.approx(3.0) and m["spread"] == pytest.approx(
        np.std([1, 2, 6], ddof=1)
    )
    assert out["nearest"]["mode"] == "l2" and out["nearest"]["agree"] == 2
    assert out["nearest"]["counts"] == {"l1": 0, "l2": 2, "linf": 1}


def _vectors_results(final: dict, first: dict) -> Results:
    """A profile whose margin-vectors entry for gd has these final and first-step angles."""
    refs = ("l1", "l2", "linf")
    measures = [Measure(f"angle_{r}", r, np.asarray(final[r], float)) for r in refs]
    measures += [Measure(f"first_angle_{r}", r, np.asarray(first[r], float)) for r in refs]
    names = [refs[int(i)] for i in np.argmin([final[r] for r in refs], axis=0)]
    results = Results()
    results.scalars = {
        "optimizers": {"gd": {"label": "gd", "spec": {"name": "gd", "hparams": {}}}},
        "probes": {
            "margin-vectors": {
                "optimizers": {
                    "gd": ProbeReport(measures, nearest=names, references=refs).to_scalars()
                }
            }
        },
    }
    return results


def test_direction_claim_is_per_dataset_and_needs_nearest_and_progress():
    """Dataset 0 ends nearest l2 and moved toward it (lead 4 = min(12, 20, 30) - 8); dataset 1
    ends nearest l2 but its first step was already nearer l2 (lead 5 - 9 = -4); dataset 2
    ends nearest l_inf (lead 7 - 10 = -3)."""
    results = _vectors_results(
        final={"l1": [20, 25, 30], "l2": [8, 9, 10], "linf": [30, 40, 7]},
        first={"l1": [1, 1, 1], "l2": [12, 5, 40], "linf": [1, 1, 1]},
    )
    claim = next(c for c in profile_claims.CLAIMS if c.id == "profile/gd-l2")
    assert claim.values(results) == [4.0, -4.0, -3.0]
    outcome = evaluate(claim, results)
    assert outcome.held == 1 and outcome.verdict == "flips"
    nan = _vectors_results(
        final={"l1": [20, 20], "l2": [float("nan"), 8], "linf": [30, 30]},
        first={"l1": [1, 1], "l2": [40, 40], "linf": [1, 1]},
    )
    outcome = evaluate(claim, nan)  # a NaN dataset fails; the other holds
    assert outcome.held == 1 and outcome.verdict == "flips"


def test_self_checks_are_marked():
    kinds = {c.id: c.kind for c in profile_claims.CLAIMS}
    assert kinds["profile/gd-min-l2"] == kinds["profile/pnorm-gd-bregman"] == "self-check"
    assert kinds["profile/gd-l2"] == "finding"


def test_learning_rate_in_a_spec_fixes_that_optimizers_step(tmp_path):
    with pytest.raises(ConfigError, match="learning_rates"):
        lab.profile(["gd:learning_rate=-1"], "smoke", out=None)
    results = lab.profile(
        ["gd:learning_rate=0.0625", "sign_gd"], "smoke", probes=["interpolation"], out=tmp_path
    )
    gd, sign = (results.get(f"probes.interpolation.optimizers.{k}") for k in ("gd", "sign_gd"))
    assert gd["learning_rate"] == 0.0625 and "fixed by the user" in gd["rule"]
    assert "fixed by the user" not in sign["rule"]
    assert results.get("optimizers.gd.learning_rate") == 0.0625
    # the run folder: table, figures, one card per optimizer naming its step and rule
    folder = results.path
    assert (folder / "heatmap.png").is_file() and (folder / "probes.png").is_file()
    card = (folder / "cards" / "gd.html").read_text()
    assert "fixed by the user" in card and "0.0625" in card
    assert "<script" not in card and "http://" not in card and "https://" not in card
    assert (folder / "cards" / "sign_gd.html").is_file()
    stored = json.loads((folder / "results.json").read_text())
    assert stored["scalars"]["probes"]["interpolation"]["optimizers"]["gd"]["rule"] == gd["rule"]


@pytest.mark.parametrize("nan_at", [0, 1])
def test_a_nan_seed_fails_a_per_seed_bound_wherever_it_is(nan_at):
    values = [1.01, 1.02]
    values[nan_at] = float("nan")
    results = Results()
    results.scalars = {
        "optimizers": {"gd": {"label": "gd", "spec": {"name": "gd", "hparams": {}}}},
        "probes": {
            "stability": {
                "optimizers": {
                    "gd": ProbeReport([Measure("sharpness_ratio", "S eta/2", values)]).to_scalars()
                }
            }
        },
    }
    claim = next(c for c in profile_claims.CLAIMS if c.id == "profile/gd-edge-of-stability")
    outcome = evaluate(claim, results)
    assert not claim.criterion.holds(claim.values(results)[nan_at])
    assert outcome.held == 1 and outcome.verdict == "flips"
    values[nan_at] = 1.05
    results.scalars["probes"]["stability"]["optimizers"]["gd"] = ProbeReport(
        [Measure("sharpness_ratio", "S eta/2", values)]
    ).to_scalars()
    assert claim.values(results) == pytest.approx([0.05, 0.02] if nan_at == 0 else [0.01, 0.05])
    assert evaluate(claim, results).verdict == "holds"
