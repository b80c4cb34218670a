"""Tests of the self-contained HTML report."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from implicitbias.claims.claim import Outcome
from implicitbias.report import render_report, write_report
from implicitbias.report.html import flatten, format_number, format_value
from implicitbias.runs.results import Results

EVIL = 'GD finds <script>alert("x")</script> the min-norm & "best" solution'
_GENERATED = re.compile(r"generated [^<]* UTC")


def _png_bytes() -> bytes:
    """A real, small PNG drawn without pyplot."""
    fig = Figure(figsize=(1.5, 1.0), dpi=40)
    fig.add_subplot().plot([0, 1, 2], [2, 1, 0.5])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


@pytest.fixture
def png() -> bytes:
    return _png_bytes()


@pytest.fixture
def run(tmp_path: Path, png: bytes) -> Results:
    folder = tmp_path / "min-norm-quick-20250101T000000Z-abc123"
    folder.mkdir()
    (folder / "loss.png").write_bytes(png)
    return Results(
        experiment="min-norm",
        preset="quick",
        config={"seed": 0},
        scalars={
            "pinv": {"relative_distance": 1.234e-9, "ratio": 0.5},
            "losses": [float(i) for i in range(20)],
            "short": [1, 2.5, 3],
            "steps": 100000,
            "converged": True,
        },
        meta={
            "versions": {"implicitbias": "0.1.0", "jax": "0.4.35"},
            "backend": "cpu",
            "devices": ["TFRT_CPU_0"],
            "wall_seconds": 2.3456,
        },
        path=folder,
    )


@pytest.fixture
def outcomes() -> list[Outcome | dict]:
    common = dict(
        source="seed.md §2",
        quantity="relative distance to pinv solution",
        criterion="<= 1e-06",
        run=None,
    )
    return [
        Outcome(id="min-norm/pinv", statement=EVIL, measured=1.234e-9, holds=True, **common),
        Outcome(
            id="min-norm/ratio", statement="ratio is small", measured=0.5, holds=False, **common
        ),
        Outcome(
            id="min-norm/broken",
            statement="cannot be measured",
            measured=None,
            holds=None,
            error="KeyError: 'missing'",
            **common,
        ),
        Outcome(
            id="min-norm/as-dict",
            statement="stored outcome",
            measured=12345.678,
            holds=True,
            **common,
        ).to_dict(),
    ]


@pytest.fixture
def page(run: Results, outcomes: list[Outcome | dict]) -> str:
    return render_report(title="Claims <check>", outcomes=outcomes, runs=[run])


def test_write_report_writes_the_rendered_page(
    tmp_path: Path, run: Results, outcomes: list[Outcome | dict]
) -> None:
    target = tmp_path / "out" / "report.html"
    assert not target.exists()
    written = write_report(target, title="My report", outcomes=outcomes, runs=[run])
    assert written == target
    assert target.is_file()
    text = target.read_text(encoding="utf-8")
    expected = render_report(title="My report", outcomes=outcomes, runs=[run])
    assert _GENERATED.sub("", text) == _GENERATED.sub("", expected)
    assert text.startswith("<!DOCTYPE html>")
    assert "<h1>My report</h1>" in text


def test_summary_counts(page: str) -> None:
    assert "4 claims \u2014 2 hold, 1 do not hold, 1 error" in page
    assert re.search(r"generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page)


def test_claim_ids_and_escaped_statement(page: str) -> None:
    for claim_id in ("min-norm/pinv", "min-norm/ratio", "min-norm/broken", "min-norm/as-dict"):
        assert claim_id in page
    assert html.escape(EVIL) in page
    assert "<script" not in page.lower()
    assert "<check>" not in page and "Claims &lt;check&gt;" in page


def test_verdict_cells_are_distinct_and_show_errors(page: str) -> None:
    assert '<td class="holds">holds</td>' in page
    assert '<td class="fails">does not hold</td>' in page
    assert re.search(
        r'<td class="error">error<span class="error-text">KeyError: '
        r"&#x27;missing&#x27;</span></td>",
        page,
    )
    assert page.count('<td class="holds">') == 2
    assert page.count('<td class="fails">') == 1
    assert page.count('<td class="error">') == 1


def test_figure_embedded_as_base64(page: str, png: bytes) -> None:
    found = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(found) == 1
    assert base64.b64decode(found[0]) == png
    assert "<figcaption>loss.png</figcaption>" in page


def test_page_is_self_contained(page: str) -> None:
    lowered = page.lower()
    for bad in ('src="http', 'href="http', "src='http", "<link", "<script", "@import", "url("):
        assert bad not in lowered


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.234e-9, "1.234e-09"),
        (0.5, "0.5"),
        (12.3456, "12.35"),
        (0.001, "0.001"),
        (0.000999, "9.990e-04"),
        (12345.678, "1.235e+04"),
        (9999.5, "1.000e+04"),
        (-2.5e-7, "-2.500e-07"),
        (0.0, "0"),
        (None, "\u2014"),
        (float("nan"), "nan"),
        (42, "42"),
    ],
)
def test_format_number(value: float | None, text: str) -> None:
    assert format_number(value) == text


def test_measured_numbers_in_page(page: str) -> None:
    assert '<td class="num">1.234e-09</td>' in page
    assert '<td class="num">0.5</td>' in page
    assert '<td class="num">1.235e+04</td>' in page
    assert '<td class="num">\u2014</td>' in page


def test_scalars_flattened_and_lists_summarised(page: str) -> None:
    assert dict(flatten({"a": {"b": {"c": 1}}, "d": 2})) == {"a.b.c": 1, "d": 2}
    assert format_value(list(range(9))) == "list of 9"
    assert format_value([1, 2.5, 3]) == "[1, 2.5, 3]"
    assert '<td class="path">pinv.relative_distance</td><td class="num">1.234e-09</td>' in page
    assert '<td class="path">losses</td><td class="num">list of 20</td>' in page
    assert '<td class="path">short</td><td class="num">[1, 2.5, 3]</td>' in page
    assert '<td class="path">converged</td><td class="num">True</td>' in page


def test_run_section_header_and_meta(page: str, run: Results) -> None:
    assert "min-norm / quick" in page
    assert html.escape(str(run.path)) in page
    assert '<span class="status-ok">ok</span>' in page
    for text in (
        "<td>implicitbias version</td><td>0.1.0</td>",
        "<td>jax version</td><td>0.4.35</td>",
        "<td>backend</td><td>cpu</td>",
        "<td>devices</td><td>TFRT_CPU_0</td>",
        "<td>wall time</td><td>2.346 s</td>",
    ):
        assert text in page


def test_dict_outcome_renders_like_outcome(outcomes: list[Outcome | dict]) -> None:
    obj = outcomes[0]
    assert isinstance(obj, Outcome)
    from_obj = render_report(title="t", outcomes=[obj], runs=[])
    from_dict = render_report(title="t", outcomes=[obj.to_dict()], runs=[])
    assert _GENERATED.sub("", from_obj) == _GENERATED.sub("", from_dict)
    assert "1 claim \u2014 1 hold, 0 do not hold, 0 errors" in from_dict


def test_run_without_path_and_failed_status() -> None:
    run = Results(
        experiment="edge",
        preset="quick",
        config={},
        scalars={"loss": "nan"},
        status="diverged",
        message="loss became <inf> at step 12",
    )
    page = render_report(title="t", outcomes=[], runs=[run])
    assert "(not saved)" in page
    assert '<span class="status-bad">diverged</span>' in page
    assert "loss became &lt;inf&gt; at step 12" in page
    assert "data:image/png" not in page
    assert "No claims were checked." in page
