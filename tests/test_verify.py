"""``verify``: expected verdicts, seeds, exit codes, JSON and JUnit output, worker processes,
and a deliberately broken optimizer that must be caught."""

from __future__ import annotations

import json
import math
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from implicitbias.claims import Claim, Criterion, combine, evaluate
from implicitbias.claims.junit import junit_xml
from implicitbias.claims.verify import (
    EXIT_AS_EXPECTED,
    EXIT_ERRORS,
    EXIT_UNEXPECTED,
    SEEDS,
    Answer,
    Summary,
    Task,
    outcomes_of,
    plan,
)
from implicitbias.cli import main
from implicitbias.optim import registry
from implicitbias.runs.results import Results


def _claim(measure, *, op="<=", threshold=1.0, **kw) -> Claim:
    base = dict(
        id="min-norm/test",
        statement="a statement",
        source="a source",
        quantity="q",
        measure=measure,
        criterion=Criterion(op, threshold),
        presets={"quick": "default"},
    )
    return Claim(**{**base, **kw})


# --------------------------------------------------------------------------- declaring


@pytest.mark.parametrize(
    "kw, word",
    [
        ({"expect": "refuted"}, "refuted_because"),
        ({"refuted_because": "a reason"}, "refuted_because"),
        ({"expect": "maybe"}, "expect"),
        ({"kind": "anecdote"}, "kind"),
    ],
)
def test_claim_rejects_inconsistent_expectations(kw, word):
    with pytest.raises(ValueError, match=word):
        _claim("x", **kw)


# --------------------------------------------------------------------------- one run


def test_single_value_verdict_and_status():
    held = evaluate(_claim(lambda r: 0.5), Results())
    assert (held.verdict, held.status, held.seeds) == ("holds", "as expected", 1)
    failed = evaluate(_claim(lambda r: 2.0), Results())
    assert (failed.verdict, failed.status) == ("does not hold", "UNEXPECTED")
    refuted = evaluate(_claim(lambda r: 2.0, expect="refuted", refuted_because="why"), Results())
    assert (refuted.verdict, refuted.status) == ("does not hold", "as expected")
    assert refuted.refuted_because == "why"
    wrongly = evaluate(_claim(lambda r: 0.5, expect="refuted", refuted_because="why"), Results())
    assert (wrongly.verdict, wrongly.status) == ("holds", "UNEXPECTED")


def test_per_seed_values_flip_and_nan_fails():
    o = evaluate(_claim(lambda r: np.array([0.2, 0.4, 3.0, 0.1, 0.3])), Results())
    assert o.values == [0.2, 0.4, 3.0, 0.1, 0.3] and o.held == 4 and o.seeds == 5
    assert o.verdict == "flips" and o.status == "UNEXPECTED" and o.holds is False
    assert o.measured == pytest.approx(0.8)
    assert o.spread == pytest.approx(float(np.std([0.2, 0.4, 3.0, 0.1, 0.3], ddof=1)))
    assert "4 of 5" in o.rule
    nan = evaluate(_claim(lambda r: [0.1, float("nan")]), Results())
    assert nan.held == 1 and nan.verdict == "flips" and math.isnan(nan.measured)
    every = evaluate(_claim(lambda r: [0.1, 0.2, 0.3]), Results())
    assert every.verdict == "holds" and every.held == 3


def test_combine_pools_seeds_and_an_error_decides():
    parts = [evaluate(_claim(lambda r, v=v: v), Results()) for v in (0.1, 0.2, 0.3, 0.4, 2.0)]
    pooled = combine(parts)
    assert pooled.values == [0.1, 0.2, 0.3, 0.4, 2.0] and pooled.held == 4
    assert pooled.verdict == "flips" and pooled.measured == pytest.approx(0.6)
    assert combine(parts[:4]).verdict == "holds"
    broken = evaluate(_claim(lambda r: 1 / 0), Results())
    assert combine([*parts[:2], broken]).verdict == "error"


def test_outcomes_of_pools_the_seed_runs_of_a_seeded_claim():
    seeded = _claim("k", seeded=True)
    plain = _claim("k", id="min-norm/plain")
    tasks = [Task("min-norm", "default", None, ("min-norm/test", "min-norm/plain"))]
    tasks += [Task("min-norm", "default", s, ("min-norm/test",)) for s in range(1, 5)]
    answers = {}
    for i, task in enumerate(tasks):
        found = [evaluate(seeded, Results(scalars={"k": 0.1 * (i + 1)})).to_dict()]
        if task.seed is None:
            found.append(evaluate(plain, Results(scalars={"k": 7.0})).to_dict())
        answers[task] = Answer(f"/runs/{i}", found)
    answers[tasks[3]] = Answer(None, [], "run failed (x): boom")
    out = {o.id: o for o in outcomes_of([seeded, plain], tasks, answers)}
    assert out["min-norm/plain"].verdict == "does not hold" and out["min-norm/plain"].seeds == 1
    assert out["min-norm/test"].verdict == "error" and "boom" in out["min-norm/test"].error
    del answers[tasks[3]]
    out = {o.id: o for o in outcomes_of([seeded, plain], tasks[:3] + tasks[4:], answers)}
    assert out["min-norm/test"].values == pytest.approx([0.1, 0.2, 0.3, 0.5])


def test_plan_runs_each_pair_once_and_seeded_claims_over_more_seeds():
    from implicitbias.lab import make_config

    claims = [_claim("k", seeded=True), _claim("k", id="min-norm/other")]
    tasks = plan(claims, "quick")
    base = make_config("min-norm", "default")[1].seed
    assert tasks[0] == Task("min-norm", "default", None, ("min-norm/test", "min-norm/other"))
    assert [t.seed for t in tasks[1:]] == list(range(base + 1, base + SEEDS))
    assert all(t.claims == ("min-norm/test",) for t in tasks[1:])


def test_summary_line_and_exit_codes():
    ok = evaluate(_claim(lambda r: 0.5), Results())
    refuted = evaluate(_claim(lambda r: 2.0, expect="refuted", refuted_because="r"), Results())
    bad = evaluate(_claim(lambda r: 2.0), Results())
    err = evaluate(_claim(lambda r: 1 / 0), Results())
    s = Summary.of([ok, refuted])
    assert s.line() == "2 as expected (1 hold, 1 refuted as expected), 0 unexpected, 0 errors"
    assert s.exit_code == EXIT_AS_EXPECTED == 0
    assert Summary.of([ok, bad]).exit_code == EXIT_UNEXPECTED == 1
    assert Summary.of([ok, bad, err]).exit_code == EXIT_ERRORS == 3


def test_junit_marks_unexpected_as_failure_and_errors_as_errors():
    ok = evaluate(_claim(lambda r: 0.5, id="a/ok"), Results())
    refuted = evaluate(
        _claim(lambda r: 2.0, id="a/ref", expect="refuted", refuted_because="seed bug"), Results()
    )
    bad = evaluate(_claim(lambda r: 2.0, id="b/bad"), Results())
    err = evaluate(_claim(lambda r: 1 / 0, id="b/err"), Results())
    suite = ET.fromstring(junit_xml([ok, refuted, bad, err], name="verify"))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["bad"].find("failure").get("message").startswith("expected holds, got does not")
    assert cases["err"].find("error") is not None and cases["ok"].find("failure") is None
    assert "seed bug" in cases["ref"].find("system-out").text


# --------------------------------------------------------------------------- the command


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--jobs", "0"], ["`--jobs`", "1 to 64"]),
        (["--jobs", "two"], ["`--jobs`"]),
        (["--json", "/nonexistent-folder/v.json"], ["`--json`"]),
        (["--junit", "."], ["`--junit`", "folder"]),
    ],
)
def test_bad_verify_input_is_one_line_and_exit_2(tmp_path, capsys, argv, words):
    code = main(["verify", "--only", "min-norm", "--out", str(tmp_path / "runs"), *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert all(w in err for w in words), err
    assert not (tmp_path / "runs").exists()  # nothing was run


def test_out_that_cannot_be_created_is_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["verify", "--only", "min-norm", "--out", str(blocker / "runs")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "`--out`" in err and len(err.splitlines()) == 1


def _verify(tmp_path, capsys, *extra):
    tmp_path.mkdir(parents=True, exist_ok=True)
    files = tmp_path / "v.json", tmp_path / "v.xml"
    code = main(
        [
            "verify",
            "--only",
            "min-norm",
            "--out",
            str(tmp_path / "runs"),
            "--json",
            str(files[0]),
            "--junit",
            str(files[1]),
            *extra,
        ]
    )
    out = capsys.readouterr().out
    return code, out, json.loads(files[0].read_text()), ET.parse(files[1]).getroot()


def test_min_norm_quick_is_as_expected(tmp_path, capsys):
    code, out, record, suite = _verify(tmp_path, capsys)
    statuses = {o["id"]: o["status"] for o in record["outcomes"]}
    assert code == 0, [k for k, v in statuses.items() if v != "as expected"]
    assert set(statuses.values()) == {"as expected"} and record["summary"]["unexpected"] == 0
    assert record["exit_code"] == 0 and record["environment"]["versions"]["jax"]
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert "0 unexpected, 0 errors" in out
    folder = tmp_path / "runs"
    verify_dirs = list(folder.glob("verify-quick-*"))
    assert len(verify_dirs) == 1 and (verify_dirs[0] / "verify.json").is_file()
    assert "status" in (verify_dirs[0] / "report.html").read_text()


def broken_gd(learning_rate, **kwargs):
    """``gd`` with its learning rate doubled: the deliberate fault verify must catch."""
    return registry.gd(2 * learning_rate, **kwargs)


def test_a_broken_optimizer_is_caught_as_unexpected(tmp_path, capsys, monkeypatch):
    engine_train = sys.modules["implicitbias.engine.train"]
    monkeypatch.setitem(registry.OPTIMIZERS, "gd", broken_gd)
    monkeypatch.setitem(registry.OPTIMIZERS, "sgd", broken_gd)
    monkeypatch.setattr(engine_train, "_COMPILED", {})  # no program built with the real gd
    code, out, record, suite = _verify(tmp_path, capsys)
    unexpected = {o["id"] for o in record["outcomes"] if o["status"] == "UNEXPECTED"}
    assert code == 1 and record["exit_code"] == 1
    # The decay is (1 - 2 eta lambda)^t: the exponents and the closed form (with eta) no
    # longer match; the default eta is 1/lambda_max, so the doubled step sits on the edge
    # 2/lambda_max where the top mode no longer contracts and the limits are missed too.
    assert {"min-norm/rate-random-inits", "min-norm/closed-form"} <= unexpected, unexpected
    assert {"min-norm/seed-5x", "min-norm/seed-gd-norm"}.isdisjoint(unexpected)  # seed preset
    assert int(suite.get("failures")) == len(unexpected)
    assert "UNEXPECTED min-norm/closed-form" in out


@pytest.mark.slow
def test_two_worker_processes_give_the_same_numbers(tmp_path, capsys):
    _, _, one, _ = _verify(tmp_path / "one", capsys)
    code, _, two, _ = _verify(tmp_path / "two", capsys, "--jobs", "2")
    assert code == 0 and two["jobs"] == 2
    a = {o["id"]: o["values"] for o in one["outcomes"]}
    b = {o["id"]: o["values"] for o in two["outcomes"]}
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=1e-12, atol=0, err_msg=key)


def test_runs_start_longest_first_from_the_last_verify_and_eta_uses_its_times(
    tmp_path, monkeypatch
):
    from implicitbias.claims import verify as v

    old = tmp_path / "verify-quick-20260101T000000Z-aaaaaa"
    old.mkdir()
    tasks = [Task("a", "p", None, ("a/x",)), Task("b", "p", None, ("b/x",))]
    tasks.append(Task("c", "p", None, ("c/x",)))
    record = {
        "tasks": [
            {"label": tasks[0].label, "seconds": 5.0},
            {"label": tasks[1].label, "seconds": 50.0},
        ]
    }
    (old / "verify.json").write_text(json.dumps(record))
    (tmp_path / "verify-quick-20250101T000000Z-bbbbbb").mkdir()  # older, unreadable: ignored
    (tmp_path / "verify-quick-20250101T000000Z-bbbbbb" / "verify.json").write_text("{")
    estimates = v.previous_seconds(tmp_path, "quick")
    assert estimates == {tasks[0].label: 5.0, tasks[1].label: 50.0}
    assert v.previous_seconds(tmp_path, "full") == {}
    order, seen = [], []
    monkeypatch.setattr(
        v, "_run_task", lambda t, out: order.append(t.experiment) or Answer("f", [])
    )
    v.execute(tasks, out=tmp_path, estimates=estimates, on_progress=seen.append)
    assert order == ["c", "b", "a"]  # unknown first, then longest first
    assert seen[0].eta is None  # c, not yet run, has no estimate
    assert [p.eta for p in seen[1:]] == pytest.approx([55.0, 5.0, 0.0])
    assert [p.claims_done for p in seen] == [0, 1, 2, 3]


def test_an_expected_flip_is_as_expected_only_while_it_flips():
    flips = dict(expect="flips", refuted_because="one-support-vector draws", seeded=True)
    mixed = evaluate(_claim(lambda r: [0.5, 2.0], **flips), Results())
    assert (mixed.verdict, mixed.status) == ("flips", "as expected")
    every = evaluate(_claim(lambda r: [0.5, 0.5], **flips), Results())
    none = evaluate(_claim(lambda r: [2.0, 2.0], **flips), Results())
    assert every.status == none.status == "UNEXPECTED"
    s = Summary.of([mixed, every])
    assert s.line() == (
        "1 as expected (0 hold, 0 refuted as expected, 1 flip between seeds as expected), "
        "1 unexpected, 0 errors"
    )
    # A batched measure (one value per draw, not `seeded`) may flip too; a single number
    # never does, so a flip declared on it is always UNEXPECTED.
    batched = dict(expect="flips", refuted_because="r")
    assert evaluate(_claim(lambda r: [0.5, 2.0], **batched), Results()).status == "as expected"
    single = evaluate(_claim(lambda r: 0.5, **batched), Results())
    assert (single.verdict, single.status) == ("holds", "UNEXPECTED")
