"""The explorer's pages in a real browser: phone layout, stale results, the range rule, heavy
settings, the max-margin readout and the flat-sharp figure.

Python playwright drives Debian's chromium (headless, never ``playwright install``); the
tests are skipped, with the reason, where ``/usr/bin/chromium`` or playwright is missing (the
``browser`` fixture of ``tests/conftest.py``). Every test fails on a JavaScript error or a
CSP violation in the page. The runs folder holds one synthetic run (its figure is wider than
a phone), so no experiment has to run first.
"""

from __future__ import annotations

import json
import re
import struct
import urllib.parse
import zlib
from pathlib import Path

import numpy as np
import pytest

from implicitbias import theory
from implicitbias.web import make_server, start_in_thread

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
RUN = "min-norm-smoke-20240102T030405Z-abc123"


def _png(width: int, height: int) -> bytes:
    """A plain grey RGB PNG (no imaging library needed)."""
    row = b"\x00" + b"\x90\xa0\xb0" * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pages") / "runs"
    folder = root / RUN
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps({"experiment": "min-norm", "preset": "smoke", "config": {}})
    )
    claims = [{"id": "a", "holds": True, "error": None}, {"id": "b", "holds": False, "error": None}]
    (folder / "results.json").write_text(json.dumps({"status": "ok", "claims": claims}))
    (folder / "a-wide-figure.png").write_bytes(_png(1400, 300))
    return root


@pytest.fixture(scope="module")
def server(runs_root):
    srv = make_server("127.0.0.1", 0, runs_root)
    start_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()


def _context(browser, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return context, pg, errors


@pytest.fixture
def page(browser):
    context, pg, errors = _context(browser, 1200, 900)
    yield pg
    context.close()
    assert not errors, errors  # no script errors, no CSP violations


@pytest.fixture
def phone(browser):
    context, pg, errors = _context(browser, 390, 844)
    yield pg
    context.close()
    assert not errors, errors


def _numbers(text: str) -> list[float]:
    return [float(v) for v in NUMBER.findall(text)]


def _plane_point(pg, x: float, y: float, box_half: float = 3.0) -> tuple[float, float]:
    """Page pixels of data point (x, y) in a ``#plane`` plot (viewBox 520 x 520, pad 28, data
    box [-box_half, box_half]^2), however wide the plot is drawn."""
    pg.locator("#plane").scroll_into_view_if_needed()
    box = pg.locator("#plane").bounding_box()
    inner = 520 - 2 * 28
    px = box["x"] + (28 + (x + box_half) / (2 * box_half) * inner) * box["width"] / 520
    py = box["y"] + (520 - 28 - (y + box_half) / (2 * box_half) * inner) * box["height"] / 520
    return px, py


def _wait_ready(pg, path: str) -> None:
    if path.startswith("/min-norm"):
        pg.wait_for_selector("body[data-ready='1']")
    elif path.startswith("/flat-sharp"):
        pg.wait_for_selector("body[data-run='1'][data-state='done']", timeout=60_000)
    elif path.startswith("/max-margin"):
        pg.wait_for_selector("body[data-state='done']:not([data-api='0'])", timeout=60_000)
    elif path.startswith(("/runs", "/profiles")):
        pg.wait_for_selector("body[data-state='done']")
    if path.startswith("/runs?run="):
        pg.wait_for_function(
            "() => [...document.querySelectorAll('#figures img')]"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )


# ------------------------------------------------------------------------------- phones


def test_no_page_scrolls_sideways_on_a_phone(server, phone):
    for path in [
        "/",
        "/min-norm",
        "/min-norm?p=3",
        "/flat-sharp",
        "/max-margin",
        "/runs",
        f"/runs?run={RUN}",
        "/profiles",
    ]:
        phone.goto(server.url.rstrip("/") + path)
        _wait_ready(phone, path)
        width, client = phone.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert client == 390 and width <= client, (path, width, client)
        for plot in phone.locator("svg.plot").all():
            box = plot.bounding_box()
            assert 250 < box["width"] <= 390, (path, box)  # scaled down, not hidden
            # the aspect ratio of the viewBox is kept
            vb = [float(v) for v in plot.get_attribute("viewBox").split()]
            assert box["height"] == pytest.approx(box["width"] * vb[3] / vb[2], rel=0.02)
        if path.startswith("/runs?"):
            # the runs table scrolls inside its own box; the figure shrinks to the screen
            style = "getComputedStyle(document.getElementById('runs-box')).overflowX"
            assert phone.evaluate(style) in ("auto", "scroll")
            assert phone.locator("#figures img").bounding_box()["width"] < 390


def test_pointer_lands_where_meant_on_a_scaled_plot(server, phone):
    phone.goto(server.url + "min-norm?x=1,2&y=1&w0=-2,-1&lr=0.1")
    phone.wait_for_selector("body[data-ready='1']")
    assert phone.locator("#plane").bounding_box()["width"] < 400  # drawn at ~2/3 of 520
    phone.mouse.click(*_plane_point(phone, 1.0, 0.5))
    np.testing.assert_allclose(_numbers(phone.text_content("#w0")), [1.0, 0.5], atol=0.03)
    assert "w0=" in phone.url and "w0=-2,-1" not in phone.url

    phone.goto(server.url + "max-margin?p=&steps=1000")
    phone.wait_for_selector("body[data-state='done']")
    phone.mouse.click(*_plane_point(phone, 1.5, -2.0))
    phone.wait_for_function("() => document.getElementById('npoints-api').textContent === '1'")
    text = urllib.parse.unquote(re.search(r"[?&]p=([^&]*)", phone.url).group(1))
    x1, x2, label = (float(v) for v in text.split(","))
    assert abs(x1 - 1.5) < 0.03 and abs(x2 + 2.0) < 0.03 and label == 1


# -------------------------------------------------------------------- stale flat-sharp


def test_flat_sharp_marks_stale_results_and_a_reload_reproduces_a_rerun(server, page):
    page.goto(server.url + "flat-sharp?noise=2.5&lr=0.01&walkers=200&steps=2000&seed=3")
    page.wait_for_selector("body[data-run='1'][data-state='done']", timeout=60_000)
    assert page.get_attribute("body", "data-stale") == "0"
    assert page.locator(".stale").count() == 0 and page.locator("#stale-note").is_hidden()
    before = page.text_content("#flat-fraction")

    page.fill("#noise", "14")  # the slider: the URL and the Gibbs row follow at once ...
    assert "noise=14" in page.url
    assert page.get_attribute("body", "data-stale") == "1"  # ... the run's results are stale
    for selector in ("#flat-fraction", "#sharp-fraction", "#counts", "#histogram-box"):
        assert "stale" in page.get_attribute(selector, "class"), selector
    note = page.text_content("#stale-note")
    assert page.locator("#stale-note").is_visible()
    assert "σ = 2.5" in note and "σ = 14" in note and "Run SGD" in note
    assert page.text_content("#flat-fraction") == before  # unchanged, but marked

    page.click("#run")
    page.wait_for_selector("body[data-run='2'][data-state='done']", timeout=60_000)
    assert page.get_attribute("body", "data-stale") == "0"
    assert page.locator(".stale").count() == 0 and page.locator("#stale-note").is_hidden()
    live = {s: page.text_content(s) for s in ("#flat-fraction", "#counts", "#gibbs")}
    assert _numbers(live["#counts"])[3] == 200

    fresh = page.context.new_page()
    fresh.goto(page.url)  # the same URL gives the same numbers as the live page after its rerun
    fresh.wait_for_selector("body[data-run='1'][data-state='done']", timeout=60_000)
    assert {s: fresh.text_content(s) for s in live} == live
    fresh.close()

    page.fill("#noise", "2.5")  # back to the old value: the σ = 14 results are stale now
    assert page.get_attribute("body", "data-stale") == "1"


# ---------------------------------------------------------------------- the range rule


def _note(pg, param: str) -> str:
    node = pg.locator(f"#notes .note[data-param='{param}']")
    assert node.count() == 1 and node.is_visible(), param
    return node.text_content()


def test_values_outside_their_range_are_refused_with_a_note(server, page):
    # the address bar, min-norm: lr = 5 is outside the slider's [0.01, 0.6]
    page.goto(server.url + "min-norm?x=1,2&y=1&w0=-2,-1&lr=5")
    page.wait_for_selector("body[data-ready='1']")
    note = _note(page, "lr")
    assert "learning rate" in note and "= 5 " in note and "[0.01, 0.6]" in note
    assert "lr=0.1" in page.url and page.text_content("#lr-value") == "0.100"
    assert page.input_value("#lr") == "0.1"

    # typed: x1 = 150 is refused, with a note; GD keeps x = (1, 2)
    page.fill("#x1", "150")
    note = _note(page, "x1")
    assert "x₁ = 150" in note and "[-100, 100]" in note and "stays 1" in note
    assert page.get_attribute("#x1", "aria-invalid") == "true"
    w0 = np.array([-2.0, -1.0])
    reference = theory.closest_interpolator(np.array([[1.0, 2.0]]), np.array([1.0]), w0)
    np.testing.assert_allclose(_numbers(page.text_content("#gd-limit")), reference, atol=1e-6)
    page.press("#x1", "Tab")  # leaving the box shows the value in use again
    assert page.input_value("#x1") == "1" and "x=1,2" in page.url
    page.fill("#x1", "-1.5")  # a valid value is used and clears the note
    assert page.locator("#notes .note[data-param='x1']").count() == 0
    reference = theory.closest_interpolator(np.array([[-1.5, 2.0]]), np.array([1.0]), w0)
    np.testing.assert_allclose(_numbers(page.text_content("#gd-limit")), reference, atol=1e-6)

    # flat-sharp: noise = 100 and lr = 1 from the URL; walkers typed out of range
    page.goto(server.url + "flat-sharp?noise=100&lr=1&walkers=200&steps=200")
    page.wait_for_selector("body[data-run='1'][data-state='done']", timeout=60_000)
    assert "[0, 16]" in _note(page, "noise") and "= 100 " in _note(page, "noise")
    assert "[0.001, 0.2]" in _note(page, "lr") and "= 1 " in _note(page, "lr")
    assert "noise=2.5" in page.url and "lr=0.01" in page.url
    assert page.input_value("#noise") == "2.5" and page.input_value("#lr") == "0.01"
    assert float(page.text_content("#temperature")) == pytest.approx(0.01 * 2.5**2 / 2, abs=1e-4)
    page.fill("#walkers", "100000")
    page.press("#walkers", "Tab")
    assert "[200, 5000]" in _note(page, "walkers") and "100000" in _note(page, "walkers")
    assert page.input_value("#walkers") == "200" and "walkers=200" in page.url
    page.fill("#noise", "3")  # touching the slider uses its value and clears its note
    assert page.locator("#notes .note[data-param='noise']").count() == 0

    # max-margin: a step count that is not offered
    page.goto(server.url + "max-margin?steps=5&eps=2")
    page.wait_for_selector("body[data-state='done']", timeout=60_000)
    assert "steps = 5" in _note(page, "steps") and "1000000" in _note(page, "steps")
    assert "eps = 2" in _note(page, "eps")
    assert "steps=100000" in page.url and page.text_content("#done-steps") == "100000"


# ------------------------------------------------------------------------ heavy settings

_PROBE = """
window.__gaps = []; window.__long = [];
(() => {
  let last = null;
  const tick = (t) => { if (last !== null) window.__gaps.push(t - last); last = t;
                        requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__long.push(e.duration);
    }).observe({ type: "longtask" });
  } catch (e) { window.__long = null; }
})();
"""


def _responsive_while_running(pg, seconds: float = 2.0) -> tuple[float, float, int]:
    """Longest main-thread task and 95th-percentile frame gap (ms) over `seconds` of a run."""
    pg.wait_for_selector("body[data-state='running'] #progress-row:not([hidden])")
    pg.evaluate("window.__gaps = []; if (window.__long) window.__long = [];")
    first = _numbers(pg.text_content("#progress-text"))[0]
    pg.wait_for_timeout(seconds * 1000)
    gaps, longs = pg.evaluate("[window.__gaps, window.__long]")
    assert longs is not None  # chromium reports long tasks
    assert pg.get_attribute("body", "data-state") == "running"
    later = _numbers(pg.text_content("#progress-text"))[0]
    assert later > first  # the work goes on in the background, with progress shown
    return max(longs, default=0.0), float(np.percentile(gaps, 95)), len(gaps)


def test_heavy_urls_leave_the_page_responsive_and_can_be_cancelled(server, page):
    page.add_init_script(_PROBE)
    # 5000 walkers x 20 000 steps (about a minute of work)
    page.goto(server.url + "flat-sharp?noise=2.5&lr=0.01&walkers=5000&steps=20000&seed=1")
    longest, p95, frames = _responsive_while_running(page)
    print("flat-sharp: longest task", longest, "ms; p95 frame gap", p95, "ms;", frames, "frames")
    assert longest < 100 and p95 < 100 and frames > 20, (longest, p95, frames)
    assert page.locator("#cancel").is_visible()
    assert "of 20000" in page.text_content("#progress-text")
    assert "first 1000 of the 5000" in page.text_content("#dots-hint")
    page.click("#cancel")
    assert page.get_attribute("body", "data-state") == "cancelled"
    assert page.locator("#progress-row").is_hidden()
    assert "cancelled at step" in page.text_content("#status")
    page.wait_for_timeout(300)
    # no run finished: no results, and none arrive after the cancel
    assert (
        page.get_attribute("body", "data-run") == "0" and page.text_content("#flat-fraction") == ""
    )

    # 200 points x 10^6 steps of three optimizers
    rng = np.random.default_rng(0)
    X = rng.uniform(-2.8, 2.8, size=(400, 2))
    score = X @ [1.0, 0.5]
    X = X[np.abs(score) > 0.3][:200]
    labels = np.where(X @ [1.0, 0.5] > 0, 1, -1)
    p = ";".join(f"{a:.2f},{b:.2f},{lab}" for (a, b), lab in zip(X, labels, strict=True))
    page.goto(server.url + f"max-margin?p={p}&steps=1000000")
    # measured once the server's references are drawn (one full redraw of 200 points and
    # their numbers, about 50 ms); then only the optimizers' layer is redrawn
    page.wait_for_selector("body:not([data-api='0'])", timeout=60_000)
    longest, p95, frames = _responsive_while_running(page)
    print("max-margin: longest task", longest, "ms; p95 frame gap", p95, "ms;", frames, "frames")
    assert longest < 100 and p95 < 100 and frames > 20, (longest, p95, frames)
    assert "of 1000000" in page.text_content("#progress-text")
    page.click("#cancel")
    assert page.get_attribute("body", "data-state") == "cancelled"
    assert "stopped at step" in page.text_content("#status")
    assert int(page.text_content("#done-steps")) < 1_000_000


# ------------------------------------------------------------------- max-margin readout


def test_max_margin_readout_numbers_legend_markers_digits(server, page):
    page.goto(server.url + "max-margin?steps=100000")  # the default five points
    page.wait_for_selector("body[data-state='done']:not([data-api='0'])", timeout=60_000)
    page.wait_for_function("() => !document.getElementById('l2-dir').textContent.includes('…')")
    X = np.array([[0.5, 2], [2.5, 0.3], [1.5, 1.5], [-0.3, -1.2], [-2, -0.8]])
    y = np.array([1, 1, 1, -1, -1.0])
    l2, linf = theory.max_margin(X, y, "l2"), theory.max_margin(X, y, "linf")

    # the points are numbered on the plot, 0-based, each next to its point; the l2 support
    # vectors (listed in the status) are the bold ones
    labels = page.locator("#plane text.point-label")
    assert labels.all_text_contents() == ["0", "1", "2", "3", "4"]
    for i, (a, b) in enumerate(X):
        box = labels.nth(i).bounding_box()
        px, py = _plane_point(page, a, b)
        assert abs(box["x"] - px) < 20 and abs(box["y"] + box["height"] - py) < 20, i
    support = [int(v) for v in page.locator("#plane text.point-label.sv").all_text_contents()]
    assert support == list(l2.support) and len(support) >= 2
    assert "support vectors " + ", ".join(map(str, support)) in page.text_content("#status")

    # the LP margin is explained, and it is the l_inf margin
    lp = _numbers(page.text_content("#separable"))[0]
    assert lp == pytest.approx(linf.margin, abs=1e-5) and lp > l2.margin
    assert float(page.text_content("#linf-margin").split()[0]) == pytest.approx(lp, abs=1e-5)
    assert "‖w‖∞ ≤ 1" in page.text_content("#lp-note")

    # directions to 6 significant digits, correct to them
    for sel, ref in (("#l2-dir", l2.direction), ("#linf-dir", linf.direction)):
        text = page.text_content(sel)
        for token in NUMBER.findall(text):
            assert len(token.lstrip("-").replace(".", "").lstrip("0")) == 6, (sel, text)
        np.testing.assert_allclose(_numbers(text), ref, atol=1e-5, rtol=0)

    # sign GD and Adam end on the l_inf direction: three shapes, sign GD's open square on
    # top and larger than the others, so each stays visible
    assert float(page.text_content("#sign-linf")[:-1]) < 0.5
    assert float(page.text_content("#adam-linf")[:-1]) < 3
    boxes = {
        m: page.locator(f"#{m}").bounding_box() for m in ("marker-sign", "marker-adam", "end-linf")
    }
    sign, adam = boxes["marker-sign"], boxes["marker-adam"]
    assert sign["width"] > adam["width"] + 4 and sign["height"] > adam["height"] + 4
    for other in (adam, boxes["end-linf"]):
        cx, cy = other["x"] + other["width"] / 2, other["y"] + other["height"] / 2
        assert (
            sign["x"] < cx < sign["x"] + sign["width"]
            and sign["y"] < cy < sign["y"] + sign["height"]
        )
    tags = page.evaluate(
        "['marker-gd', 'marker-adam', 'marker-sign'].map(id => document.getElementById(id).tagName)"
    )
    assert len(set(tags)) == 3
    assert page.evaluate(
        "document.getElementById('marker-adam').compareDocumentPosition("
        "document.getElementById('marker-sign')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    # a legend names every mark
    legend = page.text_content("#legend")
    for name in ("+ point", "− point", "l2 max-margin", "l∞ max-margin", "GD", "sign GD", "Adam"):
        assert name in legend, name


# --------------------------------------------------------------------- small fixes


def test_flat_sharp_labels_clear_the_curve_and_the_histogram_has_a_y_label(server, page):
    page.goto(server.url + "flat-sharp?walkers=200&steps=100")
    page.wait_for_selector("body[data-run='1'][data-state='done']", timeout=60_000)
    hits = page.evaluate(
        """() => {
          const pts = document.getElementById('curve').getAttribute('points').trim().split(/\\s+/)
            .map((p) => p.split(',').map(Number));
          return ['sharp-label', 'flat-label'].map((id) => {
            const b = document.getElementById(id).getBBox();
            return pts.filter(([x, y]) => x >= b.x - 2 && x <= b.x + b.width + 2
                                          && y >= b.y - 2 && y <= b.y + b.height + 2).length;
          });
        }"""
    )
    assert hits == [0, 0]
    assert page.text_content("#sharp-label") == "sharp (k = 20)"
    box = page.evaluate(
        "(() => { const b = document.getElementById('sharp-label').getBBox();"
        " return [b.y, b.y + b.height]; })()"
    )
    assert 28 <= box[0] and box[1] <= 300 - 28  # inside the plot's box
    assert "walkers per bin" in page.text_content("#hist-ylabel")

    page.goto(server.url + "min-norm?p=3")
    page.wait_for_selector("body[data-ready='1']")
    lead = page.text_content("p.lead")
    assert "two-parameter" not in lead and "plane in space" in lead
    assert "turn the view" in page.text_content("#how-to")
