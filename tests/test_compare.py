"""``implicitbias compare A B``: claims and environments of two verify or run folders."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from implicitbias.claims.claim import Outcome
from implicitbias.cli import main
from implicitbias.errors import ConfigError
from implicitbias.report.compare import compare, load_side, write_comparison
from implicitbias.report.compare_html import render_comparison

ENV = {
    "versions": {
        "implicitbias": "0.1.0",
        "python": "3.11.7",
        "platform": "Linux-x86_64",
        "jax": "0.4.30",
        "jaxlib": "0.4.30",
        "numpy": "2.1.0",
        "optax": "0.2.3",
    },
    "git_commit": "aaaa",
    "backend": "cpu",
    "devices": ["cpu:0"],
    "x64": True,
}


def outcome(cid: str, values: list[float], criterion: str = "<= 0.05", **kw: Any) -> dict:
    """An outcome dict as ``verify`` writes it: mean of ``values``, verdict from the rule."""
    op, threshold = criterion.split()
    ok = [v <= float(threshold) if op == "<=" else v > float(threshold) for v in values]
    fields = dict(
        id=cid,
        statement=f"statement of {cid}",
        source="seed 000",
        quantity="a distance",
        criterion=criterion,
        measured=statistics.fmean(values),
        holds=all(ok),
        values=values,
        held=sum(ok),
    )
    fields.update(kw)
    return Outcome(**fields).to_dict()


def write_verify(folder: Path, outcomes: list[dict], env: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    records = []
    for d in outcomes:
        o = Outcome(**d)
        records.append({**d, "verdict": o.verdict, "status": o.status, "spread": o.spread})
    record = {"level": "quick", "environment": env or ENV, "outcomes": records}
    (folder / "verify.json").write_text(json.dumps(record))
    (folder / "claims.json").write_text(json.dumps(outcomes))
    return folder


def write_run(folder: Path, outcomes: list[dict], meta: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    config = {"experiment": "x", "preset": "default", "config": {}}
    (folder / "config.json").write_text(json.dumps(config))
    results = {"experiment": "x", "preset": "default", "scalars": {}, "claims": outcomes}
    (folder / "results.json").write_text(json.dumps(results))
    (folder / "meta.json").write_text(json.dumps({**(meta or ENV), "wall_seconds": 1.0}))
    return folder


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """A: three claims that hold. B: x/rate no longer holds, x/norm moved, x/only-a gone."""
    a = write_verify(
        tmp_path / "verify-a",
        [
            outcome("x/rate", [0.01, 0.03]),
            outcome("x/norm", [1.0, 3.0], criterion="> 0.5"),
            outcome("x/only-a", [0.0]),
        ],
    )
    env_b = {**ENV, "versions": {**ENV["versions"], "jax": "0.5.0"}, "backend": "gpu"}
    env_b["devices"] = ["cuda:0"]
    b = write_verify(
        tmp_path / "verify-b",
        [
            outcome("x/norm", [2.0, 4.0, 6.0], criterion="> 0.5"),
            outcome("x/rate", [0.2, 0.3]),
            outcome("x/only-b", [0.5], criterion="> 0.1"),
        ],
        env_b,
    )
    return a, b


def test_differences_spreads_and_relative(pair: tuple[Path, Path]) -> None:
    cmp = compare(*pair)
    norm = next(c for c in cmp.claims if c.id == "x/norm")
    assert norm.a.measured == 2.0 and norm.b.measured == 4.0
    assert norm.a.spread == pytest.approx(math.sqrt(2.0))
    assert norm.b.spread == pytest.approx(2.0) and norm.b.seeds == 3
    assert norm.difference == pytest.approx(2.0)
    assert norm.relative == pytest.approx(1.0)
    assert norm.within_spread is True  # |2| <= sqrt(2) + 2
    rate = next(c for c in cmp.claims if c.id == "x/rate")
    assert rate.difference == pytest.approx(0.23)
    assert rate.relative == pytest.approx(0.23 / 0.02)
    assert rate.within_spread is False
    assert cmp.largest_relative is rate


def test_changed_verdict_first_and_one_sided_claims(pair: tuple[Path, Path]) -> None:
    cmp = compare(*pair)
    assert [c.id for c in cmp.claims] == ["x/rate", "x/norm", "x/only-a", "x/only-b"]
    rate = cmp.claims[0]
    assert rate.verdict_changed and rate.status_changed
    assert (rate.a.verdict, rate.b.verdict) == ("holds", "does not hold")
    assert (rate.a.status, rate.b.status) == ("as expected", "UNEXPECTED")
    assert not cmp.claims[1].verdict_changed
    assert [c.presence for c in cmp.claims[2:]] == ["only A", "only B"]
    assert cmp.exit_code == 1
    assert cmp.summary_line() == (
        "2 claims compared: 1 verdict changed, 1 same; largest relative difference "
        "+1150% at x/rate; 1 only in A, 1 only in B"
    )


def test_flips_against_holds_is_a_changed_verdict(tmp_path: Path) -> None:
    a = write_verify(tmp_path / "a", [outcome("x/r", [0.01, 0.02, 0.03])])
    b = write_verify(tmp_path / "b", [outcome("x/r", [0.01, 0.09, 0.03])])
    cmp = compare(a, b)
    assert cmp.claims[0].b.verdict == "flips"
    assert cmp.changed == cmp.claims


def test_environment_diff_names_the_changed_items(pair: tuple[Path, Path]) -> None:
    cmp = compare(*pair)
    differs = {e.name: (e.a, e.b) for e in cmp.env_differences}
    assert differs == {
        "jax": ("0.4.30", "0.5.0"),
        "backend": ("cpu", "gpu"),
        "devices": (["cpu:0"], ["cuda:0"]),
    }
    same = {e.name for e in cmp.environment if not e.differs}
    assert {"jaxlib", "numpy", "python", "platform", "git_commit", "x64"} <= same
    assert "jax 0.4.30 -> 0.5.0" in cmp.environment_line()
    assert "backend cpu -> gpu" in cmp.environment_line()


def test_cli_exit_codes_table_and_files(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = pair
    out = tmp_path / "out"
    assert main(["compare", str(a), str(a), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "3 claims compared: 0 verdicts changed, 3 same" in text
    assert "CHANGED" not in text

    assert main(["compare", str(a), str(b), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert "CHANGED x/rate: holds on A, does not hold on B" in text
    assert "jax 0.4.30 -> 0.5.0" in text
    assert len(list(out.glob("compare-ab-*"))) == 2  # a new folder each time
    json_file = Path(text.split("json: ")[1].strip())
    assert json_file.parent.parent == out and json_file.parent.name.startswith("compare-ab-")
    record = json.loads(json_file.read_text())
    assert record["exit_code"] == 1 and record["summary"]["verdicts_changed"] == 1
    assert record["claims"][0]["id"] == "x/rate" and record["claims"][0]["verdict_changed"]
    assert record["summary"]["only_a"] == ["x/only-a"]
    jax_row = next(e for e in record["environment"] if e["name"] == "jax")
    assert jax_row == {"name": "jax", "a": "0.4.30", "b": "0.5.0", "differs": True}
    assert (json_file.parent / "compare.html").is_file()


def test_cli_html_option_is_never_overwritten(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.html"
    argv = ["compare", *map(str, pair), "--out", str(tmp_path / "o"), "--html", str(page)]
    assert main(argv) == 1
    assert "x/rate" in page.read_text()
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "`--html`" in err and "does not exist yet" in err


@pytest.mark.parametrize("case", ["missing", "neither", "corrupt", "not-outcomes"])
def test_cli_bad_input_exit_2_one_line(
    case: str, pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, _ = pair
    bad = tmp_path / "bad"
    if case == "neither":
        bad.mkdir()
        (bad / "notes.txt").write_text("hello")
    elif case == "corrupt":
        bad.mkdir()
        (bad / "verify.json").write_text('{"level": "quick", "outcomes": [')
    elif case == "not-outcomes":
        bad.mkdir()
        (bad / "verify.json").write_text(json.dumps({"outcomes": [{"id": "x/y"}]}))
    assert main(["compare", str(a), str(bad), "--out", str(tmp_path / "o")]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("implicitbias compare: error: `B`: expected a verify folder")
    assert str(bad) in err
    want = {
        "missing": "no such file",
        "neither": "no verify.json",
        "corrupt": "corrupt JSON",
        "not-outcomes": "not an outcome record",
    }
    assert want[case] in err
    assert not (tmp_path / "o").exists()  # nothing written on bad input


def test_cli_unwritable_out_exit_2(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["compare", *map(str, pair), "--out", str(blocker / "sub")]) == 2
    captured = capsys.readouterr()
    assert "`--out`" in captured.err and captured.out == ""


def test_html_escapes_hostile_claim_text(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script>'
    a = write_verify(
        tmp_path / "a",
        [outcome("x/<b>bold</b>", [0.01], statement=hostile, error=None)],
        {**ENV, "backend": "<img src=x onerror=alert(1)>"},
    )
    b = write_verify(tmp_path / "b", [outcome("x/<b>bold</b>", [0.2], statement=hostile)])
    page = render_comparison(compare(a, b))
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "x/&lt;b&gt;bold&lt;/b&gt;" in page
    assert "verdict changed" in page
    assert "http" not in page  # self-contained: nothing fetched from outside


def test_rich_markup_in_claim_ids_is_printed_verbatim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_verify(tmp_path / "a", [outcome("x/[bold]y[/bold]", [0.01])])
    b = write_verify(tmp_path / "b", [outcome("x/[bold]y[/bold]", [0.2])])
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "o")]) == 1
    assert "CHANGED x/[bold]y[/bold]: holds on A" in capsys.readouterr().out


def test_json_files_and_claims_json_are_accepted(pair: tuple[Path, Path]) -> None:
    a, b = pair
    by_folder = compare(a, b).to_dict()["claims"]
    by_file = compare(a / "verify.json", b / "claims.json")
    assert by_file.to_dict()["claims"] == by_folder
    assert by_file.b.environment["backend"] == "gpu"  # taken from verify.json beside it


def test_non_finite_and_zero_reference(tmp_path: Path) -> None:
    a = write_verify(tmp_path / "a", [outcome("x/n", [0.01]), outcome("x/z", [0.0])])
    b = write_verify(tmp_path / "b", [outcome("x/n", [0.01]), outcome("x/z", [0.001])])
    records = json.loads((b / "verify.json").read_text())
    records["outcomes"][0].update(measured="nan", values=["nan"], holds=False, held=0)
    (b / "verify.json").write_text(json.dumps(records))
    cmp = compare(a, b)
    n, z = (next(c for c in cmp.claims if c.id == i) for i in ("x/n", "x/z"))
    assert math.isnan(n.b.measured) and n.difference is None and n.verdict_changed
    assert z.difference == pytest.approx(0.001) and z.relative is None
    assert "largest relative difference unbounded at x/z (0 on A)" in cmp.summary_line()


def test_run_folder_against_verify_folder(tmp_path: Path) -> None:
    """A real (smoke) run folder against a verify folder holding some of its claims."""
    import implicitbias as ib

    run = ib.run("min-norm", preset="smoke", out=tmp_path / "runs")
    claims = {c["id"]: c for c in run.claims}
    pinv, rate = claims["min-norm/pinv"], claims["min-norm/rate"]
    assert pinv["holds"] is True  # the perturbation below must change the verdict
    moved = {**pinv, "measured": 1.0, "values": [1.0], "holds": False, "held": 0}
    env = {**run.meta, "x64": not run.meta["x64"]}
    env.pop("wall_seconds")
    verify = write_verify(tmp_path / "verify", [moved, rate, outcome("other/c", [0.0])], env)

    cmp = ib.compare(verify, run.path)
    assert (cmp.a.kind, cmp.b.kind) == ("verify", "run")
    assert len(cmp.compared) == 2
    assert [c.id for c in cmp.changed] == ["min-norm/pinv"]
    assert cmp.claims[0].id == "min-norm/pinv"
    assert cmp.claims[0].difference == pytest.approx(pinv["measured"] - 1.0)
    same = next(c for c in cmp.claims if c.id == "min-norm/rate")
    assert same.difference == 0.0 and not same.verdict_changed
    assert [c.id for c in cmp.only_a] == ["other/c"]
    assert len(cmp.only_b) == len(claims) - 2
    assert [e.name for e in cmp.env_differences] == ["x64"]
    assert cmp.exit_code == 1
    folder, page, json_file = write_comparison(cmp, tmp_path / "out")
    assert folder.name.startswith("compare-ab-") and page.parent == json_file.parent == folder
    again = compare(verify, run.path / "results.json")  # the results.json file itself
    assert [(c.id, c.difference) for c in again.compared] == [
        (c.id, c.difference) for c in cmp.compared
    ]
    assert json.loads(json_file.read_text())["summary"]["verdicts_changed"] == 1


def test_load_side_error_names_the_argument(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_side(tmp_path / "nope", "A")
    assert info.value.param == "A" and "no such file or folder" in str(info.value)
